//! Rivet's runtime shim: loads natively compiled WebAssembly modules from their
//! descriptors, instantiates them in a [`Store`], calls into them and turns
//! hardware faults in wasm code into [`Trap`]s the host can handle.

mod arena;
mod builtins;
mod code_registry;
pub mod component;
mod error;
mod func;
mod global;
mod instance;
mod memory;
mod module;
mod refs;
mod stack;
mod store;
mod table;
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
pub use values::Val;

/// Something an instance imports or exports.
#[derive(Clone, Copy, Debug)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
}

impl Extern {
    fn store_id(&self) -> store::StoreId {
        match self {
            Extern::Func(f) => f.store,
            Extern::Table(t) => t.store,
            Extern::Memory(m) => m.store,
            Extern::Global(g) => g.store,
        }
    }
}
