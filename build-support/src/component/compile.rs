//! Compiling a flattened component: every core module of the unit, guest and
//! adapter alike, into one object whose descriptor carries the plan, with
//! direct calls wherever the plan fixes an import's target.

use super::{decode, direct, docs, flatten};
use crate::emit::{self, UnitModule};
use crate::{Error, Options};
use rivet_descriptor::component::Component as Plan;
use rivet_descriptor::Unit;

/// A compiled component: the object, and what a build script writes beside
/// it for the bindings macro.
pub struct Compiled {
    pub object: Vec<u8>,
    /// The plan, with the WIT docs the descriptor's copy leaves out.
    pub plan: Plan,
    /// The metadata the object's descriptor carries.
    pub unit: Unit,
}

/// See [`crate::compile_component`].
pub fn compile_component(wasm: &[u8], options: &Options) -> Result<Vec<u8>, Error> {
    compile(wasm, options).map(|c| c.object)
}

/// Compiles a component.
pub fn compile(wasm: &[u8], options: &Options) -> Result<Compiled, Error> {
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
    let (object, unit) = emit::compile_unit(&modules, Some(flat.plan.clone()), options)?;
    // Docs only after the descriptor's copy: the runtime never reads them.
    let mut plan = flat.plan;
    if let Some(section) = tree.docs {
        plan.docs = docs::collect(&plan, section)
            .into_iter()
            .map(|(item, text)| (item.into(), text.into()))
            .collect();
    }
    Ok(Compiled { object, plan, unit })
}
