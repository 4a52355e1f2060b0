//! Calls whose target the component plan fixes at build time are direct:
//! read back from the relocations of the compiled object, from the caller's
//! code to the callee's symbol; and the calls inlining takes in.

use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget};
use rivet_build::{compile_component, Options};
use std::ops::Range;

/// A callee component with two functions of the same type, and a caller core
/// module with a function `run` (function 2, after two imports) calling import 0.
fn component(second_caller_imports: &str) -> String {
    format!(
        r#"
        (component
          (component $callee
            (core module $m
              (func (export "f") (param i32) (result i32) local.get 0)
              (func (export "g") (param i32) (result i32) local.get 0 i32.const 1 i32.add))
            (core instance $i (instantiate $m))
            (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f")))
            (func (export "g") (param "x" u32) (result u32) (canon lift (core func $i "g"))))
          (instance $a (instantiate $callee))
          (alias export $a "f" (func $f))
          (alias export $a "g" (func $g))
          (core func $lf (canon lower (func $f)))
          (core func $lg (canon lower (func $g)))
          (core module $caller
            (import "" "a" (func (param i32) (result i32)))
            (import "" "b" (func (param i32) (result i32)))
            (func (export "run") (param i32) (result i32) local.get 0 call 0))
          (core instance (instantiate $caller
            (with "" (instance (export "a" (func $lf)) (export "b" (func $lg))))))
          (core instance (instantiate $caller
            (with "" (instance {second_caller_imports}))))
        )"#
    )
}

/// Names of the symbols called (relocated against) from inside symbol `from`.
fn calls_from(object: &[u8], from: &str) -> Vec<String> {
    let file = object::File::parse(object).unwrap();
    let symbol = file
        .symbols()
        .find(|s| s.name() == Ok(from))
        .unwrap_or_else(|| panic!("no symbol {from}"));
    let range: Range<u64> = symbol.address()..symbol.address() + symbol.size();
    assert!(!range.is_empty(), "{from} has no size");
    let section = file
        .section_by_index(symbol.section_index().unwrap())
        .unwrap();
    section
        .relocations()
        .filter(|(offset, _)| range.contains(offset))
        .filter_map(|(_, r)| match r.target() {
            RelocationTarget::Symbol(i) => Some(file.symbol_by_index(i).ok()?.name().ok()?.into()),
            _ => None,
        })
        .collect()
}

/// The symbols of the adapter group's functions (unit module 2).
fn adapters(object: &[u8]) -> Vec<String> {
    let file = object::File::parse(object).unwrap();
    file.symbols()
        .filter_map(|s| s.name().ok().map(String::from))
        .filter(|n| n.starts_with("rivet_m2_f"))
        .collect()
}

/// Compiles component `wat`; `inline: false` keeps every call a call, so that
/// the wiring itself shows.
fn compile(wat: &str, inline: bool) -> Vec<u8> {
    let wasm = wat::parse_str(wat).unwrap();
    let options = Options {
        inline,
        ..Options::default()
    };
    compile_component(&wasm, &options).unwrap()
}

// Unit modules: 0 the callee's, 1 the caller, 2 the adapter group (after
// every guest module); the caller's `run` is function 2, the group's
// adapters follow its imports.

#[test]
fn statically_wired_imports_are_called_directly() {
    let object = compile(
        &component(r#"(export "a" (func $lf)) (export "b" (func $lg))"#),
        false,
    );
    let calls = calls_from(&object, "rivet_m1_f2");
    assert!(
        calls.iter().any(|c| c.starts_with("rivet_m2_f")),
        "the caller does not call its adapter directly: {calls:?}"
    );
    let adapters = adapters(&object);
    assert_eq!(adapters.len(), 2, "{adapters:?}");
    for adapter in &adapters {
        let calls = calls_from(&object, adapter);
        assert!(
            calls.iter().any(|c| c.starts_with("rivet_m0_f")),
            "{adapter} does not call the callee directly: {calls:?}"
        );
    }
}

#[test]
fn adapters_take_in_the_small_functions_they_call_in_other_modules() {
    let object = compile(
        &component(r#"(export "a" (func $lf)) (export "b" (func $lg))"#),
        true,
    );
    let adapters = adapters(&object);
    assert_eq!(adapters.len(), 2, "{adapters:?}");
    for adapter in &adapters {
        let calls = calls_from(&object, adapter);
        assert!(
            !calls.iter().any(|c| c.starts_with("rivet_m0_f")),
            "{adapter} still calls the callee's one-instruction function: {calls:?}"
        );
    }
}

#[test]
fn imports_wired_differently_per_instance_stay_indirect() {
    // The second caller gets the adapters the other way round.
    let object = compile(
        &component(r#"(export "a" (func $lg)) (export "b" (func $lf))"#),
        true,
    );
    let calls = calls_from(&object, "rivet_m1_f2");
    assert!(
        !calls.iter().any(|c| c.starts_with("rivet_m")),
        "a call with two possible targets was made direct: {calls:?}"
    );
}

/// A module whose `run` (function 0) calls a small function (1) twice and a
/// larger one with no other caller (2).
const INLINING: &str = r#"
    (module
      (func (export "run") (param i32) (result i32)
        local.get 0 call 1 call 1 call 2)
      (func (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func (param i32) (result i32)
        local.get 0 i32.const 3 i32.mul i32.const 7 i32.xor i32.const 5 i32.rotl
        i32.const 11 i32.add i32.const 13 i32.mul i32.const 17 i32.xor i32.const 19 i32.rotr
        i32.const 23 i32.add i32.const 29 i32.mul i32.const 31 i32.xor i32.const 37 i32.rotl))"#;

fn compile_module(options: &Options) -> Vec<u8> {
    rivet_build::compile_module(&wat::parse_str(INLINING).unwrap(), options).unwrap()
}

#[test]
fn small_callees_are_inlined_and_lone_larger_ones_called() {
    let calls = calls_from(&compile_module(&Options::default()), "rivet_f0");
    assert!(
        !calls.iter().any(|c| c.starts_with("rivet_f1")),
        "the small callee is still called: {calls:?}"
    );
    assert!(
        calls.iter().any(|c| c.starts_with("rivet_f2")),
        "the larger callee with one caller was inlined: {calls:?}"
    );
}

#[test]
fn without_inlining_every_call_stays() {
    let options = Options {
        inline: false,
        ..Options::default()
    };
    let calls = calls_from(&compile_module(&options), "rivet_f0");
    let to_f1 = calls.iter().filter(|c| c.starts_with("rivet_f1")).count();
    assert_eq!(to_f1, 2, "{calls:?}");
    assert!(calls.iter().any(|c| c.starts_with("rivet_f2")), "{calls:?}");
}
