//! Guard-mode storage: each memory owns a [`GUARD_RESERVATION`] whose first
//! bytes (the memory's length) are read/write and whose rest faults.
//!
//! Dropped reservations are pooled for the next memory: reusing one costs
//! clearing the pages the memory dirtied (see [`os::reset`]) and at most one
//! `mprotect` to fit the new size, where a fresh one costs an `mmap` and an
//! `mprotect`, and its release a `munmap`, each of which takes the process's
//! memory-map lock for writing.

use super::local::{self, Spill};
use super::os;
use crate::error::Error;
use crate::prelude::*;
use crate::sync::Mutex;
use rivet_descriptor::GUARD_RESERVATION;

/// Released reservations, kept for the next memory.
static POOL: Mutex<Vec<Pooled>> = Mutex::new(Vec::new());

/// How many released reservations are kept (each holds address space and at
/// most 512 KiB of cleared resident pages).
const POOL_MAX: usize = 32;

local::cache!(LOCAL: Pooled);

/// How many released reservations each thread keeps for itself, before
/// [`POOL`]: an instance of a two-memory component's worth (each is 4 GiB of
/// address space, and a process may have many threads).
const LOCAL_MAX: usize = 2;

/// A reservation in the pool: its base and how many leading bytes are
/// read/write (all zero).
struct Pooled {
    base: usize,
    accessible: usize,
}

/// A reservation with exactly its first `bytes` read/write, all zero: a pooled
/// one when there is one, else a new one.
pub(super) fn reserve(bytes: usize) -> Result<*mut u8, Error> {
    if let Some(base) = reuse(bytes) {
        return Ok(base);
    }
    let base = os::map(
        GUARD_RESERVATION as usize,
        libc::PROT_NONE,
        "cannot reserve memory",
    )?;
    // SAFETY: inside the reservation just made.
    if let Err(e) = unsafe { os::make_accessible(base, bytes) } {
        // SAFETY: undo the reservation.
        unsafe { os::unmap(base, GUARD_RESERVATION as usize) };
        return Err(e);
    }
    Ok(base)
}

/// A reservation from the pool with exactly its first `bytes` read/write:
/// one that already has that size if there is one (a store's memories of
/// different sizes come back to the pool together, and a mismatch costs an
/// `mprotect`), else the latest released.
fn reuse(bytes: usize) -> Option<*mut u8> {
    let Pooled { base, accessible } =
        local::take(&LOCAL, |p| p.accessible == bytes).or_else(|| {
            let mut pool = POOL.lock();
            let fit = pool.iter().rposition(|p| p.accessible == bytes);
            let at = fit.or_else(|| pool.len().checked_sub(1))?;
            Some(pool.swap_remove(at))
        })?;
    let base = base as *mut u8;
    // SAFETY: the pool owns the reservation, now handed to the caller; both
    // ranges lie inside it.
    let fitted = unsafe {
        if accessible > bytes {
            let tail = base.add(bytes).cast();
            libc::mprotect(tail, accessible - bytes, libc::PROT_NONE) == 0
        } else {
            os::make_accessible(base.add(accessible), bytes - accessible).is_ok()
        }
    };
    if fitted {
        return Some(base);
    }
    // SAFETY: the reservation is ours and no longer in the pool.
    unsafe { os::unmap(base, GUARD_RESERVATION as usize) };
    None
}

/// Keeps a reservation whose first `accessible` bytes are read/write for the
/// next memory (this thread's cache, else the pool), or unmaps it when both
/// are full.
///
/// Safety: `[base, base + GUARD_RESERVATION)` is a reservation owned by the
/// caller, which gives it up.
pub(super) unsafe fn release(base: *mut u8, accessible: usize) {
    let room = local::has_room(&LOCAL, LOCAL_MAX) || POOL.lock().len() < POOL_MAX;
    // Cleared before any lock is taken: the pages are the caller's. Only the
    // accessible part can have been written.
    if room && os::reset(base, accessible, true) {
        let pooled = Pooled {
            base: base as usize,
            accessible,
        };
        if let Some(pooled) = local::put(&LOCAL, pooled, LOCAL_MAX) {
            pooled.spill();
        }
        return;
    }
    os::unmap(base, GUARD_RESERVATION as usize);
}

impl Spill for Pooled {
    /// Into the pool, or unmapped when it is full.
    fn spill(self) {
        let mut pool = POOL.lock();
        if pool.len() < POOL_MAX {
            pool.push(self);
            return;
        }
        drop(pool);
        // SAFETY: the reservation is this entry's alone, given up here.
        unsafe { os::unmap(self.base as *mut u8, GUARD_RESERVATION as usize) };
    }
}
