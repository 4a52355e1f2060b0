//! What the translator knows about the module around a function: the output of the
//! decode stage and the input of the translate and emit stages.

use cranelift_codegen::ir::{self, types, AbiParam};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use rivet_descriptor::{
    BoundsMode, FuncType, GlobalType, MemoryType, TableType, TrapKind, ValType,
};
use std::sync::Arc;

/// A decoded, validated core module, ready to translate.
pub struct ModuleEnv<'data> {
    /// The target the code is generated for.
    pub isa: Arc<dyn TargetIsa>,
    /// How memory accesses are checked.
    pub bounds: BoundsMode,
    /// The type section.
    pub types: Vec<FuncType>,
    /// Type index of every function, imported ones first.
    pub functions: Vec<u32>,
    /// Number of imported functions (the first entries of `functions`).
    pub imported_functions: u32,
    /// Every table, imported first, and how many are imported.
    pub tables: Vec<TableType>,
    pub imported_tables: u32,
    /// Every memory, imported first, and how many are imported.
    pub memories: Vec<MemoryType>,
    pub imported_memories: u32,
    /// Every global, imported first, and how many are imported.
    pub globals: Vec<GlobalType>,
    pub imported_globals: u32,
    /// Function type index of every tag, imported first.
    pub tags: Vec<u32>,
    /// Whether the module is compiled exception-aware: every call is followed by
    /// a test of the store's pending exception (see the descriptor's docs). Set
    /// per unit, when any module of the unit has a tag.
    pub exceptions: bool,
    /// Whether an exception pending after a call traps (code at a component
    /// boundary: fused adapters) rather than propagating.
    pub exception_boundary: bool,
    /// Where everything lives in the instance context.
    pub layout: rivet_descriptor::VmctxLayout,
    /// Bodies of the defined functions, in order.
    pub bodies: Vec<wasmparser::FunctionBody<'data>>,
    /// Names from the name section, by function index.
    pub names: std::collections::HashMap<u32, String>,
    /// For each defined function (by defined index), the `index` of the
    /// `UserExternalName` (namespace 0) under which the emitter declared it: its
    /// cranelift-module `FuncId`, which is what `ObjectModule` resolves relocations
    /// against. Direct calls import the callee as `UserExternalName::new(0, id)`; the
    /// callee has local linkage in the same object, so the import may be `colocated`.
    pub callee_names: Vec<u32>,
    /// For each imported function, the `UserExternalName` index of the unit
    /// function it is always wired to, if the component plan knows one: the
    /// translator then calls it directly instead of through the import's code
    /// pointer. Empty for a module compiled on its own.
    pub direct_imports: Vec<Option<u32>>,
}

impl ModuleEnv<'_> {
    /// Pointer type of the target.
    pub fn pointer_type(&self) -> ir::Type {
        self.isa.pointer_type()
    }

    /// The native signature of a wasm function of type `ty`: `(vmctx, params…) -> results`.
    pub fn wasm_signature(&self, ty: u32) -> ir::Signature {
        wasm_signature(&*self.isa, &self.types[ty as usize])
    }

    /// Whether function `index` is imported.
    pub fn is_imported_function(&self, index: u32) -> bool {
        index < self.imported_functions
    }

    /// The name a direct call to imported function `index` resolves to, if
    /// its target is known at build time.
    pub fn direct_import(&self, index: u32) -> Option<u32> {
        self.direct_imports.get(index as usize).copied().flatten()
    }

    /// Defined index of memory `index`, if the module defines it.
    pub fn defined_memory(&self, index: u32) -> Option<u32> {
        index.checked_sub(self.imported_memories)
    }

    /// Defined index of table `index`, if the module defines it.
    pub fn defined_table(&self, index: u32) -> Option<u32> {
        index.checked_sub(self.imported_tables)
    }

    /// Defined index of global `index`, if the module defines it.
    pub fn defined_global(&self, index: u32) -> Option<u32> {
        index.checked_sub(self.imported_globals)
    }
}

/// The native signature of a wasm function type, `(vmctx, params…) -> results`.
pub fn wasm_signature(isa: &dyn TargetIsa, ty: &FuncType) -> ir::Signature {
    let ptr = isa.pointer_type();
    let mut sig = ir::Signature::new(CallConv::triple_default(isa.triple()));
    sig.params
        .push(AbiParam::special(ptr, ir::ArgumentPurpose::VMContext));
    sig.params
        .extend(ty.params.iter().map(|t| AbiParam::new(clif_type(ptr, *t))));
    sig.returns
        .extend(ty.results.iter().map(|t| AbiParam::new(clif_type(ptr, *t))));
    sig
}

/// The Cranelift type that holds a wasm value of type `ty`.
pub fn clif_type(pointer: ir::Type, ty: ValType) -> ir::Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::FuncRef | ValType::ExternRef | ValType::ExnRef => pointer,
    }
}

/// Converts a wasmparser value type to Rivet's.
pub fn val_type(ty: wasmparser::ValType) -> ValType {
    match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        wasmparser::ValType::Ref(r) if r.heap_type() == wasmparser::RefType::EXN.heap_type() => {
            ValType::ExnRef
        }
        wasmparser::ValType::Ref(_) => ValType::ExternRef,
    }
}

/// The Cranelift trap code compiled code uses for a trap kind.
pub fn trap_code(kind: TrapKind) -> ir::TrapCode {
    match kind {
        TrapKind::StackOverflow => ir::TrapCode::STACK_OVERFLOW,
        TrapKind::MemoryOutOfBounds => ir::TrapCode::HEAP_OUT_OF_BOUNDS,
        TrapKind::IntegerDivideByZero => ir::TrapCode::INTEGER_DIVISION_BY_ZERO,
        TrapKind::IntegerOverflow => ir::TrapCode::INTEGER_OVERFLOW,
        TrapKind::BadConversionToInteger => ir::TrapCode::BAD_CONVERSION_TO_INTEGER,
        // User codes start at 1; every other kind has a reserved slot below 0xfb.
        other => ir::TrapCode::unwrap_user(other as u8 + 1),
    }
}

/// The trap kind behind a Cranelift trap code that compiled code can raise.
pub fn trap_kind(code: ir::TrapCode) -> Option<TrapKind> {
    TrapKind::ALL.into_iter().find(|k| trap_code(*k) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_codes_are_distinct_and_invertible() {
        for kind in TrapKind::ALL {
            assert_eq!(trap_kind(trap_code(kind)), Some(kind));
        }
    }
}
