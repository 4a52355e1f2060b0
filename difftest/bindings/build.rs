//! Generates the corpus: cases of the component fuzzer (issue 22) from fixed
//! seeds, composed into one batch component, compiled by rivet_build, and
//! the Rust source of their tests, which `tests/corpus.rs` includes (see
//! docs/fuzzing.md, "Bindings corpus").

#[path = "build/corpus.rs"]
mod corpus;
#[path = "build/emit.rs"]
mod emit;

use std::path::{Path, PathBuf};

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let corpus = corpus::select();
    let wasm = out.join("corpus.wasm");
    write_unless_same(&wasm, &corpus::batch(&corpus));
    rivet_build::Config::new()
        .component("corpus", &wasm)
        .compile();
    let plan = std::fs::read(out.join("rivet").join("corpus.plan")).expect("rivet_build's plan");
    let plan = postcard::from_bytes(&plan).expect("a plan of this rivet-build");
    let names = emit::RustNames::of(&plan, &corpus);
    write_unless_same(
        &out.join("corpus.rs"),
        emit::tests(&corpus, &names).as_bytes(),
    );
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
}

/// Writes `bytes` to `path` unless it holds them already: rivet_build asks
/// cargo to rerun this script when the component file changes, so an
/// unchanged corpus must leave it untouched.
fn write_unless_same(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
