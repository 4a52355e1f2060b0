//! The system calls behind linear memories: mapping, protecting, unmapping,
//! and making used pages read as zeros again for the next memory.

use crate::error::Error;
use crate::prelude::*;
use core::ptr;

/// `what` failed with this thread's `errno`, worded as `std::io::Error` would.
pub(super) fn os_error(what: &str) -> Error {
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

/// A new anonymous mapping of `bytes` with protection `prot`, committed
/// lazily (`MAP_NORESERVE`: untouched pages cost address space only).
pub(super) fn map(bytes: usize, prot: libc::c_int, what: &str) -> Result<*mut u8, Error> {
    // SAFETY: an anonymous mapping at an address the kernel chooses.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            bytes,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(os_error(what));
    }
    Ok(base.cast())
}

/// Makes `[start, start+len)` read/write. Safety: the range is inside a mapping
/// owned by the caller.
pub(super) unsafe fn make_accessible(start: *mut u8, len: usize) -> Result<(), Error> {
    if len == 0 {
        return Ok(());
    }
    if libc::mprotect(start.cast(), len, libc::PROT_READ | libc::PROT_WRITE) != 0 {
        return Err(os_error("cannot grow memory"));
    }
    Ok(())
}

/// Safety: `[base, base+len)` is a mapping owned by the caller (or len is 0).
pub(super) unsafe fn unmap(base: *mut u8, len: usize) {
    if len != 0 {
        libc::munmap(base.cast(), len);
    }
}

/// The most bytes whose residency one `mincore` call reports into
/// [`reset`]'s buffer at 4 KiB pages; longer memories are given back whole.
const SCAN_MAX: usize = 16 << 20;

/// Resident bytes above which [`reset`] gives the pages back to the system
/// rather than zeroing them in place: past this, clearing costs more than the
/// `madvise` (and the faults that refill the pages later), and a pooled memory
/// holding more would keep too much of the process resident.
const KEEP_MAX: usize = 512 << 10;

/// Makes `[base, base+len)` read as zeros again, as a fresh mapping would.
/// With `keep`, pages that are resident and few are cleared in place, so the
/// next memory reuses them with no system call that edits page tables (a
/// `madvise(MADV_DONTNEED)` flushes the TLB of every core running the process,
/// which is what made creating and dropping memories on two threads slower
/// than on one); the non-resident rest is still discarded, as a page swapped
/// out holds data too. False when the system refused (the caller then unmaps).
///
/// Safety: the range is read/write, private and anonymous, owned by the
/// caller, and nothing else uses it during the call.
pub(super) unsafe fn reset(base: *mut u8, len: usize, keep: bool) -> bool {
    if len == 0 {
        return true;
    }
    let page = page_size();
    let pages = len.div_ceil(page);
    let mut resident = [0u8; SCAN_MAX / 4096];
    let scanned = keep
        && pages <= resident.len()
        && libc::mincore(base.cast(), len, resident.as_mut_ptr()) == 0;
    let resident = &resident[..pages];
    if !scanned || resident.iter().filter(|&&r| r & 1 != 0).count() * page > KEEP_MAX {
        return discard(base, len);
    }
    let mut at = 0;
    while at < pages {
        let here = resident[at] & 1;
        let run = resident[at..]
            .iter()
            .take_while(|&&r| r & 1 == here)
            .count();
        let (start, bytes) = (base.add(at * page), run * page);
        if here != 0 {
            clear_pages(start, bytes, page);
        } else if !discard(start, bytes) {
            return false;
        }
        at += run;
    }
    true
}

/// Zeroes the pages of `[start, start+bytes)` that are not zero already (a
/// page only ever read maps the shared zero page, and writing it would
/// allocate one). Safety: as for [`reset`].
unsafe fn clear_pages(start: *mut u8, bytes: usize, page: usize) {
    for offset in (0..bytes).step_by(page) {
        let words = core::slice::from_raw_parts_mut(start.add(offset).cast::<u64>(), page / 8);
        if words.iter().any(|&w| w != 0) {
            words.fill(0);
        }
    }
}

/// Gives `[start, start+bytes)`'s pages back: they read as zeros next time.
/// Safety: as for [`reset`].
unsafe fn discard(start: *mut u8, bytes: usize) -> bool {
    libc::madvise(start.cast(), bytes, libc::MADV_DONTNEED) == 0
}

/// The system's page size, asked once.
pub(super) fn page_size() -> usize {
    static PAGE: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
    let known = PAGE.load(core::sync::atomic::Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    // SAFETY: a plain query.
    let size = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .ok()
        .filter(|&s| s >= 4096 && s.is_power_of_two())
        .unwrap_or(4096);
    PAGE.store(size, core::sync::atomic::Ordering::Relaxed);
    size
}
