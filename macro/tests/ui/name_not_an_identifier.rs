// The first argument is the Rust name of the generated struct.
rivet::component!("fixture");

fn main() {}
