//! The `wasi-plugin` example: a host that loads a plugin component, gives it a
//! directory, and calls its handler once per command-line argument. The plugin
//! prints a line per call (its stdout is ours) and appends each input to
//! `log.txt` in the directory; the host prints each result and, at the end,
//! what the plugin left in the directory.
//!
//! ```text
//! wasi-plugin [--python] [--dir DIR | --no-dir] INPUT...
//! ```
//!
//! `--python` loads the plugin written in Python instead of the Rust one;
//! `--dir DIR` gives the plugin `DIR` (a fresh temporary directory otherwise,
//! removed at the end); `--no-dir` gives it none, so its log cannot open.

use rivet::{BoundsMode, Store};
use rivet_wasi::{DirPerms, FilePerms, WasiCtx};
use std::error::Error;
use std::path::{Path, PathBuf};
use wasi_plugin::{wave, Kind};

/// What the command line asks for.
struct Args {
    kind: Kind,
    /// The directory to give the plugin; `None` for none.
    dir: Option<PathBuf>,
    /// Whether `dir` is a temporary directory of ours, removed at the end.
    temporary: bool,
    inputs: Vec<String>,
}

const USAGE: &str = "usage: wasi-plugin [--python] [--dir DIR | --no-dir] INPUT...";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let temp = std::env::temp_dir().join(format!("wasi-plugin-{}", std::process::id()));
    let mut parsed = Args {
        kind: Kind::Rust,
        dir: Some(temp),
        temporary: true,
        inputs: Vec::new(),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--python" => parsed.kind = Kind::Python,
            "--no-dir" => (parsed.dir, parsed.temporary) = (None, false),
            "--dir" => {
                let dir = args.next().ok_or("--dir needs a directory")?;
                (parsed.dir, parsed.temporary) = (Some(dir.into()), false);
            }
            "--" => parsed.inputs.extend(args.by_ref()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ => parsed.inputs.push(arg),
        }
    }
    match parsed.inputs.is_empty() {
        true => Err("no input to handle".into()),
        false => Ok(parsed),
    }
}

fn main() {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("wasi-plugin: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let outcome = run(&args);
    if let (Some(dir), true) = (&args.dir, args.temporary) {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Err(e) = outcome {
        eprintln!("wasi-plugin: {e}");
        std::process::exit(1);
    }
}

/// Loads the plugin with the directory, handles every input, and shows what
/// the plugin left in the directory.
fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    // The plugin shares our stdout and stderr; it sees nothing else of ours
    // but the one directory, as `.`.
    let mut ctx = WasiCtx::builder().inherit_stdio();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            println!("host: giving the plugin {} as `.`", dir.display());
            ctx = ctx.preopened_dir(dir, ".", DirPerms::ALL, FilePerms::ALL)?;
        }
        None => println!("host: giving the plugin no directory"),
    }
    let mut store = Store::new(BoundsMode::Guard);
    let plugin = args.kind.instantiate(&mut store, ctx.build())?;
    for input in &args.inputs {
        let result = plugin.handle(&mut store, input)?;
        println!("host: handle({input:?}) = {}", wave(&result));
    }
    if let Some(dir) = &args.dir {
        show_files(dir)?;
    }
    Ok(())
}

/// Prints each file in `dir` with its contents.
fn show_files(dir: &Path) -> Result<(), Box<dyn Error>> {
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let contents = std::fs::read(entry.path())?;
        let name = entry.file_name();
        println!(
            "host: the plugin left {} ({} bytes):",
            name.to_string_lossy(),
            contents.len()
        );
        for line in String::from_utf8_lossy(&contents).lines() {
            println!("  {line}");
        }
    }
    Ok(())
}
