//! The native stack limit compiled prologues check against.
//!
//! The limit is computed at the outermost wasm entry of a thread: the current
//! stack pointer minus the store's allowance, but never closer than
//! [`SAFETY_MARGIN`] to the thread's real stack bottom, so host code called from
//! deep wasm recursion still has room to run.

use crate::thread::ThreadState;
use crate::vm::VMStoreContext;

/// Stack kept free below the wasm limit for host functions and signal handling.
pub(crate) const SAFETY_MARGIN: usize = 64 * 1024;

/// Restores the store's previous limit and the thread's entry depth on drop
/// (including while a resumed host panic unwinds).
pub(crate) struct StackGuard {
    ctx: *mut VMStoreContext,
    saved: usize,
    thread: &'static ThreadState,
}

/// Marks a wasm entry on this thread, whose state is `thread`, and writes the
/// limit into `ctx`.
/// Safety: `ctx` is live until the guard is dropped.
#[inline]
pub(crate) unsafe fn enter(
    ctx: *mut VMStoreContext,
    max_wasm_stack: usize,
    thread: &'static ThreadState,
) -> StackGuard {
    let depth = thread.depth.get();
    if depth == 0 {
        let sp = current_sp();
        thread
            .limit
            .set(limit_for(sp, max_wasm_stack, stack_bottom(thread)));
    }
    thread.depth.set(depth + 1);
    let saved = (*ctx).stack_limit;
    (*ctx).stack_limit = thread.limit.get();
    StackGuard { ctx, saved, thread }
}

impl Drop for StackGuard {
    fn drop(&mut self) {
        self.thread.depth.set(self.thread.depth.get() - 1);
        // SAFETY: `enter`'s caller keeps `ctx` live while the guard exists.
        unsafe { (*self.ctx).stack_limit = self.saved };
    }
}

/// The limit for an entry at `sp` allowed `max` bytes on a stack ending at `bottom`.
pub(crate) fn limit_for(sp: usize, max: usize, bottom: usize) -> usize {
    sp.saturating_sub(max)
        .max(bottom.saturating_add(SAFETY_MARGIN))
}

/// Whether a fault at `addr` is this thread's stack running out: an access
/// within [`SAFETY_MARGIN`] of the end of its stack, which is where the
/// page-by-page probes of a frame too large for the rest of the stack (those
/// of Cranelift's code and of the C backend's `-fstack-clash-protection`)
/// first hit the guard page. Linear memories are never near a thread's stack.
pub(crate) fn overflowed_at(addr: usize) -> bool {
    let bottom = stack_bottom(crate::thread::state());
    bottom != 0
        && addr >= bottom.saturating_sub(SAFETY_MARGIN)
        && addr < bottom.saturating_add(SAFETY_MARGIN)
}

/// An address in the current frame: close enough to the stack pointer.
#[inline(never)]
pub(crate) fn current_sp() -> usize {
    let marker = 0u8;
    core::hint::black_box(&marker) as *const u8 as usize
}

/// Lowest usable address of this thread's stack (0 if unknown).
#[cfg(test)]
pub(crate) fn thread_stack_bottom() -> usize {
    stack_bottom(crate::thread::state())
}

/// Lowest usable address of the stack of the thread whose state is `thread`
/// (0 if unknown), looked up once per thread.
fn stack_bottom(thread: &ThreadState) -> usize {
    if !thread.bottom_known.get() {
        thread.bottom.set(query_stack_bottom().unwrap_or(0));
        thread.bottom_known.set(true);
    }
    thread.bottom.get()
}

fn query_stack_bottom() -> Option<usize> {
    // SAFETY: standard pthread attribute queries on the calling thread.
    unsafe {
        let mut attr: libc::pthread_attr_t = core::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = core::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (rc == 0).then_some(addr as usize)
    }
}

/// The limit a wasm entry made now on this thread would get.
#[cfg(test)]
pub(crate) fn limit_here(max: usize) -> usize {
    limit_for(current_sp(), max, thread_stack_bottom())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_clamped_to_the_stack_bottom() {
        assert_eq!(limit_for(10_000_000, 1_000_000, 0), 9_000_000);
        assert_eq!(
            limit_for(1_000_000, 1 << 20, 500_000),
            500_000 + SAFETY_MARGIN
        );
        assert_eq!(limit_for(100, 1 << 20, 0), SAFETY_MARGIN);
    }

    #[test]
    fn spawned_thread_limit_stays_inside_its_own_stack() {
        let (bottom, sp, limit) = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let bottom = thread_stack_bottom();
                (bottom, current_sp(), limit_here(1 << 20))
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(bottom != 0, "the thread's stack was found");
        assert!(sp > bottom && sp - bottom <= 512 * 1024);
        // 1 MiB does not fit in a 256 KiB stack: clamped to the margin.
        assert_eq!(limit, bottom + SAFETY_MARGIN);
        let generous = std::thread::Builder::new()
            .stack_size(4 << 20)
            .spawn(|| {
                let sp = current_sp();
                (sp, limit_here(1 << 20), thread_stack_bottom())
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(generous.1 <= generous.0 - (1 << 20) && generous.1 > generous.2);
    }
}
