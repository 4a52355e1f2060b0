//! The consistency check of a unit's metadata: every index and size the
//! runtime relies on, so that corrupt metadata is refused instead of
//! corrupting memory later.
//!
//! It runs where the metadata could have gone wrong: on the runtime's side
//! when it decodes a descriptor's metadata, and on the compiler's side, at
//! build time, for the metadata that `rivet-build` writes as a Rust static
//! (which the runtime then reads in place, unchecked, so that hosts built from
//! statics do not link this code).

use crate::component::{Component, Step, ValueType};
use crate::{
    ConstExpr, ConstOp, ExternIndex, ImportType, Module, ModuleCounts, SegmentMode, Unit, ValType,
    VmctxLayout,
};
use alloc::format;
use alloc::string::{String, ToString};

/// Sizes of the descriptor's tables that module metadata indexes into.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries of [`crate::RawDescriptor::functions`].
    pub functions: usize,
    /// Entries of [`crate::RawDescriptor::trampolines`].
    pub trampolines: usize,
    /// Bytes of [`crate::RawDescriptor::data`].
    pub data: u64,
}

/// Checks every module of `unit` and its plan, if any.
pub fn unit(unit: &Unit, limits: &Limits) -> Result<(), String> {
    for (i, m) in unit.modules.iter().enumerate() {
        module(m, limits).map_err(|e| format!("module {i}: {e}"))?;
    }
    match &unit.component {
        Some(plan) => component(plan, unit.modules.len()),
        None => Ok(()),
    }
}

/// Checks one module's metadata against the descriptor's tables.
pub fn module(m: &Module, limits: &Limits) -> Result<(), String> {
    let types = m.types.len() as u32;
    let type_ok = |t: u32| {
        (t < types)
            .then_some(())
            .ok_or(format!("type index {t} out of range"))
    };
    for &t in m.functions.iter() {
        type_ok(t)?;
    }
    for i in m.imports.iter() {
        if let ImportType::Func(t) | ImportType::Tag(t) = i.ty {
            type_ok(t)?;
        }
    }
    for &t in m.tags.iter() {
        type_ok(t)?;
    }
    let imported = m.imported_functions() as usize;
    let defined = m
        .functions
        .len()
        .checked_sub(imported)
        .ok_or("fewer functions than function imports")?;
    if m.code.len() != defined {
        return Err(format!(
            "{} code entries for {defined} functions",
            m.code.len()
        ));
    }
    if m.defined_function_base as usize + defined > limits.functions {
        return Err("function addresses out of range".into());
    }
    counts(m)?;
    for list in [&m.array_trampolines, &m.host_trampolines] {
        if list.len() != m.types.len() || list.iter().any(|&t| t as usize >= limits.trampolines) {
            return Err("trampoline indices out of range".into());
        }
    }
    for t in m.tables.iter() {
        if !matches!(
            t.element,
            ValType::FuncRef | ValType::ExternRef | ValType::ExnRef
        ) {
            return Err(format!("table of {}", t.element));
        }
    }
    exprs(m)?;
    segments(m, limits.data)?;
    for e in m.exports.iter() {
        let (i, n) = match e.index {
            ExternIndex::Func(i) => (i, m.functions.len()),
            ExternIndex::Table(i) => (i, m.tables.len()),
            ExternIndex::Memory(i) => (i, m.memories.len()),
            ExternIndex::Global(i) => (i, m.globals.len()),
            ExternIndex::Tag(i) => (i, m.tags.len()),
        };
        if i as usize >= n {
            return Err(format!("export {} out of range", e.name));
        }
    }
    if m.start.is_some_and(|s| s as usize >= m.functions.len()) {
        return Err("start function out of range".into());
    }
    Ok(())
}

/// Imports, defined items and the vmctx layout agree, so that the counts the
/// layout carries ([`VmctxLayout::counts`]) are the module's.
fn counts(m: &Module) -> Result<(), String> {
    let defined = |total: usize, imported: u32| {
        total
            .checked_sub(imported as usize)
            .map(|d| d as u32)
            .ok_or_else(|| "more imports than items".to_string())
    };
    let counts = ModuleCounts {
        types: m.types.len() as u32,
        imported_functions: m.imported_functions(),
        memories: m.memories.len() as u32,
        tables: m.tables.len() as u32,
        globals: m.globals.len() as u32,
        defined_memories: defined(m.memories.len(), m.imported_memories())?,
        defined_tables: defined(m.tables.len(), m.imported_tables())?,
        defined_globals: defined(m.globals.len(), m.imported_globals())?,
        functions: m.functions.len() as u32,
        tags: m.tags.len() as u32,
        defined_tags: defined(m.tags.len(), m.imported_tags())?,
    };
    if m.global_inits.len() as u32 != counts.defined_globals {
        return Err("one initializer per defined global expected".into());
    }
    if VmctxLayout::new(&counts) != m.layout {
        return Err("vmctx layout does not match the module".into());
    }
    Ok(())
}

fn exprs(m: &Module) -> Result<(), String> {
    let globals = m.imported_globals();
    let global_ok = |g: u32| {
        (g < globals).then_some(()).ok_or(format!(
            "global.get {g} in a constant is not an imported global"
        ))
    };
    let arith_ok = |ops: &[ConstOp]| {
        ops.iter().try_for_each(|op| match *op {
            ConstOp::GlobalGet(g) => global_ok(g),
            _ => Ok(()),
        })?;
        ConstOp::eval(ops, |_| 0)
            .map(drop)
            .ok_or("constant arithmetic does not leave one value".to_string())
    };
    m.const_exprs().try_for_each(|e| match e {
        ConstExpr::RefFunc(f) if *f as usize >= m.functions.len() => {
            Err(format!("ref.func {f} out of range"))
        }
        ConstExpr::GlobalGet(g) => global_ok(*g),
        ConstExpr::I32Arith(ops) | ConstExpr::I64Arith(ops) => arith_ok(ops),
        _ => Ok(()),
    })
}

fn segments(m: &Module, data_len: u64) -> Result<(), String> {
    for s in m.elements.iter() {
        if let SegmentMode::Active { index, .. } = s.mode {
            if index as usize >= m.tables.len() {
                return Err(format!("element segment for missing table {index}"));
            }
        }
    }
    for s in m.data.iter() {
        if let SegmentMode::Active { index, .. } = s.mode {
            if index as usize >= m.memories.len() {
                return Err(format!("data segment for missing memory {index}"));
            }
        }
        if s.start.checked_add(s.len).is_none_or(|end| end > data_len) {
            return Err("data segment outside the data blob".into());
        }
    }
    Ok(())
}

/// Checks every index a plan holds that does not depend on instantiation,
/// against the unit's `modules` and the plan's own tables.
pub fn component(plan: &Component, modules: usize) -> Result<(), String> {
    let bad = |what: &str| Err(format!("component plan: {what} out of range"));
    let instances = plan.instances.len() as u32;
    let funcs = plan.func_types.len();
    if instances == 0 {
        return bad("root instance");
    }
    if plan
        .instances
        .iter()
        .any(|i| i.parent.is_some_and(|p| p >= instances))
    {
        return bad("parent instance");
    }
    if plan.resources.iter().any(|r| r.instance >= instances) {
        return bad("resource instance");
    }
    types(plan)?;
    if plan.imports.iter().any(|i| i.ty as usize >= funcs) {
        return bad("import type");
    }
    let lowers_ok = plan
        .host_lowers
        .iter()
        .all(|l| (l.import as usize) < plan.imports.len() && l.instance < instances);
    if !lowers_ok {
        return bad("host lower");
    }
    if plan
        .lifts
        .iter()
        .any(|l| l.ty as usize >= funcs || l.instance >= instances)
    {
        return bad("lift");
    }
    if plan
        .exports
        .iter()
        .any(|e| e.lift as usize >= plan.lifts.len())
    {
        return bad("export");
    }
    if plan
        .steps
        .iter()
        .any(|Step::Instantiate { module, .. }| *module as usize >= modules)
    {
        return bad("step module");
    }
    Ok(())
}

/// Every value type is made only of types listed before it (as the compiler
/// interns them), so that walking a type ends ([`crate::component::TypeRef`]),
/// and names resources of the plan; function types name listed types.
fn types(plan: &Component) -> Result<(), String> {
    let resources = plan.resources.len() as u32;
    for (i, ty) in plan.types.iter().enumerate() {
        let before = |t: &u32| (*t as usize) < i;
        let ok = match ty {
            ValueType::List(t) | ValueType::Option(t) => before(t),
            ValueType::Map(k, v) => before(k) && before(v),
            ValueType::Record(fs) => fs.iter().all(|(_, t)| before(t)),
            ValueType::Tuple(ts) => ts.iter().all(before),
            ValueType::Variant(cs) => cs.iter().filter_map(|(_, t)| t.as_ref()).all(before),
            ValueType::Result { ok, err } => ok.iter().chain(err).all(before),
            ValueType::Own(r) | ValueType::Borrow(r) => *r < resources,
            _ => true,
        };
        if !ok {
            return Err(format!(
                "component plan: type {i} refers to a type or resource out of range"
            ));
        }
    }
    let listed = |t: &u32| (*t as usize) < plan.types.len();
    let funcs_ok = plan
        .func_types
        .iter()
        .all(|f| f.params.iter().all(|(_, t)| listed(t)) && f.result.as_ref().is_none_or(listed));
    if !funcs_ok {
        return Err("component plan: function type out of range".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{
        CallLayout, CanonOptions, ComponentExport, ComponentFuncType, ComponentInstance, CoreDef,
        Lift,
    };
    use alloc::vec;

    fn plan() -> Component {
        Component {
            instances: vec![ComponentInstance { parent: None }].into(),
            func_types: vec![ComponentFuncType {
                params: vec![].into(),
                result: None,
            }]
            .into(),
            lifts: vec![Lift {
                func: CoreDef::HostLower(0),
                ty: 0,
                options: CanonOptions::default(),
                instance: 0,
                layout: CallLayout::default(),
            }]
            .into(),
            exports: vec![ComponentExport {
                name: "f".into(),
                lift: 0,
            }]
            .into(),
            ..Component::default()
        }
    }

    #[test]
    fn plans_with_indices_out_of_range_are_refused() {
        assert_eq!(component(&plan(), 0), Ok(()));
        let mut p = plan();
        p.lifts.to_mut()[0].ty = 1;
        assert_eq!(
            component(&p, 0),
            Err("component plan: lift out of range".into())
        );
        let mut p = plan();
        p.exports.to_mut()[0].lift = 1;
        assert_eq!(
            component(&p, 0),
            Err("component plan: export out of range".into())
        );
        let mut p = plan();
        p.types = vec![ValueType::U8, ValueType::List(0), ValueType::List(2)].into();
        assert!(component(&p, 0).unwrap_err().contains("type 2"));
        p.types.to_mut()[2] = ValueType::Own(0);
        assert!(component(&p, 0).unwrap_err().contains("type 2"));
        p.types.to_mut()[2] = ValueType::Tuple(vec![0, 1].into());
        assert_eq!(component(&p, 0), Ok(()));
        p.func_types.to_mut()[0].result = Some(3);
        assert!(component(&p, 0).unwrap_err().contains("function type"));
        let mut p = plan();
        p.instances = vec![].into();
        assert!(component(&p, 0).unwrap_err().contains("root instance"));
        let unit = Unit {
            bounds: crate::BoundsMode::Guard,
            modules: vec![].into(),
            component: Some(p),
        };
        let limits = Limits {
            functions: 0,
            trampolines: 0,
            data: 0,
        };
        assert!(super::unit(&unit, &limits).is_err());
    }
}
