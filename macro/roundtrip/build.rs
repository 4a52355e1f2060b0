//! Compiles the round-trip guest components for the bindings' tests.

fn main() {
    rivet_build::Config::new()
        .component("all-types", "guest/all-types.wat")
        .component("geometry", "guest/geometry.wat")
        .component("wasi-run", "guest/wasi-run.wat")
        .compile();
}
