//! Static call targets: which function imports of the unit's modules are wired,
//! by every instantiation of the module, to the same compiled function. The
//! translator calls those directly by symbol (still passing the callee's
//! instance context from the import), so a call from a guest into its adapter
//! and from the adapter into the callee needs no indirect call.

use crate::emit::DirectTarget;
use crate::Error;
use rivet_descriptor::component::{Component, CoreDef, Step};
use std::collections::HashMap;
use wasmparser::{Parser, Payload, TypeRef};

/// What resolution needs of one module: its function imports and exports.
#[derive(Default)]
struct Shape {
    /// Position in the import list of each imported function, in function
    /// index order.
    func_imports: Vec<usize>,
    /// Function index of each function export.
    exports: HashMap<String, u32>,
}

/// For every unit module, the static target of each of its function imports
/// (in function index order), `None` where the wiring is not the same
/// compiled function in every instantiation, or reaches the host or the
/// runtime.
pub fn targets(
    plan: &Component,
    modules: &[&[u8]],
) -> Result<Vec<Vec<Option<DirectTarget>>>, Error> {
    let shapes = modules
        .iter()
        .map(|wasm| shape(wasm))
        .collect::<Result<Vec<_>, _>>()?;
    let mut merged: Vec<Option<Vec<Option<DirectTarget>>>> = vec![None; modules.len()];
    for instance in 0..plan.steps.len() {
        let Step::Instantiate { module, args } = &plan.steps[instance];
        let Some(shape) = shapes.get(*module as usize) else {
            continue;
        };
        let found: Vec<Option<DirectTarget>> = shape
            .func_imports
            .iter()
            .map(|&pos| match args.get(pos) {
                Some(CoreDef::Export {
                    instance: from,
                    name,
                }) if (*from as usize) < instance => resolve(plan, &shapes, *from, name),
                _ => None,
            })
            .collect();
        let slot = &mut merged[*module as usize];
        match slot {
            None => *slot = Some(found),
            Some(known) => {
                for (k, f) in known.iter_mut().zip(found) {
                    if *k != f {
                        *k = None;
                    }
                }
            }
        }
    }
    Ok(merged
        .into_iter()
        .zip(&shapes)
        .map(|(m, s)| m.unwrap_or_else(|| vec![None; s.func_imports.len()]))
        .collect())
}

/// The compiled function behind export `name` of core instance `instance`,
/// following re-exported imports back to the instance defining it.
fn resolve(plan: &Component, shapes: &[Shape], instance: u32, name: &str) -> Option<DirectTarget> {
    let Step::Instantiate { module, args } = plan.steps.get(instance as usize)?;
    let shape = shapes.get(*module as usize)?;
    let func = *shape.exports.get(name)?;
    let Some(&pos) = shape.func_imports.get(func as usize) else {
        return Some(DirectTarget {
            module: *module,
            func,
        });
    };
    match args.get(pos)? {
        // Instances only import from older ones, so this ends.
        CoreDef::Export {
            instance: from,
            name,
        } if *from < instance => resolve(plan, shapes, *from, name),
        _ => None,
    }
}

/// Reads the imports and exports of a validated module.
fn shape(wasm: &[u8]) -> Result<Shape, Error> {
    let mut shape = Shape::default();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::ImportSection(s) => {
                for (pos, import) in s.into_imports().enumerate() {
                    if matches!(import?.ty, TypeRef::Func(_)) {
                        shape.func_imports.push(pos);
                    }
                }
            }
            Payload::ExportSection(s) => {
                for export in s {
                    let export = export?;
                    if export.kind == wasmparser::ExternalKind::Func {
                        shape.exports.insert(export.name.to_string(), export.index);
                    }
                }
            }
            // Everything needed precedes the code.
            Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    Ok(shape)
}
