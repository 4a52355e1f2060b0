//! `rivet inspect`: the flattened plan, the direct calls and the generated
//! adapter modules of a component, for reading what the compiler made of it.

use crate::USAGE;
use rivet_build::__internal::{decode_component, direct_targets, flatten, Input};
use rivet_build::{Error, ErrorKind};
use rivet_descriptor::component::{Component as Plan, CoreDef, Step};
use std::borrow::Cow;
use std::path::PathBuf;

/// Runs `rivet inspect` on its arguments.
pub fn run(args: &[String]) -> Result<(), Error> {
    let (input, plugs) = match args {
        [input, rest @ ..] if rest.len() % 2 == 0 && rest.chunks(2).all(|p| p[0] == "--plug") => {
            let plugs: Vec<PathBuf> = rest.chunks(2).map(|p| PathBuf::from(&p[1])).collect();
            (PathBuf::from(input), plugs)
        }
        _ => {
            return Err(Error::new(
                ErrorKind::Config,
                format!("inspect takes one file and --plug options\n{USAGE}"),
            ))
        }
    };
    let source = Input::read(&input, &plugs)?;
    let wasm = source.wasm();
    if !rivet_build::is_component(wasm) {
        let e = "inspect: not a component (core modules have no plan)";
        return Err(Error::new(ErrorKind::Invalid, e).in_file(&input));
    }
    let tree = decode_component(wasm, true).map_err(|e| source.locate(e))?;
    let flat = flatten(&tree).map_err(|e| source.locate(e))?;
    print!("{}", describe_plan(&flat.plan));
    let bytes: Vec<&[u8]> = flat.modules.iter().map(|m| &*m.wasm).collect();
    for (i, targets) in direct_targets(&flat.plan, &bytes)?.iter().enumerate() {
        for (f, t) in targets.iter().enumerate() {
            if let Some(t) = t {
                println!(
                    "direct call: module {i} import function {f} -> module {} function {}",
                    t.module, t.func
                );
            }
        }
    }
    for (i, m) in flat.modules.iter().enumerate() {
        match &m.wasm {
            Cow::Borrowed(_) => println!("module {i}: guest module at offset {:#x}", m.offset),
            Cow::Owned(bytes) => {
                let text = wasmprinter::print_bytes(bytes).map_err(|e| {
                    let e = format!("printing adapter module {i}: {e}");
                    Error::new(ErrorKind::Internal, e)
                })?;
                let instance = flat
                    .plan
                    .steps
                    .iter()
                    .position(|Step::Instantiate { module, .. }| *module as usize == i);
                let adapters = text.matches("(export ").count();
                let at = instance.map_or(String::new(), |s| format!(", core instance {s}"));
                println!("module {i}: generated adapter module ({adapters} adapters{at})\n{text}");
            }
        }
    }
    Ok(())
}

/// The plan, one line per item, in the order the runtime uses it.
fn describe_plan(plan: &Plan) -> String {
    let mut out = String::new();
    for (i, imp) in plan.imports.iter().enumerate() {
        let ty = func_type(plan, imp.ty);
        out += &format!("import {i}: {} {ty}\n", imp.name);
    }
    for (i, l) in plan.host_lowers.iter().enumerate() {
        out += &format!(
            "lower {i}: import {} into component instance {}\n",
            l.import, l.instance
        );
    }
    for (i, Step::Instantiate { module, args }) in plan.steps.iter().enumerate() {
        let args: Vec<String> = args.iter().map(core_def).collect();
        out += &format!("core instance {i}: module {module} ({})\n", args.join(", "));
    }
    for (i, l) in plan.lifts.iter().enumerate() {
        out += &format!(
            "lift {i}: {} as {} in component instance {}\n",
            core_def(&l.func),
            func_type(plan, l.ty),
            l.instance
        );
    }
    for e in plan.exports.iter() {
        out += &format!("export {}: lift {}\n", e.name, e.lift);
    }
    out
}

/// A function type, with its value types as the plan's type indices.
fn func_type(plan: &Plan, ty: u32) -> String {
    let Some(f) = plan.func_types.get(ty as usize) else {
        return format!("<bad type {ty}>");
    };
    let params: Vec<String> = f
        .params
        .iter()
        .map(|(n, t)| format!("{n}: {}", value_type(plan, *t)))
        .collect();
    match f.result {
        Some(r) => format!("func({}) -> {}", params.join(", "), value_type(plan, r)),
        None => format!("func({})", params.join(", ")),
    }
}

fn value_type(plan: &Plan, t: u32) -> String {
    match plan.types.get(t as usize) {
        Some(v) => format!("{v:?}").to_lowercase(),
        None => format!("<bad type {t}>"),
    }
}

fn core_def(d: &CoreDef) -> String {
    match d {
        CoreDef::Export { instance, name } => format!("core instance {instance} \"{name}\""),
        CoreDef::HostLower(i) => format!("lower {i}"),
        other => format!("{other:?}"),
    }
}
