//! The `hello` example's host on Wasmtime: the same guest (`examples/hello`),
//! precompiled by `rivet-bench` into `hello.cwasm` and embedded, run by Wasmtime's
//! runtime without its compiler. Exists to compare release binary sizes with
//! Rivet's `hello`; prints the same lines.

use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

/// Written by `cargo run --release -p rivet-bench` with the engine configuration
/// this binary uses (Wasmtime's defaults).
static CWASM: &[u8] = include_bytes!("../hello.cwasm");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::default();
    // SAFETY: the bytes are a component Wasmtime itself precompiled for this
    // engine configuration; deserialize checks the version and settings.
    let component = unsafe { Component::deserialize(&engine, CWASM) }?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component)?;
    let greet = instance.get_typed_func::<(&str,), (String,)>(&mut store, "greet")?;
    let fail = instance.get_typed_func::<(), ()>(&mut store, "fail")?;

    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Rivet".to_string());
    let (greeting,) = greet.call(&mut store, (&name,))?;
    println!("greet: {greeting}");
    match fail.call(&mut store, ()) {
        Ok(()) => return Err("fail returned instead of trapping".into()),
        Err(trap) => println!("fail: the guest trapped: {trap}"),
    }
    Ok(())
}
