//! Compiling a flattened component: every core module of the unit, guest and
//! adapter alike, into one object whose descriptor carries the plan.

use super::{decode, flatten};
use crate::emit::{self, UnitModule};
use crate::{Error, Options};

/// See [`crate::compile_component`].
pub fn compile_component(wasm: &[u8], options: &Options) -> Result<Vec<u8>, Error> {
    let tree = decode::decode(wasm, options.multi_memory)?;
    let flat = flatten::flatten(&tree)?;
    let modules: Vec<UnitModule<'_>> = flat
        .modules
        .iter()
        .map(|m| UnitModule {
            wasm: &m.wasm,
            offset: m.offset,
        })
        .collect();
    emit::compile_unit(&modules, Some(flat.plan), options)
}
