//! The `hello` example: the guest in `guest/hello.wat` was compiled to native code
//! by `build.rs` and linked into this binary; `rivet::component!` generates typed
//! bindings for it. We call its `greet` export with a string, and call `fail`, whose
//! trap comes back as an `Err` while the host carries on.

use rivet::{BoundsMode, Store};

// A struct `Hello` with `instantiate` and one method per export, read from the plan
// that `build.rs` wrote for the component named "hello".
rivet::component!(Hello, "hello");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut store = Store::new(BoundsMode::Guard);
    // The guest imports nothing, so the host's side of the imports is `()`.
    let hello = Hello::instantiate(&mut store, ())?;

    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Rivet".to_string());
    println!("greet: {}", hello.greet(&mut store, &name)?);

    match hello.fail(&mut store) {
        Ok(()) => return Err("fail returned instead of trapping".into()),
        Err(trap) => println!("fail: the guest trapped: {trap}"),
    }
    Ok(())
}
