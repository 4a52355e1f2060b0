//! Validation: exactly WebAssembly 2.0 plus multi-memory, exceptions and
//! extended-const, errors with offsets; decoding of constant expressions.

use rivet_build::__internal::{decode_module, target_isa};
use rivet_build::{compile_module, validate_module, BoundsMode, ErrorKind, Options};
use rivet_descriptor::{ConstExpr, ConstOp, SegmentMode};

fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap()
}

#[test]
fn malformed_bytes_are_errors_with_offsets() {
    let err = validate_module(b"\0asm\x02\0\0\0", &Options::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert_eq!(err.offset(), Some(4), "{err}");

    let err = validate_module(b"not wasm", &Options::default()).unwrap_err();
    assert_eq!(err.offset(), Some(0), "{err}");

    // A type section that claims more bytes than there are.
    let err = validate_module(b"\0asm\x01\0\0\0\x01\x10\x01", &Options::default()).unwrap_err();
    assert!(err.offset().is_some(), "{err}");

    let err = compile_module(b"\0asm\x01\0\0", &Options::default()).unwrap_err();
    assert!(err.offset().is_some(), "{err}");
}

#[test]
fn invalid_function_bodies_are_rejected() {
    let bytes = wasm("(module (func (result i32) (i64.const 1)))");
    let err = validate_module(&bytes, &Options::default()).unwrap_err();
    assert!(err.message().contains("type mismatch"), "{err}");
    let offset = err.offset().unwrap();
    assert!(offset > 8 && offset < bytes.len(), "{err}");
}

#[test]
fn wasm2_and_multi_memory_are_accepted() {
    let ok = [
        "(module (memory 1) (memory 1) (func (i32.store 1 (i32.const 0) (i32.load 0 (i32.const 0)))))",
        "(module (func (result v128) (v128.const i64x2 1 2)))",
        "(module (func (param i32) (result i32) (i32.extend8_s (local.get 0))))",
        "(module (func (param f32) (result i32) (i32.trunc_sat_f32_s (local.get 0))))",
        "(module (func (result i32 i64) (i32.const 1) (i64.const 2)))",
        "(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))",
        "(module (table 1 externref) (func (param externref) (table.set (i32.const 0) (local.get 0))))",
        "(module (global (import \"a\" \"b\") (mut i32)))",
    ];
    for wat in ok {
        validate_module(&wasm(wat), &Options::default()).unwrap_or_else(|e| panic!("{wat}: {e}"));
    }
}

#[test]
fn other_proposals_are_rejected() {
    let rejected = [
        ("threads", "(module (memory 1 1 shared))"),
        ("memory64", "(module (memory i64 1))"),
        ("tail calls", "(module (func $f (return_call $f)))"),
        (
            "legacy exceptions",
            "(module (tag $t) (func try catch $t end))",
        ),
        (
            "function references",
            "(module (type $t (func)) (func (param (ref $t))))",
        ),
        ("gc", "(module (type (struct)))"),
        ("components", "(component)"),
        (
            "relaxed simd",
            "(module (func (param v128) (result v128) (i8x16.relaxed_swizzle (local.get 0) (local.get 0))))",
        ),
    ];
    for (feature, wat) in rejected {
        let err = validate_module(&wasm(wat), &Options::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{feature}: {err}");
        assert!(err.offset().is_some(), "{feature}: {err}");
    }
}

#[test]
fn exceptions_and_extended_const_are_accepted_beyond_strict_wasm_2_0() {
    let exceptions = "(module (tag $t (param i32)) (func (param exnref)
        (block $h (result i32) (try_table (catch $t $h) (throw $t (i32.const 1))) (unreachable))
        (drop) (throw_ref (local.get 0))))";
    let extended_const = "(module (global i32 (i32.add (i32.const 1) (i32.const 2))))";
    let strict = Options {
        multi_memory: false,
        ..Options::default()
    };
    for wat in [exceptions, extended_const] {
        validate_module(&wasm(wat), &Options::default()).unwrap_or_else(|e| panic!("{wat}: {e}"));
        let err = validate_module(&wasm(wat), &strict).unwrap_err();
        assert!(err.offset().is_some(), "{wat}: {err}");
    }
}

/// Decodes `wat` (extended-const accepted) into its descriptor metadata.
fn metadata(wat: &str) -> rivet_descriptor::Module {
    let isa = target_isa(None, &[]).unwrap();
    decode_module(&wasm(wat), isa, BoundsMode::Guard, true)
        .unwrap()
        .module
}

#[test]
fn constant_arithmetic_folds_unless_it_reads_a_global() {
    use ConstOp::{Add, Const, GlobalGet, Mul, Sub};
    let m = metadata(
        r#"(module
            (global (import "env" "g") i32)
            (global (import "env" "h") i64)
            (memory 1)
            (table 4 funcref)
            (func $f)
            (global i32 (i32.add (i32.const 0x7fffffff) (i32.const 1)))
            (global i64 (i64.sub (i64.mul (i64.const 20) (i64.const -2)) (i64.const 2)))
            (global i32 (i32.add (global.get 0) (i32.const 4)))
            (global i64 (i64.mul (global.get 1) (i64.const 3)))
            (global i32 (global.get 0))
            (data (i32.mul (i32.const 3) (i32.const 5)) "x")
            (data (i32.sub (global.get 0) (i32.const 1)) "y")
            (elem (i32.mul (global.get 0) (global.get 0)) $f))"#,
    );
    assert_eq!(
        m.global_inits,
        vec![
            ConstExpr::I32(i32::MIN),
            ConstExpr::I64(-42),
            ConstExpr::I32Arith(vec![GlobalGet(0), Const(4), Add].into()),
            ConstExpr::I64Arith(vec![GlobalGet(1), Const(3), Mul].into()),
            ConstExpr::GlobalGet(0),
        ]
    );
    let offset = |mode: &SegmentMode| match mode {
        SegmentMode::Active { offset, .. } => offset.clone(),
        other => panic!("not active: {other:?}"),
    };
    assert_eq!(offset(&m.data[0].mode), ConstExpr::I32(15));
    assert_eq!(
        offset(&m.data[1].mode),
        ConstExpr::I32Arith(vec![GlobalGet(0), Const(1), Sub].into())
    );
    assert_eq!(
        offset(&m.elements[0].mode),
        ConstExpr::I32Arith(vec![GlobalGet(0), GlobalGet(0), Mul].into())
    );
    let folded = metadata("(module (global i32 (i32.mul (i32.const 6) (i32.const 7))))");
    assert_eq!(folded.global_inits, vec![ConstExpr::I32(42)]);
}

#[test]
fn function_names_come_from_the_name_section() {
    let bytes = wasm(
        r#"(module
            (import "env" "imp" (func $imported))
            (func $first)
            (func)
            (func $third))"#,
    );
    let isa = target_isa(None, &[]).unwrap();
    let decoded = decode_module(&bytes, isa, BoundsMode::Guard, true).unwrap();
    assert_eq!(
        decoded.env.names.get(&0).map(String::as_str),
        Some("imported")
    );
    assert_eq!(decoded.env.names.get(&1).map(String::as_str), Some("first"));
    assert_eq!(decoded.env.names.get(&2), None);
    assert_eq!(decoded.env.names.get(&3).map(String::as_str), Some("third"));
    assert_eq!(decoded.env.bodies.len(), 3);
    assert_eq!(decoded.env.imported_functions, 1);
}

#[test]
fn a_broken_name_section_is_ignored() {
    let mut bytes = wasm("(module (func))");
    // Custom section "name" whose function-names subsection is truncated.
    bytes.extend_from_slice(&[0, 8, 4, b'n', b'a', b'm', b'e', 1, 9, 1]);
    let isa = target_isa(None, &[]).unwrap();
    let decoded = decode_module(&bytes, isa, BoundsMode::Guard, true).unwrap();
    assert!(decoded.env.names.is_empty());
}

#[test]
fn simd_functions_compile_for_every_target() {
    // Operators the x86-64 baseline (no SSE4.1) and AArch64 lower differently
    // from the host: rounding, popcnt, 64-bit abs, unsigned conversions.
    let simd = wasm(
        r#"(module (func (param v128) (result v128)
            (f32x4.ceil (local.get 0)) (f64x2.nearest) (i8x16.popcnt) (i64x2.abs)
            (f32x4.convert_i32x4_u) (i32x4.trunc_sat_f32x4_u)
            (f64x2.convert_low_i32x4_u) (i32x4.trunc_sat_f64x2_u_zero)))"#,
    );
    for target in [
        None,
        Some("x86_64-unknown-linux-gnu"),
        Some("aarch64-unknown-linux-gnu"),
    ] {
        let options = Options {
            target: target.map(str::to_string),
            ..Options::default()
        };
        let object = compile_module(&simd, &options);
        assert!(
            object.is_ok_and(|o| o.starts_with(b"\x7fELF")),
            "{target:?}"
        );
    }
}

#[test]
fn corrupted_modules_never_panic() {
    let module = wasm(
        r#"(module
            (type (func (param i32) (result i64)))
            (import "a" "f" (func (type 0)))
            (import "a" "m" (memory 1))
            (memory 1 2)
            (table 2 funcref)
            (global (mut i32) (i32.const 7))
            (export "g" (global 0))
            (elem (i32.const 0) func 0)
            (data (memory 1) (i32.const 0) "abc"))"#,
    );
    let mut accepted = 0;
    for i in 8..module.len() {
        for value in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut bytes = module.clone();
            bytes[i] = value;
            if let Ok(object) = compile_module(&bytes, &Options::default()) {
                assert!(validate_module(&bytes, &Options::default()).is_ok());
                assert!(object.starts_with(b"\x7fELF"));
                accepted += 1;
            }
        }
    }
    assert!(accepted > 0);
}
