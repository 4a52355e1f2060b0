//! Integer operators as C expressions over `u32`/`u64` operands.

use super::Ty;
use rivet_descriptor::TrapKind;
use wasmparser::Operator;

/// The result type and C expression of a numeric operator applied to
/// `args` (C expressions, innermost operand last as on the wasm stack), or
/// `None` if `op` is not an integer operator the backend handles.
pub(super) fn expression(op: &Operator, args: &[String]) -> Option<(Ty, String)> {
    use Operator as O;
    use Ty::{I32, I64};
    let a = || args[0].as_str();
    let b = || args[1].as_str();
    let zero = TrapKind::IntegerDivideByZero as u32;
    let overflow = TrapKind::IntegerOverflow as u32;
    Some(match *op {
        O::I32Const { value } => (I32, format!("{}u", value as u32)),
        O::I64Const { value } => (I64, format!("{}ull", value as u64)),
        // Tests.
        O::I32Eqz => (I32, format!("(u32)({} == 0)", a())),
        O::I64Eqz => (I32, format!("(u32)({} == 0)", a())),
        _ => {
            if let Some((ty, c)) = compare(op) {
                let (x, y) = signed(ty, c.1, a(), b());
                return Some((I32, format!("(u32)({x} {} {y})", c.0)));
            }
            if let Some((ty, form)) = binary(op) {
                return Some((ty, form.render(ty, a(), b(), zero, overflow)));
            }
            return unary(op, a);
        }
    })
}

/// Comparison operators: operand type, C operator, and whether signed.
fn compare(op: &Operator) -> Option<(Ty, (&'static str, bool))> {
    use Operator as O;
    use Ty::{I32, I64};
    Some(match op {
        O::I32Eq => (I32, ("==", false)),
        O::I32Ne => (I32, ("!=", false)),
        O::I32LtS => (I32, ("<", true)),
        O::I32LtU => (I32, ("<", false)),
        O::I32GtS => (I32, (">", true)),
        O::I32GtU => (I32, (">", false)),
        O::I32LeS => (I32, ("<=", true)),
        O::I32LeU => (I32, ("<=", false)),
        O::I32GeS => (I32, (">=", true)),
        O::I32GeU => (I32, (">=", false)),
        O::I64Eq => (I64, ("==", false)),
        O::I64Ne => (I64, ("!=", false)),
        O::I64LtS => (I64, ("<", true)),
        O::I64LtU => (I64, ("<", false)),
        O::I64GtS => (I64, (">", true)),
        O::I64GtU => (I64, (">", false)),
        O::I64LeS => (I64, ("<=", true)),
        O::I64LeU => (I64, ("<=", false)),
        O::I64GeS => (I64, (">=", true)),
        O::I64GeU => (I64, (">=", false)),
        _ => return None,
    })
}

/// Both operands, cast to the signed type when `signed`.
fn signed(ty: Ty, signed: bool, a: &str, b: &str) -> (String, String) {
    if signed {
        let s = ty.signed();
        (format!("({s}){a}"), format!("({s}){b}"))
    } else {
        (a.to_string(), b.to_string())
    }
}

/// How a binary operator is written.
enum Form {
    /// `a OP b`, wrapping.
    Infix(&'static str),
    /// A shift: the count is taken modulo the width.
    Shift(&'static str, bool),
    /// A prelude helper `i<bits>_<name>(a, b)`.
    Helper(&'static str),
    /// A prelude helper that traps on a zero divisor (and, signed division,
    /// on overflow).
    Division(&'static str, bool),
}

impl Form {
    fn render(&self, ty: Ty, a: &str, b: &str, zero: u32, overflow: u32) -> String {
        let bits = ty.bits();
        match *self {
            Form::Infix(op) => format!("({} {op} {})", a, b),
            Form::Shift(op, false) => format!("({a} {op} ({b} & {}))", bits - 1),
            Form::Shift(op, true) => {
                let s = ty.signed();
                format!("({})(({s}){a} {op} ({b} & {}))", ty.c(), bits - 1)
            }
            Form::Helper(name) => format!("i{bits}_{name}({a}, {b})"),
            Form::Division(name, false) => format!("i{bits}_{name}(vmctx, {a}, {b}, {zero})"),
            Form::Division(name, true) => {
                format!("i{bits}_{name}(vmctx, {a}, {b}, {zero}, {overflow})")
            }
        }
    }
}

/// Binary operators other than comparisons: result type and form.
fn binary(op: &Operator) -> Option<(Ty, Form)> {
    use Form::{Division as D, Helper as H, Infix as X, Shift as S};
    use Operator as O;
    use Ty::{I32, I64};
    Some(match op {
        O::I32Add => (I32, X("+")),
        O::I32Sub => (I32, X("-")),
        O::I32Mul => (I32, X("*")),
        O::I32And => (I32, X("&")),
        O::I32Or => (I32, X("|")),
        O::I32Xor => (I32, X("^")),
        O::I32Shl => (I32, S("<<", false)),
        O::I32ShrU => (I32, S(">>", false)),
        O::I32ShrS => (I32, S(">>", true)),
        O::I32Rotl => (I32, H("rotl")),
        O::I32Rotr => (I32, H("rotr")),
        O::I32DivS => (I32, D("div_s", true)),
        O::I32DivU => (I32, D("div_u", false)),
        O::I32RemS => (I32, D("rem_s", false)),
        O::I32RemU => (I32, D("rem_u", false)),
        O::I64Add => (I64, X("+")),
        O::I64Sub => (I64, X("-")),
        O::I64Mul => (I64, X("*")),
        O::I64And => (I64, X("&")),
        O::I64Or => (I64, X("|")),
        O::I64Xor => (I64, X("^")),
        O::I64Shl => (I64, S("<<", false)),
        O::I64ShrU => (I64, S(">>", false)),
        O::I64ShrS => (I64, S(">>", true)),
        O::I64Rotl => (I64, H("rotl")),
        O::I64Rotr => (I64, H("rotr")),
        O::I64DivS => (I64, D("div_s", true)),
        O::I64DivU => (I64, D("div_u", false)),
        O::I64RemS => (I64, D("rem_s", false)),
        O::I64RemU => (I64, D("rem_u", false)),
        _ => return None,
    })
}

/// Unary operators and conversions between integer types.
fn unary<'a>(op: &Operator, a: impl Fn() -> &'a str) -> Option<(Ty, String)> {
    use Operator as O;
    use Ty::{I32, I64};
    let a = a();
    Some(match op {
        O::I32Clz => (I32, format!("i32_clz({a})")),
        O::I32Ctz => (I32, format!("i32_ctz({a})")),
        O::I32Popcnt => (I32, format!("(u32)__builtin_popcount({a})")),
        O::I64Clz => (I64, format!("i64_clz({a})")),
        O::I64Ctz => (I64, format!("i64_ctz({a})")),
        O::I64Popcnt => (I64, format!("(u64)__builtin_popcountll({a})")),
        O::I32WrapI64 => (I32, format!("(u32){a}")),
        O::I64ExtendI32S => (I64, format!("(u64)(s64)(s32){a}")),
        O::I64ExtendI32U => (I64, format!("(u64){a}")),
        O::I32Extend8S => (I32, format!("(u32)(s32)(int8_t){a}")),
        O::I32Extend16S => (I32, format!("(u32)(s32)(int16_t){a}")),
        O::I64Extend8S => (I64, format!("(u64)(s64)(int8_t){a}")),
        O::I64Extend16S => (I64, format!("(u64)(s64)(int16_t){a}")),
        O::I64Extend32S => (I64, format!("(u64)(s64)(s32){a}")),
        _ => return None,
    })
}

/// Number of operands of an operator [`expression`] handles.
pub(super) fn arity(op: &Operator) -> Option<usize> {
    use Operator as O;
    match op {
        O::I32Const { .. } | O::I64Const { .. } => Some(0),
        O::I32Eqz | O::I64Eqz => Some(1),
        _ if compare(op).is_some() || binary(op).is_some() => Some(2),
        _ => unary(op, || "").map(|_| 1),
    }
}
