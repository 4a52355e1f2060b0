//! Tests of the runtime without compiled code: descriptors are built in memory,
//! and on x86-64 a few hand-assembled functions stand in for compiled wasm.

mod api;
mod fake;
mod instantiate;
#[cfg(target_arch = "x86_64")]
mod native;
