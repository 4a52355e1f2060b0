//! What the end-to-end tests share: modules compiled by rivet-build from WAT,
//! linked into a shared library and loaded through the runtime's public API.

use rivet::{Extern, Func, Instance, Module, Store, TrapKind, Val};
use rivet_build::__internal::{compile_unit, link_shared, UnitModule};
use rivet_build::Options;
use std::sync::atomic::{AtomicU32, Ordering};

/// Compiles the modules as one unit with `options` and loads them; the
/// library stays loaded for the test run.
pub fn compile(wats: &[&str], options: &Options) -> Vec<Module> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let wasms: Vec<Vec<u8>> = wats.iter().map(|w| wat::parse_str(w).unwrap()).collect();
    let units: Vec<UnitModule> = wasms
        .iter()
        .map(|wasm| UnitModule {
            wasm,
            offset: 0,
            direct: Vec::new(),
            boundary: false,
        })
        .collect();
    let (obj, _) = compile_unit(&units, None, options).unwrap();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("rivet-test-{}-{n}", std::process::id()));
    let (o, so) = (base.with_extension("o"), base.with_extension("so"));
    std::fs::write(&o, obj).unwrap();
    link_shared(std::slice::from_ref(&o), &so).unwrap();
    // SAFETY: the library holds only the unit just compiled.
    let lib = unsafe { libloading::Library::new(&so) }.unwrap();
    let _ = (std::fs::remove_file(&o), std::fs::remove_file(&so));
    // SAFETY: `rivet_unit` is the descriptor symbol; the library is leaked so
    // it stays loaded.
    let modules = unsafe {
        let sym = lib
            .get::<*const rivet::RawDescriptor>(b"rivet_unit\0")
            .unwrap();
        Module::from_descriptor(*sym).unwrap()
    };
    std::mem::forget(lib);
    modules
}

/// The exported function `name` of `instance`.
pub fn func(store: &Store, instance: Instance, name: &str) -> Func {
    match instance.export(store, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name}: {other:?}"),
    }
}

/// Calls a function returning one i32; a trap is reported by its kind.
pub fn call_i32(store: &mut Store, f: Func, args: &[Val]) -> Result<i32, TrapKind> {
    match f.call(store, args).map_err(|t| t.kind)?.as_slice() {
        [Val::I32(v)] => Ok(*v),
        other => panic!("expected one i32, got {other:?}"),
    }
}
