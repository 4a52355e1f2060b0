//! `rivet compile`: one input (composed with its plugs) to one object file.

use crate::USAGE;
use rivet_build::__internal::{compile_with_plan, symbol_name, Input};
use rivet_build::{BoundsMode, Error, ErrorKind, Options};
use rivet_descriptor::component::Component as Plan;
use std::path::PathBuf;

/// A usage error.
pub fn usage(message: String) -> Error {
    Error::new(ErrorKind::Config, message)
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
                .ok_or_else(|| usage(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "-o" => output = Some(PathBuf::from(value()?)),
            "--target" => options.target = Some(value()?),
            "--name" => name = Some(value()?),
            "--bounds" => options.bounds = parse_bounds(&value()?)?,
            "--plug" => plugs.push(PathBuf::from(value()?)),
            "--no-inline" => options.inline = false,
            "--c-backend" => options.c_backend = true,
            flag if flag.starts_with('-') => {
                return Err(usage(format!("unknown option {flag}\n{USAGE}")))
            }
            file if input.is_none() => input = Some(PathBuf::from(file)),
            extra => return Err(usage(format!("unexpected argument {extra}"))),
        }
    }
    Ok(CompileArgs {
        input: input.ok_or_else(|| usage("compile: missing the input file".into()))?,
        output: output.ok_or_else(|| usage("compile: missing -o OUT.o".into()))?,
        options,
        name,
        plugs,
    })
}

fn parse_bounds(s: &str) -> Result<BoundsMode, Error> {
    match s {
        "guard" => Ok(BoundsMode::Guard),
        "explicit" => Ok(BoundsMode::Explicit),
        other => Err(usage(format!(
            "--bounds takes guard or explicit, not {other}"
        ))),
    }
}

/// Runs `rivet compile` on its arguments. Errors name the component as a
/// build script would: by `--name`, else by the input file's stem.
pub fn run(args: &[String]) -> Result<(), Error> {
    let args = parse_compile(args)?;
    let stem = args.input.file_stem().unwrap_or_default().to_string_lossy();
    let name = args.name.clone().unwrap_or_else(|| stem.into_owned());
    compile(args, &name).map_err(|e| e.named(&name))
}

/// Compiles the input to the object file, as component `name`.
fn compile(args: CompileArgs, name: &str) -> Result<(), Error> {
    let CompileArgs {
        input,
        output,
        mut options,
        plugs,
        ..
    } = args;
    let source = Input::read(&input, &plugs)?;
    let wasm = source.wasm();
    let object = if rivet_build::is_component(wasm) {
        compile_component(&source, name, &mut options)?.0
    } else {
        rivet_build::compile_module(wasm, &options).map_err(|e| source.locate(e))?
    };
    std::fs::write(&output, object)
        .map_err(|e| Error::new(ErrorKind::Io, format!("writing {}: {e}", output.display())))?;
    println!(
        "{} -> {} ({})",
        input.display(),
        output.display(),
        options.symbol
    );
    Ok(())
}

/// Compiles the component `source` with the descriptor symbol of component
/// `name` (set in `options`): the object and the plan.
pub fn compile_component(
    source: &Input,
    name: &str,
    options: &mut Options,
) -> Result<(Vec<u8>, Plan), Error> {
    options.symbol = symbol_name(name)?;
    compile_with_plan(source.wasm(), options).map_err(|e| source.locate(e))
}
