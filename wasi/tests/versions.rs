//! Guests importing different WASI 0.2 versions served by the same host, the
//! exit statuses of `run`, and a trapped guest leaving the host running.

mod common;

use rivet::{Component, Value};
use rivet_wasi::{MemoryOutputPipe, WasiCtx};

fn v0_2_0() -> Component {
    common::compile(include_bytes!("guests/v0_2_0.wat"))
}

/// Runs the 0.2.0 guest in `mode` (see the guest); its stdout and status.
fn run(component: &Component, mode: u8) -> (String, Result<i32, rivet::Trap>) {
    let stdout = MemoryOutputPipe::new();
    let ctx = WasiCtx::builder().stdout(stdout.clone()).build();
    let (mut store, instance, wasi) = common::instantiate(component, ctx);
    instance
        .call(&mut store, "set-mode", &[Value::U8(mode)])
        .expect("set-mode");
    let status = wasi.run(&mut store, &instance);
    (stdout.contents_string(), status)
}

#[test]
fn a_0_2_0_guest_is_served_and_returns_ok() {
    let (out, status) = run(&v0_2_0(), 0);
    assert_eq!(out, "hi from 0.2.0\n");
    assert_eq!(status.expect("runs"), 0);
}

#[test]
fn exit_with_code_stops_the_guest_with_its_code() {
    let (out, status) = run(&v0_2_0(), 1);
    assert_eq!(out, "hi from 0.2.0\n");
    assert_eq!(status.expect("exits"), 7);
}

#[test]
fn a_write_past_the_limit_traps_and_other_instances_run_on() {
    let component = v0_2_0();
    let (out, status) = run(&component, 2);
    assert_eq!(out, "hi from 0.2.0\n");
    let trap = status.expect_err("5000 bytes exceed blocking-write-and-flush's 4096");
    assert!(trap.message.contains("exceeds"), "{trap}");
    // The host and a new instance of the same component are unaffected.
    assert_eq!(run(&component, 0).1.expect("runs"), 0);
}

#[test]
fn the_0_2_6_imports_of_rust_1_95_are_served() {
    let component = common::compile_guest("wasi-hello.wasm");
    let imports = component.imports();
    assert!(imports
        .iter()
        .all(|(n, _)| !n.starts_with("wasi:") || n.contains("@0.2.6#")));
    let ctx = WasiCtx::default();
    let (mut store, instance, wasi) = common::instantiate(&component, ctx);
    assert_eq!(wasi.run(&mut store, &instance).expect("exits"), 1);
}

#[test]
fn an_unserved_version_is_a_link_error_naming_the_import() {
    let text =
        include_str!("guests/v0_2_0.wat").replace("wasi:cli/stdout@0.2.0", "wasi:cli/stdout@0.3.0");
    let component = common::compile(text.as_bytes());
    let mut imports = rivet::ComponentImports::new();
    let e = rivet_wasi::add_to_imports(&mut imports, &component, WasiCtx::default())
        .err()
        .expect("0.3.0 is refused");
    assert!(
        e.to_string().contains("wasi:cli/stdout@0.3.0#get-stdout"),
        "{e}"
    );
}
