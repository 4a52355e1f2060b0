//! The `hello` example's host without `std`: the same guest and the same calls
//! as `examples/hello`, in a `no_std` binary that gets its memory from libc's
//! `malloc` and prints with `write(2)`. It shows what a host that needs neither
//! a compiler nor `std` costs: stripped, about 85 KB with release defaults,
//! against about 450 KB for the `std` host (`rivet-bench`'s size workload).

#![no_std]
#![no_main]

extern crate alloc;

use core::ffi::{c_char, c_int};
use core::fmt::Write;
use platform::Fd;
use rivet::{BoundsMode, Store};

mod platform;

rivet::component!(Hello, "hello");

#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes `argc` valid NUL-terminated arguments.
    unsafe { platform::run_main(argc, argv, run) }
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
