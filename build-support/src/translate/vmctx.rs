//! Everything compiled code reaches through the instance context: the stack
//! limit, globals, and calls to runtime builtins.

use super::state::FuncTranslator;
use crate::env::{clif_type, trap_code};
use crate::Error;
use cranelift_codegen::ir::{
    self, types, AbiParam, GlobalValueData, InstBuilder, MemFlagsData, Type, Value,
};
use cranelift_codegen::isa::CallConv;
use rivet_descriptor::{vm, Builtin, TrapKind, VmctxLayout};
use wasmparser::Operator;

impl FuncTranslator<'_, '_> {
    /// Translates `global.get` and `global.set`; false for anything else.
    pub(super) fn translate_vmctx(&mut self, op: &Operator) -> Result<bool, Error> {
        match op {
            Operator::GlobalGet { global_index } => {
                let (ptr, offset, ty) = self.global_slot(*global_index);
                let v = self.b.ins().load(ty, MemFlagsData::trusted(), ptr, offset);
                self.push(v);
            }
            Operator::GlobalSet { global_index } => {
                let (ptr, offset, _) = self.global_slot(*global_index);
                let v = self.pop();
                self.b.ins().store(MemFlagsData::trusted(), v, ptr, offset);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Makes Cranelift compare the stack pointer with the store's stack limit in
    /// the prologue: `load(load(vmctx + STORE) + STORE_STACK_LIMIT)`, a chain of
    /// loads its prologue generator supports.
    pub(super) fn set_stack_limit(&mut self) {
        let ptr = self.env.pointer_type();
        let func = &mut *self.b.func;
        let flags = func.dfg.mem_flags.insert_unchecked(MemFlagsData::trusted());
        let vmctx = func.create_global_value(GlobalValueData::VMContext);
        let store = func.create_global_value(GlobalValueData::Load {
            base: vmctx,
            offset: (VmctxLayout::STORE as i32).into(),
            global_type: ptr,
            flags,
        });
        let limit = func.create_global_value(GlobalValueData::Load {
            base: store,
            offset: (vm::STORE_STACK_LIMIT as i32).into(),
            global_type: ptr,
            flags,
        });
        func.stack_limit = Some(limit);
    }

    /// A pointer-sized field at `base + offset` of a runtime structure.
    pub(super) fn load_pointer(&mut self, base: Value, offset: u32) -> Value {
        let ptr = self.env.pointer_type();
        self.b
            .ins()
            .load(ptr, MemFlagsData::trusted(), base, offset as i32)
    }

    /// Where global `index`'s value lives (`base`, `offset`) and its type.
    /// Defined globals are read in place; imported ones through their pointer.
    fn global_slot(&mut self, index: u32) -> (Value, i32, Type) {
        let content = self.env.globals[index as usize].content;
        let ty = clif_type(self.env.pointer_type(), content);
        let layout = self.env.layout;
        match self.env.defined_global(index) {
            Some(d) => (self.vmctx, layout.defined_global(d) as i32, ty),
            None => {
                let ptr = self.load_pointer(self.vmctx, layout.global_pointer(index));
                (ptr, 0, ty)
            }
        }
    }

    /// Calls a runtime builtin with the C convention: `(vmctx, args…)`.
    /// Returns its result, if it has one.
    pub(super) fn call_builtin(
        &mut self,
        builtin: Builtin,
        args: &[Value],
        result: Option<Type>,
    ) -> Option<Value> {
        let sig = self.builtin_signature(builtin, args, result);
        let table = self.load_pointer(self.vmctx, VmctxLayout::BUILTINS);
        let slot = self.env.pointer_type().bytes() * builtin as u32;
        let fnptr = self.load_pointer(table, slot);
        let mut call_args = vec![self.vmctx];
        call_args.extend_from_slice(args);
        let inst = self.b.ins().call_indirect(sig, fnptr, &call_args);
        self.b.inst_results(inst).first().copied()
    }

    /// Calls a builtin that returns a status and traps with `kind` when it is
    /// non-zero.
    pub(super) fn call_checked_builtin(
        &mut self,
        builtin: Builtin,
        args: &[Value],
        kind: TrapKind,
    ) {
        let status = self
            .call_builtin(builtin, args, Some(types::I32))
            .expect("a status builtin returns a value");
        self.b.ins().trapnz(status, trap_code(kind));
    }

    /// The imported signature of a builtin, from its argument types.
    fn builtin_signature(
        &mut self,
        builtin: Builtin,
        args: &[Value],
        result: Option<Type>,
    ) -> ir::SigRef {
        if let Some(sig) = self.builtin_signatures.get(&(builtin as u32)) {
            return *sig;
        }
        let ptr = self.env.pointer_type();
        let mut sig = ir::Signature::new(CallConv::triple_default(self.env.isa.triple()));
        sig.params.push(AbiParam::new(ptr));
        for &a in args {
            let ty = self.b.func.dfg.value_type(a);
            sig.params.push(AbiParam::new(ty));
        }
        sig.returns.extend(result.map(AbiParam::new));
        let sig = self.b.import_signature(sig);
        self.builtin_signatures.insert(builtin as u32, sig);
        sig
    }

    /// An `i32` constant.
    pub(super) fn const_i32(&mut self, v: u32) -> Value {
        self.b.ins().iconst(types::I32, i64::from(v))
    }
}
