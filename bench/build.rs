//! Compiles the benchmark's components for Rivet exactly as a user's build script
//! does (`rivet_build::Config`), and writes the same components as binary `.wasm`
//! into `OUT_DIR` so the Wasmtime side loads byte-identical inputs.

use std::path::{Path, PathBuf};

/// `(name, source, C backend)`: the WAT components of workloads 1-4, and the
/// Rust kernels guest twice, once with the C backend (the judged rows) and once
/// with Cranelift alone.
const COMPONENTS: [(&str, &str, bool); 5] = [
    ("host", "components/host.wat", false),
    ("pair", "components/pair.wat", false),
    ("records", "components/records.wat", false),
    ("kernels", "../guests/kernels-guest.wasm", true),
    ("kernels_cranelift", "../guests/kernels-guest.wasm", false),
];

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for c_backend in [false, true] {
        let mut config = rivet_build::Config::new();
        // Wasmtime compiles for the CPU it runs on; so does Rivet here, for a
        // like comparison (the bench runs where it is built).
        config.host_cpu().c_backend(c_backend);
        for (name, source, c) in COMPONENTS {
            if c != c_backend {
                continue;
            }
            let wasm = out.join(format!("{name}.wasm"));
            write_binary(Path::new(source), &wasm);
            config.component(name, &wasm);
            println!("cargo:rerun-if-changed={source}");
        }
        config.compile();
    }
    // The echo pair in explicit bounds mode too, for the instances rows.
    let wasm = out.join("pair.wasm");
    rivet_build::Config::new()
        .host_cpu()
        .bounds(rivet_build::BoundsMode::Explicit)
        .component("pair_explicit", &wasm)
        .compile();
}

/// Writes `source` (WAT or binary) as binary wasm to `dest`.
fn write_binary(source: &Path, dest: &Path) {
    let bytes = wat::parse_file(source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    std::fs::write(dest, bytes).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
