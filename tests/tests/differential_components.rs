//! The component half of the differential fuzzer's CI smoke (issue 22,
//! docs/fuzzing.md): the component cases of a fixed-seed batch, regenerated
//! from their seeds, run in Rivet in every mode and judged against the
//! spec's outcome where the generator knows it, and against Wasmtime's
//! outcomes recorded in `tests/differential/wasmtime-components.txt`
//! otherwise, so CI needs no Wasmtime build.

use rivet_tests::differential::component::case::{generate, Case};
use rivet_tests::differential::component::fault::{Fault, Side};
use rivet_tests::differential::component::{judge, rivet_side};
use rivet_tests::differential::outcome::Verdict;
use rivet_tests::differential::recording::{self, Recorded, RECORD_COMPONENTS_COMMAND};
use rivet_tests::pipeline::Mode;

/// Cases composed into one component: one compile and link per batch.
const BATCH: usize = 20;

fn recorded() -> Vec<Recorded> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/differential/wasmtime-components.txt"
    );
    recording::read(path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn rivet_agrees_with_the_spec_and_the_wasmtime_recording_in_every_mode() {
    let recorded = recorded();
    let cases: Vec<Case> = recorded
        .iter()
        .map(|r| {
            let case = generate(r.seed);
            let checked = r.check_hash(case.hash(), RECORD_COMPONENTS_COMMAND);
            checked.unwrap_or_else(|e| panic!("{e}"));
            case
        })
        .collect();
    let cases: Vec<&Case> = cases.iter().collect();
    let mut divergences = Vec::new();
    for mode in Mode::ALL {
        for (records, batch) in recorded.chunks(BATCH).zip(cases.chunks(BATCH)) {
            let runs = rivet_side::run_batch(batch, mode);
            for ((record, case), run) in records.iter().zip(batch).zip(runs) {
                if let Verdict::Diverge(why) = judge(case, &record.outcome, &run.outcome) {
                    divergences.push(format!("seed {} mode {}: {why}", record.seed, mode.name()));
                }
            }
        }
    }
    assert!(
        divergences.is_empty(),
        "divergences:\n{}",
        divergences.join("\n")
    );
}

/// The first case with `fault` on each side, run in every mode: its
/// outcome is the spec's, and Rivet's trap message contains `trap`.
fn traps_for_its_reason(fault: fn(Side) -> Fault, trap: &str) {
    for side in [Side::A, Side::B] {
        let case = (0..)
            .map(generate)
            .find(|c| c.fault == Some(fault(side)))
            .expect("the generator draws the fault");
        let expected = case.expected().expect("the spec's outcome is known");
        for mode in Mode::ALL {
            let run = rivet_side::run_batch(&[&case], mode).remove(0);
            assert_eq!(run.outcome.lines, expected.lines, "seed {}", case.seed);
            let message = run.trap.unwrap_or_default();
            assert!(message.contains(trap), "seed {}: {message}", case.seed);
        }
    }
}

/// A side that calls back into A through the component around them: A is
/// entered again while on the stack, which the spec traps on entry
/// (`may_enter_from`), before anything reaches the host.
#[test]
fn a_reentered_component_traps_on_entry_in_every_mode() {
    traps_for_its_reason(Fault::Reenter, "cannot enter");
}

/// A side that calls its own export: the spec subtracts the caller's
/// instances from the entering set, so this is plain recursion, which ends
/// when the stack does (Wasmtime traps on entry instead: docs/fuzzing.md).
#[test]
fn a_component_calling_itself_recurses_until_the_stack_is_exhausted() {
    traps_for_its_reason(Fault::Recurse, "call stack exhausted");
}

/// Divergences the component fuzzer found, minimised (docs/fuzzing.md,
/// "Findings"): each component below is the smallest that showed one, and
/// each test failed before its fix.
mod regressions {
    use rivet::{ComponentImports, Store, Trap, Value};
    use rivet_tests::loader::{compile_and_load_component, LoadedComponent};
    use rivet_tests::pipeline::{Mode, Target};

    fn load(wat: &str, mode: Mode) -> LoadedComponent {
        let wasm = wat::parse_str(wat).unwrap();
        let target = Target {
            mode,
            multi_memory: true,
        };
        compile_and_load_component(&wasm, &target.options()).unwrap()
    }

    /// Seed 5142: B passed the host a return pointer four bytes before the
    /// end of its memory for an `option<list<u8>>` (12 bytes); the host
    /// returned `none`, whose one written byte fits, and Rivet stored it.
    /// `lower_heap_values` checks the whole range first: a trap.
    const SHORT_RETURN_AREA: &str = r#"(component
      (import "h" (func $h (result (option (list u8)))))
      (core module $Libc
        (memory (export "mem") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 256)))
      (core instance $libc (instantiate $Libc))
      (core func $h (canon lower (func $h) (memory (core memory $libc "mem"))
        (realloc (core func $libc "realloc"))))
      (core module $Main
        (import "" "h" (func $h (param i32)))
        (func (export "run") (call $h (i32.const 65532))))
      (core instance $main (instantiate $Main (with "" (instance (export "h" (func $h))))))
      (func (export "run") (canon lift (core func $main "run"))))"#;

    fn call_run(mode: Mode, imports: &ComponentImports) -> Result<Option<Value>, Trap> {
        let loaded = load(SHORT_RETURN_AREA, mode);
        let mut store = Store::new(mode.bounds());
        let instance = store
            .instantiate_component(&loaded.component, imports)
            .unwrap();
        instance.call(&mut store, "run", &[])
    }

    #[test]
    fn a_spilled_host_result_is_range_checked_before_it_is_stored() {
        for mode in Mode::ALL {
            let mut dynamic = ComponentImports::new();
            dynamic.func("h", |_| Ok(Some(Value::Option(None))));
            let mut typed = ComponentImports::new();
            typed.func_typed("h", || -> Result<Option<Vec<u8>>, Trap> { Ok(None) });
            for imports in [dynamic, typed] {
                let trap = call_run(mode, &imports).unwrap_err();
                assert!(trap.message.contains("out of bounds"), "{mode:?}: {trap:?}");
            }
        }
    }

    /// Found when the fuzzer first ran a batch of cases in one composition:
    /// after case 0 trapped, Wasmtime refused to enter the others, Rivet
    /// ran them. A host call into a nested instance enters its ancestors
    /// (`entering_set`), and a trap leaves them entered, so the whole
    /// composition is locked down: Wasmtime is right.
    const TWO_CHILDREN: &str = r#"(component
      (component $C
        (core module $M
          (func (export "boom") unreachable)
          (func (export "ok") (result i32) (i32.const 7)))
        (core instance $m (instantiate $M))
        (func (export "boom") (canon lift (core func $m "boom")))
        (func (export "ok") (result u32) (canon lift (core func $m "ok"))))
      (instance $c1 (instantiate $C))
      (instance $c2 (instantiate $C))
      (export "c1" (instance $c1))
      (export "c2" (instance $c2)))"#;

    #[test]
    fn a_trap_in_one_child_locks_the_whole_composition_down() {
        for mode in Mode::ALL {
            let loaded = load(TWO_CHILDREN, mode);
            let mut store = Store::new(mode.bounds());
            let imports = ComponentImports::new();
            let instance = store
                .instantiate_component(&loaded.component, &imports)
                .unwrap();
            for _ in 0..2 {
                let ok = instance.call(&mut store, "c2#ok", &[]);
                assert_eq!(ok.unwrap(), Some(Value::U32(7)), "{mode:?}");
            }
            assert!(instance.call(&mut store, "c1#boom", &[]).is_err());
            let after = instance.call(&mut store, "c2#ok", &[]).unwrap_err();
            assert!(
                after.message.contains("cannot enter"),
                "{mode:?}: {after:?}"
            );
        }
    }
    /// Seeds 2002240 and 2001656: through a fused adapter, a spilled result
    /// read from a pointer 8 bytes before the end of the callee's memory, and
    /// one written to a return area there, were range-checked only as far as
    /// the short case (`a`, a byte) reached; the variant takes 16 bytes, so
    /// the spec traps (`lift_flat_values`, `lower_flat_values`). `result` is
    /// where the callee's result is, `retptr` the caller's return area.
    fn adapter_result(result: u32, retptr: u32) -> String {
        format!(
            r#"(component
          (component $C
            (core module $M
              (memory (export "mem") 1)
              (func (export "f") (result i32) (i32.const {result})))
            (core instance $m (instantiate $M))
            (type $v' (variant (case "a") (case "b" u64)))
            (export $v "v" (type $v'))
            (func (export "f") (result $v)
              (canon lift (core func $m "f") (memory (core memory $m "mem")))))
          (component $D
            (import "c" (instance $c
              (type $v' (variant (case "a") (case "b" u64)))
              (export "v" (type $v (eq $v')))
              (export "f" (func (result $v)))))
            (core module $Libc (memory (export "mem") 1))
            (core instance $libc (instantiate $Libc))
            (core func $f (canon lower (func $c "f") (memory (core memory $libc "mem"))))
            (core module $Main
              (import "" "f" (func $f (param i32)))
              (func (export "run") (result i32) (call $f (i32.const {retptr})) (i32.const 1)))
            (core instance $main (instantiate $Main (with "" (instance (export "f" (func $f))))))
            (func (export "run") (result u32) (canon lift (core func $main "run"))))
          (instance $c (instantiate $C))
          (instance $d (instantiate $D (with "c" (instance $c))))
          (func (export "run") (alias export $d "run")))"#
        )
    }

    #[test]
    fn an_adapter_checks_the_whole_range_of_a_spilled_result() {
        for mode in Mode::ALL {
            for (result, retptr, fits) in [(0, 8, true), (65528, 8, false), (0, 65528, false)] {
                let loaded = load(&adapter_result(result, retptr), mode);
                let mut store = Store::new(mode.bounds());
                let imports = ComponentImports::new();
                let instance = store
                    .instantiate_component(&loaded.component, &imports)
                    .unwrap();
                let called = instance.call(&mut store, "run", &[]);
                match fits {
                    true => assert_eq!(called.unwrap(), Some(Value::U32(1)), "{mode:?}"),
                    false => {
                        let trap = called.unwrap_err();
                        let why = (mode, result, retptr, &trap);
                        assert!(trap.message.contains("out of bounds"), "{why:?}");
                    }
                }
            }
        }
    }

    /// Seed 371 (and 1 more of 3,000): A (`latin1+utf16`) passed "!M3ü" to
    /// B (UTF-8) through the adapter, and B's `realloc` returned a pointer
    /// one byte off when it moved the allocation; Wasmtime handed B the
    /// spec's string, Rivet another. The spec's transcoders write the prefix
    /// that fits the first allocation before they grow it, trust `realloc`
    /// to keep it, and write only the rest after (inflating a Latin-1 prefix
    /// in place); the adapter wrote the whole string after growing. Here
    /// B's `realloc` grows into fresh zeros without copying (and shrinks in
    /// place), so the spec's string starts with zeros where the prefix was.
    fn transcoding(a_encoding: &str, a_string: &str, b_encoding: &str) -> String {
        format!(
            r#"(component
          (import "h" (func $h (param "s" string)))
          (component $B
            (import "h" (func $h (param "s" string)))
            (core module $Libc
              (memory (export "mem") 1)
              (func (export "realloc") (param $old i32) (param $osize i32) (param i32)
                (param $nsize i32) (result i32)
                (if (result i32) (i32.eqz (local.get $old)) (then (i32.const 100))
                  (else (if (result i32) (i32.gt_u (local.get $nsize) (local.get $osize))
                    (then (i32.const 200)) (else (local.get $old)))))))
            (core instance $libc (instantiate $Libc))
            (core func $h (canon lower (func $h) string-encoding={b_encoding}
              (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
            (core module $Main (import "" "h" (func $h (param i32 i32)))
              (func (export "f") (param i32 i32) (call $h (local.get 0) (local.get 1))))
            (core instance $main (instantiate $Main (with "" (instance (export "h" (func $h))))))
            (func (export "f") (param "s" string) (canon lift (core func $main "f")
              string-encoding={b_encoding} (memory (core memory $libc "mem"))
              (realloc (core func $libc "realloc")))))
          (component $A
            (import "f" (func $f (param "s" string)))
            (core module $Libc (memory (export "mem") 1) (data (i32.const 16) "{a_string}"))
            (core instance $libc (instantiate $Libc))
            (core func $f (canon lower (func $f) string-encoding={a_encoding}
              (memory (core memory $libc "mem"))))
            (core module $Main (import "" "f" (func $f (param i32 i32)))
              (func (export "run") (call $f (i32.const 16) (i32.const 4))))
            (core instance $main (instantiate $Main (with "" (instance (export "f" (func $f))))))
            (func (export "run") (canon lift (core func $main "run"))))
          (instance $b (instantiate $B (with "h" (func $h))))
          (instance $a (instantiate $A (with "f" (func $b "f"))))
          (export "run" (func $a "run")))"#
        )
    }

    #[test]
    fn an_adapter_writes_a_transcoded_string_where_and_when_the_spec_does() {
        let cases = [
            // Latin-1 "!M3ü" into UTF-8: "!M3" before growing, "ü" after.
            ("latin1+utf16", "!M3\\fc", "utf8", "\0\0\0ü"),
            // UTF-8 "abĀ" into latin1+utf16: "ab" as Latin-1 before growing,
            // inflated in place after (zeros here), then "Ā" as UTF-16.
            ("utf8", "ab\\c4\\80", "latin1+utf16", "\0\0Ā"),
        ];
        for mode in Mode::ALL {
            for (a_encoding, a_string, b_encoding, spec) in cases {
                let loaded = load(&transcoding(a_encoding, a_string, b_encoding), mode);
                let mut store = Store::new(mode.bounds());
                let received = std::sync::Arc::new(std::sync::Mutex::new(None));
                let mut imports = ComponentImports::new();
                let sink = received.clone();
                imports.func("h", move |args| {
                    *sink.lock().unwrap() = Some(args.to_vec());
                    Ok(None)
                });
                let instance = store
                    .instantiate_component(&loaded.component, &imports)
                    .unwrap();
                instance.call(&mut store, "run", &[]).unwrap();
                let got = received.lock().unwrap().take();
                let want = Some(vec![Value::String(spec.to_string())]);
                assert_eq!(got, want, "{mode:?} {a_encoding} into {b_encoding}");
            }
        }
    }
}
