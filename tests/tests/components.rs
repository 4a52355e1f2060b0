//! End-to-end checks of the runner's component directives on small scripts,
//! through the real component compiler, linker, loader and runtime (so they need
//! the merged rivet-build and rivet crates, not stubs).

use rivet_tests::pipeline::Mode;
use rivet_tests::pipeline::Pipeline;
use rivet_tests::script::{run_text, Outcome};

const BOTH: [Mode; 2] = [Mode::Guard, Mode::Explicit];

fn run(text: &str) -> Outcome {
    let pipeline = Pipeline::new(1).expect("creating the temporary directory");
    run_text(text, &BOTH, true, &pipeline)
}

fn reasons(outcome: &Outcome) -> Vec<&str> {
    outcome.failures.iter().map(|f| f.reason.as_str()).collect()
}

/// A component exporting `f1` (returns "a"), `add` (u32 + u32) and `boom` (traps).
const TESTER: &str = r#"
    (component definition $Tester
      (core module $M
        (memory (export "mem") 1)
        (func (export "f1") (result i32)
          (i32.store (i32.const 0) (i32.const 8))
          (i32.store (i32.const 4) (i32.const 1))
          (i32.store8 (i32.const 8) (i32.const 97))
          (i32.const 0))
        (func (export "add") (param i32 i32) (result i32)
          (i32.add (local.get 0) (local.get 1)))
        (func (export "boom") unreachable))
      (core instance $m (instantiate $M))
      (func (export "f1") (result string)
        (canon lift (core func $m "f1") (memory (core memory $m "mem"))))
      (func (export "add") (param "a" u32) (param "b" u32) (result u32)
        (canon lift (core func $m "add")))
      (func (export "boom") (canon lift (core func $m "boom"))))
"#;

#[test]
fn definitions_instances_invokes_and_poisoning() {
    let text = format!(
        r#"{TESTER}
        (component instance $i $Tester)
        (assert_return (invoke $i "f1") (str.const "a"))
        (assert_return (invoke "add" (u32.const 40) (u32.const 2)) (u32.const 42))
        (assert_trap (invoke "boom") "unreachable")
        (assert_trap (invoke "add" (u32.const 1) (u32.const 2)) "wasm trap: cannot enter component instance")
        (component instance $j $Tester)
        (assert_return (invoke $j "add" (u32.const 1) (u32.const 2)) (u32.const 3))
        "#
    );
    let outcome = run(&text);
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
    assert!(outcome.skipped.is_empty(), "{:#?}", outcome.skipped);
    assert_eq!(outcome.directives, 2 * 8);
}

#[test]
fn wrong_component_expectations_fail() {
    let text = format!(
        r#"{TESTER}
        (component instance $i $Tester)
        (assert_return (invoke "f1") (str.const "b"))
        (assert_return (invoke "add" (u32.const 1) (u32.const 1)) (u32.const 3))
        (assert_trap (invoke "add" (u32.const 1) (u32.const 1)) "unreachable")
        (invoke "missing")
        "#
    );
    let outcome = run(&text);
    let reasons = reasons(&outcome);
    assert_eq!(reasons.len(), 8, "{reasons:#?}");
    assert!(reasons[0].contains("String(\"b\")"), "{}", reasons[0]);
    assert!(
        reasons[1].contains("expected U32(3), got U32(2)"),
        "{}",
        reasons[1]
    );
    assert!(reasons[2].contains("expected trap"), "{}", reasons[2]);
    assert!(
        reasons[3].contains("no exported function"),
        "{}",
        reasons[3]
    );
}

#[test]
fn component_rejections_pass() {
    let text = r#"
        (assert_invalid
          (component (core module $m) (core instance (instantiate 7)))
          "index out of bounds")
        (assert_malformed (component quote "(core") "unexpected")
        (assert_malformed (component binary "\00asm\0d\00\01") "unexpected end")
    "#;
    let outcome = run(text);
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
    assert_eq!(outcome.directives, 2 * 3);
}

#[test]
fn async_components_and_their_uses_are_skipped() {
    let text = r#"
        (component $A
          (core module $M
            (func (export "f") (result i32) (i32.const 0))
            (func (export "cb") (param i32 i32 i32) (result i32) (i32.const 0)))
          (core instance $m (instantiate $M))
          (func (export "f") async
            (canon lift (core func $m "f") async (callback (core func $m "cb")))))
        (invoke $A "f")
        (assert_return (invoke "f"))
        (component
          (core module $M (func (export "g") (result i32) (i32.const 7)))
          (core instance $m (instantiate $M))
          (func (export "g") (result u32) (canon lift (core func $m "g"))))
        (assert_return (invoke "g") (u32.const 7))
    "#;
    let outcome = run(text);
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
    assert_eq!(outcome.skipped.len(), 2 * 3, "{:#?}", outcome.skipped);
    assert_eq!(outcome.passed(), 2 * 2);
}

#[test]
fn instantiation_traps_and_missing_imports() {
    let text = r#"
        (assert_trap
          (component
            (core module $M (func $s unreachable) (start $s))
            (core instance (instantiate $M)))
          "unreachable")
        (assert_unlinkable (component (import "f" (func))) "unknown import")
    "#;
    let outcome = run(text);
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
}

/// Every kind of trap a fused adapter raises (tests/wast/adapter-traps.wast)
/// reaches the host with its own message in every mode, the Canonical ABI's
/// for the adapter's checks and the core trap's for code compiled beside an
/// adapter, never as an unknown trap.
#[test]
fn adapter_traps_keep_their_kind_in_every_mode() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wast/adapter-traps.wast");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let pipeline = Pipeline::new(1).expect("creating the temporary directory");
    let outcome = run_text(&text, &Mode::ALL, true, &pipeline);
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
    assert!(outcome.skipped.is_empty(), "{:#?}", outcome.skipped);
    let traps = text.matches("(assert_trap").count();
    assert_eq!(outcome.directives, Mode::ALL.len() * 2 * traps);
}
