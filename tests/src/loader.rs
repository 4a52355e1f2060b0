//! Loading a linked unit: `dlopen` the shared library, find its descriptor, and
//! hand it to the runtime (as a core module, or as a component).

use libloading::Library;
use rivet::{Component, Module};
use rivet_descriptor::RawDescriptor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The descriptor symbol the runner compiles every unit with.
pub const SYMBOL: &str = "rivet_unit";

/// What a loaded library holds.
#[derive(Clone)]
pub enum Unit {
    /// A core module.
    Module(Module),
    /// A component.
    Component(Component),
}

/// Loaded libraries and the units read from them.
///
/// Units point into their library's code and data, so the libraries stay loaded
/// for as long as this value lives; it must outlive every store that instantiated
/// them (the runner drops the store first).
#[derive(Default)]
pub struct Loader {
    units: HashMap<PathBuf, Unit>,
    libraries: Vec<Library>,
}

impl Loader {
    /// The module in the library at `path`, loading it on first use.
    pub fn load(&mut self, path: &Path) -> Result<Module, String> {
        match self.unit(path, read_module)? {
            Unit::Module(module) => Ok(module),
            Unit::Component(_) => Err(format!("{} holds a component", path.display())),
        }
    }

    /// The component in the library at `path`, loading it on first use.
    pub fn load_component(&mut self, path: &Path) -> Result<Component, String> {
        match self.unit(path, read_component)? {
            Unit::Component(component) => Ok(component),
            Unit::Module(_) => Err(format!("{} holds a core module", path.display())),
        }
    }

    /// The unit of the library at `path`, read with `read` when first loaded.
    fn unit(
        &mut self,
        path: &Path,
        read: fn(*const RawDescriptor) -> Result<Unit, String>,
    ) -> Result<Unit, String> {
        if let Some(unit) = self.units.get(path) {
            return Ok(unit.clone());
        }
        // SAFETY: the library was produced by the pipeline from a module Rivet
        // compiled; its initializers are the linker's defaults only.
        let library = unsafe { Library::new(path) }
            .map_err(|e| format!("loading {}: {e}", path.display()))?;
        let unit = read(descriptor(&library, SYMBOL)?)?;
        self.libraries.push(library);
        self.units.insert(path.to_path_buf(), unit.clone());
        Ok(unit)
    }
}

/// One module compiled, linked and loaded by [`compile_and_load`].
///
/// The module points into the library's code and data, so the two live and die
/// together; stores that instantiated the module must be dropped first.
pub struct LoadedModule {
    /// The loaded module, ready to instantiate in a store of its bounds mode.
    pub module: Module,
    // Declared after `module` so it is unloaded last.
    _library: Library,
}

/// Several modules compiled into one unit (one object, one library) by
/// [`compile_and_load_unit`]; the same lifetime rule as [`LoadedModule`].
pub struct LoadedUnit {
    /// The unit's modules, in the order they were given.
    pub modules: Vec<Module>,
    // Declared after `modules` so it is unloaded last.
    _library: Library,
}

/// Counts the libraries this process linked, so every one gets its own file name
/// (`dlopen` caches libraries by path and would hand back an earlier one).
static NEXT_LIBRARY: AtomicU64 = AtomicU64::new(0);

/// Compiles `wasm` with `options`, links it into a shared library in the system's
/// temporary directory, loads it and reads its module: the whole pipeline in one
/// call, for benchmarks and tests that need one module rather than a script.
///
/// The object and library files are deleted once loaded.
pub fn compile_and_load(
    wasm: &[u8],
    options: &rivet_build::Options,
) -> Result<LoadedModule, String> {
    let object = rivet_build::compile_module(wasm, options).map_err(|e| e.to_string())?;
    let (library, descriptor) = link_and_load(&object, &options.symbol)?;
    Ok(LoadedModule {
        module: single_module(descriptor)?,
        _library: library,
    })
}

/// Compiles `wasms` together into one unit (one object, one library, one
/// descriptor) and loads it: the differential fuzzer's batches, where one link
/// (and, with the C backend, one C compile) serves many modules.
pub fn compile_and_load_unit(
    wasms: &[&[u8]],
    options: &rivet_build::Options,
) -> Result<LoadedUnit, String> {
    let modules: Vec<_> = wasms
        .iter()
        .map(|wasm| rivet_build::__internal::UnitModule {
            wasm,
            offset: 0,
            direct: Vec::new(),
            boundary: false,
        })
        .collect();
    let (object, _) = rivet_build::__internal::compile_unit(&modules, None, options)
        .map_err(|e| e.to_string())?;
    let (library, descriptor) = link_and_load(&object, &options.symbol)?;
    // SAFETY: as in `component_at`; the library is kept in the `LoadedUnit`.
    let modules = unsafe { Module::from_descriptor(descriptor) }
        .map_err(|e| format!("reading descriptor: {e}"))?;
    Ok(LoadedUnit {
        modules,
        _library: library,
    })
}

/// A component compiled, linked and loaded by [`compile_and_load_component`];
/// the same lifetime rule as [`LoadedModule`].
pub struct LoadedComponent {
    /// The loaded component, ready to instantiate.
    pub component: Component,
    // Declared after `component` so it is unloaded last.
    _library: Library,
}

/// Compiles the component `wasm`, links and loads it: the differential
/// fuzzer's batches of compositions, one library each.
pub fn compile_and_load_component(
    wasm: &[u8],
    options: &rivet_build::Options,
) -> Result<LoadedComponent, String> {
    let object = rivet_build::compile_component(wasm, options).map_err(|e| e.to_string())?;
    let (library, descriptor) = link_and_load(&object, &options.symbol)?;
    Ok(LoadedComponent {
        component: component_at(descriptor)?,
        _library: library,
    })
}

/// Links `object` into a library under a fresh name in the temporary directory,
/// loads it, and deletes both files (the loaded copy stays mapped, so repeated
/// calls do not fill the directory).
fn link_and_load(object: &[u8], symbol: &str) -> Result<(Library, *const RawDescriptor), String> {
    let id = NEXT_LIBRARY.fetch_add(1, Ordering::Relaxed);
    let stem = std::env::temp_dir().join(format!("rivet-load-{}-{id}", std::process::id()));
    let object_path = stem.with_extension("o");
    let library_path = stem.with_extension("so");
    let loaded = write_link_load(object, &object_path, &library_path, symbol);
    let _ = std::fs::remove_file(&object_path);
    let _ = std::fs::remove_file(&library_path);
    loaded
}

fn write_link_load(
    object: &[u8],
    object_path: &Path,
    library_path: &Path,
    symbol: &str,
) -> Result<(Library, *const RawDescriptor), String> {
    std::fs::write(object_path, object)
        .map_err(|e| format!("writing {}: {e}", object_path.display()))?;
    rivet_build::__internal::link_shared(&[object_path.to_path_buf()], library_path)
        .map_err(|e| e.to_string())?;
    // SAFETY: the library was just linked from an object Rivet compiled; its
    // initializers are the linker's defaults only.
    let library = unsafe { Library::new(library_path) }
        .map_err(|e| format!("loading {}: {e}", library_path.display()))?;
    let descriptor = descriptor(&library, symbol)?;
    Ok((library, descriptor))
}

/// The address of the descriptor `library` exports as `symbol`.
fn descriptor(library: &Library, symbol: &str) -> Result<*const RawDescriptor, String> {
    // SAFETY: the symbol is a `RawDescriptor` (the contract of rivet-descriptor); we
    // take its address only, and the library outlives what is read from it (see
    // `Loader` and `LoadedModule`).
    unsafe {
        library
            .get::<*const RawDescriptor>(symbol.as_bytes())
            .map(|symbol| *symbol)
            .map_err(|e| format!("descriptor symbol `{symbol}`: {e}"))
    }
}

/// Reads the component of the unit at `descriptor`.
fn read_component(descriptor: *const RawDescriptor) -> Result<Unit, String> {
    component_at(descriptor).map(Unit::Component)
}

/// The component of the unit at `descriptor`.
fn component_at(descriptor: *const RawDescriptor) -> Result<Component, String> {
    // SAFETY: `descriptor` is the descriptor symbol of a library kept loaded
    // for as long as the component lives (see `Loader`, `LoadedComponent`).
    unsafe { Component::from_descriptor(descriptor) }
        .map_err(|e| format!("reading descriptor: {e}"))
}

/// Reads the single module of the unit at `descriptor`.
fn read_module(descriptor: *const RawDescriptor) -> Result<Unit, String> {
    single_module(descriptor).map(Unit::Module)
}

/// The one module of the unit at `descriptor`.
fn single_module(descriptor: *const RawDescriptor) -> Result<Module, String> {
    // SAFETY: as in `component_at`.
    let modules = unsafe { Module::from_descriptor(descriptor) }
        .map_err(|e| format!("reading descriptor: {e}"))?;
    match <[Module; 1]>::try_from(modules) {
        Ok([module]) => Ok(module),
        Err(modules) => Err(format!(
            "expected one module in the unit, found {}",
            modules.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_is_an_error() {
        let Err(err) = Loader::default().load(Path::new("/nonexistent/unit.so")) else {
            panic!("loaded a missing library");
        };
        assert!(err.contains("/nonexistent/unit.so"), "{err}");
    }

    #[test]
    fn library_without_descriptor_is_an_error() {
        let dir = std::env::temp_dir().join(format!("rivet-loader-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("empty.c");
        let library = dir.join("empty.so");
        std::fs::write(&source, "int rivet_not_a_unit = 1;\n").unwrap();
        let status = std::process::Command::new("cc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(&library)
            .arg(&source)
            .status()
            .expect("running cc");
        assert!(status.success());
        let Err(err) = Loader::default().load(&library) else {
            panic!("loaded a library without a descriptor");
        };
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains(SYMBOL), "{err}");
    }

    #[test]
    fn compile_and_load_runs_the_module() {
        let text = r#"(module (func (export "add") (param i32 i32) (result i32)
                         (i32.add (local.get 0) (local.get 1))))"#;
        let buffer = wast::parser::ParseBuffer::new(text).unwrap();
        let mut module = wast::parser::parse::<wast::Wat<'_>>(&buffer).unwrap();
        let wasm = module.encode().unwrap();
        for bounds in [rivet::BoundsMode::Guard, rivet::BoundsMode::Explicit] {
            let options = rivet_build::Options {
                bounds,
                ..Default::default()
            };
            let loaded = compile_and_load(&wasm, &options).unwrap();
            let mut store = rivet::Store::new(bounds);
            let instance = store.instantiate(&loaded.module, &[]).unwrap();
            let Some(rivet::Extern::Func(add)) = instance.export(&store, "add") else {
                panic!("no function export `add`");
            };
            let results = add
                .call(&mut store, &[rivet::Val::I32(40), rivet::Val::I32(2)])
                .unwrap();
            assert!(matches!(results[..], [rivet::Val::I32(42)]), "{results:?}");
        }
    }

    #[test]
    fn compile_and_load_reports_invalid_wasm() {
        let Err(err) = compile_and_load(b"\0asm\x01\0\0\0\x7f", &Default::default()) else {
            panic!("loaded an invalid module");
        };
        assert!(err.contains("offset"), "{err}");
    }
}
