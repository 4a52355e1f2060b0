//! Loading a linked unit: `dlopen` the shared library, find its descriptor, and
//! hand it to the runtime (as a core module, or as a component).

use libloading::Library;
use rivet::{Component, Module};
use rivet_descriptor::RawDescriptor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
        // SAFETY: the symbol is a `RawDescriptor` (the contract of rivet-descriptor);
        // we take its address only.
        let descriptor = unsafe {
            *library
                .get::<*const RawDescriptor>(SYMBOL.as_bytes())
                .map_err(|e| format!("descriptor symbol `{SYMBOL}`: {e}"))?
        };
        let unit = read(descriptor)?;
        self.libraries.push(library);
        self.units.insert(path.to_path_buf(), unit.clone());
        Ok(unit)
    }
}

/// Reads the component of the unit at `descriptor`.
fn read_component(descriptor: *const RawDescriptor) -> Result<Unit, String> {
    // SAFETY: `descriptor` is the descriptor symbol of a library the loader keeps
    // loaded for as long as the component lives (see `Loader`).
    unsafe { Component::from_descriptor(descriptor) }
        .map(Unit::Component)
        .map_err(|e| format!("reading descriptor: {e}"))
}

/// Reads the single module of the unit at `descriptor`.
fn read_module(descriptor: *const RawDescriptor) -> Result<Unit, String> {
    // SAFETY: as in `read_component`.
    let modules = unsafe { Module::from_descriptor(descriptor) }
        .map_err(|e| format!("reading descriptor: {e}"))?;
    match <[Module; 1]>::try_from(modules) {
        Ok([module]) => Ok(Unit::Module(module)),
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
}
