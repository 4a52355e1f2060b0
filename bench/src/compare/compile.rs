//! Workload 6: compiling the largest component (`guests/big.wasm`, a Rust guest
//! with `regex` and `pulldown-cmark`): Rivet's build-time compile to an object
//! file against Wasmtime's ahead-of-time `precompile_component`, and Rivet's
//! compile on one thread, which shows what compiling functions in parallel gains.

use super::wasmtime_side as wt;
use super::{Row, Unit};
use crate::timing;
use std::hint::black_box;

const BIG: &[u8] = include_bytes!("../../../guests/big.wasm");
const ROUNDS: usize = 5;

/// Both compile on several threads: the first row is process CPU time (the
/// target's), the second wall time, medians of alternating rounds; the third
/// sets Rivet's wall time on one thread beside its wall time on all cores.
pub fn run() -> Result<[Row; 3], String> {
    let engine = wt::default_engine()?;
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| format!("a one-thread pool: {e}"))?;
    let (mut rivet, mut wasmtime, mut single) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        rivet.push(time_rivet()?);
        let (w, t) = timing::time_process(|| engine.precompile_component(BIG));
        black_box(w.map_err(wt::err)?);
        wasmtime.push(t);
        single.push(one_thread.install(time_rivet)?);
    }
    let (r, w, s) = (
        timing::median_elapsed(&rivet),
        timing::median_elapsed(&wasmtime),
        timing::median_elapsed(&single),
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
    let threads = rayon::current_num_threads();
    let parallel = Row {
        workload: "compile big.wasm, wall time: Rivet on all cores (Rivet column) vs one thread (native column)",
        wasmtime: None,
        native: Some(nanos(s.wall)),
        target: format!("{threads} threads faster than one"),
        met: Some(r.wall < s.wall),
        ..wall
    };
    Ok([cpu, wall, parallel])
}

/// One Rivet compile of `big.wasm` on the current rayon pool.
fn time_rivet() -> Result<timing::Elapsed, String> {
    let options = rivet_build::Options::default();
    let (r, t) = timing::time_process(|| rivet_build::__internal::compile_with_plan(BIG, &options));
    black_box(r.map_err(|e| format!("Rivet compiling big.wasm: {e}"))?);
    Ok(t)
}
