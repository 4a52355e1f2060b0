//! The component fuzzer's cases through the typed bindings (issue 22): for
//! each case of the corpus `build.rs` generated, the host calls `g` with the
//! case's arguments as Rust values, component A forwards them through a
//! fused adapter to B, which calls the host's `h` (an impl of the bindings'
//! host trait), and the test asserts what the spec prescribes: `h` received
//! exactly the arguments and `g` returned exactly `h`'s result, or the trap
//! the case's fault calls for. The per-case code is generated
//! (`$OUT_DIR/corpus.rs`, included at the end).
#![deny(warnings)]

use rivet::{BoundsMode, Store, Trap};
use rivet_difftest_bindings::*;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, MutexGuard};

/// Every call of an `h`, in order: the case's index in the batch, and
/// whether the arguments were the case's (the differences otherwise).
type Calls = Arc<Mutex<Vec<(usize, Result<(), String>)>>>;

/// Every call of a resource's destructor, in order: the case's index in
/// the batch, and the handle's rep.
type Drops = Arc<Mutex<Vec<(usize, u32)>>>;

/// The host: implements every case's `h` and destructor (generated).
struct Host {
    calls: Calls,
    drops: Drops,
}

impl Host {
    /// Records that case `index`'s `h` was called, with the comparison of
    /// each argument. `h` must not panic: it runs under the component's
    /// frames, so it reports instead.
    fn reached(&self, index: usize, checks: Vec<Result<(), String>>) {
        let wrong: Vec<String> = checks.into_iter().filter_map(Result::err).collect();
        let verdict = if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("; "))
        };
        lock(&self.calls).push((index, verdict));
    }

    /// Records that the guest dropped its last own handle of case `index`'s
    /// resource, with rep `rep`.
    fn dropped(&self, index: usize, rep: u32) {
        lock(&self.drops).push((index, rep));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh instance of the corpus for one test: a trap locks a whole
/// instance down, and tests run in any order.
struct Run {
    store: Store,
    corpus: Corpus,
    calls: Calls,
    drops: Drops,
}

impl Run {
    fn new() -> Run {
        let (calls, drops) = (Calls::default(), Drops::default());
        let mut store = Store::new(BoundsMode::Guard);
        let host = Host {
            calls: calls.clone(),
            drops: drops.clone(),
        };
        let corpus = Corpus::instantiate(&mut store, host).expect("the corpus instantiates");
        Run {
            store,
            corpus,
            calls,
            drops,
        }
    }

    /// Asserts that the only `h` called was case `index`'s, once, with
    /// exactly the case's arguments.
    fn h_reached(&self, index: usize) {
        let calls = lock(&self.calls);
        match &calls[..] {
            [(i, Ok(()))] if *i == index => {}
            [(i, Err(wrong))] if *i == index => panic!("h received other arguments: {wrong}"),
            _ => panic!("the spec: case {index}'s h is called once; the calls: {calls:?}"),
        }
    }

    /// Asserts that no `h` was called (the spec traps before).
    fn h_not_reached(&self) {
        let calls = lock(&self.calls);
        assert!(
            calls.is_empty(),
            "the spec: h is not reached; the calls: {calls:?}"
        );
    }

    /// Asserts that no destructor of a host resource ran. The glue never
    /// drops an own handle: it passes those on (to `h`, or back to the
    /// host as `g`'s result), and the borrows it drops call no destructor
    /// (CanonicalABI.md, `canon_resource_drop`). Nor does a trap: the
    /// spec drops nothing then, the own handles the trapped guest holds
    /// stay in its tables, the instance unusable. So a call means a borrow
    /// arrived as an own handle, or a handle was dropped that no guest did.
    fn nothing_dropped(&self) {
        let drops = lock(&self.drops);
        assert!(
            drops.is_empty(),
            "the spec: no destructor runs; the drops (case, rep): {drops:?}"
        );
    }
}

/// Compares a value received with the case's, as the spec compares them:
/// by `Debug`, which writes each float's exact value (0.0 and -0.0 apart)
/// but every NaN as `NaN`, since lifting and lowering may change a NaN's
/// payload (CanonicalABI.md, `canonicalize_nan`), as the fuzzer's outcome
/// lines do (`f32:nan`).
fn same<T: Debug>(what: &str, got: &T, want: T) -> Result<(), String> {
    let (got, want) = (format!("{got:?}"), format!("{want:?}"));
    match got == want {
        true => Ok(()),
        false => Err(format!("{what} is {got}, the case's is {want}")),
    }
}

/// Asserts that `g` returned exactly `want`.
fn returned<T: Debug>(got: Result<T, Trap>, want: T) {
    let got = got.unwrap_or_else(|trap| panic!("g trapped ({trap:?}); the spec: it returns"));
    same("g's result", &got, want).unwrap_or_else(|e| panic!("{e}"));
}

/// Asserts that `g` trapped.
fn trapped<T: Debug>(got: Result<T, Trap>) {
    if let Ok(v) = got {
        panic!("g returned {v:?}; the spec: it traps");
    }
}

include!(concat!(env!("OUT_DIR"), "/corpus.rs"));
