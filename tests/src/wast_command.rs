//! `rivet wast FILE...` (the `rivet` command of crate `rivet-wasm-cli`): runs spec
//! scripts through the Rivet pipeline and reports each file and the directive
//! totals; exits non-zero if any directive failed. It lives here, beside the
//! runner, so that the command stays a thin dispatcher.

use crate::pipeline::{Mode, Pipeline};
use crate::report::{format_file, Totals};
use crate::runner::run_files;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

/// The synopsis of the command.
pub const USAGE: &str = "rivet wast [--mode guard|explicit|c|both|all] [--verbose] FILE...";

struct Args {
    modes: Vec<Mode>,
    verbose: bool,
    files: Vec<PathBuf>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        modes: Mode::ALL.to_vec(),
        verbose: false,
        files: Vec::new(),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // `--bounds` is the option's older name.
            "--mode" | "--bounds" => {
                let mode = args.next().ok_or("--mode needs a value")?;
                parsed.modes = match mode.as_str() {
                    "guard" => vec![Mode::Guard],
                    "explicit" => vec![Mode::Explicit],
                    "c" => vec![Mode::C],
                    "both" => vec![Mode::Guard, Mode::Explicit],
                    "all" => Mode::ALL.to_vec(),
                    other => return Err(format!("unknown mode `{other}`")),
                };
            }
            "--verbose" | "-v" => parsed.verbose = true,
            "--help" | "-h" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option `{flag}`")),
            file => parsed.files.push(PathBuf::from(file)),
        }
    }
    if parsed.files.is_empty() {
        return Err("no files given".to_string());
    }
    Ok(parsed)
}

/// Runs the command on its arguments (those after `wast`); the exit code is 2
/// for a usage error, 1 when a directive failed.
pub fn main(args: impl Iterator<Item = String>) -> ExitCode {
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("rivet wast: {e}");
            }
            eprintln!("usage: {USAGE}");
            return ExitCode::from(2);
        }
    };
    // One background compile worker plus the script thread compiling what it
    // needs next: two cores busy.
    let pipeline = match Pipeline::new(1) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rivet wast: creating the temporary directory: {e}");
            return ExitCode::from(2);
        }
    };
    let totals = Mutex::new(Totals::default());
    run_files(&args.files, &args.modes, &pipeline, 1, |report| {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(format_file(report, args.verbose).as_bytes());
        let _ = out.flush();
        totals.lock().unwrap_or_else(|e| e.into_inner()).add(report);
    });
    let totals = totals.into_inner().unwrap_or_else(|e| e.into_inner());
    println!("{totals}");
    if totals.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
