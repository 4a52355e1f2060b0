//! Compiles the guest component to native code for this crate's target and links it.

fn main() {
    rivet_build::Config::new()
        .component("kv", "guest/kv.wat")
        .compile();
}
