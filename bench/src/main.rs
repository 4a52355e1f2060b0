//! `rivet-bench`: measures Rivet and writes the results beside this crate.
//!
//! `cargo run --release -p rivet-bench` compares Rivet with Wasmtime 48 on the same
//! components (`compare`: writes `results.csv` and `RESULTS.md`);
//! `cargo run --release -p rivet-bench -- --core` measures Rivet's core compile
//! throughput and kernel run time (`core`: writes `RESULTS-core.md`). `timing` and
//! `report` are shared.

mod compare;
mod core;
mod corpus;
mod report;
mod timing;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What the command line asks for.
enum Mode {
    /// Every comparison workload; writes the results files.
    Compare,
    /// One comparison workload (by its short name), printed only: for
    /// measuring one change without the whole run (`--rivet-only NAME`: Rivet's
    /// side alone, for a profiler).
    Only(String),
    /// The core-engine benchmark.
    Core,
}

fn mode() -> Result<Mode, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => Ok(Mode::Compare),
        ["--core"] => Ok(Mode::Core),
        ["--only", name] => Ok(Mode::Only(name.to_string())),
        ["--rivet-only", name] => {
            compare::leave_out_wasmtime();
            Ok(Mode::Only(name.to_string()))
        }
        _ => Err(format!(
            "unknown arguments {args:?} (`--core`, or `--only NAME` or `--rivet-only NAME` \
             with NAME one of {})",
            compare::WORKLOADS.join(", ")
        )),
    }
}

fn main() -> ExitCode {
    let mode = match mode() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("rivet-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match with_scratch(|scratch| match &mode {
        Mode::Core => run_core(scratch),
        Mode::Compare => run_compare(scratch, None),
        Mode::Only(name) => run_compare(scratch, Some(name)),
    }) {
        Ok(path) => {
            if let Some(path) = path {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rivet-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `f` with a fresh scratch directory, removed afterwards.
fn with_scratch(
    f: impl FnOnce(&Path) -> Result<Option<PathBuf>, String>,
) -> Result<Option<PathBuf>, String> {
    let scratch = std::env::temp_dir().join(format!("rivet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let result = f(&scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn bench_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// All workloads (written to `RESULTS.md`), or only the one named `only`
/// (printed, nothing written: one workload is not a results file).
fn run_compare(scratch: &Path, only: Option<&str>) -> Result<Option<PathBuf>, String> {
    let rows = compare::run(bench_dir(), scratch, only)?;
    println!("{}", compare::table(&rows).text());
    Ok(only.is_none().then(|| bench_dir().join("RESULTS.md")))
}

fn run_core(scratch: &Path) -> Result<Option<PathBuf>, String> {
    let tables = core::run(scratch)?;
    for table in &tables {
        println!("{}", table.text());
    }
    let path = bench_dir().join("RESULTS-core.md");
    let text = report::markdown_file(
        "Rivet core-engine benchmark",
        "Written by `cargo run --release -p rivet-bench -- --core`; the numbers come from \
         one run on the machine below, shared with other jobs (see its load average): \
         wall-clock times include waiting for a CPU, and even CPU times vary by 10-20% \
         between runs.",
        &tables,
    );
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(Some(path))
}
