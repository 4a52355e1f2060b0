//! Loading a linked unit: `dlopen` the shared library, find its descriptor, and
//! hand it to the runtime.

use libloading::Library;
use rivet::Module;
use rivet_descriptor::RawDescriptor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The descriptor symbol the runner compiles every unit with.
pub const SYMBOL: &str = "rivet_unit";

/// Loaded libraries and the modules read from them.
///
/// Modules point into their library's code and data, so the libraries stay loaded
/// for as long as this value lives; it must outlive every store that instantiated
/// them (the runner drops the store first).
#[derive(Default)]
pub struct Loader {
    modules: HashMap<PathBuf, Module>,
    libraries: Vec<Library>,
}

impl Loader {
    /// The module in the library at `path`, loading it on first use.
    pub fn load(&mut self, path: &Path) -> Result<Module, String> {
        if let Some(module) = self.modules.get(path) {
            return Ok(module.clone());
        }
        // SAFETY: the library was produced by the pipeline from a module Rivet
        // compiled; its initializers are the linker's defaults only.
        let library = unsafe { Library::new(path) }
            .map_err(|e| format!("loading {}: {e}", path.display()))?;
        let module = read_module(&library)?;
        self.libraries.push(library);
        self.modules.insert(path.to_path_buf(), module.clone());
        Ok(module)
    }
}

/// Reads the single module of the unit whose descriptor `library` exports.
fn read_module(library: &Library) -> Result<Module, String> {
    // SAFETY: the symbol is a `RawDescriptor` (the contract of rivet-descriptor); we
    // take its address only, and the library outlives the modules (see `Loader`).
    let modules = unsafe {
        let symbol = library
            .get::<*const RawDescriptor>(SYMBOL.as_bytes())
            .map_err(|e| format!("descriptor symbol `{SYMBOL}`: {e}"))?;
        Module::from_descriptor(*symbol).map_err(|e| format!("reading descriptor: {e}"))?
    };
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
}
