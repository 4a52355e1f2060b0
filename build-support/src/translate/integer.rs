//! Integer operators of `i32` and `i64`. Cranelift's integer instructions
//! already have wasm's semantics where it matters: shift and rotate counts are
//! taken modulo the width, `sdiv`/`udiv`/`srem`/`urem` trap on a zero divisor,
//! `sdiv` traps on `INT_MIN / -1`, and `srem INT_MIN, -1` is 0.

use super::state::FuncTranslator;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// A binary instruction builder.
type Binary = fn(&mut FunctionBuilder, Value, Value) -> Value;
/// A unary instruction builder.
type Unary = fn(&mut FunctionBuilder, Value) -> Value;

impl FuncTranslator<'_, '_> {
    /// Translates an integer operator; false if `op` is not one.
    pub(super) fn translate_integer(&mut self, op: &Operator) -> bool {
        if let Some(f) = integer_binary(op) {
            let (x, y) = self.pop2();
            let v = f(&mut self.b, x, y);
            self.push(v);
        } else if let Some(f) = integer_unary(op) {
            let x = self.pop();
            let v = f(&mut self.b, x);
            self.push(v);
        } else if let Some(cc) = integer_comparison(op) {
            let (x, y) = self.pop2();
            let c = self.b.ins().icmp(cc, x, y);
            let v = self.b.ins().uextend(types::I32, c);
            self.push(v);
        } else {
            return self.translate_integer_other(op);
        }
        true
    }

    /// Constants, `eqz` and the sign-extension operators.
    fn translate_integer_other(&mut self, op: &Operator) -> bool {
        match op {
            Operator::I32Const { value } => {
                let v = self.b.ins().iconst(types::I32, i64::from(*value));
                self.push(v);
            }
            Operator::I64Const { value } => {
                let v = self.b.ins().iconst(types::I64, *value);
                self.push(v);
            }
            Operator::I32Eqz | Operator::I64Eqz => {
                let x = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, x, 0);
                let v = self.b.ins().uextend(types::I32, c);
                self.push(v);
            }
            Operator::I32Extend8S => self.sign_extend_low(types::I8, types::I32),
            Operator::I32Extend16S => self.sign_extend_low(types::I16, types::I32),
            Operator::I64Extend8S => self.sign_extend_low(types::I8, types::I64),
            Operator::I64Extend16S => self.sign_extend_low(types::I16, types::I64),
            Operator::I64Extend32S => self.sign_extend_low(types::I32, types::I64),
            _ => return false,
        }
        true
    }

    /// Sign-extends the low `from` bits of the top value to `to`.
    fn sign_extend_low(&mut self, from: Type, to: Type) {
        let x = self.pop();
        let low = self.b.ins().ireduce(from, x);
        let v = self.b.ins().sextend(to, low);
        self.push(v);
    }
}

/// The instruction of a binary integer operator.
fn integer_binary(op: &Operator) -> Option<Binary> {
    Some(match op {
        Operator::I32Add | Operator::I64Add => |b, x, y| b.ins().iadd(x, y),
        Operator::I32Sub | Operator::I64Sub => |b, x, y| b.ins().isub(x, y),
        Operator::I32Mul | Operator::I64Mul => |b, x, y| b.ins().imul(x, y),
        Operator::I32DivS | Operator::I64DivS => |b, x, y| b.ins().sdiv(x, y),
        Operator::I32DivU | Operator::I64DivU => |b, x, y| b.ins().udiv(x, y),
        Operator::I32RemS | Operator::I64RemS => |b, x, y| b.ins().srem(x, y),
        Operator::I32RemU | Operator::I64RemU => |b, x, y| b.ins().urem(x, y),
        Operator::I32And | Operator::I64And => |b, x, y| b.ins().band(x, y),
        Operator::I32Or | Operator::I64Or => |b, x, y| b.ins().bor(x, y),
        Operator::I32Xor | Operator::I64Xor => |b, x, y| b.ins().bxor(x, y),
        Operator::I32Shl | Operator::I64Shl => |b, x, y| b.ins().ishl(x, y),
        Operator::I32ShrS | Operator::I64ShrS => |b, x, y| b.ins().sshr(x, y),
        Operator::I32ShrU | Operator::I64ShrU => |b, x, y| b.ins().ushr(x, y),
        Operator::I32Rotl | Operator::I64Rotl => |b, x, y| b.ins().rotl(x, y),
        Operator::I32Rotr | Operator::I64Rotr => |b, x, y| b.ins().rotr(x, y),
        _ => return None,
    })
}

/// The instruction of a unary integer operator.
fn integer_unary(op: &Operator) -> Option<Unary> {
    Some(match op {
        Operator::I32Clz | Operator::I64Clz => |b, x| b.ins().clz(x),
        Operator::I32Ctz | Operator::I64Ctz => |b, x| b.ins().ctz(x),
        Operator::I32Popcnt | Operator::I64Popcnt => |b, x| b.ins().popcnt(x),
        _ => return None,
    })
}

/// The condition of an integer comparison operator.
fn integer_comparison(op: &Operator) -> Option<IntCC> {
    Some(match op {
        Operator::I32Eq | Operator::I64Eq => IntCC::Equal,
        Operator::I32Ne | Operator::I64Ne => IntCC::NotEqual,
        Operator::I32LtS | Operator::I64LtS => IntCC::SignedLessThan,
        Operator::I32LtU | Operator::I64LtU => IntCC::UnsignedLessThan,
        Operator::I32GtS | Operator::I64GtS => IntCC::SignedGreaterThan,
        Operator::I32GtU | Operator::I64GtU => IntCC::UnsignedGreaterThan,
        Operator::I32LeS | Operator::I64LeS => IntCC::SignedLessThanOrEqual,
        Operator::I32LeU | Operator::I64LeU => IntCC::UnsignedLessThanOrEqual,
        Operator::I32GeS | Operator::I64GeS => IntCC::SignedGreaterThanOrEqual,
        Operator::I32GeU | Operator::I64GeU => IntCC::UnsignedGreaterThanOrEqual,
        _ => return None,
    })
}
