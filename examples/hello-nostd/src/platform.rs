//! What `std` would otherwise supply to a `no_std` host on Linux: the heap
//! (libc's `malloc`), output (`write(2)`), the panic handler and the two
//! unwinding symbols the prebuilt `alloc` names. `bench/wasmtime-hello-nostd`
//! uses this same file (`#[path]`), so that the two `no_std` hosts the size
//! benchmark compares differ only in their runtimes.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{c_char, c_int, CStr};
use core::fmt::{self, Display, Write};

/// The body of C's `main`: runs `run` with the first argument ("Rivet" when
/// there is none) and turns its error into a message on stderr and status 1.
///
/// # Safety
/// `argv` holds `argc` valid NUL-terminated strings, as C's `main` gets them.
pub unsafe fn run_main<E: Display>(
    argc: c_int,
    argv: *const *const c_char,
    run: impl FnOnce(&str) -> Result<(), E>,
) -> c_int {
    // SAFETY: the caller passes C's arguments.
    let arg = (argc > 1).then(|| unsafe { CStr::from_ptr(*argv.add(1)) });
    let name = arg.and_then(|a| a.to_str().ok()).unwrap_or("Rivet");
    match run(name) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(Fd(2), "error: {e}");
            1
        }
    }
}

/// A file descriptor to print to.
pub struct Fd(pub c_int);

impl Write for Fd {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        while !rest.is_empty() {
            // SAFETY: writes from a live buffer of the given length.
            let n = unsafe { libc::write(self.0, rest.as_ptr().cast(), rest.len()) };
            if n <= 0 {
                return Err(fmt::Error);
            }
            rest = &rest[n as usize..];
        }
        Ok(())
    }
}

/// The heap is libc's.
struct Malloc;

/// What `malloc` aligns every block to on the platforms Rivet supports.
const MALLOC_ALIGN: usize = 16;

unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            return libc::malloc(layout.size()).cast();
        }
        let mut p = core::ptr::null_mut();
        match libc::posix_memalign(&mut p, layout.align(), layout.size()) {
            0 => p.cast(),
            _ => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        libc::free(ptr.cast());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            return libc::realloc(ptr.cast(), new_size).cast();
        }
        let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}

#[global_allocator]
static HEAP: Malloc = Malloc;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Fd(2), "panic: {info}");
    // SAFETY: ends the process.
    unsafe { libc::abort() }
}

// The prebuilt `alloc` library was compiled for unwinding panics and names the
// two symbols below; with `panic = "abort"` nothing unwinds, so neither is
// ever called. (A toolchain that rebuilds `alloc` with `panic = "abort"`,
// nightly's `-Zbuild-std`, needs neither.)

/// Never called: nothing unwinds.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// Never called: nothing unwinds.
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    // SAFETY: ends the process.
    unsafe { libc::abort() }
}
