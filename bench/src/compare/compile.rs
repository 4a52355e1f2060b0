//! Workload 6: compiling the largest component (`guests/big.wasm`, a Rust guest
//! with `regex` and `pulldown-cmark`): Rivet's build-time compile to an object
//! file against Wasmtime's ahead-of-time `precompile_component`.

use super::wasmtime_side as wt;
use super::{Row, Unit};
use crate::timing;
use std::hint::black_box;

const BIG: &[u8] = include_bytes!("../../../guests/big.wasm");
const ROUNDS: usize = 5;

/// Both compile on several threads: the first row is process CPU time (the
/// target's), the second wall time, medians of alternating rounds.
pub fn run() -> Result<[Row; 2], String> {
    let engine = wt::default_engine()?;
    let options = rivet_build::Options::default();
    let (mut rivet, mut wasmtime) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (r, t) =
            timing::time_process(|| rivet_build::__internal::compile_with_plan(BIG, &options));
        black_box(r.map_err(|e| format!("Rivet compiling big.wasm: {e}"))?);
        rivet.push(t);
        let (w, t) = timing::time_process(|| engine.precompile_component(BIG));
        black_box(w.map_err(wt::err)?);
        wasmtime.push(t);
    }
    let (r, w) = (
        timing::median_elapsed(&rivet),
        timing::median_elapsed(&wasmtime),
    );
    let nanos = super::sample::nanos;
    let cpu = Row {
        workload: "compile big.wasm (1.5 MB Rust guest)",
        unit: Unit::Nanos,
        rivet: Some(nanos(r.cpu)),
        wasmtime: Some(nanos(w.cpu)),
        pooling: None,
        native: None,
        target: "≥ 1.0".to_string(),
        met: Some(w.cpu >= r.cpu),
    };
    let wall = Row {
        workload: "compile big.wasm, wall time (all cores)",
        rivet: Some(nanos(r.wall)),
        wasmtime: Some(nanos(w.wall)),
        target: "–".to_string(),
        met: None,
        ..cpu
    };
    Ok([cpu, wall])
}
