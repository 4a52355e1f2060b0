//! Floating-point operators of `f32` and `f64`. Cranelift's `fmin`/`fmax`
//! follow wasm (NaN in, NaN out; -0 < +0) and `nearest` rounds to even.

use super::state::FuncTranslator;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{types, InstBuilder, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// A binary instruction builder.
type Binary = fn(&mut FunctionBuilder, Value, Value) -> Value;
/// A unary instruction builder.
type Unary = fn(&mut FunctionBuilder, Value) -> Value;

impl FuncTranslator<'_, '_> {
    /// Translates a floating-point operator; false if `op` is not one.
    pub(super) fn translate_float(&mut self, op: &Operator) -> bool {
        if let Some(f) = float_binary(op) {
            let (x, y) = self.pop2();
            let v = f(&mut self.b, x, y);
            self.push(v);
        } else if let Some(f) = float_unary(op) {
            let x = self.pop();
            let v = f(&mut self.b, x);
            self.push(v);
        } else if let Some(cc) = float_comparison(op) {
            let (x, y) = self.pop2();
            let c = self.b.ins().fcmp(cc, x, y);
            let v = self.b.ins().uextend(types::I32, c);
            self.push(v);
        } else {
            let v = match op {
                // Constants are built from their bits so NaN payloads survive.
                Operator::F32Const { value } => {
                    self.b.ins().f32const(Ieee32::with_bits(value.bits()))
                }
                Operator::F64Const { value } => {
                    self.b.ins().f64const(Ieee64::with_bits(value.bits()))
                }
                _ => return false,
            };
            self.push(v);
        }
        true
    }
}

/// The instruction of a binary float operator.
fn float_binary(op: &Operator) -> Option<Binary> {
    Some(match op {
        Operator::F32Add | Operator::F64Add => |b, x, y| b.ins().fadd(x, y),
        Operator::F32Sub | Operator::F64Sub => |b, x, y| b.ins().fsub(x, y),
        Operator::F32Mul | Operator::F64Mul => |b, x, y| b.ins().fmul(x, y),
        Operator::F32Div | Operator::F64Div => |b, x, y| b.ins().fdiv(x, y),
        Operator::F32Min | Operator::F64Min => |b, x, y| b.ins().fmin(x, y),
        Operator::F32Max | Operator::F64Max => |b, x, y| b.ins().fmax(x, y),
        Operator::F32Copysign | Operator::F64Copysign => |b, x, y| b.ins().fcopysign(x, y),
        _ => return None,
    })
}

/// The instruction of a unary float operator.
fn float_unary(op: &Operator) -> Option<Unary> {
    Some(match op {
        Operator::F32Abs | Operator::F64Abs => |b, x| b.ins().fabs(x),
        Operator::F32Neg | Operator::F64Neg => |b, x| b.ins().fneg(x),
        Operator::F32Sqrt | Operator::F64Sqrt => |b, x| b.ins().sqrt(x),
        Operator::F32Ceil | Operator::F64Ceil => |b, x| b.ins().ceil(x),
        Operator::F32Floor | Operator::F64Floor => |b, x| b.ins().floor(x),
        Operator::F32Trunc | Operator::F64Trunc => |b, x| b.ins().trunc(x),
        Operator::F32Nearest | Operator::F64Nearest => |b, x| b.ins().nearest(x),
        _ => return None,
    })
}

/// The condition of a float comparison; `ne` is true on NaN, the others false.
fn float_comparison(op: &Operator) -> Option<FloatCC> {
    Some(match op {
        Operator::F32Eq | Operator::F64Eq => FloatCC::Equal,
        Operator::F32Ne | Operator::F64Ne => FloatCC::NotEqual,
        Operator::F32Lt | Operator::F64Lt => FloatCC::LessThan,
        Operator::F32Gt | Operator::F64Gt => FloatCC::GreaterThan,
        Operator::F32Le | Operator::F64Le => FloatCC::LessThanOrEqual,
        Operator::F32Ge | Operator::F64Ge => FloatCC::GreaterThanOrEqual,
        _ => return None,
    })
}
