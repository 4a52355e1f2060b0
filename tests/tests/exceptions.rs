//! Core exceptions at component boundaries, through the real component
//! compiler, linker, loader and runtime: an exception a lifted function does
//! not catch traps where it would leave the component, whether the caller is
//! the host or another component (through a fused adapter).

use rivet_tests::pipeline::Mode;
use rivet_tests::pipeline::Pipeline;
use rivet_tests::script::run_text;

/// `$A` throws from a lifted export; `$B` calls it through a fused adapter
/// inside a `try_table` with `catch_all`, which must not see the exception.
const CROSSING: &str = r#"
(component
  (component $A
    (core module $Thrower
      (tag $t (param i32))
      (func (export "throw") (param i32) (throw $t (local.get 0)))
      (func (export "catch") (param i32) (result i32)
        (block $h (result i32)
          (try_table (catch $t $h) (throw $t (local.get 0)))
          (i32.const -1))))
    (core instance $i (instantiate $Thrower))
    (func (export "throw") (param "x" u32) (canon lift (core func $i "throw")))
    (func (export "catch") (param "x" u32) (result u32) (canon lift (core func $i "catch"))))
  (component $B
    (import "throw" (func $throw (param "x" u32)))
    (core func $lowered (canon lower (func $throw)))
    (core module $Catcher
      (import "a" "throw" (func $throw (param i32)))
      (func (export "run") (result i32)
        (block $h
          (try_table (catch_all $h) (call $throw (i32.const 5)))
          (return (i32.const 1)))
        (i32.const 2)))
    (core instance $c (instantiate $Catcher
      (with "a" (instance (export "throw" (func $lowered))))))
    (func (export "run") (result u32) (canon lift (core func $c "run"))))
  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "throw" (func $a "throw"))))
  (export "run" (func $b "run"))
  (export "throw" (func $a "throw"))
  (export "catch" (func $a "catch")))
"#;

#[test]
fn uncaught_exceptions_trap_at_component_boundaries() {
    let text = format!(
        r#"{CROSSING}
        (assert_return (invoke "catch" (u32.const 4)) (u32.const 4))
        (assert_trap (invoke "run") "uncaught exception")
        "#
    );
    let pipeline = Pipeline::new(1).expect("creating the temporary directory");
    // In the C mode too: a unit with exceptions stays with Cranelift.
    let outcome = run_text(&text, &Mode::ALL, true, &pipeline);
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
    assert_eq!(outcome.directives, 3 * 3);
}

/// Like any trap, it poisons the component instance it left.
#[test]
fn uncaught_exceptions_trap_at_the_host() {
    let text = format!(
        r#"{CROSSING}
        (assert_return (invoke "catch" (u32.const 9)) (u32.const 9))
        (assert_trap (invoke "throw" (u32.const 1)) "uncaught exception")
        (assert_trap (invoke "catch" (u32.const 9)) "cannot enter component instance")
        "#
    );
    let pipeline = Pipeline::new(1).expect("creating the temporary directory");
    let outcome = run_text(&text, &[Mode::Guard], true, &pipeline);
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
    assert_eq!(outcome.directives, 4);
}
