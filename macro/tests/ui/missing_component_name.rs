// Both arguments are required.
rivet::component!(Fixture);

fn main() {}
