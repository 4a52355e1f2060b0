//! Float operators and conversions as C expressions (`f32`/`f64` operands).
//!
//! C's float arithmetic on x86-64 is IEEE 754 single and double precision, as
//! wasm's is, provided the compiler does not contract or reassociate
//! (`-ffp-contract=off`, no `-ffast-math`); what C does not define as wasm does
//! (`min`/`max` of zeros and NaNs, conversions out of range) goes through the
//! prelude's helpers.

use super::Ty;
use rivet_descriptor::TrapKind;
use wasmparser::Operator;

/// The result type and C expression of a float operator applied to `args`,
/// or `None` if `op` is not one.
pub(super) fn expression(op: &Operator, args: &[String]) -> Option<(Ty, String)> {
    use Operator as O;
    use Ty::{F32, F64, I32};
    Some(match *op {
        O::F32Const { value } => (F32, format!("f32_of({}u)", value.bits())),
        O::F64Const { value } => (F64, format!("f64_of({}ull)", value.bits())),
        _ => {
            if let Some(c) = compare(op) {
                return Some((I32, format!("(u32)({} {c} {})", args[0], args[1])));
            }
            if let Some((ty, form)) = binary(op) {
                let (a, b) = (&args[0], &args[1]);
                let expr = match form {
                    Binary::Infix(c) => format!("({a} {c} {b})"),
                    Binary::Call(f) => format!("{f}({a}, {b})"),
                };
                return Some((ty, expr));
            }
            let (ty, form) = unary(op)?;
            let a = &args[0];
            let expr = match form {
                Unary::Call(f) => format!("{f}({a})"),
                Unary::Cast(c) => format!("({c})({a})"),
                Unary::Trapping(f) => format!(
                    "{f}(vmctx, {a}, {}, {})",
                    TrapKind::BadConversionToInteger as u32,
                    TrapKind::IntegerOverflow as u32
                ),
            };
            (ty, expr)
        }
    })
}

/// Number of operands of an operator [`expression`] handles.
pub(super) fn arity(op: &Operator) -> Option<usize> {
    match op {
        Operator::F32Const { .. } | Operator::F64Const { .. } => Some(0),
        _ if compare(op).is_some() || binary(op).is_some() => Some(2),
        _ => unary(op).map(|_| 1),
    }
}

/// Comparisons' C operators (C's are IEEE's: unordered operands compare
/// false, except with `!=`).
fn compare(op: &Operator) -> Option<&'static str> {
    use Operator as O;
    Some(match op {
        O::F32Eq | O::F64Eq => "==",
        O::F32Ne | O::F64Ne => "!=",
        O::F32Lt | O::F64Lt => "<",
        O::F32Gt | O::F64Gt => ">",
        O::F32Le | O::F64Le => "<=",
        O::F32Ge | O::F64Ge => ">=",
        _ => return None,
    })
}

enum Binary {
    Infix(&'static str),
    Call(&'static str),
}

fn binary(op: &Operator) -> Option<(Ty, Binary)> {
    use Binary::{Call, Infix};
    use Operator as O;
    use Ty::{F32, F64};
    Some(match op {
        O::F32Add => (F32, Infix("+")),
        O::F32Sub => (F32, Infix("-")),
        O::F32Mul => (F32, Infix("*")),
        O::F32Div => (F32, Infix("/")),
        O::F32Min => (F32, Call("f32_min")),
        O::F32Max => (F32, Call("f32_max")),
        O::F32Copysign => (F32, Call("__builtin_copysignf")),
        O::F64Add => (F64, Infix("+")),
        O::F64Sub => (F64, Infix("-")),
        O::F64Mul => (F64, Infix("*")),
        O::F64Div => (F64, Infix("/")),
        O::F64Min => (F64, Call("f64_min")),
        O::F64Max => (F64, Call("f64_max")),
        O::F64Copysign => (F64, Call("__builtin_copysign")),
        _ => return None,
    })
}

enum Unary {
    Call(&'static str),
    /// A C conversion, exact or rounded to nearest as wasm's.
    Cast(&'static str),
    /// A prelude helper that traps on NaN and out-of-range values.
    Trapping(&'static str),
}

fn unary(op: &Operator) -> Option<(Ty, Unary)> {
    use Operator as O;
    use Ty::{F32, F64, I32, I64};
    use Unary::{Call, Cast, Trapping};
    Some(match op {
        O::F32Abs => (F32, Call("__builtin_fabsf")),
        O::F32Neg => (F32, Call("-")),
        O::F32Sqrt => (F32, Call("__builtin_sqrtf")),
        O::F32Ceil => (F32, Call("__builtin_ceilf")),
        O::F32Floor => (F32, Call("__builtin_floorf")),
        O::F32Trunc => (F32, Call("__builtin_truncf")),
        O::F32Nearest => (F32, Call("__builtin_nearbyintf")),
        O::F64Abs => (F64, Call("__builtin_fabs")),
        O::F64Neg => (F64, Call("-")),
        O::F64Sqrt => (F64, Call("__builtin_sqrt")),
        O::F64Ceil => (F64, Call("__builtin_ceil")),
        O::F64Floor => (F64, Call("__builtin_floor")),
        O::F64Trunc => (F64, Call("__builtin_trunc")),
        O::F64Nearest => (F64, Call("__builtin_nearbyint")),
        O::I32TruncF32S => (I32, Trapping("i32_trunc_f32_s")),
        O::I32TruncF32U => (I32, Trapping("i32_trunc_f32_u")),
        O::I32TruncF64S => (I32, Trapping("i32_trunc_f64_s")),
        O::I32TruncF64U => (I32, Trapping("i32_trunc_f64_u")),
        O::I64TruncF32S => (I64, Trapping("i64_trunc_f32_s")),
        O::I64TruncF32U => (I64, Trapping("i64_trunc_f32_u")),
        O::I64TruncF64S => (I64, Trapping("i64_trunc_f64_s")),
        O::I64TruncF64U => (I64, Trapping("i64_trunc_f64_u")),
        O::I32TruncSatF32S => (I32, Call("i32_trunc_f32_s_sat")),
        O::I32TruncSatF32U => (I32, Call("i32_trunc_f32_u_sat")),
        O::I32TruncSatF64S => (I32, Call("i32_trunc_f64_s_sat")),
        O::I32TruncSatF64U => (I32, Call("i32_trunc_f64_u_sat")),
        O::I64TruncSatF32S => (I64, Call("i64_trunc_f32_s_sat")),
        O::I64TruncSatF32U => (I64, Call("i64_trunc_f32_u_sat")),
        O::I64TruncSatF64S => (I64, Call("i64_trunc_f64_s_sat")),
        O::I64TruncSatF64U => (I64, Call("i64_trunc_f64_u_sat")),
        O::F32ConvertI32S => (F32, Cast("f32)(s32")),
        O::F32ConvertI32U => (F32, Cast("f32")),
        O::F32ConvertI64S => (F32, Cast("f32)(s64")),
        O::F32ConvertI64U => (F32, Cast("f32")),
        O::F64ConvertI32S => (F64, Cast("f64)(s32")),
        O::F64ConvertI32U => (F64, Cast("f64")),
        O::F64ConvertI64S => (F64, Cast("f64)(s64")),
        O::F64ConvertI64U => (F64, Cast("f64")),
        O::F32DemoteF64 => (F32, Call("f32_demote")),
        O::F64PromoteF32 => (F64, Call("f64_promote")),
        O::I32ReinterpretF32 => (I32, Call("bits_f32")),
        O::I64ReinterpretF64 => (I64, Call("bits_f64")),
        O::F32ReinterpretI32 => (F32, Call("f32_of")),
        O::F64ReinterpretI64 => (F64, Call("f64_of")),
        _ => return None,
    })
}
