//! `rivet`: compile and inspect WebAssembly from the command line, outside a
//! build script.

use rivet_build::component::{decode, direct, flatten};
use rivet_build::compose::{compose_files, Composed};
use rivet_build::config::{read_wasm, symbol_name};
use rivet_build::{BoundsMode, Error, Options};
use rivet_descriptor::component::{Component as Plan, CoreDef, Step};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  rivet compile FILE.wasm|FILE.wat -o OUT.o [--bounds guard|explicit] [--target TRIPLE] [--name NAME] [--plug PLUG]...
      Compiles a core module or a component to a relocatable object. The descriptor
      symbol is rivet_component_NAME (components) or rivet_unit (modules); NAME
      defaults to the file's stem.
  rivet inspect FILE.wasm|FILE.wat [--plug PLUG]...
      Prints a component's flattened plan (core instances and their wiring, lifts,
      lowers, host imports, exports), the imports called directly, and its
      generated adapter modules (each holding every adapter that can share it) as WAT.
  --plug PLUG (repeatable) first composes the component FILE with PLUG: PLUG's exports
      satisfy FILE's imports (and later plugs' imports) of the same name.
  rivet wast FILE...
      Not in this binary: run `cargo run --release -p rivet-tests --bin rivet-wast -- FILE...`.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("compile") => compile(&args[1..]),
        Some("inspect") => inspect(&args[1..]),
        Some("wast") => Err(Error::msg(
            "the spec runner is `cargo run --release -p rivet-tests --bin rivet-wast -- FILE...`",
        )),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(Error::msg(format!("expected a command\n{USAGE}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rivet: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The arguments of `rivet compile`.
struct CompileArgs {
    input: PathBuf,
    output: PathBuf,
    options: Options,
    name: Option<String>,
    plugs: Vec<PathBuf>,
}

fn parse_compile(args: &[String]) -> Result<CompileArgs, Error> {
    let mut input = None;
    let mut output = None;
    let mut name = None;
    let mut plugs = Vec::new();
    let mut options = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| Error::msg(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "-o" => output = Some(PathBuf::from(value()?)),
            "--target" => options.target = Some(value()?),
            "--name" => name = Some(value()?),
            "--bounds" => options.bounds = parse_bounds(&value()?)?,
            "--plug" => plugs.push(PathBuf::from(value()?)),
            flag if flag.starts_with('-') => {
                return Err(Error::msg(format!("unknown option {flag}\n{USAGE}")))
            }
            file if input.is_none() => input = Some(PathBuf::from(file)),
            extra => return Err(Error::msg(format!("unexpected argument {extra}"))),
        }
    }
    Ok(CompileArgs {
        input: input.ok_or_else(|| Error::msg("compile: missing the input file"))?,
        output: output.ok_or_else(|| Error::msg("compile: missing -o OUT.o"))?,
        options,
        name,
        plugs,
    })
}

/// Reads `input`, composed with `plugs` when there are any.
fn read_input(input: &Path, plugs: &[PathBuf]) -> Result<(Vec<u8>, Option<Composed>), Error> {
    if plugs.is_empty() {
        return Ok((read_wasm(input)?, None));
    }
    let composed = compose_files(input, plugs)?;
    Ok((composed.wasm.clone(), Some(composed)))
}

/// Maps an error in a composition back to its input, else names `input`.
fn locate(e: Error, input: &Path, composed: &Option<Composed>) -> Error {
    let e = match composed {
        Some(c) => c.locate(e),
        None => e,
    };
    match e.file {
        Some(_) => e,
        None => e.in_file(input),
    }
}

fn parse_bounds(s: &str) -> Result<BoundsMode, Error> {
    match s {
        "guard" => Ok(BoundsMode::Guard),
        "explicit" => Ok(BoundsMode::Explicit),
        other => Err(Error::msg(format!(
            "--bounds takes guard or explicit, not {other}"
        ))),
    }
}

fn compile(args: &[String]) -> Result<(), Error> {
    let CompileArgs {
        input,
        output,
        mut options,
        name,
        plugs,
    } = parse_compile(args)?;
    let (wasm, composed) = read_input(&input, &plugs)?;
    let object = if rivet_build::is_component(&wasm) {
        let stem = input.file_stem().unwrap_or_default().to_string_lossy();
        options.symbol = symbol_name(name.as_deref().unwrap_or(&stem))?;
        rivet_build::compile_component(&wasm, &options)
    } else {
        rivet_build::compile_module(&wasm, &options)
    }
    .map_err(|e| locate(e, &input, &composed))?;
    std::fs::write(&output, object)
        .map_err(|e| Error::msg(format!("writing {}: {e}", output.display())))?;
    println!(
        "{} -> {} ({})",
        input.display(),
        output.display(),
        options.symbol
    );
    Ok(())
}

fn inspect(args: &[String]) -> Result<(), Error> {
    let (input, plugs) = match args {
        [input, rest @ ..] if rest.len() % 2 == 0 && rest.chunks(2).all(|p| p[0] == "--plug") => {
            let plugs: Vec<PathBuf> = rest.chunks(2).map(|p| PathBuf::from(&p[1])).collect();
            (PathBuf::from(input), plugs)
        }
        _ => {
            return Err(Error::msg(format!(
                "inspect takes one file and --plug options\n{USAGE}"
            )))
        }
    };
    let (wasm, composed) = read_input(&input, &plugs)?;
    if !rivet_build::is_component(&wasm) {
        return Err(
            Error::msg("inspect: not a component (core modules have no plan)").in_file(&input),
        );
    }
    let tree = decode::decode(&wasm, true).map_err(|e| locate(e, &input, &composed))?;
    let flat = flatten::flatten(&tree).map_err(|e| locate(e, &input, &composed))?;
    print!("{}", describe_plan(&flat.plan));
    let bytes: Vec<&[u8]> = flat.modules.iter().map(|m| &*m.wasm).collect();
    for (i, targets) in direct::targets(&flat.plan, &bytes)?.iter().enumerate() {
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
                let text = wasmprinter::print_bytes(bytes)
                    .map_err(|e| Error::msg(format!("printing adapter module {i}: {e}")))?;
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
    for e in &plan.exports {
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
