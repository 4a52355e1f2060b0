// The second argument is the component's build.rs name, as a string literal.
rivet::component!(Fixture, fixture);

fn main() {}
