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
