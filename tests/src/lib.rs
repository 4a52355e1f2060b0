//! `rivet-tests`: the `.wast` conformance runner.
//!
//! Every module or component of a script goes through the same pipeline a Rivet
//! user's build does — `rivet_build::compile_module` (or `compile_component`) to
//! an object, `cc -shared` to a library,
//! `dlopen`, and the `rivet` runtime — so the spec suites test the real thing.
//!
//! * [`prepare`] encodes a script's modules; [`pipeline`] compiles and links them
//!   (ahead of need, cached by content); [`loader`] loads the libraries.
//! * [`session`] runs directives against one store; [`script`] runs a whole script
//!   in each bounds mode; [`runner`] runs files on big-stack threads.
//! * [`values`] and [`traps`] check results, [`component_values`] those of
//!   component exports; [`spectest`] is the host module;
//!   [`report`] formats output; [`ratchet`] tracks files that must keep passing;
//!   [`suites`] selects the files the conformance gate runs; [`recorded`] reads
//!   the WASI guests' runs Wasmtime recorded; [`wast_command`]
//!   is `rivet wast`.
//! * [`differential`] generates, runs and compares the differential fuzzer's
//!   cases (the fuzzer itself is `rivet-difftest`).

pub mod component_values;
pub mod differential;
pub mod loader;
pub mod pipeline;
pub mod prepare;
pub mod ratchet;
pub mod recorded;
pub mod report;
pub mod runner;
pub mod script;
pub mod session;
pub mod spectest;
pub mod suites;
pub mod traps;
pub mod values;
pub mod wast_command;

/// The text of a caught panic's payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
