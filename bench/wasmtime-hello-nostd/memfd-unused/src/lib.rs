//! Empty on purpose. Wasmtime 48's `runtime` feature depends on `memfd` on
//! Linux whether or not `std` is on, yet only its `std` platform code uses it.
//! The real crate depends on `rustix` with `std`, which would link `std` (and
//! its panic handler) into the `no_std` host; this stand-in links nothing.
//! Upstream: <https://github.com/bytecodealliance/wasmtime/pull/12520>.

#![no_std]
