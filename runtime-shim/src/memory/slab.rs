//! Explicit-mode storage: memories are slots carved from a few large shared
//! mappings, one list of slots per power-of-two size.
//!
//! A mapping per memory would cost each memory at least one of the process's
//! kernel mappings (65,530 by default on Linux, for everything the process
//! maps), and an `mmap`/`munmap` pair per instance, both of which take the
//! process's memory-map lock for writing. Slots cost neither: a memory takes a
//! free slot of its size class, grows in place up to the slot's size (explicit
//! checks compare every access with the memory's length, so the rest of the
//! slot needs no protection), and moves to a larger slot beyond it. A free slot
//! always reads as zeros: a released one is cleared up to the length its
//! memory reached, the only bytes it can have written.

use super::local::{self, Spill};
use super::os;
use crate::error::Error;
use crate::prelude::*;
use crate::sync::Mutex;
use rivet_descriptor::WASM_PAGE_SIZE;

/// Size classes: slots of `WASM_PAGE_SIZE << class` bytes, 64 KiB to 64 MiB.
/// Larger memories get a mapping of their own.
const CLASSES: usize = 11;

/// Bytes of each mapping that slots are carved from (one slot of the largest
/// class).
const CHUNK: usize = 64 << 20;

/// Free slots per class kept with their pages resident (cleared in place);
/// beyond this a released slot's pages go back to the system, so that a
/// process that once held many memories does not stay that large.
const WARM_MAX: usize = 64;

/// One size class: its free slots, and the unused end of its newest chunk.
struct Class {
    free: Vec<usize>,
    next: usize,
    end: usize,
}

local::cache!(LOCAL: Slot);

/// Free slots each thread keeps for itself, before [`SLAB`].
const LOCAL_MAX: usize = 4;

/// A free slot: its class and base.
struct Slot {
    class: usize,
    base: usize,
}

impl Spill for Slot {
    fn spill(self) {
        SLAB.lock()[self.class].free.push(self.base);
    }
}

static SLAB: Mutex<[Class; CLASSES]> = Mutex::new(
    [const {
        Class {
            free: Vec::new(),
            next: 0,
            end: 0,
        }
    }; CLASSES],
);

/// The smallest class whose slots hold `bytes`, or None past the largest.
pub(super) fn class_for(bytes: usize) -> Option<usize> {
    let pages = (bytes as u64).div_ceil(WASM_PAGE_SIZE).max(1);
    let class = pages.next_power_of_two().trailing_zeros() as usize;
    (class < CLASSES).then_some(class)
}

/// Bytes of a slot of `class`.
pub(super) fn slot_bytes(class: usize) -> usize {
    (WASM_PAGE_SIZE as usize) << class
}

/// A free slot of `class`, all zeros.
pub(super) fn take(class: usize) -> Result<*mut u8, Error> {
    if let Some(slot) = local::take(&LOCAL, |s| s.class == class) {
        return Ok(slot.base as *mut u8);
    }
    let mut slab = SLAB.lock();
    let c = &mut slab[class];
    if let Some(base) = c.free.pop() {
        return Ok(base as *mut u8);
    }
    if c.next == c.end {
        let base = os::map(
            CHUNK,
            libc::PROT_READ | libc::PROT_WRITE,
            "cannot allocate memory",
        )?;
        // Huge pages would make a slot's first write commit 2 MiB shared
        // with its neighbours, and clearing it clear all of them. Advice
        // only: a system without transparent huge pages refuses it.
        // SAFETY: the mapping was just made.
        unsafe { libc::madvise(base.cast(), CHUNK, libc::MADV_NOHUGEPAGE) };
        c.next = base as usize;
        c.end = c.next + CHUNK;
    }
    let base = c.next;
    c.next += slot_bytes(class);
    Ok(base as *mut u8)
}

/// Where a byte that is not zero lies in storage no memory holds: a free
/// slot (of this thread or the process), or the next slot each chunk would
/// give (the neighbour of the newest memory). Each should read as zeros
/// ([`super::audit`]).
pub(super) fn stray_free_byte() -> Option<usize> {
    let mut found = None;
    local::each(&LOCAL, |slot| {
        found = found.or_else(|| stray_in(slot.base, slot_bytes(slot.class)));
    });
    let slab = SLAB.lock();
    for (class, c) in slab.iter().enumerate() {
        let next = (c.next, slot_bytes(class).min(c.end - c.next));
        let free = c.free.iter().map(|&base| (base, slot_bytes(class)));
        for (base, bytes) in free.chain([next]) {
            found = found.or_else(|| stray_in(base, bytes));
        }
    }
    found
}

/// The address of the first byte of `bytes` at `base` that is not zero.
fn stray_in(base: usize, bytes: usize) -> Option<usize> {
    if bytes == 0 {
        return None;
    }
    // SAFETY: callers pass a free slot or a chunk's uncarved end: mapped
    // read/write, and written by nobody while the slab is locked (or, for
    // this thread's cache, by nobody else).
    let slice = unsafe { core::slice::from_raw_parts(base as *const u8, bytes) };
    super::first_nonzero(slice).map(|at| base + at)
}

/// Returns a slot of `class` whose memory reached `used` bytes, to this
/// thread's cache or else the process-wide list.
///
/// Safety: the slot came from [`take`] with this class, and the caller gives
/// it up.
pub(super) unsafe fn give_back(class: usize, base: *mut u8, used: usize) {
    let warm = local::has_room(&LOCAL, LOCAL_MAX) || SLAB.lock()[class].free.len() < WARM_MAX;
    if !os::reset(base, used, warm) {
        // The system refused to discard the pages: clear them all instead.
        core::ptr::write_bytes(base, 0, used);
    }
    let slot = Slot {
        class,
        base: base as usize,
    };
    if let Some(slot) = local::put(&LOCAL, slot, LOCAL_MAX) {
        slot.spill();
    }
}
