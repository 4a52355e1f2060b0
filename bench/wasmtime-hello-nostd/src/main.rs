//! The `hello` example's host on Wasmtime's runtime without `std`: the same
//! guest and the same calls as `bench/wasmtime-hello` (and as Rivet's
//! `examples/hello-nostd`), in a `no_std` binary that gets its memory from
//! libc's `malloc` and prints with `write(2)`. Exists to compare release binary
//! sizes with Rivet's `hello-nostd`; prints the same lines.
//!
//! Without `std` Wasmtime runs on its "custom platform" layer. With the
//! features this crate enables, the embedder supplies thread-local storage
//! (`wasmtime_tls_get`/`wasmtime_tls_set` below) and, since Wasmtime then has
//! no virtual memory of its own, a way to make the loaded code executable
//! ([`ExecPages`]). The engine settings are in `config.rs`, shared with the
//! precompiler in `rivet-bench`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::sync::Arc;
use core::ffi::{c_char, c_int};
use core::fmt::Write;
use core::sync::atomic::{AtomicPtr, Ordering};
use platform::Fd;
use wasmtime::component::{Component, Linker};
use wasmtime::{CustomCodeMemory, Engine, Store};

mod config;
/// Rivet's `no_std` example host's heap, output and panic handler, so that
/// the two hosts differ only in their runtimes.
#[path = "../../../examples/hello-nostd/src/platform.rs"]
mod platform;

// `malloc`, `write`, `mprotect`, ... and the C runtime that calls `main`:
// `std` links libc on its own, the `libc` crate without it does not.
#[link(name = "c")]
unsafe extern "C" {}

/// Written by `cargo run --release -p rivet-bench` with [`config::config`].
static CWASM: &[u8] = include_bytes!("../hello.cwasm");

#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes `argc` valid NUL-terminated arguments.
    unsafe { platform::run_main(argc, argv, run) }
}

fn run(name: &str) -> wasmtime::Result<()> {
    let mut config = config::config();
    config.with_custom_code_memory(Some(Arc::new(ExecPages)));
    let engine = Engine::new(&config)?;
    // SAFETY: the bytes are a component Wasmtime itself precompiled for this
    // engine configuration; deserialize checks the version and settings.
    let component = unsafe { Component::deserialize(&engine, CWASM) }?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component)?;
    let greet = instance.get_typed_func::<(&str,), (String,)>(&mut store, "greet")?;
    let fail = instance.get_typed_func::<(), ()>(&mut store, "fail")?;

    let (greeting,) = greet.call(&mut store, (name,))?;
    let _ = writeln!(Fd(1), "greet: {greeting}");
    match fail.call(&mut store, ()) {
        Ok(()) => Err(wasmtime::Error::msg("fail returned instead of trapping")),
        Err(trap) => {
            let _ = writeln!(Fd(1), "fail: the guest trapped: {trap}");
            Ok(())
        }
    }
}

/// Makes the compiled code of a loaded component executable with `mprotect`,
/// which Wasmtime cannot call itself without its virtual-memory layer.
struct ExecPages;

/// The size of a page, the unit `mprotect` works in.
fn page_size() -> usize {
    // SAFETY: `sysconf` only reads a system parameter.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// `mprotect` over the whole pages covering `ptr..ptr + len`; `ptr` is
/// page-aligned (Wasmtime aligns the code to `required_alignment`).
fn protect(ptr: *const u8, len: usize, prot: c_int) -> wasmtime::Result<()> {
    let len = len.next_multiple_of(page_size());
    // SAFETY: the pages belong to the code image Wasmtime hands over; the
    // protections set keep them readable and writable (see `publish_executable`).
    match unsafe { libc::mprotect(ptr.cast_mut().cast(), len, prot) } {
        0 => Ok(()),
        _ => Err(wasmtime::Error::msg("mprotect failed")),
    }
}

impl CustomCodeMemory for ExecPages {
    fn required_alignment(&self) -> usize {
        page_size()
    }

    fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        // The code image is a `malloc`ed block, so its last page may hold the
        // start of another heap block: the pages stay writable as well as
        // executable (this host does not enforce W^X; nothing writes to the
        // code once it is published).
        protect(
            ptr,
            len,
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
        )?;
        #[cfg(target_arch = "aarch64")]
        sync_icache(ptr, len);
        Ok(())
    }

    fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        protect(ptr, len, libc::PROT_READ | libc::PROT_WRITE)
    }
}

/// Makes instruction fetches see the code just copied into `ptr..ptr + len`:
/// aarch64 keeps its data and instruction caches apart (x86_64 keeps them
/// coherent itself). The Arm architecture's sequence: clean the data cache
/// lines to the point of unification, then invalidate the instruction cache
/// lines, each followed by a barrier.
#[cfg(target_arch = "aarch64")]
fn sync_icache(ptr: *const u8, len: usize) {
    use core::arch::asm;
    let ctr: u64;
    // SAFETY: reads the cache type register, which Linux lets user code read.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    // Smallest line sizes, as log2 of 4-byte words: DminLine, IminLine.
    let data_line = 4usize << ((ctr >> 16) & 0xf);
    let inst_line = 4usize << (ctr & 0xf);
    let (start, end) = (ptr as usize, ptr as usize + len);
    let mut line = start & !(data_line - 1);
    while line < end {
        // SAFETY: cache maintenance on addresses of the code image.
        unsafe { asm!("dc cvau, {}", in(reg) line, options(nostack, preserves_flags)) };
        line += data_line;
    }
    // SAFETY: a barrier.
    unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
    let mut line = start & !(inst_line - 1);
    while line < end {
        // SAFETY: cache maintenance on addresses of the code image.
        unsafe { asm!("ic ivau, {}", in(reg) line, options(nostack, preserves_flags)) };
        line += inst_line;
    }
    // SAFETY: barriers.
    unsafe { asm!("dsb ish", "isb", options(nostack, preserves_flags)) };
}

/// Wasmtime's thread-local state: slot 0 is the runtime's pointer, slot 1 the
/// component-model-async state (a feature this host leaves off).
///
/// A process-wide static serves as thread-local storage because this host is
/// single-threaded: `main` is its only thread, so "the value for the current
/// thread" and "the value" are one and the same.
static TLS: [AtomicPtr<u8>; 2] = [
    AtomicPtr::new(core::ptr::null_mut()),
    AtomicPtr::new(core::ptr::null_mut()),
];

/// Wasmtime's custom platform: reads thread-local slot `slot` (null until set).
#[unsafe(no_mangle)]
extern "C" fn wasmtime_tls_get(slot: usize) -> *mut u8 {
    TLS[slot].load(Ordering::Relaxed)
}

/// Wasmtime's custom platform: writes thread-local slot `slot`.
#[unsafe(no_mangle)]
extern "C" fn wasmtime_tls_set(slot: usize, ptr: *mut u8) {
    TLS[slot].store(ptr, Ordering::Relaxed);
}
