//! Differential testing of core modules against Wasmtime (issue 22): the parts
//! both the fuzzer (`rivet-difftest`, which links Wasmtime) and the CI smoke
//! (`tests/tests/differential.rs`, which reads a recording of Wasmtime) need.
//!
//! * [`generate`] makes a case from its seed: a module from wasm-smith and the
//!   arguments of every call;
//! * [`rivet_side`] runs a batch of cases through Rivet's pipeline in a mode;
//! * [`outcome`] is what a run produced, as lines, and the comparison that
//!   classifies the differences engines may legitimately show;
//! * [`recording`] reads and writes Wasmtime's outcomes of a fixed-seed batch;
//! * [`component`] does the same for components: generated compositions with
//!   fused adapters, values and faults.

pub mod component;
pub mod generate;
pub mod outcome;
pub mod recording;
pub mod rivet_side;
pub mod value;

/// The runs of a batch of `cases` compiled as one (`compiled`: what running
/// them needs, or why the engine refused the batch), by `run`. A refused
/// batch of more than one case is run case by case (`alone`), so that the
/// refusal lands on the case that caused it; a case refused alone gets
/// `refused` with the engine's message. Both engines' sides, core and
/// component, batch this way.
pub fn each_if_refused<C, X, R>(
    cases: &[C],
    compiled: Result<X, String>,
    run: impl FnOnce(X) -> Vec<R>,
    alone: impl FnMut(&[C]) -> Vec<R>,
    refused: impl FnOnce(&str) -> R,
) -> Vec<R> {
    match compiled {
        Ok(x) => run(x),
        Err(_) if cases.len() > 1 => cases.chunks(1).flat_map(alone).collect(),
        Err(message) => vec![refused(&message)],
    }
}
