//! Compiles the two plugin components to native code for this crate's target
//! and links them: the Rust plugin and the same plugin written in Python.

fn main() {
    rivet_build::Config::new()
        .component("wasi-plugin", "../../guests/wasi-plugin.wasm")
        .component("py-plugin", "../../guests/py-plugin.wasm")
        .compile();
}
