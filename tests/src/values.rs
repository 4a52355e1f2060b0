//! Converting script arguments to runtime values and checking results against the
//! script's expectations (including the spec's NaN patterns).
//!
//! Floats are compared by bits: the spec suite checks exact NaN payloads unless a
//! `nan:canonical` / `nan:arithmetic` pattern says otherwise.

use rivet::Val;
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// Converts an `invoke` argument to a runtime value.
pub fn arg_to_val(arg: &WastArg<'_>) -> Result<Val, String> {
    let core = match arg {
        WastArg::Core(core) => core,
        _ => return Err("not supported yet: component-model arguments".to_string()),
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(heap) => null_of(heap)?,
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(u64::from(*n))),
        WastArgCore::RefHost(_) => return Err("not supported yet: ref.host arguments".into()),
    })
}

/// The null reference of a heap type (`func` and `extern` in wasm 2.0, and
/// `exn` with exception handling).
fn null_of(heap: &HeapType<'_>) -> Result<Val, String> {
    match heap {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func,
        } => Ok(Val::FuncRef(None)),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern,
        } => Ok(Val::ExternRef(None)),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Exn,
        } => Ok(Val::ExnRef(None)),
        other => Err(format!(
            "not supported yet: null reference of heap type {other:?}"
        )),
    }
}

/// Checks `actual` results against the expected ones; `Err` says what differs.
pub fn check_results(actual: &[Val], expected: &[WastRet<'_>]) -> Result<(), String> {
    if actual.len() != expected.len() {
        return Err(format!(
            "expected {} results, got {}: {}",
            expected.len(),
            actual.len(),
            show_vals(actual)
        ));
    }
    for (i, (got, want)) in actual.iter().zip(expected).enumerate() {
        let want = match want {
            WastRet::Core(core) => core,
            _ => return Err("not supported yet: component-model results".to_string()),
        };
        if !matches(got, want)? {
            return Err(format!(
                "result {i}: expected {}, got {} (all results: {})",
                show_expected(want),
                show_val(got),
                show_vals(actual)
            ));
        }
    }
    Ok(())
}

/// Whether one value matches one expectation; `Err` for expectations that do not
/// exist in the wasm versions Rivet runs (GC references and the like).
pub fn matches(got: &Val, want: &WastRetCore<'_>) -> Result<bool, String> {
    Ok(match (want, got) {
        (WastRetCore::I32(w), Val::I32(g)) => w == g,
        (WastRetCore::I64(w), Val::I64(g)) => w == g,
        (WastRetCore::F32(w), Val::F32(g)) => f32_matches(w, *g),
        (WastRetCore::F64(w), Val::F64(g)) => f64_matches(w, *g),
        (WastRetCore::V128(w), Val::V128(g)) => v128_matches(w, *g),
        (WastRetCore::RefNull(heap), got) => null_matches(heap.as_ref(), got)?,
        (WastRetCore::RefExtern(w), Val::ExternRef(g)) => match (w, g) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(w), Some(g)) => u64::from(*w) == *g,
        },
        (WastRetCore::RefFunc(_), Val::FuncRef(g)) => g.is_some(),
        (WastRetCore::Either(cases), got) => {
            for case in cases {
                if matches(got, case)? {
                    return Ok(true);
                }
            }
            false
        }
        (
            WastRetCore::RefHost(_)
            | WastRetCore::RefAny
            | WastRetCore::RefEq
            | WastRetCore::RefArray
            | WastRetCore::RefStruct
            | WastRetCore::RefI31
            | WastRetCore::RefI31Shared,
            _,
        ) => {
            return Err(format!(
                "not supported yet: expected {}",
                show_expected(want)
            ))
        }
        _ => false,
    })
}

fn null_matches(heap: Option<&HeapType<'_>>, got: &Val) -> Result<bool, String> {
    let want = match heap {
        None => return Ok(matches!(got, Val::FuncRef(None) | Val::ExternRef(None))),
        Some(heap) => null_of(heap)?,
    };
    Ok(matches!(
        (want, got),
        (Val::FuncRef(None), Val::FuncRef(None))
            | (Val::ExternRef(None), Val::ExternRef(None))
            | (Val::ExnRef(None), Val::ExnRef(None))
    ))
}

/// Matches f32 bits against a pattern.
pub fn f32_matches(want: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    const QUIET: u32 = 0x7fc0_0000;
    match want {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == QUIET,
        NanPattern::ArithmeticNan => bits & QUIET == QUIET,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Matches f64 bits against a pattern.
pub fn f64_matches(want: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    const QUIET: u64 = 0x7ff8_0000_0000_0000;
    match want {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == QUIET,
        NanPattern::ArithmeticNan => bits & QUIET == QUIET,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Matches a v128 (little-endian lanes) against a lane-wise pattern.
fn v128_matches(want: &V128Pattern, got: u128) -> bool {
    let lane = |i: usize, width: u32| (got >> (i as u32 * width)) & ((1u128 << width) - 1);
    match want {
        V128Pattern::I8x16(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(i, 8) == *v as u8 as u128),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(i, 16) == *v as u16 as u128),
        V128Pattern::I32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(i, 32) == *v as u32 as u128),
        V128Pattern::I64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(i, 64) == *v as u64 as u128),
        V128Pattern::F32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, p)| f32_matches(p, lane(i, 32) as u32)),
        V128Pattern::F64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, p)| f64_matches(p, lane(i, 64) as u64)),
    }
}

/// A value as failure messages show it: type, value and, for floats, the bits.
pub fn show_val(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("i32:{x}"),
        Val::I64(x) => format!("i64:{x}"),
        Val::F32(b) => format!("f32:{} ({b:#010x})", f32::from_bits(*b)),
        Val::F64(b) => format!("f64:{} ({b:#018x})", f64::from_bits(*b)),
        Val::V128(b) => format!("v128:{b:#034x}"),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(n)) => format!("ref.extern {n}"),
        Val::ExnRef(None) => "ref.null exn".to_string(),
        Val::ExnRef(Some(_)) => "ref.exn".to_string(),
    }
}

/// Several values, comma-separated, in brackets.
pub fn show_vals(vals: &[Val]) -> String {
    let shown: Vec<String> = vals.iter().map(show_val).collect();
    format!("[{}]", shown.join(", "))
}

/// An expectation as failure messages show it.
pub fn show_expected(want: &WastRetCore<'_>) -> String {
    fn nan<T: Copy>(p: &NanPattern<T>, show: impl Fn(T) -> String) -> String {
        match p {
            NanPattern::CanonicalNan => "nan:canonical".to_string(),
            NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
            NanPattern::Value(v) => show(*v),
        }
    }
    match want {
        WastRetCore::I32(x) => format!("i32:{x}"),
        WastRetCore::I64(x) => format!("i64:{x}"),
        WastRetCore::F32(p) => format!("f32:{}", nan(p, |v| show_val(&Val::F32(v.bits)))),
        WastRetCore::F64(p) => format!("f64:{}", nan(p, |v| show_val(&Val::F64(v.bits)))),
        WastRetCore::Either(cases) => {
            let shown: Vec<String> = cases.iter().map(show_expected).collect();
            format!("either({})", shown.join(" | "))
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wast::parser::{self, ParseBuffer};

    /// Parses `(assert_return (invoke "f") RESULTS)` and checks `got` against it.
    fn check(results: &str, got: &[Val]) -> Result<(), String> {
        let text = format!("(assert_return (invoke \"f\") {results})");
        let buf = ParseBuffer::new(&text).unwrap();
        let wast = parser::parse::<wast::Wast<'_>>(&buf).unwrap();
        match &wast.directives[0] {
            wast::WastDirective::AssertReturn { results, .. } => check_results(got, results),
            other => panic!("unexpected directive {other:?}"),
        }
    }

    fn args(text: &str) -> Vec<Result<Val, String>> {
        let text = format!("(invoke \"f\" {text})");
        let buf = ParseBuffer::new(&text).unwrap();
        let wast = parser::parse::<wast::Wast<'_>>(&buf).unwrap();
        match &wast.directives[0] {
            wast::WastDirective::Invoke(i) => i.args.iter().map(arg_to_val).collect(),
            other => panic!("unexpected directive {other:?}"),
        }
    }

    #[test]
    fn integers_compare_exactly() {
        assert!(check("(i32.const -1)", &[Val::I32(-1)]).is_ok());
        assert!(check("(i32.const 0xffffffff)", &[Val::I32(-1)]).is_ok());
        assert!(check("(i32.const 1)", &[Val::I32(2)]).is_err());
        assert!(check("(i64.const 1)", &[Val::I32(1)]).is_err());
        assert!(check("(i64.const -5) (i32.const 7)", &[Val::I64(-5), Val::I32(7)]).is_ok());
    }

    #[test]
    fn arity_mismatch_fails() {
        let err = check("(i32.const 1)", &[]).unwrap_err();
        assert!(err.contains("expected 1 results, got 0"), "{err}");
    }

    #[test]
    fn floats_compare_by_bits() {
        assert!(check("(f32.const 1.5)", &[Val::F32(1.5f32.to_bits())]).is_ok());
        assert!(check("(f32.const -0)", &[Val::F32(0)]).is_err());
        assert!(check("(f64.const -0)", &[Val::F64(1 << 63)]).is_ok());
        assert!(check("(f32.const nan:0x200000)", &[Val::F32(0x7fa0_0000)]).is_ok());
        assert!(check("(f32.const nan:0x200000)", &[Val::F32(0x7fc0_0000)]).is_err());
    }

    #[test]
    fn canonical_nan_pattern() {
        assert!(check("(f32.const nan:canonical)", &[Val::F32(0x7fc0_0000)]).is_ok());
        assert!(check("(f32.const nan:canonical)", &[Val::F32(0xffc0_0000)]).is_ok());
        assert!(check("(f32.const nan:canonical)", &[Val::F32(0x7fc0_0001)]).is_err());
        assert!(check("(f64.const nan:canonical)", &[Val::F64(0x7ff8 << 48)]).is_ok());
        assert!(check("(f64.const nan:canonical)", &[Val::F64((0x7ff8 << 48) | 1)]).is_err());
        assert!(check("(f64.const nan:canonical)", &[Val::F64(1.0f64.to_bits())]).is_err());
    }

    #[test]
    fn arithmetic_nan_pattern() {
        assert!(check("(f32.const nan:arithmetic)", &[Val::F32(0x7fc0_0001)]).is_ok());
        assert!(check("(f32.const nan:arithmetic)", &[Val::F32(0xffc0_0000)]).is_ok());
        // A signalling NaN (quiet bit clear) is not an arithmetic NaN.
        assert!(check("(f32.const nan:arithmetic)", &[Val::F32(0x7fa0_0000)]).is_err());
        assert!(check(
            "(f64.const nan:arithmetic)",
            &[Val::F64((0x7ff8 << 48) | 5)]
        )
        .is_ok());
        assert!(check(
            "(f64.const nan:arithmetic)",
            &[Val::F64((0x7ff4 << 48) | 5)]
        )
        .is_err());
        assert!(check("(f32.const nan:arithmetic)", &[Val::F64(0x7ff8 << 48)]).is_err());
    }

    #[test]
    fn reference_expectations() {
        assert!(check("(ref.null func)", &[Val::FuncRef(None)]).is_ok());
        assert!(check("(ref.null func)", &[Val::ExternRef(None)]).is_err());
        assert!(check("(ref.null extern)", &[Val::ExternRef(None)]).is_ok());
        assert!(check("(ref.null extern)", &[Val::ExternRef(Some(1))]).is_err());
        assert!(check("(ref.extern 3)", &[Val::ExternRef(Some(3))]).is_ok());
        assert!(check("(ref.extern 3)", &[Val::ExternRef(Some(4))]).is_err());
        assert!(check("(ref.extern 3)", &[Val::ExternRef(None)]).is_err());
        assert!(check("(ref.func)", &[Val::FuncRef(None)]).is_err());
    }

    #[test]
    fn either_accepts_any_alternative() {
        let want = "(either (i32.const 1) (i32.const 2))";
        assert!(check(want, &[Val::I32(2)]).is_ok());
        assert!(check(want, &[Val::I32(3)]).is_err());
    }

    #[test]
    fn v128_patterns_compare_lanes() {
        let got = Val::V128(u128::from_le_bytes(std::array::from_fn(|i| i as u8)));
        let want = "(v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)";
        assert!(check(want, &[got]).is_ok());
        assert!(check("(v128.const i64x2 0 0)", &[got]).is_err());
        let nans = Val::V128(0x7fc0_0000_7fc0_0000_7fc0_0000_7fc0_0000);
        assert!(check(
            "(v128.const f32x4 nan:canonical nan:canonical nan:canonical nan:arithmetic)",
            &[nans]
        )
        .is_ok());
    }

    #[test]
    fn gc_expectations_are_reported_not_skipped() {
        let err = check("(ref.any)", &[Val::I32(0)]).unwrap_err();
        assert!(err.contains("not supported yet"), "{err}");
    }

    #[test]
    fn arguments_convert() {
        let vals =
            args("(i32.const 7) (f32.const 1.0) (ref.null extern) (ref.extern 9) (ref.null func)");
        let vals: Vec<Val> = vals.into_iter().map(Result::unwrap).collect();
        assert!(matches!(vals[0], Val::I32(7)));
        assert!(matches!(vals[1], Val::F32(b) if b == 1.0f32.to_bits()));
        assert!(matches!(vals[2], Val::ExternRef(None)));
        assert!(matches!(vals[3], Val::ExternRef(Some(9))));
        assert!(matches!(vals[4], Val::FuncRef(None)));
        let v = args("(v128.const i32x4 1 2 3 4)").remove(0).unwrap();
        assert!(matches!(v, Val::V128(x) if x == (4u128 << 96) | (3 << 64) | (2 << 32) | 1));
    }
}
