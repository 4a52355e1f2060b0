//! SIMD arithmetic, comparisons, bitwise operators and conversions.
//!
//! Cranelift has a vector instruction with wasm's semantics for most
//! operators: `fmin`/`fmax` propagate NaN and order -0 below +0, `swizzle`
//! yields 0 for out-of-range indices, `unarrow` reads signed lanes and
//! saturates to unsigned ones, the `_sat` conversions map NaN to 0. The rest
//! are short compositions the backends recognise (`imul` of widened halves is
//! an extending multiply, `iadd_pairwise` of both widened halves an extending
//! pairwise add).

use super::simd::lane_order;
use super::state::FuncTranslator;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32X4, F64X2, I16X8, I32X4, I64X2, I8X16};
use cranelift_codegen::ir::{ConstantData, InstBuilder, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// A binary instruction builder.
pub(super) type Binary = fn(&mut FunctionBuilder, Value, Value) -> Value;
/// A unary instruction builder.
type Unary = fn(&mut FunctionBuilder, Value) -> Value;

impl FuncTranslator<'_, '_> {
    /// Translates a SIMD arithmetic, comparison, bitwise or conversion
    /// operator; false if `op` is none of those.
    pub(super) fn translate_simd_arith(&mut self, op: &Operator) -> bool {
        if let Some((ty, f)) = lane_binary(op) {
            let y = self.pop_lanes(ty);
            let x = self.pop_lanes(ty);
            let v = f(&mut self.b, x, y);
            self.push_v128(v);
        } else if let Some((ty, f)) = lane_unary(op) {
            let x = self.pop_lanes(ty);
            let v = f(&mut self.b, x);
            self.push_v128(v);
        } else if let Some((ty, f)) = lane_shift(op) {
            self.lane_shift(ty, f);
        } else if let Some((ty, cc)) = integer_comparison(op) {
            let y = self.pop_lanes(ty);
            let x = self.pop_lanes(ty);
            let v = self.b.ins().icmp(cc, x, y);
            self.push_v128(v);
        } else if let Some((ty, cc)) = float_comparison(op) {
            let y = self.pop_lanes(ty);
            let x = self.pop_lanes(ty);
            let v = self.b.ins().fcmp(cc, x, y);
            self.push_v128(v);
        } else if let Operator::V128Bitselect = op {
            let (x, y, mask) = self.pop3();
            let v = self.b.ins().bitselect(mask, x, y);
            self.push(v);
        } else {
            return false;
        }
        true
    }
}

/// Lane type and instruction of a binary lane-wise operator.
fn lane_binary(op: &Operator) -> Option<(Type, Binary)> {
    integer_binary(op)
        .or_else(|| float_binary(op))
        .or_else(|| widening_binary(op))
}

/// Lane type and instruction of a unary lane-wise operator.
fn lane_unary(op: &Operator) -> Option<(Type, Unary)> {
    integer_unary(op)
        .or_else(|| float_unary(op))
        .or_else(|| widening_unary(op))
        .or_else(|| conversion(op))
}

/// Bitwise and same-width integer operators.
fn integer_binary(op: &Operator) -> Option<(Type, Binary)> {
    use Operator::*;
    let ty = match op {
        V128And | V128AndNot | V128Or | V128Xor | I8x16Swizzle => I8X16,
        I8x16Add | I8x16AddSatS | I8x16AddSatU | I8x16Sub | I8x16SubSatS | I8x16SubSatU => I8X16,
        I8x16MinS | I8x16MinU | I8x16MaxS | I8x16MaxU | I8x16AvgrU => I8X16,
        I16x8Add | I16x8AddSatS | I16x8AddSatU | I16x8Sub | I16x8SubSatS | I16x8SubSatU => I16X8,
        I16x8MinS | I16x8MinU | I16x8MaxS | I16x8MaxU | I16x8AvgrU => I16X8,
        I16x8Mul | I16x8Q15MulrSatS => I16X8,
        I32x4Add | I32x4Sub | I32x4Mul => I32X4,
        I32x4MinS | I32x4MinU | I32x4MaxS | I32x4MaxU => I32X4,
        I64x2Add | I64x2Sub | I64x2Mul => I64X2,
        _ => return None,
    };
    let f: Binary = match op {
        V128And => |b, x, y| b.ins().band(x, y),
        V128AndNot => |b, x, y| b.ins().band_not(x, y),
        V128Or => |b, x, y| b.ins().bor(x, y),
        V128Xor => |b, x, y| b.ins().bxor(x, y),
        I8x16Swizzle => |b, x, y| b.ins().swizzle(x, y),
        I8x16Add | I16x8Add | I32x4Add | I64x2Add => |b, x, y| b.ins().iadd(x, y),
        I8x16Sub | I16x8Sub | I32x4Sub | I64x2Sub => |b, x, y| b.ins().isub(x, y),
        I16x8Mul | I32x4Mul | I64x2Mul => |b, x, y| b.ins().imul(x, y),
        I8x16AddSatS | I16x8AddSatS => |b, x, y| b.ins().sadd_sat(x, y),
        I8x16AddSatU | I16x8AddSatU => |b, x, y| b.ins().uadd_sat(x, y),
        I8x16SubSatS | I16x8SubSatS => |b, x, y| b.ins().ssub_sat(x, y),
        I8x16SubSatU | I16x8SubSatU => |b, x, y| b.ins().usub_sat(x, y),
        I8x16MinS | I16x8MinS | I32x4MinS => |b, x, y| b.ins().smin(x, y),
        I8x16MinU | I16x8MinU | I32x4MinU => |b, x, y| b.ins().umin(x, y),
        I8x16MaxS | I16x8MaxS | I32x4MaxS => |b, x, y| b.ins().smax(x, y),
        I8x16MaxU | I16x8MaxU | I32x4MaxU => |b, x, y| b.ins().umax(x, y),
        I8x16AvgrU | I16x8AvgrU => |b, x, y| b.ins().avg_round(x, y),
        _ => |b, x, y| b.ins().sqmul_round_sat(x, y),
    };
    Some((ty, f))
}

/// Float operators. `pmin`/`pmax` are wasm's "pseudo" minimum and maximum,
/// `y < x ? y : x` and `x < y ? y : x`, which differ from `fmin`/`fmax` on
/// NaN and zeros; the comparison mask selects whole lanes.
fn float_binary(op: &Operator) -> Option<(Type, Binary)> {
    use Operator::*;
    let ty = match op {
        F32x4Add | F32x4Sub | F32x4Mul | F32x4Div => F32X4,
        F32x4Min | F32x4Max | F32x4PMin | F32x4PMax => F32X4,
        F64x2Add | F64x2Sub | F64x2Mul | F64x2Div => F64X2,
        F64x2Min | F64x2Max | F64x2PMin | F64x2PMax => F64X2,
        _ => return None,
    };
    let f: Binary = match op {
        F32x4Add | F64x2Add => |b, x, y| b.ins().fadd(x, y),
        F32x4Sub | F64x2Sub => |b, x, y| b.ins().fsub(x, y),
        F32x4Mul | F64x2Mul => |b, x, y| b.ins().fmul(x, y),
        F32x4Div | F64x2Div => |b, x, y| b.ins().fdiv(x, y),
        F32x4Min | F64x2Min => |b, x, y| b.ins().fmin(x, y),
        F32x4Max | F64x2Max => |b, x, y| b.ins().fmax(x, y),
        F32x4PMin | F64x2PMin => |b, x, y| pseudo_min_max(b, x, y, true),
        _ => |b, x, y| pseudo_min_max(b, x, y, false),
    };
    Some((ty, f))
}

/// `pmin(x, y)` (`min`) or `pmax(x, y)`: `y` where it is the smaller
/// (`min`) or the greater, otherwise `x`.
fn pseudo_min_max(b: &mut FunctionBuilder, x: Value, y: Value, min: bool) -> Value {
    let ty = b.func.dfg.value_type(x);
    let (lo, hi) = if min { (y, x) } else { (x, y) };
    let less = b.ins().fcmp(FloatCC::LessThan, lo, hi);
    let mask = b.ins().bitcast(ty, lane_order(), less);
    b.ins().bitselect(mask, y, x)
}

/// Operators whose result lanes are twice or half as wide as their operands':
/// extending multiplies, the dot product and the narrowing conversions. The
/// type is the operands' lane type.
fn widening_binary(op: &Operator) -> Option<(Type, Binary)> {
    use Operator::*;
    Some(match op {
        I16x8ExtMulLowI8x16S => (I8X16, |b, x, y| extmul(b, x, y, Half::LowS)),
        I16x8ExtMulHighI8x16S => (I8X16, |b, x, y| extmul(b, x, y, Half::HighS)),
        I16x8ExtMulLowI8x16U => (I8X16, |b, x, y| extmul(b, x, y, Half::LowU)),
        I16x8ExtMulHighI8x16U => (I8X16, |b, x, y| extmul(b, x, y, Half::HighU)),
        I32x4ExtMulLowI16x8S => (I16X8, |b, x, y| extmul(b, x, y, Half::LowS)),
        I32x4ExtMulHighI16x8S => (I16X8, |b, x, y| extmul(b, x, y, Half::HighS)),
        I32x4ExtMulLowI16x8U => (I16X8, |b, x, y| extmul(b, x, y, Half::LowU)),
        I32x4ExtMulHighI16x8U => (I16X8, |b, x, y| extmul(b, x, y, Half::HighU)),
        I64x2ExtMulLowI32x4S => (I32X4, |b, x, y| extmul(b, x, y, Half::LowS)),
        I64x2ExtMulHighI32x4S => (I32X4, |b, x, y| extmul(b, x, y, Half::HighS)),
        I64x2ExtMulLowI32x4U => (I32X4, |b, x, y| extmul(b, x, y, Half::LowU)),
        I64x2ExtMulHighI32x4U => (I32X4, |b, x, y| extmul(b, x, y, Half::HighU)),
        I32x4DotI16x8S => (I16X8, dot),
        I8x16NarrowI16x8S => (I16X8, |b, x, y| b.ins().snarrow(x, y)),
        I8x16NarrowI16x8U => (I16X8, |b, x, y| b.ins().unarrow(x, y)),
        I16x8NarrowI32x4S => (I32X4, |b, x, y| b.ins().snarrow(x, y)),
        I16x8NarrowI32x4U => (I32X4, |b, x, y| b.ins().unarrow(x, y)),
        _ => return None,
    })
}

/// Which half of a vector is widened, and how.
#[derive(Clone, Copy)]
enum Half {
    LowS,
    HighS,
    LowU,
    HighU,
}

/// The lanes of one half of `x`, extended to twice their width.
fn widen(b: &mut FunctionBuilder, x: Value, half: Half) -> Value {
    match half {
        Half::LowS => b.ins().swiden_low(x),
        Half::HighS => b.ins().swiden_high(x),
        Half::LowU => b.ins().uwiden_low(x),
        Half::HighU => b.ins().uwiden_high(x),
    }
}

/// The full products of one half of the lanes of `x` and `y`.
fn extmul(b: &mut FunctionBuilder, x: Value, y: Value, half: Half) -> Value {
    let x = widen(b, x, half);
    let y = widen(b, y, half);
    b.ins().imul(x, y)
}

/// `i32x4.dot_i16x8_s`: the full products of signed 16-bit lanes, adjacent
/// pairs summed.
fn dot(b: &mut FunctionBuilder, x: Value, y: Value) -> Value {
    let low = extmul(b, x, y, Half::LowS);
    let high = extmul(b, x, y, Half::HighS);
    b.ins().iadd_pairwise(low, high)
}

/// Adjacent lanes of `x` widened and summed (`extadd_pairwise`).
fn extadd_pairwise(b: &mut FunctionBuilder, x: Value, signed: bool) -> Value {
    let (low, high) = if signed {
        (widen(b, x, Half::LowS), widen(b, x, Half::HighS))
    } else {
        (widen(b, x, Half::LowU), widen(b, x, Half::HighU))
    };
    b.ins().iadd_pairwise(low, high)
}

/// Same-width unary integer operators.
fn integer_unary(op: &Operator) -> Option<(Type, Unary)> {
    use Operator::*;
    Some(match op {
        V128Not => (I8X16, |b, x| b.ins().bnot(x)),
        I8x16Popcnt => (I8X16, |b, x| b.ins().popcnt(x)),
        I8x16Abs => (I8X16, |b, x| b.ins().iabs(x)),
        I16x8Abs => (I16X8, |b, x| b.ins().iabs(x)),
        I32x4Abs => (I32X4, |b, x| b.ins().iabs(x)),
        I64x2Abs => (I64X2, |b, x| b.ins().iabs(x)),
        I8x16Neg => (I8X16, |b, x| b.ins().ineg(x)),
        I16x8Neg => (I16X8, |b, x| b.ins().ineg(x)),
        I32x4Neg => (I32X4, |b, x| b.ins().ineg(x)),
        I64x2Neg => (I64X2, |b, x| b.ins().ineg(x)),
        _ => return None,
    })
}

/// Unary float operators.
fn float_unary(op: &Operator) -> Option<(Type, Unary)> {
    use Operator::*;
    let ty = match op {
        F32x4Abs | F32x4Neg | F32x4Sqrt => F32X4,
        F32x4Ceil | F32x4Floor | F32x4Trunc | F32x4Nearest => F32X4,
        F64x2Abs | F64x2Neg | F64x2Sqrt => F64X2,
        F64x2Ceil | F64x2Floor | F64x2Trunc | F64x2Nearest => F64X2,
        _ => return None,
    };
    let f: Unary = match op {
        F32x4Abs | F64x2Abs => |b, x| b.ins().fabs(x),
        F32x4Neg | F64x2Neg => |b, x| b.ins().fneg(x),
        F32x4Sqrt | F64x2Sqrt => |b, x| b.ins().sqrt(x),
        F32x4Ceil | F64x2Ceil => |b, x| b.ins().ceil(x),
        F32x4Floor | F64x2Floor => |b, x| b.ins().floor(x),
        F32x4Trunc | F64x2Trunc => |b, x| b.ins().trunc(x),
        _ => |b, x| b.ins().nearest(x),
    };
    Some((ty, f))
}

/// `extend` and `extadd_pairwise`; the type is the operand's lane type.
fn widening_unary(op: &Operator) -> Option<(Type, Unary)> {
    use Operator::*;
    Some(match op {
        I16x8ExtendLowI8x16S => (I8X16, |b, x| b.ins().swiden_low(x)),
        I16x8ExtendHighI8x16S => (I8X16, |b, x| b.ins().swiden_high(x)),
        I16x8ExtendLowI8x16U => (I8X16, |b, x| b.ins().uwiden_low(x)),
        I16x8ExtendHighI8x16U => (I8X16, |b, x| b.ins().uwiden_high(x)),
        I32x4ExtendLowI16x8S => (I16X8, |b, x| b.ins().swiden_low(x)),
        I32x4ExtendHighI16x8S => (I16X8, |b, x| b.ins().swiden_high(x)),
        I32x4ExtendLowI16x8U => (I16X8, |b, x| b.ins().uwiden_low(x)),
        I32x4ExtendHighI16x8U => (I16X8, |b, x| b.ins().uwiden_high(x)),
        I64x2ExtendLowI32x4S => (I32X4, |b, x| b.ins().swiden_low(x)),
        I64x2ExtendHighI32x4S => (I32X4, |b, x| b.ins().swiden_high(x)),
        I64x2ExtendLowI32x4U => (I32X4, |b, x| b.ins().uwiden_low(x)),
        I64x2ExtendHighI32x4U => (I32X4, |b, x| b.ins().uwiden_high(x)),
        I16x8ExtAddPairwiseI8x16S => (I8X16, |b, x| extadd_pairwise(b, x, true)),
        I16x8ExtAddPairwiseI8x16U => (I8X16, |b, x| extadd_pairwise(b, x, false)),
        I32x4ExtAddPairwiseI16x8S => (I16X8, |b, x| extadd_pairwise(b, x, true)),
        I32x4ExtAddPairwiseI16x8U => (I16X8, |b, x| extadd_pairwise(b, x, false)),
        _ => return None,
    })
}

/// Conversions between integer and float lanes; the type is the operand's.
/// The `f64x2` to `i32x4` truncations saturate to 64 bits first and then
/// narrow, saturating again, with zeros in the upper lanes.
fn conversion(op: &Operator) -> Option<(Type, Unary)> {
    use Operator::*;
    Some(match op {
        I32x4TruncSatF32x4S => (F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x)),
        I32x4TruncSatF32x4U => (F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x)),
        F32x4ConvertI32x4S => (I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
        F32x4ConvertI32x4U => (I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
        I32x4TruncSatF64x2SZero => (F64X2, |b, x| {
            let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
            let zero = i64x2_zero(b);
            b.ins().snarrow(wide, zero)
        }),
        I32x4TruncSatF64x2UZero => (F64X2, |b, x| {
            let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
            let zero = i64x2_zero(b);
            b.ins().uunarrow(wide, zero)
        }),
        F64x2ConvertLowI32x4S => (I32X4, |b, x| {
            let wide = b.ins().swiden_low(x);
            b.ins().fcvt_from_sint(F64X2, wide)
        }),
        F64x2ConvertLowI32x4U => (I32X4, |b, x| {
            let wide = b.ins().uwiden_low(x);
            b.ins().fcvt_from_uint(F64X2, wide)
        }),
        F32x4DemoteF64x2Zero => (F64X2, |b, x| b.ins().fvdemote(x)),
        F64x2PromoteLowF32x4 => (F32X4, |b, x| b.ins().fvpromote_low(x)),
        _ => return None,
    })
}

/// An `i64x2` of zeros, the upper half of a narrowed conversion. It must be
/// a `vconst`: the x86-64 backend lowers these narrowings only in that form.
fn i64x2_zero(b: &mut FunctionBuilder) -> Value {
    let zero = ConstantData::from(&[0u8; 16][..]);
    let zero = b.func.dfg.constants.insert(zero);
    b.ins().vconst(I64X2, zero)
}

/// Lane type and instruction of a shift; the count is masked by the caller.
fn lane_shift(op: &Operator) -> Option<(Type, Binary)> {
    use Operator::*;
    let ty = match op {
        I8x16Shl | I8x16ShrS | I8x16ShrU => I8X16,
        I16x8Shl | I16x8ShrS | I16x8ShrU => I16X8,
        I32x4Shl | I32x4ShrS | I32x4ShrU => I32X4,
        I64x2Shl | I64x2ShrS | I64x2ShrU => I64X2,
        _ => return None,
    };
    let f: Binary = match op {
        I8x16Shl | I16x8Shl | I32x4Shl | I64x2Shl => |b, x, y| b.ins().ishl(x, y),
        I8x16ShrS | I16x8ShrS | I32x4ShrS | I64x2ShrS => |b, x, y| b.ins().sshr(x, y),
        _ => |b, x, y| b.ins().ushr(x, y),
    };
    Some((ty, f))
}

/// Lane type and condition of an integer lane comparison.
fn integer_comparison(op: &Operator) -> Option<(Type, IntCC)> {
    use Operator::*;
    let ty = match op {
        I8x16Eq | I8x16Ne | I8x16LtS | I8x16LtU | I8x16GtS | I8x16GtU => I8X16,
        I8x16LeS | I8x16LeU | I8x16GeS | I8x16GeU => I8X16,
        I16x8Eq | I16x8Ne | I16x8LtS | I16x8LtU | I16x8GtS | I16x8GtU => I16X8,
        I16x8LeS | I16x8LeU | I16x8GeS | I16x8GeU => I16X8,
        I32x4Eq | I32x4Ne | I32x4LtS | I32x4LtU | I32x4GtS | I32x4GtU => I32X4,
        I32x4LeS | I32x4LeU | I32x4GeS | I32x4GeU => I32X4,
        I64x2Eq | I64x2Ne | I64x2LtS | I64x2GtS | I64x2LeS | I64x2GeS => I64X2,
        _ => return None,
    };
    let cc = match op {
        I8x16Eq | I16x8Eq | I32x4Eq | I64x2Eq => IntCC::Equal,
        I8x16Ne | I16x8Ne | I32x4Ne | I64x2Ne => IntCC::NotEqual,
        I8x16LtS | I16x8LtS | I32x4LtS | I64x2LtS => IntCC::SignedLessThan,
        I8x16LtU | I16x8LtU | I32x4LtU => IntCC::UnsignedLessThan,
        I8x16GtS | I16x8GtS | I32x4GtS | I64x2GtS => IntCC::SignedGreaterThan,
        I8x16GtU | I16x8GtU | I32x4GtU => IntCC::UnsignedGreaterThan,
        I8x16LeS | I16x8LeS | I32x4LeS | I64x2LeS => IntCC::SignedLessThanOrEqual,
        I8x16LeU | I16x8LeU | I32x4LeU => IntCC::UnsignedLessThanOrEqual,
        I8x16GeS | I16x8GeS | I32x4GeS | I64x2GeS => IntCC::SignedGreaterThanOrEqual,
        _ => IntCC::UnsignedGreaterThanOrEqual,
    };
    Some((ty, cc))
}

/// Lane type and condition of a float lane comparison; `ne` is true on NaN,
/// the others false.
fn float_comparison(op: &Operator) -> Option<(Type, FloatCC)> {
    use Operator::*;
    Some(match op {
        F32x4Eq => (F32X4, FloatCC::Equal),
        F32x4Ne => (F32X4, FloatCC::NotEqual),
        F32x4Lt => (F32X4, FloatCC::LessThan),
        F32x4Gt => (F32X4, FloatCC::GreaterThan),
        F32x4Le => (F32X4, FloatCC::LessThanOrEqual),
        F32x4Ge => (F32X4, FloatCC::GreaterThanOrEqual),
        F64x2Eq => (F64X2, FloatCC::Equal),
        F64x2Ne => (F64X2, FloatCC::NotEqual),
        F64x2Lt => (F64X2, FloatCC::LessThan),
        F64x2Gt => (F64X2, FloatCC::GreaterThan),
        F64x2Le => (F64X2, FloatCC::LessThanOrEqual),
        F64x2Ge => (F64X2, FloatCC::GreaterThanOrEqual),
        _ => return None,
    })
}
