//! Differential testing of components against Wasmtime (issue 22): values of
//! generated types passed host → component A → fused adapter → component B →
//! host and back, in both engines, with faults injected into the core glue
//! (docs/fuzzing.md, "Components").
//!
//! * [`ty`] and [`val`] draw types and values from a seed;
//! * [`fault`] lists the faults a case's glue may inject;
//! * [`compose`] writes a case's components and a batch's composition;
//! * [`case`] makes a case from its seed, with the outcome the spec
//!   prescribes where it can tell;
//! * [`rivet_side`] runs a batch in Rivet (the Wasmtime side is in
//!   `rivet-difftest`); [`judge`] compares.

pub mod case;
pub mod compose;
pub mod fault;
pub mod rivet_side;
pub mod ty;
pub mod val;

use super::outcome::{compare, Class, Outcome, Verdict};
use case::{Case, INSTANTIATED};

/// What an engine did with one case: the outcome lines, and the trap's own
/// message for reports (engines word traps differently, so it is not
/// compared).
pub struct Run {
    pub outcome: Outcome,
    pub trap: Option<String>,
}

impl Run {
    /// A case that never ran: refused, or its batch not instantiated.
    pub fn failed(outcome: Outcome) -> Run {
        Run {
            outcome,
            trap: None,
        }
    }

    /// A case whose `g` was called: the line of `h`'s arguments if it was
    /// reached, then `g`'s line.
    pub fn called(h: Option<String>, g: String, trap: Option<String>) -> Run {
        let mut outcome = Outcome::default();
        outcome.lines.push(INSTANTIATED.to_string());
        outcome.lines.extend(h);
        outcome.lines.push(g);
        Run { outcome, trap }
    }

    /// A case whose `g` returned: `result` is its value as the case's
    /// [`val::Val`], or why the engine's value is not one.
    pub fn returned(h: Option<String>, result: Result<Option<val::Val>, String>) -> Run {
        match result {
            Ok(v) => Run::called(h, case::g_line(Ok(v.as_ref())), None),
            Err(e) => Run::called(h, format!("g: unexpected value {e}"), None),
        }
    }
}

/// Runs a batch's cases in turn in one instance, and makes a fresh one for the
/// first case and for each case after one that trapped: a trap locks the whole
/// composition down (the spec's `may_enter` of the root stays clear). Each
/// engine's side supplies `instantiate` (an instance, or why not) and `call`
/// (case `i` run in it, and whether `g` returned).
pub fn run_in_turn<I>(
    count: usize,
    mut instantiate: impl FnMut() -> Result<I, String>,
    mut call: impl FnMut(&mut I, usize) -> (Run, bool),
) -> Vec<Run> {
    let mut live = None;
    (0..count)
        .map(|i| {
            let mut instance = match live.take() {
                Some(instance) => instance,
                None => match instantiate() {
                    Ok(instance) => instance,
                    Err(e) => {
                        let mut outcome = Outcome::default();
                        outcome.lines.push(format!("instantiate: error ({e})"));
                        return Run::failed(outcome);
                    }
                },
            };
            let (run, returned) = call(&mut instance, i);
            if returned {
                live = Some(instance);
            }
            run
        })
        .collect()
}

/// Compares Rivet's outcome of `case` with the spec's where the generator
/// knows it (Wasmtime differing from it is classified, not failed: the spec
/// wins), and with Wasmtime's (live or recorded) otherwise.
pub fn judge(case: &Case, wasmtime: &Outcome, rivet: &Outcome) -> Verdict {
    let Some(spec) = case.expected() else {
        return compare(wasmtime, rivet);
    };
    let shown = |engine: &str, outcome: &Outcome| {
        format!("spec {:?}, {engine} {:?}", spec.lines, outcome.lines)
    };
    match compare(&spec, rivet) {
        Verdict::Diverge(_) => Verdict::Diverge(shown("rivet", rivet)),
        Verdict::Agree(mut classes) => {
            if let Verdict::Diverge(_) = compare(&spec, wasmtime) {
                classes.push((Class::WasmtimeNotSpec, shown("wasmtime", wasmtime)));
            }
            Verdict::Agree(classes)
        }
    }
}
