//! Rivet's runtime shim: loads natively compiled WebAssembly modules and components
//! from their descriptors, instantiates them in a [`Store`], calls into them and
//! turns hardware faults in wasm code into [`Trap`]s the host can handle.
//!
//! # The whole flow
//! 1. `build.rs` compiles a component with `rivet_build::Config` into a static
//!    library whose descriptor symbol is `rivet_component_NAME`, and writes the
//!    component's plan to `OUT_DIR` (see the `rivet-build` crate).
//! 2. The host names it with [`component!`], which generates typed bindings from
//!    that plan: `rivet::component!(Hello, "hello")` gives a struct `Hello` with
//!    `instantiate`, one method per top-level export and a view per exported
//!    interface, and one trait per imported interface for the host to implement.
//! 3. At run time this crate does the rest: it reserves memories, fills tables and
//!    globals, runs the plan's core instances in order, and carries every call's
//!    values across the Canonical ABI.
//!
//! The dynamic API underneath the bindings works on any descriptor, for hosts that
//! pick components at run time:
//!
//! ```no_run
//! use rivet::{BoundsMode, Component, ComponentImports, RawDescriptor, Store, Value};
//!
//! /// Calls `greet("you")` on the component behind `descriptor`.
//! ///
//! /// # Safety
//! /// `descriptor` is a descriptor compiled by rivet-build, loaded for as long as
//! /// the program runs (a linked `static`, or a library that is never unloaded).
//! unsafe fn greet(descriptor: *const RawDescriptor) -> Result<(), Box<dyn std::error::Error>> {
//!     let component = unsafe { Component::from_descriptor(descriptor) }?;
//!     let mut store = Store::new(BoundsMode::Guard);
//!     let instance = store.instantiate_component(&component, &ComponentImports::new())?;
//!     match instance.call(&mut store, "greet", &[Value::String("you".into())]) {
//!         Ok(greeting) => println!("{greeting:?}"),
//!         // A trap is an error like any other; the store stays usable.
//!         Err(trap) => println!("the guest trapped: {trap}"),
//!     }
//!     Ok(())
//! }
//! ```
//!
//! The host can define resource types a component imports: it names each with a
//! destructor, and hands the guest handles carrying its own representation (an
//! index into its own table, say):
//!
//! ```
//! use rivet::{Component, ComponentImports, ResourceAny, Trap, Value};
//!
//! /// The imports of a component that uses the host's `example:kv/store`.
//! fn kv_imports(component: &Component) -> Result<ComponentImports, Trap> {
//!     let ty = component
//!         .resource_type("example:kv/store#store")
//!         .ok_or_else(|| Trap::host("the component does not import a store"))?;
//!     let mut imports = ComponentImports::new();
//!     // Runs when the guest drops its last owned handle.
//!     imports.resource("example:kv/store#store", |rep| {
//!         println!("store {rep} dropped");
//!         Ok(())
//!     });
//!     imports.func("example:kv/store#[constructor]store", move |_args| {
//!         Ok(Some(Value::Own(ResourceAny::host(ty, 7))))
//!     });
//!     Ok(imports)
//! }
//! ```

mod arena;
mod builtins;
mod bump;
mod code_registry;
pub mod component;
mod error;
mod func;
mod global;
mod instance;
mod memory;
mod module;
mod refs;
mod signatures;
mod stack;
mod store;
mod table;
mod tag;
mod trap;
mod values;
mod vm;

#[cfg(test)]
mod tests;

pub use component::{
    Component, ComponentImports, ComponentInstance, ResourceAny, ResourceType, Type, Value,
};
pub use error::{Error, Trap};
pub use func::Func;
pub use global::Global;
pub use instance::Instance;
pub use memory::Memory;
pub use module::{ExternType, Module};
pub use rivet_descriptor::{
    BoundsMode, FuncType, GlobalType, MemoryType, RawDescriptor, TableType, TrapKind, ValType,
};
/// Typed bindings for a component compiled in build.rs (see `rivet-macro`).
pub use rivet_macro::component;
pub use store::Store;
pub use table::Table;
pub use tag::Tag;
pub use values::{Exn, Val};

/// Something an instance imports or exports.
#[derive(Clone, Copy, Debug)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
    Tag(Tag),
}

impl Extern {
    fn store_id(&self) -> store::StoreId {
        match self {
            Extern::Func(f) => f.store,
            Extern::Table(t) => t.store,
            Extern::Memory(m) => m.store,
            Extern::Global(g) => g.store,
            Extern::Tag(t) => t.store,
        }
    }
}
