//! The `hello` example's host without `std`: the same guest and the same calls
//! as `examples/hello`, in a `no_std` binary that gets its memory from libc's
//! `malloc` and prints with `write(2)`. It shows what a host that needs neither
//! a compiler nor `std` costs: stripped, about 210 KB with release defaults,
//! against about 600 KB for the `std` host (`rivet-bench`'s size workload).

#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{c_char, c_int, CStr};
use core::fmt::{self, Write};
use rivet::{BoundsMode, Store};

rivet::component!(Hello, "hello");

#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes `argc` valid NUL-terminated arguments.
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

fn run(name: &str) -> Result<(), rivet::Error> {
    let mut store = Store::new(BoundsMode::Guard);
    let hello = Hello::instantiate(&mut store, ())?;
    let greeting = hello.greet(&mut store, name)?;
    let _ = writeln!(Fd(1), "greet: {greeting}");
    match hello.fail(&mut store) {
        Ok(()) => Err(rivet::Error::Runtime(
            "fail returned instead of trapping".into(),
        )),
        Err(trap) => {
            let _ = writeln!(Fd(1), "fail: the guest trapped: {trap}");
            Ok(())
        }
    }
}

/// A file descriptor to print to.
struct Fd(c_int);

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
