//! Compile throughput: wasm bytes per second through `rivet_build::compile_module`
//! alone, and through compile plus `link_shared` (what a build pays per unit).

use crate::corpus::{self, Input};
use crate::report::Table;
use crate::timing::{median_elapsed, millis, rate, size, time_process, Elapsed};
use std::path::{Path, PathBuf};

/// Runs of each large module; its median is reported.
const RUNS: usize = 3;

/// How many of the spec suite's largest modules are reported one by one.
const LARGEST: usize = 5;

/// Functions in the generated module: about 1.1 MB of wasm.
const GENERATED_FUNCTIONS: usize = 5000;

/// The spec-suite summary and the per-module table of the largest modules.
pub fn tables(scratch: &Path) -> Result<Vec<Table>, String> {
    let dir = corpus::spec_dir();
    let (inputs, unparsed) = corpus::spec_modules(&dir)?;
    let (compiled, rejected) = compile_all(inputs);
    eprintln!(
        "compiled {} spec modules ({} rejected, {} scripts unparsed); linking them",
        compiled.len(),
        rejected,
        unparsed.len()
    );
    for script in &unparsed {
        eprintln!("  unparsed: {script}");
    }
    let summary = suite_summary(&compiled, rejected, &unparsed, scratch)?;
    let generated = corpus::generated(GENERATED_FUNCTIONS)?;
    if generated.wasm.len() < 1_000_000 {
        return Err(format!(
            "the generated module is only {} bytes",
            generated.wasm.len()
        ));
    }
    let mut largest: Vec<&Input> = compiled.iter().map(|(input, _)| input).collect();
    largest.sort_by_key(|input| std::cmp::Reverse(input.wasm.len()));
    largest.truncate(LARGEST);
    largest.push(&generated);
    Ok(vec![summary, per_module(&largest, scratch)?])
}

/// Compiles every input once, keeping those that compile with their time.
fn compile_all(inputs: Vec<Input>) -> (Vec<(Input, Elapsed)>, usize) {
    let options = rivet_build::Options::default();
    let mut compiled = Vec::new();
    let mut rejected = 0;
    for input in inputs {
        let (result, elapsed) = time_process(|| rivet_build::compile_module(&input.wasm, &options));
        match result {
            Ok(_) => compiled.push((input, elapsed)),
            Err(_) => rejected += 1,
        }
    }
    (compiled, rejected)
}

fn suite_summary(
    compiled: &[(Input, Elapsed)],
    rejected: usize,
    unparsed: &[String],
    scratch: &Path,
) -> Result<Table, String> {
    let bytes: usize = compiled.iter().map(|(input, _)| input.wasm.len()).sum();
    let compile: Elapsed = compiled.iter().map(|(_, elapsed)| *elapsed).sum();
    let mut linked = Elapsed::default();
    for (i, (input, _)) in compiled.iter().enumerate() {
        linked = linked + compile_and_link(&input.wasm, &scratch.join(format!("spec{i}")))?;
    }
    let unparsed_names: Vec<&str> = unparsed
        .iter()
        .map(|u| u.split_once(':').map_or(u.as_str(), |(name, _)| name))
        .collect();
    let note = format!(
        "Every distinct module of the `.wast` files in `../shared/testsuite/core/` that the \
         scripts expect to be valid and that Rivet compiles (guard bounds mode), each \
         compiled once; {rejected} modules Rivet rejects and the scripts the `wast` crate \
         does not parse ({}) are left out. Throughput = total wasm bytes / total time, so the fixed cost \
         per module weighs heavily on these mostly tiny modules. CPU time counts every \
         thread of the process (functions compile in parallel) and the linker \
         processes; wall time is what a build waits, with the parallelism and the \
         waits for a CPU on this shared machine.",
        unparsed_names.join(", ")
    );
    let mut table = Table::new(
        "Compile throughput: core spec suite",
        &note,
        &[
            "modules",
            "wasm bytes",
            "step",
            "CPU time",
            "CPU throughput",
            "wall time",
            "wall throughput",
        ],
    );
    for (step, elapsed) in [("compile", compile), ("compile + link_shared", linked)] {
        table.row(vec![
            compiled.len().to_string(),
            bytes.to_string(),
            step.to_string(),
            millis(elapsed.cpu),
            rate(bytes, elapsed.cpu),
            millis(elapsed.wall),
            rate(bytes, elapsed.wall),
        ]);
    }
    Ok(table)
}

fn per_module(inputs: &[&Input], scratch: &Path) -> Result<Table, String> {
    let mut table = Table::new(
        "Compile throughput: largest modules",
        &format!(
            "The {LARGEST} largest spec-suite modules and a generated module \
             ({GENERATED_FUNCTIONS} functions with loops, i32/i64/f64 arithmetic, loads, \
             stores, direct and indirect calls). Median of {RUNS} runs, guard bounds mode, \
             functions compiled on {} threads; throughput from CPU time (all threads), \
             wall time in its own column.",
            rayon::current_num_threads()
        ),
        &[
            "module",
            "wasm size",
            "compile CPU",
            "compile MB/s",
            "compile wall",
            "compile + link CPU",
            "compile + link MB/s",
            "compile + link wall",
        ],
    );
    let options = rivet_build::Options::default();
    for (n, input) in inputs.iter().enumerate() {
        let mut compile = Vec::new();
        let mut linked = Vec::new();
        for run in 0..RUNS {
            let (result, elapsed) =
                time_process(|| rivet_build::compile_module(&input.wasm, &options));
            result.map_err(|e| format!("{}: {e}", input.name))?;
            compile.push(elapsed);
            let stem = scratch.join(format!("large{n}-{run}"));
            linked.push(compile_and_link(&input.wasm, &stem)?);
        }
        let (compile, linked) = (median_elapsed(&compile), median_elapsed(&linked));
        let bytes = input.wasm.len();
        table.row(vec![
            input.name.clone(),
            size(bytes),
            millis(compile.cpu),
            rate(bytes, compile.cpu),
            millis(compile.wall),
            millis(linked.cpu),
            rate(bytes, linked.cpu),
            millis(linked.wall),
        ]);
    }
    Ok(table)
}

/// Time to compile `wasm`, write `stem.o` and link `stem.so` (the files are removed
/// afterwards, outside the timed part).
fn compile_and_link(wasm: &[u8], stem: &Path) -> Result<Elapsed, String> {
    let object_path = stem.with_extension("o");
    let library_path = stem.with_extension("so");
    let (result, elapsed) = time_process(|| -> Result<(), String> {
        let object =
            rivet_build::compile_module(wasm, &Default::default()).map_err(|e| e.to_string())?;
        std::fs::write(&object_path, object).map_err(|e| e.to_string())?;
        let objects: [PathBuf; 1] = [object_path.clone()];
        rivet_build::__internal::link_shared(&objects, &library_path).map_err(|e| e.to_string())
    });
    let _ = std::fs::remove_file(&object_path);
    let _ = std::fs::remove_file(&library_path);
    result.map(|()| elapsed)
}
