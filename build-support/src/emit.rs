//! Compiles a module's functions and trampolines into one object file.

use crate::{Error, Options};

/// See [`crate::compile_module`].
pub fn compile_module(wasm: &[u8], options: &Options) -> Result<Vec<u8>, Error> {
    let _ = (wasm, options);
    Err(Error::msg("not supported yet: emitting objects"))
}
