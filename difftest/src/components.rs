//! `--components`: component cases (compositions A → fused adapter → B with
//! generated types, values and faults) run in Wasmtime and in Rivet in each
//! mode, and judged against the spec's outcome where the generator knows it,
//! Wasmtime's otherwise.

use crate::args::Args;
use crate::{component_side, fuzz_loop, save_as};
use rivet_tests::differential::component::case::{batch_wasm, g_line, generate, Case};
use rivet_tests::differential::component::{judge, rivet_side, Run};
use rivet_tests::differential::outcome::{Outcome, Verdict};
use rivet_tests::differential::recording::{self, Recorded, RECORD_COMPONENTS_COMMAND};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// The fuzzing loop over component cases.
pub fn fuzz(args: &Args, engine: &wasmtime::Engine) -> ExitCode {
    let mut shapes: BTreeMap<&str, u64> = BTreeMap::new();
    let mut features: BTreeMap<String, u64> = BTreeMap::new();
    let status = fuzz_loop(args, "component cases", |seeds, tally| {
        let cases: Vec<Case> = seeds.iter().map(|&seed| generate(seed)).collect();
        let cases: Vec<&Case> = cases.iter().collect();
        let reference = component_side::run_batch(engine, &cases);
        for (case, run) in cases.iter().zip(&reference) {
            *shapes.entry(shape(case, &run.outcome)).or_default() += 1;
            for feature in case.features() {
                *features.entry(feature).or_default() += 1;
            }
        }
        for &mode in &args.modes {
            let runs = rivet_side::run_batch(&cases, mode);
            for ((case, wasmtime), rivet) in cases.iter().zip(&reference).zip(&runs) {
                let verdict = judge(case, &wasmtime.outcome, &rivet.outcome);
                if let Verdict::Diverge(why) = &verdict {
                    report(case, mode.name(), why, wasmtime, rivet);
                } else if args.verbose {
                    println!("seed {} mode {}: {verdict:?}", case.seed, mode.name());
                }
                tally.add(mode, &verdict);
            }
        }
    });
    for (shape, n) in shapes {
        println!("in Wasmtime: {n} cases {shape}");
    }
    for (feature, n) in features {
        println!("cases that {feature}: {n}");
    }
    status
}

/// What a case was and how it went in Wasmtime, for the closing counts:
/// that the cases reach what they are meant to test is itself checked.
fn shape(case: &Case, outcome: &Outcome) -> &'static str {
    let reached_h = outcome.lines.iter().any(|l| l.starts_with("h: "));
    let trapped = outcome.lines.last().is_some_and(|l| l == &g_line(Err(())));
    match (case.fault.is_some(), reached_h, trapped) {
        (false, _, false) => "without a fault returned",
        (false, _, true) => "without a fault trapped",
        (true, false, true) => "with a fault trapped before h",
        (true, true, true) => "with a fault trapped after h",
        (true, _, false) => "with a fault returned",
    }
}

/// Prints a divergence with its seed, what the case is, both engines' trap
/// messages, and where its composition was written.
fn report(case: &Case, mode: &str, why: &str, wasmtime: &Run, rivet: &Run) {
    println!("DIVERGENCE component seed {} mode {mode}: {why}", case.seed);
    println!("  case: {}", case.describe());
    for (engine, run) in [("wasmtime", wasmtime), ("rivet", rivet)] {
        if let Some(trap) = &run.trap {
            println!("  {engine} trapped: {}", trap.replace('\n', " / "));
        }
    }
    let saved = match batch_wasm(&[case]) {
        Ok(wasm) => save_as(&format!("component-seed-{}.wasm", case.seed), &wasm),
        Err(e) => e,
    };
    println!("  composition: {saved}");
}

/// Prints Wasmtime's outcomes of the component cases `seed..seed+count`:
/// the recording the CI smoke compares Rivet with.
pub fn record(args: &Args, engine: &wasmtime::Engine) -> ExitCode {
    let seeds: Vec<u64> = (0..args.count).map(|i| args.seed.wrapping_add(i)).collect();
    let mut recorded = Vec::new();
    for chunk in seeds.chunks(args.batch as usize) {
        let cases: Vec<Case> = chunk.iter().map(|&seed| generate(seed)).collect();
        let cases: Vec<&Case> = cases.iter().collect();
        for (case, run) in cases.iter().zip(component_side::run_batch(engine, &cases)) {
            recorded.push(Recorded {
                seed: case.seed,
                module_hash: case.hash(),
                outcome: run.outcome,
            });
        }
    }
    let header = format!(
        "Wasmtime 48's outcomes of the differential fuzzer's component cases {}..{} \
         (docs/fuzzing.md).\nWritten by `{RECORD_COMPONENTS_COMMAND}`;\n\
         read by tests/tests/differential_components.rs. Do not edit by hand.",
        args.seed,
        args.seed.wrapping_add(args.count)
    );
    print!("{}", recording::write(&header, &recorded));
    ExitCode::SUCCESS
}
