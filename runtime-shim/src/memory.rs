//! Linear memories: allocation in either bounds mode, growth, and the host API.

use crate::error::Error;
use crate::prelude::*;
use crate::store::{Store, StoreId};
use crate::sync::Mutex;
use crate::vm::{VMMemory, VmSlot};
use core::ptr;
use rivet_descriptor::{BoundsMode, MemoryType, GUARD_RESERVATION, WASM_PAGE_SIZE};

/// The largest 32-bit memory, in pages.
const MAX_PAGES: u64 = 65536;

/// A memory's storage. In guard mode the base never moves and growing makes more
/// of the reservation accessible; in explicit mode the mapping is exactly the
/// current size and is replaced on growth.
pub(crate) struct MemoryData {
    vm: VmSlot<VMMemory>,
    ty: MemoryType,
    mode: BoundsMode,
    mapped: usize,
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
        let (base, mapped) = match mode {
            BoundsMode::Guard => (reserve_guarded(bytes)?, GUARD_RESERVATION as usize),
            BoundsMode::Explicit => (map_exact(bytes)?, bytes),
        };
        // SAFETY: `vm` points at a live VMMemory slot owned by this store.
        unsafe {
            (*vm.ptr()).base = base;
            (*vm.ptr()).length = bytes;
        }
        Ok(MemoryData {
            vm,
            ty,
            mode,
            mapped,
        })
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
        // SAFETY: the slot is live; the mappings are ours.
        unsafe {
            match self.mode {
                BoundsMode::Guard => {
                    let start = (*vm).base.add(old_bytes);
                    make_accessible(start, new_bytes - old_bytes).ok()?;
                }
                BoundsMode::Explicit => {
                    let base = map_exact(new_bytes).ok()?;
                    ptr::copy_nonoverlapping((*vm).base, base, old_bytes);
                    unmap((*vm).base, self.mapped);
                    (*vm).base = base;
                    self.mapped = new_bytes;
                }
            }
            (*vm).length = new_bytes;
        }
        Some(old)
    }
}

impl Drop for MemoryData {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by this memory and is released once.
        unsafe {
            let (base, length) = ((*self.vm.ptr()).base, (*self.vm.ptr()).length);
            match self.mode {
                BoundsMode::Guard => release_guarded(base, length),
                BoundsMode::Explicit => unmap(base, self.mapped),
            }
        }
    }
}

/// Guard reservations of dropped memories, kept for the next memory: reusing
/// one costs a `madvise` on release (the touched pages read as zero again)
/// and at most one `mprotect` to fit the new size, where a fresh one costs an
/// `mmap` and an `mprotect`, and its release a `munmap`, each of which edits
/// the process's map of 8 GiB regions.
static POOL: Mutex<Vec<Pooled>> = Mutex::new(Vec::new());

/// How many released reservations are kept (address space only: their pages
/// are given back to the system).
const POOL_MAX: usize = 32;

/// A reservation in the pool: its base and how many leading bytes are
/// read/write.
struct Pooled {
    base: usize,
    accessible: usize,
}

/// A reservation from the pool with exactly its first `bytes` read/write:
/// one that already has that size if there is one (a store's memories of
/// different sizes come back to the pool together, and a mismatch costs an
/// `mprotect`), else the latest released.
fn reuse_guarded(bytes: usize) -> Option<*mut u8> {
    let Pooled { base, accessible } = {
        let mut pool = POOL.lock();
        let fit = pool.iter().rposition(|p| p.accessible == bytes);
        let at = fit.or_else(|| pool.len().checked_sub(1))?;
        pool.swap_remove(at)
    };
    let base = base as *mut u8;
    // SAFETY: the pool owns the reservation, now handed to the caller; both
    // ranges lie inside it.
    let fitted = unsafe {
        if accessible > bytes {
            let tail = base.add(bytes).cast();
            libc::mprotect(tail, accessible - bytes, libc::PROT_NONE) == 0
        } else {
            make_accessible(base.add(accessible), bytes - accessible).is_ok()
        }
    };
    if fitted {
        return Some(base);
    }
    // SAFETY: the reservation is ours and no longer in the pool.
    unsafe { unmap(base, GUARD_RESERVATION as usize) };
    None
}

/// Returns a guard reservation whose first `accessible` bytes are read/write
/// to the pool, or unmaps it.
///
/// Safety: `[base, base + GUARD_RESERVATION)` is a reservation owned by the
/// caller, which gives it up.
unsafe fn release_guarded(base: *mut u8, accessible: usize) {
    // Zeroed before the lock is taken: the pages are the caller's.
    let zeroed =
        accessible == 0 || libc::madvise(base.cast(), accessible, libc::MADV_DONTNEED) == 0;
    let mut pool = POOL.lock();
    if zeroed && pool.len() < POOL_MAX {
        pool.push(Pooled {
            base: base as usize,
            accessible,
        });
        return;
    }
    drop(pool);
    unmap(base, GUARD_RESERVATION as usize);
}

/// `what` failed with this thread's `errno`, worded as `std::io::Error` would.
fn os_error(what: &str) -> Error {
    let mut buf = [0u8; 128];
    // SAFETY: reads this thread's errno; strerror_r writes at most `buf.len()`
    // bytes, NUL included.
    let (errno, rc) = unsafe {
        let errno = *libc::__errno_location();
        (
            errno,
            libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()),
        )
    };
    let text = (rc == 0)
        .then(|| {
            core::ffi::CStr::from_bytes_until_nul(&buf)
                .ok()?
                .to_str()
                .ok()
        })
        .flatten()
        .filter(|t| !t.is_empty())
        .unwrap_or("unknown error");
    Error::Runtime(format!("{what}: {text} (os error {errno})"))
}

/// Reserves the whole guard reservation inaccessible, then opens the first
/// `bytes` (a pooled reservation when there is one).
fn reserve_guarded(bytes: usize) -> Result<*mut u8, Error> {
    if let Some(base) = reuse_guarded(bytes) {
        return Ok(base);
    }
    // SAFETY: an anonymous mapping at an address the kernel chooses.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            GUARD_RESERVATION as usize,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(os_error("cannot reserve memory"));
    }
    let base = base as *mut u8;
    // SAFETY: inside the reservation just made.
    if let Err(e) = unsafe { make_accessible(base, bytes) } {
        // SAFETY: undo the reservation.
        unsafe { unmap(base, GUARD_RESERVATION as usize) };
        return Err(e);
    }
    Ok(base)
}

/// Makes `[start, start+len)` read/write. Safety: the range is inside a mapping
/// owned by the caller.
unsafe fn make_accessible(start: *mut u8, len: usize) -> Result<(), Error> {
    if len == 0 {
        return Ok(());
    }
    if libc::mprotect(start.cast(), len, libc::PROT_READ | libc::PROT_WRITE) != 0 {
        return Err(os_error("cannot grow memory"));
    }
    Ok(())
}

/// Maps exactly `bytes` read/write; an empty memory gets a dangling, never
/// dereferenced base.
fn map_exact(bytes: usize) -> Result<*mut u8, Error> {
    if bytes == 0 {
        return Ok(ptr::NonNull::dangling().as_ptr());
    }
    // SAFETY: an anonymous mapping at an address the kernel chooses.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(os_error("cannot allocate memory"));
    }
    Ok(base as *mut u8)
}

/// Safety: `[base, base+len)` is a mapping owned by the caller (or len is 0).
unsafe fn unmap(base: *mut u8, len: usize) {
    if len != 0 {
        libc::munmap(base.cast(), len);
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
}
