//! Components: decoding and validation ([`decode`], with `precheck` for the
//! spec rules wasmparser decides differently), flattening into the
//! instantiation plan ([`flatten`]), and compiling the resulting unit of core
//! modules ([`compile`]).

pub mod compile;
pub mod decode;
pub mod direct;
pub mod docs;
pub mod flatten;
mod precheck;
mod types;

pub use compile::compile_component;

use crate::{Error, ErrorKind};

/// The message of every error about component-model async constructs; the test
/// runner matches it to count such directives as skipped.
pub const ASYNC_UNSUPPORTED: &str = "not supported: component-model async";

/// Whether `wasm` starts with the header of a component (layer 1) rather than a
/// core module.
pub fn is_component(wasm: &[u8]) -> bool {
    wasm.len() >= 8 && wasm[..4] == *b"\0asm" && wasm[6..8] == [1, 0]
}

/// Decodes, validates and flattens a component, generating its adapters but no
/// native code.
pub fn validate_component(wasm: &[u8], multi_memory: bool) -> Result<(), Error> {
    let tree = decode::decode(wasm, multi_memory)?;
    flatten::flatten(&tree).map(drop)
}

/// An async construct at `offset`.
fn async_error(offset: usize) -> Error {
    Error::new(ErrorKind::Unsupported, ASYNC_UNSUPPORTED).at_offset(offset)
}
