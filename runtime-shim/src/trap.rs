//! Entering wasm through the C helper and turning what comes back into a `Trap`.

use crate::code_registry;
use crate::error::Trap;
use crate::prelude::*;
use crate::{stack, thread};
use rivet_descriptor::TrapKind;

/// Filled by the C signal handler before it jumps back.
#[repr(C)]
#[derive(Default, Debug)]
pub(crate) struct TrapInfo {
    pub signum: i32,
    /// With `signum` 0: the kind `rivet_trap` raised.
    pub kind: i32,
    pub pc: usize,
    pub addr: usize,
}

extern "C" {
    fn rivet_enter(
        tramp: *const u8,
        code: *const u8,
        vmctx: *mut u8,
        values: *mut u8,
        info: *mut TrapInfo,
    ) -> i32;
    fn rivet_set_host_trap_pending(pending: i32);
}

/// Why a host function asked its trampoline to trap.
pub(crate) enum Parked {
    Trap(Trap),
    #[cfg(feature = "std")]
    Panic(Box<dyn core::any::Any + Send>),
}

fn park(p: Parked) {
    thread::state().parked.set(Some(Box::new(p)));
    // SAFETY: sets a thread-local flag in the C helper.
    unsafe { rivet_set_host_trap_pending(1) };
}

/// Records the trap a host function returned; the trampoline traps next.
pub(crate) fn park_host_trap(t: Trap) {
    park(Parked::Trap(t));
}

/// Records a host function's panic, resumed once back in the host.
#[cfg(feature = "std")]
pub(crate) fn park_host_panic(payload: Box<dyn core::any::Any + Send>) {
    park(Parked::Panic(payload));
}

/// Calls `tramp(code, vmctx, values)` and reports a trap as `Err`. A host panic
/// parked during the call is resumed here, in Rust frames only.
///
/// Safety: `tramp` is an array trampoline for the type of `code`, `vmctx` is the
/// context `code` expects, and `values` holds enough slots for its parameters and
/// results.
#[inline]
pub(crate) unsafe fn enter(
    tramp: *const u8,
    code: *const u8,
    vmctx: *mut u8,
    values: *mut u8,
) -> Result<(), Trap> {
    let mut info = TrapInfo::default();
    let rc = rivet_enter(tramp, code, vmctx, values, &mut info);
    if rc == 0 {
        // A host function parks a trap or panic only right before its
        // trampoline traps, so a normal return has nothing to collect.
        return Ok(());
    }
    rivet_set_host_trap_pending(0);
    let parked = thread::state().parked.take().map(|p| *p);
    match (rc, parked) {
        (-1, _) => Err(Trap::host("cannot set up trap handling on this thread")),
        #[cfg(feature = "std")]
        (_, Some(Parked::Panic(payload))) => std::panic::resume_unwind(payload),
        (_, Some(Parked::Trap(t))) => Err(t),
        (_, None) => Err(classify(&info)),
    }
}

/// Maps a fault to a trap kind: the trap site at its PC if there is one, else by
/// signal (a fault on a plain load/store in wasm code is an out-of-bounds access,
/// unless it hit the end of the thread's stack).
fn classify(info: &TrapInfo) -> Trap {
    if info.signum == 0 {
        let kind = u8::try_from(info.kind).ok().and_then(TrapKind::from_code);
        return Trap::new(kind.unwrap_or(TrapKind::Unreachable));
    }
    if let Some(Some(kind)) = code_registry::lookup(info.pc) {
        return Trap::new(kind);
    }
    match info.signum {
        libc::SIGSEGV | libc::SIGBUS if stack::overflowed_at(info.addr) => {
            Trap::new(TrapKind::StackOverflow)
        }
        libc::SIGSEGV | libc::SIGBUS => Trap::new(TrapKind::MemoryOutOfBounds),
        libc::SIGFPE => Trap::new(TrapKind::IntegerDivideByZero),
        _ => Trap {
            kind: TrapKind::Unreachable,
            message: format!("unknown trap (signal {}) at pc {:#x}", info.signum, info.pc).into(),
        },
    }
}
