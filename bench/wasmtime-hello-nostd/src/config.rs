//! Wasmtime's configuration for a runtime built without `std`, in the one
//! place both sides read it: the host (`src/main.rs`) runs with it, and
//! `rivet-bench` precompiles `hello.cwasm` with it (its
//! `bench/src/compare/wasmtime_side.rs` declares this file as a module with
//! `#[path]`; `size.rs` writes the file).
//! `Component::deserialize` refuses a `.cwasm` compiled with other settings,
//! so the two must not drift apart. The file compiles with and without `std`.

/// The engine settings the `no_std` host runs with and `hello.cwasm` is
/// compiled for. Without `std` (and without the `custom-virtual-memory` and
/// `custom-native-signals` features) Wasmtime has neither signal handlers nor
/// virtual memory, and these values are its own defaults for such a build;
/// they are written out so that the precompiler, which has both, uses them
/// too. Each is checked when the `.cwasm` is loaded.
pub fn config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config
        // No signal handlers: traps and out-of-bounds accesses are caught by
        // explicit checks in the compiled code instead of by a fault (the
        // runtime refuses `true` when built without native signals).
        .signals_based_traps(false)
        // No virtual memory: a linear memory is a `malloc`ed block of its
        // current size, with no address space reserved beyond it ...
        .memory_reservation(0)
        // ... and no unmapped guard pages after it, on which the compiled
        // code would otherwise rely instead of bounds checks.
        .memory_guard_size(0)
        // Copy-on-write initial memory images need `mmap` (the runtime
        // refuses `true` without virtual memory).
        .memory_init_cow(false)
        // With `std` the default reads WASMTIME_BACKTRACE_DETAILS from the
        // environment at compile time; without it, it is off. Off on both.
        .wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Disable);
    config
}
