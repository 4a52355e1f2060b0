//! Compiling a flattened component: every core module of the unit, guest and
//! adapter alike, into one object whose descriptor carries the plan, with
//! direct calls wherever the plan fixes an import's target.

use super::{decode, direct, docs, flatten};
use crate::emit::{self, UnitModule};
use crate::{Error, Options};
use rivet_descriptor::component::Component as Plan;

/// See [`crate::compile_component`].
pub fn compile_component(wasm: &[u8], options: &Options) -> Result<Vec<u8>, Error> {
    compile_with_plan(wasm, options).map(|(object, _)| object)
}

/// Compiles a component and also returns its plan, which the object's descriptor
/// carries too but which a build script writes out for the bindings macro.
pub fn compile_with_plan(wasm: &[u8], options: &Options) -> Result<(Vec<u8>, Plan), Error> {
    let tree = decode::decode(wasm, options.multi_memory)?;
    let flat = flatten::flatten(&tree)?;
    let bytes: Vec<&[u8]> = flat.modules.iter().map(|m| &*m.wasm).collect();
    let targets = direct::targets(&flat.plan, &bytes)?;
    let modules: Vec<UnitModule<'_>> = flat
        .modules
        .iter()
        .zip(targets)
        .map(|(m, direct)| UnitModule {
            wasm: &m.wasm,
            offset: m.offset,
            direct,
            boundary: m.adapter,
        })
        .collect();
    let object = emit::compile_unit(&modules, Some(flat.plan.clone()), options)?;
    // Docs only after the descriptor's copy: the runtime never reads them.
    let mut plan = flat.plan;
    if let Some(section) = tree.docs {
        plan.docs = docs::collect(&plan, section);
    }
    Ok((object, plan))
}
