//! Array and host trampolines: the two bridges between the host's uniform
//! `ValRaw` calling convention and the native wasm convention of one function type
//! (both documented in `rivet_descriptor`).

use crate::env::{clif_type, trap_code, wasm_signature};
use cranelift_codegen::ir::{
    self, AbiParam, Endianness, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind,
    UserFuncName,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use rivet_descriptor::{vm, FuncType, TrapKind};
use std::collections::HashMap;

/// Which trampolines a module needs: one pair per distinct signature, shared by
/// every type index with that signature.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Distinct signatures, in order of first appearance. Signature `i` has its
    /// array trampoline at table index `2 * i` and its host trampoline at `2 * i + 1`
    /// (relative to the module's first trampoline).
    pub signatures: Vec<FuncType>,
    /// Per type index: index of its signature in `signatures`.
    pub by_type: Vec<u32>,
}

impl Plan {
    /// Deduplicates the signatures of `types`.
    pub fn new(types: &[FuncType]) -> Plan {
        let mut seen: HashMap<&FuncType, u32> = HashMap::new();
        let mut plan = Plan::default();
        for ty in types {
            let next = plan.signatures.len() as u32;
            let index = *seen.entry(ty).or_insert_with(|| {
                plan.signatures.push(ty.clone());
                next
            });
            plan.by_type.push(index);
        }
        plan
    }

    /// Per type index: trampoline-table index of its array trampoline.
    pub fn array_indices(&self, base: u32) -> Vec<u32> {
        self.by_type.iter().map(|s| base + 2 * s).collect()
    }

    /// Per type index: trampoline-table index of its host trampoline.
    pub fn host_indices(&self, base: u32) -> Vec<u32> {
        self.by_type.iter().map(|s| base + 2 * s + 1).collect()
    }
}

/// `ValRaw` slots are little-endian whatever the target, and the host owns the
/// array, so accesses cannot fault.
fn val_raw_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_notrap()
        .with_endianness(Endianness::Little)
}

/// Offset of `ValRaw` slot `index`.
fn slot(index: usize) -> i32 {
    (index as u32 * vm::VAL_RAW_SIZE) as i32
}

/// The C signature of every array trampoline: `(code, vmctx, values)`.
pub fn array_signature(isa: &dyn TargetIsa) -> ir::Signature {
    let mut sig = ir::Signature::new(CallConv::triple_default(isa.triple()));
    sig.params.extend([AbiParam::new(isa.pointer_type()); 3]);
    sig
}

/// `extern "C" fn(code, vmctx, values: *mut ValRaw)`: calls `code` with the native
/// convention of `ty`, arguments from `values`, results back into `values`.
pub fn array_trampoline(
    isa: &dyn TargetIsa,
    ty: &FuncType,
    name: UserFuncName,
    builder_ctx: &mut FunctionBuilderContext,
) -> ir::Function {
    let ptr = isa.pointer_type();
    let mut func = ir::Function::with_name_signature(name, array_signature(isa));
    let mut b = FunctionBuilder::new(&mut func, builder_ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry);
    let (code, vmctx, values) = (params[0], params[1], params[2]);

    let mut args = vec![vmctx];
    for (i, p) in ty.params.iter().enumerate() {
        args.push(
            b.ins()
                .load(clif_type(ptr, *p), val_raw_flags(), values, slot(i)),
        );
    }
    let callee_sig = b.import_signature(wasm_signature(isa, ty));
    let call = b.ins().call_indirect(callee_sig, code, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.into_iter().enumerate() {
        b.ins().store(val_raw_flags(), r, values, slot(i));
    }
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    func
}

/// A function with the native convention of `ty` whose `vmctx` is a
/// `*mut VMHostFunc`: spills the arguments to a `ValRaw` array on the stack, calls
/// the host's `dispatch(vmctx, values) -> u32`, traps with [`TrapKind::Host`] if it
/// returns non-zero, and returns the results it left in the array.
pub fn host_trampoline(
    isa: &dyn TargetIsa,
    ty: &FuncType,
    name: UserFuncName,
    builder_ctx: &mut FunctionBuilderContext,
) -> ir::Function {
    let ptr = isa.pointer_type();
    let mut func = ir::Function::with_name_signature(name, wasm_signature(isa, ty));
    let mut b = FunctionBuilder::new(&mut func, builder_ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (vmctx, args) = (&params[0], &params[1..]);

    let slots = ty.params.len().max(ty.results.len()).max(1);
    let size = slots as u32 * vm::VAL_RAW_SIZE;
    let array = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 4));
    let values = b.ins().stack_addr(ptr, array, 0);
    for (i, arg) in args.iter().enumerate() {
        b.ins().store(val_raw_flags(), *arg, values, slot(i));
    }

    let mut dispatch_sig = ir::Signature::new(CallConv::triple_default(isa.triple()));
    dispatch_sig.params.extend([AbiParam::new(ptr); 2]);
    dispatch_sig.returns.push(AbiParam::new(ir::types::I32));
    let dispatch_sig = b.import_signature(dispatch_sig);
    let dispatch_offset = vm::HOST_FUNC_DISPATCH as i32;
    let dispatch = b
        .ins()
        .load(ptr, MemFlagsData::trusted(), *vmctx, dispatch_offset);
    let call = b
        .ins()
        .call_indirect(dispatch_sig, dispatch, &[*vmctx, values]);
    let status = b.inst_results(call)[0];
    b.ins().trapnz(status, trap_code(TrapKind::Host));

    let results: Vec<_> = ty
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            b.ins()
                .load(clif_type(ptr, *r), val_raw_flags(), values, slot(i))
        })
        .collect();
    b.ins().return_(&results);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    func
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivet_descriptor::ValType;

    fn ty(params: &[ValType], results: &[ValType]) -> FuncType {
        FuncType {
            params: params.to_vec().into(),
            results: results.to_vec().into(),
        }
    }

    #[test]
    fn plan_shares_trampolines_between_identical_signatures() {
        let a = ty(&[ValType::I32], &[ValType::I64]);
        let b = ty(&[], &[]);
        let plan = Plan::new(&[a.clone(), b.clone(), a.clone()]);
        assert_eq!(plan.signatures, vec![a, b]);
        assert_eq!(plan.by_type, vec![0, 1, 0]);
        assert_eq!(plan.array_indices(4), vec![4, 6, 4]);
        assert_eq!(plan.host_indices(4), vec![5, 7, 5]);
    }
}
