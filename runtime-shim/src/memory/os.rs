//! The system calls behind linear memories: mapping, protecting, unmapping,
//! and making used pages read as zeros again for the next memory.

use crate::error::Error;
use crate::prelude::*;
use core::ptr;
use core::sync::atomic::{AtomicI32, AtomicU8, Ordering};

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

/// The longest memory [`reset`] clears page by page; longer ones are given
/// back whole.
const SCAN_MAX: usize = 16 << 20;

/// Resident bytes above which [`reset`] gives the rest of a memory's pages
/// back to the system rather than clearing them in place: past this, clearing
/// costs more than the `madvise` (and the faults that refill the pages later),
/// and a pooled memory holding more would keep too much of the process
/// resident.
const KEEP_MAX: usize = 512 << 10;

/// Pages whose state one read of `/proc/self/pagemap` fetches.
const BATCH: usize = 512;

/// Pagemap bits: the page is present, or swapped out (or migrating).
const PRESENT: u64 = 1 << 63;
const SWAPPED: u64 = 1 << 62;

/// Makes `[base, base+len)` read as zeros again, as a fresh mapping would.
/// With `keep`, the pages the memory wrote are cleared in place, found in
/// `/proc/self/pagemap`, so the next memory reuses them with no system call
/// that edits page tables (a `madvise(MADV_DONTNEED)` of present pages flushes
/// the TLB of every core running the process, which is what made creating and
/// dropping memories on two threads slower than on one). Pages never touched
/// are left alone; pages swapped out, which hold data too, are discarded.
/// Without `keep`, or without a readable pagemap, all pages are discarded.
/// False when the system refused (the caller then unmaps or clears).
///
/// Safety: the range is read/write, private and anonymous, owned by the
/// caller, and nothing else uses it during the call.
pub(super) unsafe fn reset(base: *mut u8, len: usize, keep: bool) -> bool {
    let page = page_size();
    if len == 0 {
        return true;
    }
    if !keep || len > SCAN_MAX {
        return discard(base, len);
    }
    let pages = len.div_ceil(page);
    let mut states = [0u64; BATCH];
    let mut kept = 0;
    for first in (0..pages).step_by(BATCH) {
        let count = BATCH.min(pages - first);
        let start = base.add(first * page);
        if !page_states(start, &mut states[..count]) {
            return discard(start, len - first * page);
        }
        for (i, &state) in states[..count].iter().enumerate() {
            let at = start.add(i * page);
            if state & PRESENT != 0 {
                if kept == KEEP_MAX {
                    return discard(at, len - (first + i) * page);
                }
                clear_page(at, page);
                kept += page;
            } else if state & SWAPPED != 0 && !discard(at, page) {
                return false;
            }
        }
    }
    true
}

/// Reads the pagemap entries of the pages from `start` into `states`.
fn page_states(start: *mut u8, states: &mut [u64]) -> bool {
    let Some(fd) = pagemap() else {
        return false;
    };
    let offset = (start as usize / page_size() * 8) as libc::off_t;
    let bytes = core::mem::size_of_val(states);
    // SAFETY: reads at most `bytes` into `states`.
    let read = unsafe { libc::pread(fd, states.as_mut_ptr().cast(), bytes, offset) };
    read == bytes as isize
}

/// `fd + 1` of this process's `/proc/self/pagemap`: 0 before it is opened,
/// -1 where it cannot be (e.g. without `/proc`). A forked child starts again
/// from 0 ([`forget_pagemap`]): the descriptor it inherits reads the parent's
/// pages, so it opens its own (the inherited copy stays open, unused).
static PAGEMAP: AtomicI32 = AtomicI32::new(0);

/// This process's pagemap descriptor, opened once per process. Asked at every
/// reset, so it costs one atomic load, and no `getpid` system call, to tell a
/// forked child from its parent.
fn pagemap() -> Option<libc::c_int> {
    match PAGEMAP.load(Ordering::Acquire) {
        0 => open_pagemap(),
        -1 => None,
        fd => Some(fd - 1),
    }
}

/// Opens the pagemap, after making sure a fork resets [`PAGEMAP`] in the
/// child; a thread that loses the race to store its descriptor closes it.
fn open_pagemap() -> Option<libc::c_int> {
    forget_pagemap_on_fork();
    // SAFETY: a NUL-terminated path.
    let fd = unsafe {
        libc::open(
            c"/proc/self/pagemap".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    let mine = if fd >= 0 { fd + 1 } else { -1 };
    let stored = match PAGEMAP.compare_exchange(0, mine, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => mine,
        Err(theirs) => {
            if fd >= 0 {
                // SAFETY: our own descriptor; the other thread's is kept.
                unsafe { libc::close(fd) };
            }
            theirs
        }
    };
    (stored > 0).then(|| stored - 1)
}

/// Registers [`forget_pagemap`] as a fork child handler, once per process;
/// every caller returns only after it is registered, so no descriptor is
/// stored that a fork could carry into a child unseen.
fn forget_pagemap_on_fork() {
    /// 0: not registered; 1: being registered; 2: registered.
    static STATE: AtomicU8 = AtomicU8::new(0);
    if STATE
        .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe as a fork child handler must be.
        unsafe { libc::pthread_atfork(None, None, Some(forget_pagemap)) };
        STATE.store(2, Ordering::Release);
    }
    while STATE.load(Ordering::Acquire) != 2 {
        core::hint::spin_loop();
    }
}

/// Runs in a forked child: the next reset opens the child's own pagemap.
unsafe extern "C" fn forget_pagemap() {
    PAGEMAP.store(0, Ordering::Release);
}

/// Zeroes the page at `at` unless it is zero already (a page only ever read
/// maps the shared zero page, and writing it would allocate one). Safety: as
/// for [`reset`].
unsafe fn clear_page(at: *mut u8, page: usize) {
    let words = core::slice::from_raw_parts_mut(at.cast::<u64>(), page / 8);
    if words.iter().any(|&w| w != 0) {
        words.fill(0);
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
