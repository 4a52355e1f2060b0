//! A real Rust `wasm32-wasip2` command (guests/wasi-hello) run through the
//! dynamic API: arguments, environment, stdin, stdout, stderr, exit status.

mod common;

use rivet_wasi::{MemoryInputPipe, MemoryOutputPipe, WasiCtx};

#[test]
fn hello_prints_reads_and_exits_with_its_status() {
    let component = common::compile_guest("wasi-hello.wasm");
    let (stdout, stderr) = (MemoryOutputPipe::new(), MemoryOutputPipe::new());
    let ctx = WasiCtx::builder()
        .args(["hello", "a b", "c"])
        .env("GREETING", "hi there")
        .stdin(MemoryInputPipe::new("some input\n"))
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build();
    let (mut store, instance, wasi) = common::instantiate(&component, ctx);
    let status = wasi.run(&mut store, &instance).expect("the guest exits");
    // Rust 1.95 maps a non-zero `process::exit` to `exit(err)`: status 1.
    assert_eq!(status, 1);
    assert_eq!(
        stdout.contents_string(),
        "hello from wasi\nargs: hello a b c\nGREETING=hi there\nstdin: some input\n"
    );
    assert_eq!(stderr.contents_string(), "to stderr\n");
}

#[test]
fn the_default_context_gives_nothing() {
    let component = common::compile_guest("wasi-hello.wasm");
    let stdout = MemoryOutputPipe::new();
    let ctx = WasiCtx::builder().stdout(stdout.clone()).build();
    let (mut store, instance, wasi) = common::instantiate(&component, ctx);
    assert_eq!(wasi.run(&mut store, &instance).expect("exits"), 1);
    assert_eq!(
        stdout.contents_string(),
        "hello from wasi\nargs: \nGREETING unset\nstdin: \n"
    );
}
