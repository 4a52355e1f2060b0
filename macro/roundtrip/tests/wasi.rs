//! A WASI command through the generated bindings: the host implements only
//! its own interface (`test:host/mode`), rivet-wasi serves the WASI imports
//! from the context given to `instantiate`, and `run` returns the exit status.
#![deny(warnings)]

use rivet::{BoundsMode, Store, Trap};
use rivet_macro_roundtrip::{WasiRun, WasiRunModeHost};
use rivet_wasi::{MemoryOutputPipe, WasiCtx};

/// The host's side: what `pick` answers.
struct Mode(u8);

impl WasiRunModeHost for Mode {
    fn pick(&mut self) -> Result<u8, Trap> {
        Ok(self.0)
    }
}

/// Runs the command in `mode`: its status, its stdout, and the WASI
/// resources it left alive.
fn run(mode: u8) -> (Result<i32, Trap>, String, usize) {
    let stdout = MemoryOutputPipe::new();
    let ctx = WasiCtx::builder().stdout(stdout.clone()).build();
    let mut store = Store::new(BoundsMode::Guard);
    let command = WasiRun::instantiate(&mut store, Mode(mode), ctx).expect("instantiates");
    let status = command.run(&mut store);
    let live = command.wasi().ctx().live_resources();
    (status, stdout.contents_string(), live)
}

#[test]
fn run_returns_the_exit_status() {
    // ok, err, exit-with-code(7).
    for (mode, want) in [(0, 0), (1, 1), (2, 7)] {
        let (status, stdout, live) = run(mode);
        assert_eq!(status.expect("the guest exits"), want, "mode {mode}");
        assert_eq!(stdout, "run\n", "mode {mode}");
        // The stdout stream the guest never dropped, read through `wasi()`.
        assert_eq!(live, 1, "mode {mode}");
    }
}

#[test]
fn a_trap_in_run_is_the_err() {
    let (status, stdout, _) = run(3);
    let trap = status.expect_err("the guest traps");
    assert!(trap.to_string().contains("unreachable"), "{trap}");
    assert_eq!(stdout, "run\n");
}
