//! `rivet-difftest`: generated core modules run in Wasmtime 48 and in Rivet in
//! each compile mode, their outcomes compared (issue 22; docs/fuzzing.md).
//!
//! ```text
//! cargo run --release -p rivet-difftest -- [--minutes N] [--count N] [--seed S]
//!     [--mode guard|explicit|c|all] [--batch N]
//! cargo run --release -p rivet-difftest -- record [--count N] [--seed S]
//! ```
//!
//! With `--components`, the cases are component compositions instead
//! (`components`, docs/fuzzing.md).
//!
//! Case `i` of a run has seed `S + i`; `--seed S --count 1` reproduces one case.

mod args;
mod component_side;
mod components;
mod wasmtime_side;

use args::{Args, Command};
use rivet_tests::differential::generate;
use rivet_tests::differential::outcome::{compare, Class, Outcome, Verdict};
use rivet_tests::differential::recording::{self, Recorded, RECORD_COMMAND};
use rivet_tests::differential::rivet_side::run_batch;
use rivet_tests::pipeline::Mode;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("rivet-difftest: {message}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let engine = match wasmtime_side::engine() {
        Ok(engine) => engine,
        Err(message) => {
            eprintln!("rivet-difftest: {message}");
            return ExitCode::FAILURE;
        }
    };
    match (&args.command, args.components) {
        (Command::Fuzz, false) => fuzz(&args, &engine),
        (Command::Record, false) => record(&args, &engine),
        (Command::Fuzz, true) => components::fuzz(&args, &engine),
        (Command::Record, true) => components::record(&args, &engine),
    }
}

/// Counts of a run.
#[derive(Default)]
pub(crate) struct Tally {
    passed: u64,
    failed: u64,
    per_mode: BTreeMap<&'static str, (u64, u64)>,
    classified: BTreeMap<Class, u64>,
}

impl Tally {
    pub(crate) fn add(&mut self, mode: Mode, verdict: &Verdict) {
        let counts = self.per_mode.entry(mode.name()).or_default();
        match verdict {
            Verdict::Agree(classes) => {
                self.passed += 1;
                counts.0 += 1;
                for (class, _) in classes {
                    *self.classified.entry(*class).or_default() += 1;
                }
            }
            Verdict::Diverge(_) => {
                self.failed += 1;
                counts.1 += 1;
            }
        }
    }
}

/// The fuzzing loop over core modules.
fn fuzz(args: &Args, engine: &wasmtime::Engine) -> ExitCode {
    fuzz_loop(args, "modules", |seeds, tally| {
        run_cases(seeds, args, engine, tally)
    })
}

/// The fuzzing loop: batches of seeds, each run by `run_seeds`, until the
/// time or the count runs out; `what` the cases are, for progress lines.
pub(crate) fn fuzz_loop(
    args: &Args,
    what: &str,
    mut run_seeds: impl FnMut(&[u64], &mut Tally),
) -> ExitCode {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut next = 0u64;
    println!(
        "seed {}, modes {:?}",
        args.seed,
        args.modes.iter().map(|m| m.name()).collect::<Vec<_>>()
    );
    while next < args.count && started.elapsed() < args.time {
        let size = args.batch.min(args.count - next);
        let seeds: Vec<u64> = (next..next + size)
            .map(|i| args.seed.wrapping_add(i))
            .collect();
        next += size;
        run_seeds(&seeds, &mut tally);
        println!(
            "{next} {what}, {:.0} s: {} passed, {} failed so far",
            started.elapsed().as_secs_f64(),
            tally.passed,
            tally.failed
        );
    }
    tally.finish(&format!("{next} {what}"), started)
}

impl Tally {
    /// Prints the counts per mode and class, `what` ran, and the closing
    /// `N passed, N failed`; the exit status says whether any case failed.
    pub(crate) fn finish(&self, what: &str, started: Instant) -> ExitCode {
        for (mode, (passed, failed)) in &self.per_mode {
            println!("mode {mode}: {passed} passed, {failed} failed");
        }
        for (class, n) in &self.classified {
            println!("classified as {class}: {n} cases");
        }
        println!("{what} in {:.0} s", started.elapsed().as_secs_f64());
        println!("{} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// Generates the cases of `seeds`, runs them in Wasmtime and in every mode of
/// Rivet, and reports each divergence with its seed.
fn run_cases(seeds: &[u64], args: &Args, engine: &wasmtime::Engine, tally: &mut Tally) {
    let mut cases = Vec::new();
    for &seed in seeds {
        match generate::module(seed) {
            Ok(wasm) => cases.push((seed, wasm)),
            Err(message) => {
                println!("GENERATOR FAILED {message}");
                tally.failed += 1;
            }
        }
    }
    let reference: Vec<Outcome> = cases
        .iter()
        .map(|(seed, wasm)| wasmtime_side::run(engine, *seed, wasm))
        .collect();
    for &mode in &args.modes {
        let outcomes = run_batch(&cases, mode);
        for (((seed, wasm), expected), actual) in cases.iter().zip(&reference).zip(&outcomes) {
            let verdict = compare(expected, actual);
            if let Verdict::Diverge(why) = &verdict {
                println!("DIVERGENCE seed {seed} mode {}: {why}", mode.name());
                println!("  module: {}", save(*seed, wasm));
            } else if args.verbose {
                println!("seed {seed} mode {}: {verdict:?}", mode.name());
            }
            tally.add(mode, &verdict);
        }
    }
}

/// Writes a diverging module to `target/difftest/seed-S.wasm` for reproduction.
fn save(seed: u64, wasm: &[u8]) -> String {
    save_as(&format!("seed-{seed}.wasm"), wasm)
}

/// Writes `bytes` to `target/difftest/NAME`; says where, or why not.
pub(crate) fn save_as(name: &str, bytes: &[u8]) -> String {
    let dir = PathBuf::from("target/difftest");
    let path = dir.join(name);
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, bytes)) {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("not written ({}: {e})", path.display()),
    }
}

/// Prints Wasmtime's outcomes of the cases `seed..seed+count`: the recording
/// the CI smoke compares Rivet with.
fn record(args: &Args, engine: &wasmtime::Engine) -> ExitCode {
    let mut cases = Vec::new();
    for i in 0..args.count {
        let seed = args.seed.wrapping_add(i);
        let wasm = match generate::module(seed) {
            Ok(wasm) => wasm,
            Err(message) => {
                eprintln!("rivet-difftest: {message}");
                return ExitCode::FAILURE;
            }
        };
        let outcome = wasmtime_side::run(engine, seed, &wasm);
        cases.push(Recorded::new(seed, &wasm, outcome));
    }
    let header = format!(
        "Wasmtime 48's outcomes of the differential fuzzer's cases {}..{} (docs/fuzzing.md).\n\
         Written by `{RECORD_COMMAND}`;\n\
         read by tests/tests/differential.rs. Do not edit by hand.",
        args.seed,
        args.seed.wrapping_add(args.count)
    );
    print!("{}", recording::write(&header, &cases));
    ExitCode::SUCCESS
}
