// The component imports WASI, whose bindings name the `rivet-wasi` crate; this
// crate does not depend on it, and rustc says so.
rivet::component!(Command, "wasi-command");

fn main() {}
