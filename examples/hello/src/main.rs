//! The `hello` example: the guest in `guest/hello.wat` was compiled to native code
//! by `build.rs` and linked into this binary; here we load it, call its `greet`
//! export with a string, and call `fail`, whose trap comes back as an `Err`.

use rivet::{BoundsMode, Component, ComponentImports, RawDescriptor, Store, Value};

extern "C" {
    /// The descriptor `build.rs` compiled (`Config::component("hello", …)`).
    static rivet_component_hello: RawDescriptor;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // SAFETY: the symbol is a descriptor emitted by rivet-build for this runtime,
    // linked into this binary and never written.
    let component =
        unsafe { Component::from_descriptor(std::ptr::addr_of!(rivet_component_hello)) }?;
    let mut store = Store::new(BoundsMode::Guard);
    let instance = store.instantiate_component(&component, &ComponentImports::new())?;

    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Rivet".to_string());
    match instance.call(&mut store, "greet", &[Value::String(name)])? {
        Some(Value::String(greeting)) => println!("greet: {greeting}"),
        other => return Err(format!("greet returned {other:?}, expected a string").into()),
    }

    match instance.call(&mut store, "fail", &[]) {
        Ok(_) => return Err("fail returned instead of trapping".into()),
        Err(trap) => println!("fail: the guest trapped: {trap}"),
    }
    Ok(())
}
