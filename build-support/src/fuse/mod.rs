//! The fused adapter compiler: for a `canon lower` of a function that a `canon lift`
//! inside the same plan provides, generates a core wasm module whose one export
//! has the caller's lowered core signature, lifts the arguments out of the
//! caller's memory, lowers them into the callee's, calls the callee, and carries
//! the results back, exactly as the Canonical ABI says.

use crate::Error;
use rivet_descriptor::component::{CanonOptions, Component, CoreDef};

/// One adapter to generate.
pub struct AdapterRequest<'a> {
    /// The plan so far: its `types`, `func_types` and `resources` give meaning to
    /// the indices below.
    pub plan: &'a Component,
    /// The component function type (index into `plan.func_types`).
    pub ty: u32,
    /// The caller's `canon lower` options.
    pub lower: &'a CanonOptions,
    /// The component instance that calls.
    pub lower_instance: u32,
    /// The callee's `canon lift` options.
    pub lift: &'a CanonOptions,
    /// The component instance whose function is called.
    pub lift_instance: u32,
    /// The lifted core function.
    pub callee: &'a CoreDef,
}

/// A generated adapter module.
pub struct AdapterModule {
    /// The module, in the binary format (valid with multi-memory).
    pub wasm: Vec<u8>,
    /// What to wire each of the module's imports to, in import order.
    pub imports: Vec<CoreDef>,
    /// Name of the export that is the adapter function.
    pub export: String,
}

/// Generates the adapter for `request`.
pub fn adapter_module(request: &AdapterRequest<'_>) -> Result<AdapterModule, Error> {
    let _ = request;
    Err(Error::msg(
        "not supported yet: calls between component instances (fused adapters)",
    ))
}
