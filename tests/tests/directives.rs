//! End-to-end checks of the runner's directives on small scripts, through the real
//! compiler, linker, loader and runtime (so they need the merged rivet-build and
//! rivet crates, not stubs).

use rivet_tests::pipeline::Mode;
use rivet_tests::pipeline::Pipeline;
use rivet_tests::script::{run_text, Outcome};

const BOTH: [Mode; 2] = [Mode::Guard, Mode::Explicit];

fn run(text: &str) -> Outcome {
    let pipeline = Pipeline::new(1).expect("creating the temporary directory");
    run_text(text, &BOTH, true, &pipeline)
}

fn assert_passes(text: &str, directives_per_mode: usize) {
    let outcome = run(text);
    assert!(
        outcome.failures.is_empty(),
        "failures: {:#?}",
        outcome.failures
    );
    assert_eq!(outcome.directives, 2 * directives_per_mode);
}

#[test]
fn spectest_imports_register_and_cross_module_calls() {
    let text = r#"
        (module $A
          (import "spectest" "print_i32" (func $print (param i32)))
          (import "spectest" "global_i32" (global $g i32))
          (import "spectest" "memory" (memory 1))
          (func (export "get") (result i32) (call $print (global.get $g)) (global.get $g))
          (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
        (register "a" $A)
        (module
          (import "a" "get" (func $get (result i32)))
          (func (export "twice") (result i32) (i32.add (call $get) (call $get))))
        (assert_return (invoke "twice") (i32.const 1332))
        (assert_return (invoke $A "get") (i32.const 666))
        (assert_trap (invoke $A "load" (i32.const 65536)) "out of bounds memory access")
    "#;
    assert_passes(text, 6);
}

#[test]
fn traps_exhaustion_and_nan_patterns() {
    let text = r#"
        (module
          (func $loop (export "loop") (call $loop))
          (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
          (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
          (global (export "g") i64 (i64.const -7)))
        (assert_exhaustion (invoke "loop") "call stack exhausted")
        (assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
        (assert_trap (invoke "div" (i32.const 0x80000000) (i32.const -1)) "integer overflow")
        (assert_return (invoke "nan") (f32.const nan:arithmetic))
        (assert_return (get "g") (i64.const -7))
    "#;
    assert_passes(text, 6);
}

#[test]
fn rejections_link_errors_and_instantiation_traps() {
    let text = r#"
        (assert_invalid (module (func (result i32))) "type mismatch")
        (assert_malformed (module quote "(func") "unexpected end")
        (assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
        (assert_unlinkable (module (import "spectest" "nope" (func))) "unknown import")
        (assert_unlinkable (module (import "spectest" "print_i32" (func (param i64)))) "incompatible import type")
        (assert_trap (module (func unreachable) (start 0)) "unreachable")
    "#;
    assert_passes(text, 6);
}

#[test]
fn wrong_expectations_fail_with_reasons() {
    let text = r#"
        (module (func (export "one") (result i32) (i32.const 1)))
        (assert_return (invoke "one") (i32.const 2))
        (assert_trap (invoke "one") "unreachable")
        (assert_invalid (module) "should have been invalid")
        (invoke "missing")
    "#;
    let outcome = run(text);
    assert_eq!(outcome.directives, 10);
    let reasons: Vec<&str> = outcome.failures.iter().map(|f| f.reason.as_str()).collect();
    assert_eq!(reasons.len(), 8, "{reasons:#?}");
    assert!(
        reasons[0].contains("expected i32:2, got i32:1"),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[1].contains("expected trap \"unreachable\""),
        "{}",
        reasons[1]
    );
    assert!(reasons[2].contains("module was accepted"), "{}", reasons[2]);
    assert!(
        reasons[3].contains("no export \"missing\""),
        "{}",
        reasons[3]
    );
    assert_eq!(outcome.failures[0].line, 3);
}
