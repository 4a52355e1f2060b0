//! Tables and references: `table.get/set/size` inline, the rest through
//! builtins, `ref.*`, and `call_indirect` with its three checks (index in
//! bounds, entry not null, signature matches).

use super::state::FuncTranslator;
use crate::env::trap_code;
use crate::Error;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::I32;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use rivet_descriptor::{vm, Builtin, TrapKind};
use wasmparser::Operator;

impl FuncTranslator<'_, '_> {
    /// Translates a table, reference or `call_indirect` operator; false if
    /// `op` is none of those.
    pub(super) fn translate_table(&mut self, op: &Operator) -> Result<bool, Error> {
        match *op {
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index),
            Operator::TableGet { table } => {
                let index = self.pop();
                let addr = self.table_element(table, index, TrapKind::TableOutOfBounds);
                let v = self.load_pointer(addr, 0);
                self.push(v);
            }
            Operator::TableSet { table } => {
                let (index, value) = self.pop2();
                let addr = self.table_element(table, index, TrapKind::TableOutOfBounds);
                self.b.ins().store(MemFlagsData::trusted(), value, addr, 0);
            }
            Operator::TableSize { table } => {
                let v = self.table_length(table);
                self.push(v);
            }
            Operator::RefNull { .. } => {
                let v = self.b.ins().iconst(self.env.pointer_type(), 0);
                self.push(v);
            }
            Operator::RefIsNull => {
                let r = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, r, 0);
                let v = self.b.ins().uextend(I32, c);
                self.push(v);
            }
            Operator::RefFunc { function_index } => {
                let offset = self.env.layout.funcref(function_index);
                let v = self.b.ins().iadd_imm_u(self.vmctx, i64::from(offset));
                self.push(v);
            }
            _ => return Ok(self.translate_table_builtin(op)),
        }
        Ok(true)
    }

    /// The table operators the runtime implements.
    fn translate_table_builtin(&mut self, op: &Operator) -> bool {
        let oob = TrapKind::TableOutOfBounds;
        match *op {
            Operator::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let t = self.const_i32(table);
                let old = self.call_builtin(Builtin::TableGrow, &[t, init, delta], Some(I32));
                self.push(old.expect("table.grow returns the old size"));
            }
            Operator::TableFill { table } => {
                let (dst, value, len) = self.pop3();
                let t = self.const_i32(table);
                self.call_checked_builtin(Builtin::TableFill, &[t, dst, value, len], oob);
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let (dt, st) = (self.const_i32(dst_table), self.const_i32(src_table));
                self.call_checked_builtin(Builtin::TableCopy, &[dt, st, dst, src, len], oob);
            }
            Operator::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let (t, e) = (self.const_i32(table), self.const_i32(elem_index));
                self.call_checked_builtin(Builtin::TableInit, &[t, e, dst, src, len], oob);
            }
            Operator::ElemDrop { elem_index } => {
                let e = self.const_i32(elem_index);
                self.call_builtin(Builtin::ElemDrop, &[e], None);
            }
            _ => return false,
        }
        true
    }

    /// The address of table `table`'s `VMTable`: in place for a defined table,
    /// through its pointer for an imported one.
    fn table_struct(&mut self, table: u32) -> Value {
        let layout = self.env.layout;
        match self.env.defined_table(table) {
            Some(d) => {
                let offset = layout.defined_table(d);
                self.b.ins().iadd_imm_u(self.vmctx, i64::from(offset))
            }
            None => self.load_pointer(self.vmctx, layout.table_pointer(table)),
        }
    }

    /// The current length of a table, as an `i32`.
    fn table_length(&mut self, table: u32) -> Value {
        let t = self.table_struct(table);
        let offset = vm::TABLE_LENGTH as i32;
        self.b.ins().load(I32, MemFlagsData::trusted(), t, offset)
    }

    /// The address of element `index` of a table, trapping with `kind` when
    /// the index is out of bounds.
    fn table_element(&mut self, table: u32, index: Value, kind: TrapKind) -> Value {
        let t = self.table_struct(table);
        let length = self
            .b
            .ins()
            .load(I32, MemFlagsData::trusted(), t, vm::TABLE_LENGTH as i32);
        let out = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        self.b.ins().trapnz(out, trap_code(kind));
        let base = self.load_pointer(t, vm::TABLE_BASE);
        let ptr = self.env.pointer_type();
        let index = self.b.ins().uextend(ptr, index);
        let scaled = self.b.ins().imul_imm_u(index, i64::from(ptr.bytes()));
        self.b.ins().iadd(base, scaled)
    }

    /// `call_indirect`: checks the entry, then calls its code with its context.
    fn call_indirect(&mut self, ty: u32, table: u32) {
        let index = self.pop();
        let n = self.env.types[ty as usize].params.len();
        let args = self.popn(n);
        let addr = self.table_element(table, index, TrapKind::UndefinedElement);
        let funcref = self.load_pointer(addr, 0);
        let null = trap_code(TrapKind::UninitializedElement);
        self.b.ins().trapz(funcref, null);
        let flags = MemFlagsData::trusted();
        let actual = self
            .b
            .ins()
            .load(I32, flags, funcref, vm::FUNCREF_TYPE_ID as i32);
        let type_id = self.env.layout.type_id(ty) as i32;
        let expected = self.b.ins().load(I32, flags, self.vmctx, type_id);
        let wrong = self.b.ins().icmp(IntCC::NotEqual, actual, expected);
        self.b
            .ins()
            .trapnz(wrong, trap_code(TrapKind::BadSignature));
        let code = self.load_pointer(funcref, vm::FUNCREF_CODE);
        let callee_vmctx = self.load_pointer(funcref, vm::FUNCREF_VMCTX);
        let inst = self.call_code(ty, code, callee_vmctx, &args);
        self.push_results(inst);
    }
}
