//! `rivet-bench`: measures Rivet and writes the results beside this crate.
//!
//! `cargo run --release -p rivet-bench` compares Rivet with Wasmtime 48 on the same
//! components (`compare`: writes `results.csv` and `RESULTS.md`);
//! `cargo run --release -p rivet-bench -- --core` measures Rivet's core compile
//! throughput and kernel run time (`core`: writes `RESULTS-core.md`);
//! `-- --only kernels` runs just the compute kernels of the comparison and writes
//! nothing (a quick check while tuning generated code). `timing` and `report` are
//! shared.

mod compare;
mod core;
mod corpus;
mod report;
mod timing;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What the command line asks for.
enum Mode {
    Compare,
    Core,
    Kernels,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => Mode::Compare,
        ["--core"] => Mode::Core,
        ["--only", "kernels"] => Mode::Kernels,
        _ => {
            eprintln!(
                "rivet-bench: unknown arguments {args:?} (expected none, `--core` or `--only kernels`)"
            );
            return ExitCode::FAILURE;
        }
    };
    let result = match mode {
        Mode::Compare => with_scratch(run_compare).map(Some),
        Mode::Core => with_scratch(run_core).map(Some),
        Mode::Kernels => run_kernels().map(|()| None),
    };
    match result {
        Ok(Some(path)) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rivet-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `f` with a fresh scratch directory, removed afterwards.
fn with_scratch(f: impl FnOnce(&Path) -> Result<PathBuf, String>) -> Result<PathBuf, String> {
    let scratch = std::env::temp_dir().join(format!("rivet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let result = f(&scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn bench_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_compare(scratch: &Path) -> Result<PathBuf, String> {
    let rows = compare::run(bench_dir(), scratch)?;
    println!("{}", compare::table(&rows).text());
    Ok(bench_dir().join("RESULTS.md"))
}

/// The kernel rows of the comparison, printed only.
fn run_kernels() -> Result<(), String> {
    let rows = compare::run_kernels()?;
    println!("{}", compare::table(&rows).text());
    Ok(())
}

fn run_core(scratch: &Path) -> Result<PathBuf, String> {
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
    Ok(path)
}
