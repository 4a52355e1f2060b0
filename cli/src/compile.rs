//! `rivet compile`: one input (composed with its plugs) to one object file.

use crate::{locate, read_input, USAGE};
use rivet_build::config::symbol_name;
use rivet_build::{BoundsMode, Error, Options};
use std::path::PathBuf;

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
            "--no-inline" => options.inline = false,
            "--c-backend" => options.c_backend = true,
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

fn parse_bounds(s: &str) -> Result<BoundsMode, Error> {
    match s {
        "guard" => Ok(BoundsMode::Guard),
        "explicit" => Ok(BoundsMode::Explicit),
        other => Err(Error::msg(format!(
            "--bounds takes guard or explicit, not {other}"
        ))),
    }
}

/// Runs `rivet compile` on its arguments.
pub fn run(args: &[String]) -> Result<(), Error> {
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
    .map_err(|e| locate(e, &input, &wasm, &composed))?;
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
