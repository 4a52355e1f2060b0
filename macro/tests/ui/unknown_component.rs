// No plan was recorded under this name: the error says which build.rs line
// records one.
rivet::component!(Missing, "not-compiled");

fn main() {}
