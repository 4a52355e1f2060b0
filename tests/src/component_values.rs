//! Component-model values in scripts: converting `invoke` arguments to runtime
//! [`Value`]s and checking results with the equality the component spec tests use
//! (floats by bits except that any NaN equals any NaN, flags as sets).

use crate::values::show_expected;
use rivet::Value;
use wast::component::WastVal;
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// Converts an `invoke` argument of a component export to a runtime value.
///
/// The wast crate reads a top-level `f32.const` / `f64.const` as a core argument
/// even in a component script, so those two are accepted in core form.
pub fn arg_to_value(arg: &WastArg<'_>) -> Result<Value, String> {
    match arg {
        WastArg::Component(val) => wast_to_value(val),
        WastArg::Core(WastArgCore::F32(f)) => Ok(Value::F32(f32::from_bits(f.bits))),
        WastArg::Core(WastArgCore::F64(f)) => Ok(Value::F64(f64::from_bits(f.bits))),
        WastArg::Core(other) => Err(format!(
            "a core value {other:?} is not a component-model argument"
        )),
        _ => Err("not supported yet: this kind of argument".to_string()),
    }
}

/// Converts a script value to a runtime value.
pub fn wast_to_value(val: &WastVal<'_>) -> Result<Value, String> {
    let boxed = |v: &Option<Box<WastVal<'_>>>| -> Result<Option<Box<Value>>, String> {
        v.as_deref()
            .map(wast_to_value)
            .transpose()
            .map(|v| v.map(Box::new))
    };
    Ok(match val {
        WastVal::Bool(b) => Value::Bool(*b),
        WastVal::U8(x) => Value::U8(*x),
        WastVal::S8(x) => Value::S8(*x),
        WastVal::U16(x) => Value::U16(*x),
        WastVal::S16(x) => Value::S16(*x),
        WastVal::U32(x) => Value::U32(*x),
        WastVal::S32(x) => Value::S32(*x),
        WastVal::U64(x) => Value::U64(*x),
        WastVal::S64(x) => Value::S64(*x),
        WastVal::F32(f) => Value::F32(f32::from_bits(f.bits)),
        WastVal::F64(f) => Value::F64(f64::from_bits(f.bits)),
        WastVal::Char(c) => Value::Char(*c),
        WastVal::String(s) => Value::String(s.to_string()),
        WastVal::List(items) => Value::List(convert_all(items)?),
        WastVal::Tuple(items) => Value::Tuple(convert_all(items)?),
        WastVal::Record(fields) => Value::Record(
            fields
                .iter()
                .map(|(name, v)| Ok((name.to_string(), wast_to_value(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        WastVal::Variant(case, payload) => Value::Variant(case.to_string(), boxed(payload)?),
        WastVal::Enum(case) => Value::Enum(case.to_string()),
        WastVal::Option(v) => Value::Option(boxed(v)?),
        WastVal::Result(Ok(v)) => Value::Result(Ok(boxed(v)?)),
        WastVal::Result(Err(v)) => Value::Result(Err(boxed(v)?)),
        WastVal::Flags(names) => Value::Flags(names.iter().map(|n| n.to_string()).collect()),
        WastVal::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((wast_to_value(k)?, wast_to_value(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

fn convert_all(items: &[WastVal<'_>]) -> Result<Vec<Value>, String> {
    items.iter().map(wast_to_value).collect()
}

/// The spec tests' equality of component values: structural, floats compared by
/// bits except that NaNs are all equal (lifting may change a NaN's payload), and
/// flags compared as sets of names. Maps compare entry by entry in order: the
/// Canonical ABI passes them as lists, keeping order and duplicate keys.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    use Value as V;
    let opt = |a: &Option<Box<Value>>, b: &Option<Box<Value>>| match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => values_equal(a, b),
        _ => false,
    };
    match (a, b) {
        (V::F32(x), V::F32(y)) => (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
        (V::F64(x), V::F64(y)) => (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
        (V::List(x), V::List(y)) | (V::Tuple(x), V::Tuple(y)) => all_equal(x, y),
        (V::Map(x), V::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k, v), (l, w))| values_equal(k, l) && values_equal(v, w))
        }
        (V::Record(x), V::Record(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((n, a), (m, b))| n == m && values_equal(a, b))
        }
        (V::Variant(n, a), V::Variant(m, b)) => n == m && opt(a, b),
        (V::Option(a), V::Option(b)) => opt(a, b),
        (V::Result(Ok(a)), V::Result(Ok(b))) | (V::Result(Err(a)), V::Result(Err(b))) => opt(a, b),
        (V::Flags(x), V::Flags(y)) => same_set(x, y),
        _ => a == b,
    }
}

fn all_equal(x: &[Value], y: &[Value]) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
}

fn same_set(x: &[String], y: &[String]) -> bool {
    let set = |v: &[String]| v.iter().cloned().collect::<std::collections::BTreeSet<_>>();
    set(x) == set(y)
}

/// Checks the result of a component call against an `assert_return`'s expected
/// results (none, or one value).
pub fn check_value_results(actual: Option<&Value>, expected: &[WastRet<'_>]) -> Result<(), String> {
    let mismatch = |want: String| {
        Err(format!(
            "expected {want}, got {}",
            actual.map_or_else(|| "no result".to_string(), show_value)
        ))
    };
    match (expected, actual) {
        ([], None) => Ok(()),
        ([], Some(_)) => mismatch("no result".to_string()),
        ([want], got) => match result_matches(want, got)? {
            true => Ok(()),
            false => mismatch(show_wast_ret(want)),
        },
        (many, _) => Err(format!(
            "a component function has at most one result; the script expects {}",
            many.len()
        )),
    }
}

/// Whether one expected result matches the actual one; `Err` if the expectation
/// cannot be a component value.
fn result_matches(want: &WastRet<'_>, got: Option<&Value>) -> Result<bool, String> {
    let Some(got) = got else { return Ok(false) };
    match want {
        WastRet::Component(val) => Ok(values_equal(&wast_to_value(val)?, got)),
        WastRet::Core(core) => core_float_matches(core, got),
        _ => Err("not supported yet: this kind of expected result".to_string()),
    }
}

/// A top-level `f32.const` / `f64.const` expectation (read in core form by the
/// wast crate), NaN patterns included.
fn core_float_matches(want: &WastRetCore<'_>, got: &Value) -> Result<bool, String> {
    Ok(match (want, got) {
        (WastRetCore::F32(NanPattern::Value(w)), Value::F32(_)) => {
            values_equal(&Value::F32(f32::from_bits(w.bits)), got)
        }
        (WastRetCore::F64(NanPattern::Value(w)), Value::F64(_)) => {
            values_equal(&Value::F64(f64::from_bits(w.bits)), got)
        }
        (WastRetCore::F32(_), Value::F32(g)) => g.is_nan(),
        (WastRetCore::F64(_), Value::F64(g)) => g.is_nan(),
        (WastRetCore::Either(cases), got) => {
            for case in cases {
                if core_float_matches(case, got)? {
                    return Ok(true);
                }
            }
            false
        }
        (WastRetCore::F32(_) | WastRetCore::F64(_), _) => false,
        (other, _) => {
            return Err(format!(
                "a core value {} is not a component-model result",
                show_expected(other)
            ))
        }
    })
}

/// A value as failure messages show it.
pub fn show_value(v: &Value) -> String {
    format!("{v:?}")
}

fn show_wast_ret(want: &WastRet<'_>) -> String {
    match want {
        WastRet::Component(val) => {
            wast_to_value(val).map_or_else(|_| format!("{val:?}"), |v| show_value(&v))
        }
        WastRet::Core(core) => show_expected(core),
        _ => "an unsupported expectation".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wast::parser::{self, ParseBuffer};

    fn with_directive<T>(text: &str, f: impl FnOnce(&wast::WastDirective<'_>) -> T) -> T {
        let buf = ParseBuffer::new(text).unwrap();
        let wast = parser::parse::<wast::Wast<'_>>(&buf).unwrap();
        f(&wast.directives[0])
    }

    /// The arguments of `(invoke "f" ARGS)` as runtime values.
    fn args(text: &str) -> Vec<Result<Value, String>> {
        with_directive(&format!("(invoke \"f\" {text})"), |d| match d {
            wast::WastDirective::Invoke(i) => i.args.iter().map(arg_to_value).collect(),
            other => panic!("unexpected directive {other:?}"),
        })
    }

    fn arg(text: &str) -> Value {
        args(text).remove(0).unwrap()
    }

    /// Checks `got` against `(assert_return (invoke "f") RESULTS)`.
    fn check(results: &str, got: Option<Value>) -> Result<(), String> {
        with_directive(
            &format!("(assert_return (invoke \"f\") {results})"),
            |d| match d {
                wast::WastDirective::AssertReturn { results, .. } => {
                    check_value_results(got.as_ref(), results)
                }
                other => panic!("unexpected directive {other:?}"),
            },
        )
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn scalars_convert() {
        assert_eq!(arg("(bool.const true)"), Value::Bool(true));
        assert_eq!(arg("(u8.const 255)"), Value::U8(255));
        assert_eq!(arg("(s8.const -128)"), Value::S8(-128));
        assert_eq!(arg("(u16.const 65535)"), Value::U16(65535));
        assert_eq!(arg("(s16.const -1)"), Value::S16(-1));
        assert_eq!(arg("(u32.const 4294967295)"), Value::U32(u32::MAX));
        assert_eq!(arg("(s32.const -7)"), Value::S32(-7));
        assert_eq!(
            arg("(u64.const 18446744073709551615)"),
            Value::U64(u64::MAX)
        );
        assert_eq!(arg("(s64.const -9)"), Value::S64(-9));
        assert_eq!(arg("(char.const \"☃\")"), Value::Char('☃'));
        assert_eq!(arg("(str.const \"héllo\")"), Value::String(s("héllo")));
    }

    #[test]
    fn floats_in_core_and_component_form_convert() {
        assert_eq!(arg("(f32.const 1.5)"), Value::F32(1.5));
        assert_eq!(arg("(f64.const -2.25)"), Value::F64(-2.25));
        let Value::List(items) = arg("(list.const (f32.const -0) (f64.const 3))") else {
            panic!("not a list");
        };
        assert!(matches!(items[0], Value::F32(x) if x.to_bits() == (-0.0f32).to_bits()));
        assert_eq!(items[1], Value::F64(3.0));
        let err = args("(i32.const 1)").remove(0).unwrap_err();
        assert!(err.contains("not a component-model argument"), "{err}");
    }

    #[test]
    fn compound_values_convert() {
        assert_eq!(
            arg("(record.const (field \"s\" str.const \"v=\") (field \"n\" u32.const 7))"),
            Value::Record(vec![
                (s("s"), Value::String(s("v="))),
                (s("n"), Value::U32(7))
            ])
        );
        assert_eq!(
            arg("(tuple.const (u8.const 1) (bool.const false))"),
            Value::Tuple(vec![Value::U8(1), Value::Bool(false)])
        );
        assert_eq!(
            arg("(variant.const \"a\" (u32.const 1))"),
            Value::Variant(s("a"), Some(Box::new(Value::U32(1))))
        );
        assert_eq!(arg("(variant.const \"b\")"), Value::Variant(s("b"), None));
        assert_eq!(arg("(enum.const \"e\")"), Value::Enum(s("e")));
        assert_eq!(arg("(option.none)"), Value::Option(None));
        assert_eq!(
            arg("(option.some (s32.const 2))"),
            Value::Option(Some(Box::new(Value::S32(2))))
        );
        assert_eq!(arg("(result.ok)"), Value::Result(Ok(None)));
        assert_eq!(
            arg("(result.err (str.const \"x\"))"),
            Value::Result(Err(Some(Box::new(Value::String(s("x"))))))
        );
        assert_eq!(
            arg("(flags.const \"a\" \"c\")"),
            Value::Flags(vec![s("a"), s("c")])
        );
        assert_eq!(arg("(list.const)"), Value::List(vec![]));
    }

    #[test]
    fn maps_convert_in_order_with_duplicates() {
        let entry = |k: u8, v: &str| (Value::U8(k), Value::String(s(v)));
        assert_eq!(
            arg("(map.const (entry (u8.const 2) (str.const \"b\")) (entry (u8.const 2) (str.const \"c\")))"),
            Value::Map(vec![entry(2, "b"), entry(2, "c")])
        );
        assert_eq!(arg("(map.const)"), Value::Map(vec![]));
    }

    #[test]
    fn maps_compare_entry_by_entry() {
        let map = |es: &[(u8, f32)]| {
            Value::Map(
                es.iter()
                    .map(|&(k, v)| (Value::U8(k), Value::F32(v)))
                    .collect(),
            )
        };
        assert!(values_equal(
            &map(&[(1, f32::NAN)]),
            &map(&[(1, -f32::NAN)])
        ));
        assert!(!values_equal(
            &map(&[(1, 0.0), (2, 0.0)]),
            &map(&[(2, 0.0), (1, 0.0)])
        ));
        assert!(!values_equal(
            &map(&[(1, 0.0)]),
            &map(&[(1, 0.0), (1, 0.0)])
        ));
        let pairs = Value::List(vec![Value::Tuple(vec![Value::U8(1), Value::F32(0.0)])]);
        assert!(!values_equal(&map(&[(1, 0.0)]), &pairs));
        assert!(check(
            "(map.const (entry (u8.const 1) (f32.const 0)))",
            Some(map(&[(1, 0.0)]))
        )
        .is_ok());
    }

    #[test]
    fn floats_equal_by_bits_and_all_nans_are_equal() {
        assert!(values_equal(&Value::F32(1.0), &Value::F32(1.0)));
        assert!(!values_equal(&Value::F32(0.0), &Value::F32(-0.0)));
        let quiet = f32::from_bits(0x7fc0_0000);
        let other = f32::from_bits(0xffa0_0001);
        assert!(values_equal(&Value::F32(quiet), &Value::F32(other)));
        assert!(values_equal(&Value::F64(f64::NAN), &Value::F64(-f64::NAN)));
        assert!(!values_equal(&Value::F64(f64::NAN), &Value::F64(1.0)));
        assert!(!values_equal(&Value::F32(1.0), &Value::F64(1.0)));
    }

    #[test]
    fn flags_compare_as_sets() {
        let flags = |names: &[&str]| Value::Flags(names.iter().map(|n| s(n)).collect());
        assert!(values_equal(&flags(&["a", "b"]), &flags(&["b", "a"])));
        assert!(!values_equal(&flags(&["a"]), &flags(&["a", "b"])));
        assert!(values_equal(&flags(&[]), &flags(&[])));
    }

    #[test]
    fn nested_values_compare_structurally() {
        let rec = |name: &str, v: Value| Value::Record(vec![(s(name), v)]);
        let nan_list = Value::List(vec![Value::F32(f32::NAN)]);
        assert!(values_equal(
            &rec("x", nan_list.clone()),
            &rec("x", nan_list)
        ));
        assert!(!values_equal(
            &rec("x", Value::U8(1)),
            &rec("y", Value::U8(1))
        ));
        assert!(!values_equal(
            &Value::Result(Ok(None)),
            &Value::Result(Err(None))
        ));
        assert!(!values_equal(
            &Value::Variant(s("a"), None),
            &Value::Variant(s("a"), Some(Box::new(Value::U8(0))))
        ));
        assert!(!values_equal(&Value::U32(1), &Value::S32(1)));
    }

    #[test]
    fn results_check_against_expectations() {
        assert!(check("(u32.const 42)", Some(Value::U32(42))).is_ok());
        assert!(check("", None).is_ok());
        let err = check("(u32.const 42)", Some(Value::U32(41))).unwrap_err();
        assert!(err.contains("expected U32(42), got U32(41)"), "{err}");
        let err = check("(u32.const 42)", None).unwrap_err();
        assert!(err.contains("got no result"), "{err}");
        assert!(check("", Some(Value::Bool(true))).is_err());
        assert!(check(
            "(list.const (str.const \"a\") (str.const \"b\"))",
            Some(Value::List(vec![
                Value::String(s("a")),
                Value::String(s("b"))
            ]))
        )
        .is_ok());
    }

    #[test]
    fn top_level_float_results_and_nan_patterns() {
        assert!(check("(f32.const 2.5)", Some(Value::F32(2.5))).is_ok());
        assert!(check(
            "(f32.const nan)",
            Some(Value::F32(f32::from_bits(0x7fc0_0001)))
        )
        .is_ok());
        assert!(check("(f64.const nan:canonical)", Some(Value::F64(f64::NAN))).is_ok());
        assert!(check("(f64.const nan:arithmetic)", Some(Value::F64(1.0))).is_err());
        assert!(check("(f32.const -0)", Some(Value::F32(0.0))).is_err());
        assert!(check("(f32.const 1)", Some(Value::F64(1.0))).is_err());
        let err = check("(i32.const 1)", Some(Value::S32(1))).unwrap_err();
        assert!(err.contains("not a component-model result"), "{err}");
    }
}
