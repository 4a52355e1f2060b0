//! Which traps compiled code can raise: every trap site Cranelift records maps
//! to the `TrapKind` the spec expects for the operator.

use super::{host_isa, module_env, translate};
use crate::env::trap_kind;
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use rivet_descriptor::BoundsMode;
use rivet_descriptor::TrapKind::{self, *};
use std::collections::BTreeSet;

/// The trap kinds of the machine code of function 0 of `wat`, checking that
/// every trap site has a kind.
fn trap_kinds(wat: &str, bounds: BoundsMode) -> BTreeSet<u8> {
    let wasm = wat::parse_str(wat).unwrap();
    let isa = host_isa();
    let env = module_env(&wasm, &isa, bounds).unwrap().unwrap();
    let func = translate(&env, 0, &mut FunctionBuilderContext::new()).unwrap();
    let mut ctx = Context::for_function(func);
    let code = ctx.compile(&*isa, &mut Default::default()).unwrap();
    let traps = code.buffer.traps();
    traps
        .iter()
        .map(|t| trap_kind(t.code).expect("every trap code is a Rivet trap kind") as u8)
        .collect()
}

/// The expected set of kinds (leaf functions without a frame have no stack
/// check: Cranelift only checks where a function grows the stack).
fn kinds(list: &[TrapKind]) -> BTreeSet<u8> {
    list.iter().map(|k| *k as u8).collect()
}

fn body(params: &str, body: &str) -> String {
    format!(
        "(module (memory 1) (table 1 funcref) (type (func))
           (func {params} {body}))"
    )
}

#[test]
fn functions_that_grow_the_stack_check_it() {
    let caller = "(module (func (call 1)) (func))";
    assert_eq!(
        trap_kinds(caller, BoundsMode::Guard),
        kinds(&[StackOverflow])
    );
    assert_eq!(trap_kinds("(module (func))", BoundsMode::Guard), kinds(&[]));
}

#[test]
fn arithmetic_traps() {
    let div = body(
        "(param i32 i32) (result i32)",
        "(i32.div_s (local.get 0) (local.get 1))",
    );
    let expected = kinds(&[IntegerDivideByZero, IntegerOverflow]);
    assert_eq!(trap_kinds(&div, BoundsMode::Guard), expected);
    let rem = body(
        "(param i64 i64) (result i64)",
        "(i64.rem_s (local.get 0) (local.get 1))",
    );
    assert_eq!(
        trap_kinds(&rem, BoundsMode::Guard),
        kinds(&[IntegerDivideByZero])
    );
    let trunc = body(
        "(param f64) (result i32)",
        "(i32.trunc_f64_u (local.get 0))",
    );
    let expected = kinds(&[BadConversionToInteger, IntegerOverflow]);
    assert_eq!(trap_kinds(&trunc, BoundsMode::Guard), expected);
    let sat = body(
        "(param f64) (result i32)",
        "(i32.trunc_sat_f64_u (local.get 0))",
    );
    assert_eq!(trap_kinds(&sat, BoundsMode::Guard), kinds(&[]));
    let unreachable = body("", "unreachable");
    assert_eq!(
        trap_kinds(&unreachable, BoundsMode::Guard),
        kinds(&[Unreachable])
    );
}

#[test]
fn memory_and_table_traps() {
    let load = body("(param i32) (result i32)", "(i32.load (local.get 0))");
    for mode in [BoundsMode::Guard, BoundsMode::Explicit] {
        assert_eq!(trap_kinds(&load, mode), kinds(&[MemoryOutOfBounds]));
    }
    let fill = body(
        "",
        "(memory.fill (i32.const 0) (i32.const 0) (i32.const 1))",
    );
    let expected = kinds(&[MemoryOutOfBounds, StackOverflow]);
    assert_eq!(trap_kinds(&fill, BoundsMode::Guard), expected);
    let get = body("(param i32) (result funcref)", "(table.get (local.get 0))");
    assert_eq!(
        trap_kinds(&get, BoundsMode::Guard),
        kinds(&[TableOutOfBounds])
    );
    let copy = body("", "(table.copy (i32.const 0) (i32.const 0) (i32.const 1))");
    let expected = kinds(&[TableOutOfBounds, StackOverflow]);
    assert_eq!(trap_kinds(&copy, BoundsMode::Guard), expected);
    let call = body("(param i32)", "(call_indirect (type 0) (local.get 0))");
    let expected = kinds(&[
        UndefinedElement,
        UninitializedElement,
        BadSignature,
        StackOverflow,
    ]);
    assert_eq!(trap_kinds(&call, BoundsMode::Guard), expected);
}
