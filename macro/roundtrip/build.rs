//! Compiles the round-trip guest component for the bindings' tests.

fn main() {
    rivet_build::Config::new()
        .component("all-types", "guest/all-types.wat")
        .compile();
}
