//! Direct calls: to the module's own functions by symbol, to imported
//! functions through their `VMFuncImport`, or by symbol when the component
//! plan wires the import to the same function in every instantiation.

use super::state::FuncTranslator;
use crate::Error;
use cranelift_codegen::ir::{
    self, ExtFuncData, ExternalName, InstBuilder, UserExternalName, Value,
};
use rivet_descriptor::vm;
use wasmparser::Operator;

impl FuncTranslator<'_, '_> {
    /// Translates `call`; false for anything else.
    pub(super) fn translate_call(&mut self, op: &Operator) -> Result<bool, Error> {
        let Operator::Call { function_index } = op else {
            return Ok(false);
        };
        let index = *function_index;
        let ty = self.env.functions[index as usize];
        let n = self.env.types[ty as usize].params.len();
        let args = self.popn(n);
        let inst = if self.env.is_imported_function(index) {
            self.call_imported(index, ty, &args)
        } else {
            self.call_defined(index, &args)
        };
        self.push_results(inst);
        Ok(true)
    }

    /// The imported signature of wasm type `ty` (native convention).
    pub(super) fn wasm_signature_ref(&mut self, ty: u32) -> ir::SigRef {
        if let Some(sig) = self.signatures.get(&ty) {
            return *sig;
        }
        let sig = self.b.import_signature(self.env.wasm_signature(ty));
        self.signatures.insert(ty, sig);
        sig
    }

    /// Calls code at `code` with callee context `callee_vmctx`.
    pub(super) fn call_code(
        &mut self,
        ty: u32,
        code: Value,
        callee_vmctx: Value,
        args: &[Value],
    ) -> ir::Inst {
        let sig = self.wasm_signature_ref(ty);
        let mut call_args = vec![callee_vmctx];
        call_args.extend_from_slice(args);
        self.b.ins().call_indirect(sig, code, &call_args)
    }

    /// Calls imported function `index` with the context in its
    /// `VMFuncImport`: directly when its target is known at build time (the
    /// instance still differs, so the context is loaded), else through the
    /// import's code pointer.
    fn call_imported(&mut self, index: u32, ty: u32, args: &[Value]) -> ir::Inst {
        let at = self.env.layout.imported_function(index);
        let callee_vmctx = self.load_pointer(self.vmctx, at + vm::FUNC_IMPORT_VMCTX);
        if let Some(name) = self.env.direct_import(index) {
            let callee = self.callee_named(index, name);
            let mut call_args = vec![callee_vmctx];
            call_args.extend_from_slice(args);
            return self.b.ins().call(callee, &call_args);
        }
        let code = self.load_pointer(self.vmctx, at + vm::FUNC_IMPORT_CODE);
        self.call_code(ty, code, callee_vmctx, args)
    }

    /// Calls defined function `index` directly, under the name the emitter
    /// declared it with, passing this instance's context.
    fn call_defined(&mut self, index: u32, args: &[Value]) -> ir::Inst {
        let callee = self.callee(index);
        let mut call_args = vec![self.vmctx];
        call_args.extend_from_slice(args);
        self.b.ins().call(callee, &call_args)
    }

    /// The function reference of defined function `index`, imported once.
    fn callee(&mut self, index: u32) -> ir::FuncRef {
        let defined = (index - self.env.imported_functions) as usize;
        self.callee_named(index, self.env.callee_names[defined])
    }

    /// The function reference for calls to function `index`, declared (once)
    /// as unit function `name`, which has the same signature.
    fn callee_named(&mut self, index: u32, name: u32) -> ir::FuncRef {
        if let Some(f) = self.callees.get(&index) {
            return *f;
        }
        let ty = self.env.functions[index as usize];
        let signature = self.wasm_signature_ref(ty);
        let name = UserExternalName::new(0, name);
        let name = self.b.func.declare_imported_user_function(name);
        let f = self.b.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.callees.insert(index, f);
        f
    }
}
