// A WASI 0.3 import beside WASI 0.2 ones: rivet-wasi would refuse to serve it.
rivet::component!(Mixed, "wasi-mixed");

fn main() {}
