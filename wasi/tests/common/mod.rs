//! Compiles guest components for the tests: rivet-build to an object, linked
//! into a shared library and loaded (the library stays loaded for the run).

#![allow(dead_code)] // each test file uses part of it

use rivet::{BoundsMode, Component, ComponentImports, ComponentInstance, RawDescriptor, Store};
use rivet_wasi::{Wasi, WasiCtx};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A committed guest under `guests/`.
pub fn guest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../guests")
        .join(name)
}

/// Compiles the component `wasm` (binary or text) and loads it.
pub fn compile(wasm: &[u8]) -> Component {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let wasm = wat::parse_bytes(wasm).expect("guest text parses");
    let options = rivet_build::Options {
        symbol: "rivet_test_component".into(),
        ..Default::default()
    };
    let obj = rivet_build::compile_component(&wasm, &options).expect("guest compiles");
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("rivet-wasi-{}-{n}", std::process::id()));
    let (o, so) = (base.with_extension("o"), base.with_extension("so"));
    std::fs::write(&o, obj).expect("object written");
    rivet_build::__internal::link_shared(std::slice::from_ref(&o), &so).expect("linked");
    // SAFETY: the library holds only the unit just compiled.
    let lib = unsafe { libloading::Library::new(&so) }.expect("library loads");
    let _ = (std::fs::remove_file(&o), std::fs::remove_file(&so));
    // SAFETY: the descriptor symbol of that unit; the library is leaked so it
    // stays loaded as long as the component is used.
    let component = unsafe {
        let sym = lib
            .get::<*const RawDescriptor>(b"rivet_test_component\0")
            .expect("descriptor symbol");
        Component::from_descriptor(*sym).expect("component loads")
    };
    std::mem::forget(lib);
    component
}

/// Compiles the committed guest `name`.
pub fn compile_guest(name: &str) -> Component {
    let path = guest(name);
    let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    compile(&wasm)
}

/// Instantiates `component` with `ctx` serving its WASI imports.
pub fn instantiate(component: &Component, ctx: WasiCtx) -> (Store, ComponentInstance, Wasi) {
    let mut imports = ComponentImports::new();
    let wasi =
        rivet_wasi::add_to_imports(&mut imports, component, ctx).expect("WASI imports served");
    let mut store = Store::new(BoundsMode::Guard);
    let instance = store
        .instantiate_component(component, &imports)
        .expect("instantiates");
    (store, instance, wasi)
}
