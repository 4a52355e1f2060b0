//! Reading the input of a build: a component or core module from its file
//! (binary or text), composed with its plugs when it has any, and the mapping
//! of an error found while compiling it back to the file and offset the user
//! wrote. `Config` and the `rivet` command both read their inputs here, so
//! that the same input fails with the same error in both.

use crate::compose::{compose_files, Composed};
use crate::{Error, ErrorKind};
use std::path::{Path, PathBuf};

/// A component or core module to compile.
pub struct Input {
    path: PathBuf,
    source: Source,
}

/// The bytes to compile: the file's own, or its composition with its plugs.
enum Source {
    File(Vec<u8>),
    Composed(Composed),
}

impl Input {
    /// Reads `path` (`.wasm` or `.wat`), composed with `plugs` (in order)
    /// when there are any. An error of the composition that names no file
    /// (the wiring) names `path`, the socket.
    pub fn read(path: &Path, plugs: &[PathBuf]) -> Result<Input, Error> {
        let source = match plugs {
            [] => Source::File(read_wasm(path)?),
            _ => Source::Composed(compose_files(path, plugs).map_err(|e| or_in(e, path))?),
        };
        Ok(Input {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The bytes to compile.
    pub fn wasm(&self) -> &[u8] {
        match &self.source {
            Source::File(wasm) => wasm,
            Source::Composed(c) => &c.wasm,
        }
    }

    /// An error found in [`Input::wasm`], at the offset and in the nested
    /// definition of the file it comes from (a plug, for an offset inside
    /// one), else in the input's own file.
    pub fn locate(&self, e: Error) -> Error {
        let e = match &self.source {
            Source::File(wasm) => e.within(wasm),
            Source::Composed(c) => c.locate(e),
        };
        or_in(e, &self.path)
    }
}

/// `e`, in file `path` unless it names its own.
fn or_in(e: Error, path: &Path) -> Error {
    match e.file {
        Some(_) => e,
        None => e.in_file(path),
    }
}

/// Reads a component or core module, converting the text format when the
/// file is `.wat` or does not start with the binary header. The error names
/// the file.
pub fn read_wasm(path: &Path) -> Result<Vec<u8>, Error> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::new(ErrorKind::Io, format!("cannot read the file: {e}")).in_file(path)
    })?;
    if path.extension().is_some_and(|e| e == "wat") || !bytes.starts_with(b"\0asm") {
        return wat::parse_bytes(&bytes)
            .map(|b| b.into_owned())
            .map_err(|e| {
                Error::new(ErrorKind::Invalid, format!("invalid WebAssembly text: {e}"))
                    .in_file(path)
            });
    }
    Ok(bytes)
}
