//! Per-thread state of the runtime: the wasm entry depth and stack limit
//! (`stack`), and the trap or panic a host function parked for its trampoline
//! (`trap`).
//!
//! Its storage is a thread-local in the C helper, beside the signal handler's
//! own: Rust's `thread_local!` needs `std`, and the runtime builds without it.
//! Every field's all-zero bytes are its initial value, which is how a C
//! thread-local starts.

use crate::prelude::*;
use crate::trap::Parked;
use core::cell::Cell;

extern "C" {
    /// This thread's zero-initialised `STATE_BYTES`, aligned to `STATE_ALIGN`.
    fn rivet_thread_state() -> *mut u8;
}

/// What the C helper reserves (`thread_state` in `trap.c`).
const STATE_BYTES: usize = 64;
const STATE_ALIGN: usize = 16;
const _: () =
    assert!(size_of::<ThreadState>() <= STATE_BYTES && align_of::<ThreadState>() <= STATE_ALIGN);

#[repr(C)]
pub(crate) struct ThreadState {
    /// Calls into wasm active on this thread.
    pub depth: Cell<usize>,
    /// The stack limit of the outermost of them.
    pub limit: Cell<usize>,
    /// Whether `bottom` has been looked up.
    pub bottom_known: Cell<bool>,
    /// Lowest usable address of this thread's stack (0 if unknown).
    pub bottom: Cell<usize>,
    /// A host function's trap or panic, until its call into wasm returns.
    pub parked: Cell<Option<Box<Parked>>>,
}

/// This thread's state. Not `Send` (its fields are `Cell`s), so it stays on
/// the thread it belongs to.
#[inline]
pub(crate) fn state() -> &'static ThreadState {
    // SAFETY: the C helper gives every thread its own zeroed, suitably sized and
    // aligned block, alive as long as the thread; zero bytes are a valid
    // `ThreadState` (0, false, None); and it is only ever accessed through
    // shared references to `Cell`s.
    unsafe { &*rivet_thread_state().cast::<ThreadState>() }
}
