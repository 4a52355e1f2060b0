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

fn main() -> ExitCode {
    let core = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--core") => true,
        Some(other) => {
            eprintln!("rivet-bench: unknown argument `{other}` (only `--core`)");
            return ExitCode::FAILURE;
        }
    };
    match with_scratch(|scratch| {
        if core {
            run_core(scratch)
        } else {
            run_compare(scratch)
        }
    }) {
        Ok(path) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
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
