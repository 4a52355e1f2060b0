//! `rivet-bench`: measures Rivet and writes the results beside this crate.
//!
//! Run with `cargo run --release -p rivet-bench`. One module per workload group
//! (`core`: compile throughput and kernel run time); `timing` and `report` are shared.

mod core;
mod corpus;
mod report;
mod timing;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
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

fn run() -> Result<PathBuf, String> {
    let scratch = std::env::temp_dir().join(format!("rivet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let tables = core::run(&scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let tables = tables?;
    for table in &tables {
        println!("{}", table.text());
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("RESULTS-core.md");
    let text = report::markdown_file(
        "Rivet core-engine benchmark",
        "Written by `cargo run --release -p rivet-bench`; the numbers come from one run on \
         the machine below, shared with other jobs (see its load average): wall-clock \
         times include waiting for a CPU, and even CPU times vary by 10-20% between runs.",
        &tables,
    );
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}
