//! The differential fuzzer's CI smoke (issue 22, docs/fuzzing.md): the cases of
//! a fixed-seed batch, regenerated from their seeds, run in Rivet in every mode
//! and compared with Wasmtime's outcomes recorded in
//! `tests/differential/wasmtime.txt`, so CI needs no Wasmtime build.

use rivet_tests::differential::generate;
use rivet_tests::differential::outcome::{compare, Verdict};
use rivet_tests::differential::recording::{self, Recorded};
use rivet_tests::differential::rivet_side::run_batch;
use rivet_tests::pipeline::Mode;

/// Modules compiled into one unit: one link (and one C compile) per batch.
const BATCH: usize = 50;

fn recorded() -> Vec<Recorded> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/differential/wasmtime.txt");
    recording::read(path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn rivet_agrees_with_the_wasmtime_recording_in_every_mode() {
    let recorded = recorded();
    let cases: Vec<(u64, Vec<u8>)> = recorded
        .iter()
        .map(|r| {
            let wasm = generate::module(r.seed).unwrap_or_else(|e| panic!("{e}"));
            r.check_module(&wasm).unwrap_or_else(|e| panic!("{e}"));
            (r.seed, wasm)
        })
        .collect();
    let mut divergences = Vec::new();
    for mode in Mode::ALL {
        for (records, batch) in recorded.chunks(BATCH).zip(cases.chunks(BATCH)) {
            for (record, outcome) in records.iter().zip(run_batch(batch, mode)) {
                if let Verdict::Diverge(why) = compare(&record.outcome, &outcome) {
                    divergences.push(format!("seed {} mode {}: {why}", record.seed, mode.name()));
                }
            }
        }
    }
    assert!(
        divergences.is_empty(),
        "divergences from Wasmtime:\n{}",
        divergences.join("\n")
    );
}
