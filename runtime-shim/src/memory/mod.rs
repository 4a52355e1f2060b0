//! Linear memories: allocation in either bounds mode, growth, and the host API.

use crate::error::Error;
use crate::prelude::*;
use crate::store::{Store, StoreId};
use crate::vm::{VMMemory, VmSlot};
use core::ptr;
use rivet_descriptor::{BoundsMode, MemoryType, WASM_PAGE_SIZE};

/// The largest 32-bit memory, in pages.
const MAX_PAGES: u64 = 65536;

mod guard;
mod local;
mod os;
mod slab;

/// Where a memory's bytes live.
#[derive(Clone, Copy)]
enum Place {
    /// Guard mode: a reservation of [`rivet_descriptor::GUARD_RESERVATION`] bytes.
    Reservation,
    /// Explicit mode: a slot of this size class.
    Slot(usize),
    /// Explicit mode, past the largest slot: a mapping of its own of exactly
    /// this many bytes.
    Own(usize),
}

/// A memory's storage. In guard mode the base never moves and growing makes more
/// of the reservation accessible; in explicit mode a memory grows in place
/// within its slot and moves to a larger slot (or mapping) beyond it.
pub(crate) struct MemoryData {
    vm: VmSlot<VMMemory>,
    ty: MemoryType,
    place: Place,
}

impl MemoryData {
    /// Allocates `ty.minimum` pages and writes base and length into `vm`.
    pub fn new(ty: MemoryType, mode: BoundsMode, vm: VmSlot<VMMemory>) -> Result<Self, Error> {
        let limit = ty.maximum.unwrap_or(MAX_PAGES).min(MAX_PAGES);
        if ty.minimum > limit {
            return Err(Error::Runtime(format!(
                "memory minimum of {} pages exceeds its limit of {limit} pages",
                ty.minimum
            )));
        }
        let bytes = (ty.minimum * WASM_PAGE_SIZE) as usize;
        let (base, place) = match mode {
            BoundsMode::Guard => (guard::reserve(bytes)?, Place::Reservation),
            BoundsMode::Explicit => explicit_storage(bytes)?,
        };
        // SAFETY: `vm` points at a live VMMemory slot owned by this store.
        unsafe {
            (*vm.ptr()).base = base;
            (*vm.ptr()).length = bytes;
        }
        Ok(MemoryData { vm, ty, place })
    }

    pub fn vm(&self) -> *mut VMMemory {
        self.vm.ptr()
    }

    /// Current length in bytes.
    pub fn len(&self) -> usize {
        // SAFETY: the slot lives as long as `self`.
        unsafe { (*self.vm.ptr()).length }
    }

    pub fn pages(&self) -> u64 {
        self.len() as u64 / WASM_PAGE_SIZE
    }

    /// The type with the current size as minimum.
    pub fn ty(&self) -> MemoryType {
        MemoryType {
            minimum: self.pages(),
            maximum: self.ty.maximum,
        }
    }

    pub fn data(&self) -> &[u8] {
        // SAFETY: base..base+len is mapped read/write while `self` lives.
        unsafe { core::slice::from_raw_parts((*self.vm.ptr()).base, self.len()) }
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, with exclusive access through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut((*self.vm.ptr()).base, self.len()) }
    }

    /// Grows by `delta` pages; returns the old size in pages, or None when the
    /// memory cannot grow (limit reached or the system refused).
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let limit = self.ty.maximum.unwrap_or(MAX_PAGES).min(MAX_PAGES);
        let new = old.checked_add(delta).filter(|&n| n <= limit)?;
        if delta == 0 {
            return Some(old);
        }
        let old_bytes = self.len();
        let new_bytes = (new * WASM_PAGE_SIZE) as usize;
        let vm = self.vm.ptr();
        // SAFETY: the slot is live; the storage is ours.
        unsafe {
            match self.place {
                Place::Reservation => {
                    let start = (*vm).base.add(old_bytes);
                    os::make_accessible(start, new_bytes - old_bytes).ok()?;
                }
                // A free slot reads as zeros past any length it was given.
                Place::Slot(class) if new_bytes <= slab::slot_bytes(class) => {}
                _ => {
                    let (base, place) = explicit_storage(new_bytes).ok()?;
                    ptr::copy_nonoverlapping((*vm).base, base, old_bytes);
                    release(self.place, (*vm).base, old_bytes);
                    (*vm).base = base;
                    self.place = place;
                }
            }
            (*vm).length = new_bytes;
        }
        Some(old)
    }

    /// The address of the first byte past this memory's length in its slot
    /// that is not zero, if any (explicit mode; see [`audit`]).
    fn stray_byte(&self) -> Option<usize> {
        let Place::Slot(class) = self.place else {
            return None;
        };
        let len = self.len();
        // SAFETY: the whole slot is mapped read/write while this memory holds
        // it, and nothing writes it during this read (`&self`).
        let tail = unsafe {
            let start = (*self.vm.ptr()).base.add(len);
            core::slice::from_raw_parts(start, slab::slot_bytes(class) - len)
        };
        first_nonzero(tail).map(|at| tail.as_ptr() as usize + at)
    }
}

/// The index of the first byte of `bytes` that is not zero. Pages are
/// tested whole (an OR of every byte, which the compiler vectorises), then
/// the first page with one is searched.
fn first_nonzero(bytes: &[u8]) -> Option<usize> {
    const PAGE: usize = 4096;
    let mut pages = bytes.chunks(PAGE);
    let page = pages.position(|p| p.iter().fold(0, |acc, &b| acc | b) != 0)?;
    let at = bytes[page * PAGE..].iter().position(|&b| b != 0)?;
    Some(page * PAGE + at)
}

/// Checks what explicit-mode storage rests on, for the differential fuzzer
/// (docs/fuzzing.md): the bytes no memory may address read as zeros. These
/// are the part of each of `store`'s memory slots past its memory's length,
/// every free slot, and the slot each chunk would give next: a write that
/// escaped a guest's memory into a neighbouring slot (through a missed
/// bounds check in compiled code, an adapter or the runtime) lands in one of
/// them or in another live memory, and would also break the reuse of a
/// slot, which clears only the length its memory reached. In guard mode
/// nothing needs checking: past a memory's length its reservation is
/// inaccessible, and a write there faults.
pub fn audit(store: &Store) -> Result<(), String> {
    let memories = &store.memories;
    let in_slots = (0..memories.len()).any(|i| matches!(memories.get(i).place, Place::Slot(_)));
    if !in_slots {
        // The free slots are another store's business.
        return Ok(());
    }
    let live = (0..memories.len()).find_map(|i| memories.get(i).stray_byte());
    if let Some(at) = live {
        return Err(format!(
            "a byte past a memory's length is not zero, at {at:#x}"
        ));
    }
    match slab::stray_free_byte() {
        Some(at) => Err(format!(
            "a byte of free memory storage is not zero, at {at:#x}"
        )),
        None => Ok(()),
    }
}

impl Drop for MemoryData {
    fn drop(&mut self) {
        // SAFETY: the storage was created by this memory and is released once.
        unsafe { release(self.place, (*self.vm.ptr()).base, self.len()) }
    }
}

/// Explicit-mode storage for `bytes`, all zeros: a slot (the smallest for an
/// empty memory), or past the largest slot a mapping of its own.
fn explicit_storage(bytes: usize) -> Result<(*mut u8, Place), Error> {
    if let Some(class) = slab::class_for(bytes) {
        return Ok((slab::take(class)?, Place::Slot(class)));
    }
    let base = os::map(
        bytes,
        libc::PROT_READ | libc::PROT_WRITE,
        "cannot allocate memory",
    )?;
    Ok((base, Place::Own(bytes)))
}

/// Gives up a memory's storage; the memory reached `used` bytes, the only ones
/// it can have written.
///
/// Safety: `place` and `base` are a memory's storage, which the caller gives up.
unsafe fn release(place: Place, base: *mut u8, used: usize) {
    match place {
        Place::Reservation => guard::release(base, used),
        Place::Slot(class) => slab::give_back(class, base, used),
        Place::Own(bytes) => os::unmap(base, bytes),
    }
}

/// A linear memory owned by a [`Store`].
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

impl Memory {
    /// A host-created memory of `ty.minimum` pages, in the store's bounds mode.
    pub fn new(store: &mut Store, ty: MemoryType) -> Result<Memory, Error> {
        let data = MemoryData::new(ty, store.bounds(), VmSlot::owned(empty_vm()))?;
        Ok(store.add_memory(data))
    }

    /// The memory's type; `minimum` is the current size in pages.
    pub fn ty(&self, store: &Store) -> MemoryType {
        store.memory(*self).ty()
    }

    pub fn data<'a>(&self, store: &'a Store) -> &'a [u8] {
        store.memory(*self).data()
    }

    pub fn data_mut<'a>(&self, store: &'a mut Store) -> &'a mut [u8] {
        store.memory_mut(*self).data_mut()
    }

    /// Grows by `delta` pages; returns the old size in pages.
    pub fn grow(&self, store: &mut Store, delta: u64) -> Result<u64, Error> {
        store
            .memory_mut(*self)
            .grow(delta)
            .ok_or_else(|| Error::Runtime(format!("memory cannot grow by {delta} pages")))
    }
}

pub(crate) fn empty_vm() -> VMMemory {
    VMMemory {
        base: ptr::null_mut(),
        length: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::os::os_error;
    use super::*;

    #[test]
    fn os_errors_name_the_operation_and_errno() {
        // SAFETY: sets this thread's errno.
        unsafe { *libc::__errno_location() = libc::ENOMEM };
        let Error::Runtime(text) = os_error("mmap") else {
            panic!("not a runtime error");
        };
        assert_eq!(text, "mmap: Cannot allocate memory (os error 12)");
    }

    /// The fuzzer's audit finds a byte written past an explicit-mode
    /// memory's length, in the rest of its slot; the byte is cleared again
    /// before the slot is given back (other tests share the free lists).
    #[test]
    fn the_audit_finds_a_write_past_a_memory() {
        let mut store = Store::new(BoundsMode::Explicit);
        let m = Memory::new(
            &mut store,
            MemoryType {
                minimum: 3,
                maximum: None,
            },
        )
        .unwrap();
        assert_eq!(audit(&store), Ok(()));
        let vm = store.memory(m).vm();
        // SAFETY: the slot (four pages) is mapped read/write past the
        // memory's three.
        let past = unsafe { (*vm).base.add((*vm).length + 100) };
        unsafe { past.write(7) };
        let found = audit(&store).unwrap_err();
        assert!(found.contains(&format!("{:#x}", past as usize)), "{found}");
        unsafe { past.write(0) };
        assert_eq!(audit(&store), Ok(()));
    }

    /// A memory of `pages` pages in `mode`, with its vm slot owned.
    fn memory(pages: u64, mode: BoundsMode) -> MemoryData {
        let ty = MemoryType {
            minimum: pages,
            maximum: None,
        };
        MemoryData::new(ty, mode, VmSlot::owned(empty_vm())).unwrap()
    }

    /// Every byte of `m` in `range` is zero; `what` says which memory for the
    /// failure.
    fn assert_zeros_in(m: &MemoryData, range: core::ops::Range<usize>, what: &str) {
        let first = m.data()[range.clone()].iter().position(|&b| b != 0);
        assert_eq!(
            first, None,
            "{what}: a non-zero byte in {range:?} at this offset"
        );
    }

    fn assert_zeros(m: &MemoryData, what: &str) {
        assert_zeros_in(m, 0..m.len(), what);
    }

    /// What one process's memories leave behind must never reach the next:
    /// memories written here and there (a little, so their pages are cleared
    /// in place), or all over (so they are given back), grown in place and
    /// moved, then dropped, come back as zeros, in both modes; and the storage
    /// is reused (the same base is seen again).
    #[test]
    fn reused_memories_read_as_zeros() {
        for mode in [BoundsMode::Guard, BoundsMode::Explicit] {
            let mut bases = Vec::new();
            for round in 0..8u8 {
                let what = format!("{mode} round {round}");
                let mut m = memory(3, mode);
                assert_zeros(&m, &what);
                bases.push(m.data().as_ptr() as usize);
                let data = m.data_mut();
                let last = data.len() - 1;
                data[0] = round | 1;
                data[70_000] = 2;
                data[last] = 3;
                // Only read: the page stays the shared zero page.
                assert_eq!(core::hint::black_box(&data[100_000]), &0);
                assert_eq!(m.grow(1), Some(3), "{what}");
                assert_eq!(m.data()[..1], [round | 1], "{what}: grown in place");
                assert_zeros_in(&m, 3 << 16..4 << 16, &what);
                m.data_mut()[(4 << 16) - 1] = 4;
                assert_eq!(m.grow(2), Some(4), "{what}");
                assert_eq!(m.data()[(4 << 16) - 1], 4, "{what}: moved");
                m.data_mut()[(6 << 16) - 1] = 5;
            }
            bases.sort_unstable();
            bases.dedup();
            assert!(bases.len() < 8, "{mode}: no storage was reused");
            let mut full = memory(16, mode);
            full.data_mut().fill(0xAA);
            drop(full);
            assert_zeros(&memory(16, mode), &format!("{mode} after a full memory"));
        }
    }

    /// Storage a thread cached for itself goes to the process-wide lists when
    /// the thread ends, and reads as zeros wherever it is taken next.
    #[test]
    fn storage_cached_by_an_ended_thread_reads_as_zeros_elsewhere() {
        let modes = [BoundsMode::Guard, BoundsMode::Explicit];
        std::thread::spawn(move || {
            for mode in modes {
                let mut m = memory(3, mode);
                m.data_mut().fill(7);
            }
        })
        .join()
        .unwrap();
        for mode in modes {
            let taken: Vec<MemoryData> = (0..4).map(|_| memory(3, mode)).collect();
            for m in &taken {
                assert_zeros(m, &format!("{mode} after another thread"));
            }
        }
    }

    /// A child forked after this process opened its pagemap finds the pages
    /// it wrote in its own: the parent's would show them untouched. With
    /// `std` only: without it there is no per-thread cache, and the child
    /// would need a lock another test's thread may have held at the fork.
    #[cfg(feature = "std")]
    #[test]
    fn a_forked_child_clears_what_it_wrote() {
        const PAGES: u64 = 16;
        // The slot lands in this thread's cache, which the child takes from
        // without a lock another thread may hold at the fork; the pagemap is
        // opened.
        drop(memory(PAGES, BoundsMode::Explicit));
        // SAFETY: the child uses this thread's cached slot and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let mut m = memory(PAGES, BoundsMode::Explicit);
            m.data_mut()[700_000] = 1;
            drop(m);
            let clean = memory(PAGES, BoundsMode::Explicit)
                .data()
                .iter()
                .all(|&b| b == 0);
            // SAFETY: ends the child without running the parent's test harness.
            unsafe { libc::_exit(i32::from(!clean)) };
        }
        let mut status = 0;
        // SAFETY: waits for the child just forked.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the child read a byte it had written before (wait status {status})"
        );
    }
}
