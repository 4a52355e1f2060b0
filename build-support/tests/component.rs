//! Components: decoding, validation, flattening into the plan, and compiling the
//! unit of several core modules into one loadable object.

use rivet_build::__internal::{decode_component, flatten, link_shared, ASYNC_UNSUPPORTED};
use rivet_build::{compile_component, is_component, validate_component, Error, ErrorKind, Options};
use rivet_descriptor::component::{Component, CoreDef, Step, StringEncoding, ValueType};
use rivet_descriptor::{RawDescriptor, SegmentMode, Unit};
use std::path::PathBuf;

/// Flattens a component written in WAT; returns the plan and the number of
/// core modules of the unit.
fn plan(wat: &str) -> Result<(Component, usize), Error> {
    let wasm = wat::parse_str(wat).unwrap();
    assert!(is_component(&wasm));
    let tree = decode_component(&wasm, true)?;
    let flat = flatten(&tree)?;
    Ok((flat.plan, flat.modules.len()))
}

fn export(instance: u32, name: &str) -> CoreDef {
    CoreDef::Export {
        instance,
        name: name.to_string().into(),
    }
}

const ADD: &str = r#"
(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "add") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.add)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
    (func (export "len") (param i32 i32) (result i32) local.get 1)
    (func (export "free") (param i32)))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" s32) (param "b" s32) (result s32)
    (canon lift (core func $i "add")))
  (func (export "len") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      string-encoding=utf16 (post-return (core func $i "free"))))
)
"#;

#[test]
fn lifted_exports_reach_the_host() {
    let (plan, modules) = plan(ADD).unwrap();
    assert_eq!(modules, 1);
    assert_eq!(plan.instances.len(), 1);
    assert_eq!(plan.instances[0].parent, None);
    assert_eq!(plan.steps.len(), 1);
    let rivet_descriptor::component::Step::Instantiate { module, args } = &plan.steps[0];
    assert_eq!((*module, args.len()), (0, 0));
    let names: Vec<_> = plan.exports.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(names, ["add", "len"]);

    let add = &plan.lifts[plan.exports[0].lift as usize];
    assert_eq!(add.func, export(0, "add"));
    assert_eq!(add.instance, 0);
    let ty = &plan.func_types[add.ty as usize];
    let s32 = plan
        .types
        .iter()
        .position(|t| *t == ValueType::S32)
        .unwrap() as u32;
    assert_eq!(ty.params[..], [("a".into(), s32), ("b".into(), s32)]);
    assert_eq!(ty.result, Some(s32));

    let len = &plan.lifts[plan.exports[1].lift as usize];
    assert_eq!(len.options.memory, Some(export(0, "mem")));
    assert_eq!(len.options.realloc, Some(export(0, "realloc")));
    assert_eq!(len.options.post_return, Some(export(0, "free")));
    assert_eq!(len.options.string_encoding, StringEncoding::Utf16);
    let ty = &plan.func_types[len.ty as usize];
    assert_eq!(plan.types[ty.params[0].1 as usize], ValueType::String);
}

#[test]
fn a_module_instantiated_twice_is_compiled_once() {
    let (plan, modules) = plan(
        r#"
        (component
          (core module $m (global (export "g") (mut i32) (i32.const 0)))
          (core module $n (import "a" "g" (global (mut i32))) (import "b" "g" (global (mut i32))))
          (core instance $x (instantiate $m))
          (core instance $y (instantiate $m))
          (core instance $z (instantiate $n (with "a" (instance $x)) (with "b" (instance $y))))
        )"#,
    )
    .unwrap();
    assert_eq!(modules, 2);
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(
            |rivet_descriptor::component::Step::Instantiate { module, args }| {
                (*module, args.to_vec())
            },
        )
        .collect();
    assert_eq!(
        steps,
        [
            (0, vec![]),
            (0, vec![]),
            (1, vec![export(0, "g"), export(1, "g")])
        ]
    );

    // Two definitions with the same bytes, in different nested components.
    let (twice, modules) = self::plan(
        r#"
        (component
          (component $a (core module $m (func (export "f"))) (core instance (instantiate $m)))
          (component $b (core module $m (func (export "f"))) (core instance (instantiate $m)))
          (instance (instantiate $a))
          (instance (instantiate $b))
        )"#,
    )
    .unwrap();
    assert_eq!((modules, twice.steps.len()), (1, 2));
}

#[test]
fn host_imports_are_lowered_and_wired() {
    let (plan, _) = plan(
        r#"
        (component
          (import "log" (func $log (param "x" u32)))
          (import "wasi:io/x@0.2.0" (instance $io
            (export "get" (func (result u32)))
            (export "put" (func (param "v" u64)))))
          (core func $log_l (canon lower (func $log)))
          (alias export $io "get" (func $get))
          (core func $get_l (canon lower (func $get)))
          (core module $m
            (import "h" "log" (func (param i32)))
            (import "h" "get" (func (result i32)))
            (func (export "run") call 1 call 0))
          (core instance $h (export "log" (func $log_l)) (export "get" (func $get_l)))
          (core instance $i (instantiate $m (with "h" (instance $h))))
          (func (export "run") (canon lift (core func $i "run")))
        )"#,
    )
    .unwrap();
    let names: Vec<_> = plan.imports.iter().map(|i| i.name.as_ref()).collect();
    assert_eq!(names, ["log", "wasi:io/x@0.2.0#get", "wasi:io/x@0.2.0#put"]);
    let u64_ty = plan.func_types[plan.imports[2].ty as usize].params[0].1;
    assert_eq!(plan.types[u64_ty as usize], ValueType::U64);
    assert_eq!(plan.host_lowers.len(), 2);
    assert_eq!(
        (plan.host_lowers[0].import, plan.host_lowers[1].import),
        (0, 1)
    );
    let rivet_descriptor::component::Step::Instantiate { args, .. } = &plan.steps[0];
    assert_eq!(&args[..], &[CoreDef::HostLower(0), CoreDef::HostLower(1)]);
    assert_eq!(plan.exports[0].name, "run");
}

#[test]
fn nested_components_are_inlined_per_instance() {
    let (plan, modules) = plan(
        r#"
        (component
          (component $inner
            (import "seed" (func $seed (result u32)))
            (core module $m (func (export "f") (result i32) i32.const 7))
            (core instance $i (instantiate $m))
            (func (export "f") (result u32) (canon lift (core func $i "f"))))
          (import "seed" (func $seed (result u32)))
          (instance $a (instantiate $inner (with "seed" (func $seed))))
          (instance $b (instantiate $inner (with "seed" (func $seed))))
          (export "a" (instance $a))
          (alias export $b "f" (func $bf))
          (export "g" (func $bf))
        )"#,
    )
    .unwrap();
    assert_eq!(modules, 1);
    assert_eq!(plan.steps.len(), 2);
    let parents: Vec<_> = plan.instances.iter().map(|i| i.parent).collect();
    assert_eq!(parents, [None, Some(0), Some(0)]);
    let exports: Vec<_> = plan
        .exports
        .iter()
        .map(|e| {
            let lift = &plan.lifts[e.lift as usize];
            (e.name.as_ref(), lift.instance, lift.func.clone())
        })
        .collect();
    assert_eq!(
        exports,
        [("a#f", 1, export(0, "f")), ("g", 2, export(1, "f"))]
    );
}

#[test]
fn outer_aliases_reach_enclosing_modules() {
    let (plan, modules) = plan(
        r#"
        (component
          (core module $m (func (export "f")))
          (component $c
            (core instance $i (instantiate $m))
            (func (export "f") (canon lift (core func $i "f"))))
          (instance $x (instantiate $c))
          (export "x" (instance $x))
        )"#,
    )
    .unwrap();
    assert_eq!(modules, 1);
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.exports[0].name, "x#f");
    assert_eq!(plan.lifts[0].instance, 1);
}

#[test]
fn resources_and_their_intrinsics() {
    let (plan, _) = plan(
        r#"
        (component
          (core module $d (func (export "dtor") (param i32)))
          (core instance $di (instantiate $d))
          (type $r (resource (rep i32) (dtor (core func $di "dtor"))))
          (core func $new (canon resource.new $r))
          (core func $rep (canon resource.rep $r))
          (core func $drop (canon resource.drop $r))
          (core module $m
            (import "" "new" (func (param i32) (result i32)))
            (import "" "rep" (func (param i32) (result i32)))
            (import "" "drop" (func (param i32)))
            (func (export "make") (param i32) (result i32) local.get 0 call 0))
          (core instance $i (instantiate $m
            (with "" (instance (export "new" (func $new)) (export "rep" (func $rep))
                               (export "drop" (func $drop))))))
          (export $re "r" (type $r))
          (func (export "make") (param "rep" u32) (result (own $re))
            (canon lift (core func $i "make")))
        )"#,
    )
    .unwrap();
    assert_eq!(plan.resources.len(), 1);
    assert_eq!(plan.resources[0].instance, 0);
    assert_eq!(plan.resources[0].dtor, Some(export(0, "dtor")));
    assert_eq!(plan.resources[0].name, "r");
    let rivet_descriptor::component::Step::Instantiate { args, .. } = &plan.steps[1];
    assert_eq!(
        &args[..],
        &[
            CoreDef::ResourceNew {
                resource: 0,
                instance: 0
            },
            CoreDef::ResourceRep {
                resource: 0,
                instance: 0
            },
            CoreDef::ResourceDrop {
                resource: 0,
                instance: 0
            },
        ]
    );
    let ty = &plan.func_types[plan.lifts[0].ty as usize];
    assert_eq!(plan.types[ty.result.unwrap() as usize], ValueType::Own(0));
}

#[test]
fn value_types_are_interned() {
    let (plan, _) = plan(
        r#"
        (component
          (core module $m (memory (export "mem") 1)
            (func (export "f") (param i32 i32) (result i32) i32.const 0)
            (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
          (core instance $i (instantiate $m))
          (type $rec (record (field "a" u8) (field "b" (list u8))))
          (export $rec2 "rec" (type $rec))
          (type $v (variant (case "x" $rec2) (case "y")))
          (export $v2 "v" (type $v))
          (func (export "f") (param "l" (list u8)) (result (option (tuple $v2 (list u8))))
            (canon lift (core func $i "f") (memory (core memory $i "mem"))
              (realloc (core func $i "realloc"))))
        )"#,
    )
    .unwrap();
    let count = |t: &ValueType| plan.types.iter().filter(|x| *x == t).count();
    let u8_ty = plan.types.iter().position(|t| *t == ValueType::U8).unwrap() as u32;
    assert_eq!(count(&ValueType::List(u8_ty)), 1);
    let ty = &plan.func_types[plan.lifts[0].ty as usize];
    let ValueType::Option(inner) = plan.types[ty.result.unwrap() as usize] else {
        panic!("not an option");
    };
    let ValueType::Tuple(items) = &plan.types[inner as usize] else {
        panic!("not a tuple");
    };
    assert_eq!(items[1], ty.params[0].1);
    let ValueType::Variant(cases) = &plan.types[items[0] as usize] else {
        panic!("not a variant");
    };
    assert_eq!(cases[1], ("y".into(), None));
    let rec = cases[0].1.unwrap();
    assert_eq!(
        plan.types[rec as usize],
        ValueType::Record(vec![("a".into(), u8_ty), ("b".into(), ty.params[0].1)].into())
    );
}

#[test]
fn calls_between_instances_go_through_an_adapter() {
    let result = plan(
        r#"
        (component
          (component $callee
            (core module $m (func (export "f") (param i32) (result i32) local.get 0))
            (core instance $i (instantiate $m))
            (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f"))))
          (instance $a (instantiate $callee))
          (alias export $a "f" (func $f))
          (core func $lowered (canon lower (func $f)))
          (core module $caller (import "" "f" (func (param i32) (result i32))))
          (core instance $c (instantiate $caller (with "" (instance (export "f" (func $lowered))))))
        )"#,
    );
    match result {
        Ok((plan, modules)) => {
            // The adapter module follows the guest modules and is instantiated
            // before the caller, which imports its export.
            assert_eq!(modules, 3);
            let rivet_descriptor::component::Step::Instantiate { module, .. } = &plan.steps[1];
            assert_eq!(*module, 2);
            let rivet_descriptor::component::Step::Instantiate { args, .. } = &plan.steps[2];
            assert!(matches!(&args[0], CoreDef::Export { instance: 1, .. }));
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            assert!(e.offset().is_some(), "{e}");
        }
    }
}

#[test]
fn async_is_rejected_with_the_exact_message() {
    for wat in [
        r#"(component
             (core module $m (func (export "f") (result i32) i32.const 0)
                             (func (export "cb") (param i32 i32 i32) (result i32) i32.const 0))
             (core instance $i (instantiate $m))
             (func (export "f") async (canon lift (core func $i "f") async (callback (core func $i "cb")))))"#,
        r#"(component (type $s (stream u8)))"#,
        r#"(component (core func (canon backpressure.inc)))"#,
        r#"(component (core func (canon waitable-set.new)))"#,
    ] {
        let wasm = wat::parse_str(wat).unwrap();
        let err = validate_component(&wasm, &Options::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{wat}: {err}");
        assert_eq!(err.message(), ASYNC_UNSUPPORTED, "{wat}");
        assert!(err.offset().is_some());
        let err = compile_component(&wasm, &Options::default()).unwrap_err();
        assert_eq!(err.message(), ASYNC_UNSUPPORTED);
    }
}

#[test]
fn resources_imported_from_the_host_are_plan_resources() {
    let (plan, _) = plan(
        r#"(component
             (import "r" (type $r (sub resource)))
             (import "r2" (type $r2 (eq $r)))
             (import "i" (instance $i (export "t" (type (sub resource)))))
             (alias export $i "t" (type $t))
             (import "f" (func (param "x" (own $r2)) (param "y" (borrow $t)))))"#,
    )
    .unwrap();
    let names: Vec<_> = plan.resources.iter().map(|r| r.name.as_ref()).collect();
    assert_eq!(names, ["r", "i#t"]);
    assert!(plan
        .resources
        .iter()
        .all(|r| r.imported && r.dtor.is_none()));
    let f = &plan.func_types[plan.imports[0].ty as usize];
    assert_eq!(plan.types[f.params[0].1 as usize], ValueType::Own(0));
    assert_eq!(plan.types[f.params[1].1 as usize], ValueType::Borrow(1));
}

#[test]
fn imported_resources_thread_through_nested_instances() {
    let (plan, _) = plan(
        r#"(component
             (import "T" (type $T (sub resource)))
             (import "f" (func $f (param "x" (own $T))))
             (component $C
               (import "T" (type $T (sub resource)))
               (import "g" (func $g (param "x" (own $T))))
               (core func $lg (canon lower (func $g)))
               (core module $m (import "" "g" (func (param i32))))
               (core instance (instantiate $m (with "" (instance (export "g" (func $lg)))))))
             (instance (instantiate $C (with "T" (type $T)) (with "g" (func $f)))))"#,
    )
    .unwrap();
    assert_eq!(plan.resources.len(), 1);
    assert!(plan.resources[0].imported);
    let f = &plan.func_types[plan.imports[0].ty as usize];
    assert_eq!(plan.types[f.params[0].1 as usize], ValueType::Own(0));
    assert_eq!(plan.host_lowers.len(), 1);
    assert_eq!(plan.host_lowers[0].instance, 1);
}

#[test]
fn an_imported_resource_exported_again_keeps_its_import_name() {
    // Found by the component fuzzer: the host defines `host#r`, so the
    // root's export of the same type under `api` must not rename it.
    let (plan, _) = plan(
        r#"(component
             (import "host" (instance $host (export "r" (type (sub resource)))))
             (alias export $host "r" (type $r))
             (component $C
               (import "r" (type $r (sub resource)))
               (export "r" (type $r)))
             (instance $c (instantiate $C (with "r" (type $r))))
             (export "api" (instance $c))
             (export "again" (type $r)))"#,
    )
    .unwrap();
    let names: Vec<_> = plan.resources.iter().map(|r| r.name.as_ref()).collect();
    assert_eq!(names, ["host#r"]);
    assert!(plan.resources[0].imported);
}

#[test]
fn core_module_imports_are_recorded() {
    let (plan, modules) = plan(
        r#"(component
             (core type $mt (module (export "f" (func))))
             (import "m" (core module (type $mt))))"#,
    )
    .unwrap();
    assert_eq!(plan.module_imports[..], ["m"]);
    assert_eq!(modules, 0);
    assert!(plan.steps.is_empty());
}

#[test]
fn maps_stay_maps_in_the_plan() {
    let (plan, _) = plan(
        r#"
        (component
          (core module $m (memory (export "mem") 1)
            (func (export "f") (param i32 i32) (result i32) i32.const 0)
            (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
          (core instance $i (instantiate $m))
          (func (export "f") (param "m" (map string (list u8))) (result (list (tuple string (list u8))))
            (canon lift (core func $i "f") (memory (core memory $i "mem"))
              (realloc (core func $i "realloc"))))
        )"#,
    )
    .unwrap();
    let ty = &plan.func_types[plan.lifts[0].ty as usize];
    let ValueType::Map(k, v) = plan.types[ty.params[0].1 as usize] else {
        panic!("not a map: {:?}", plan.types);
    };
    assert_eq!(plan.types[k as usize], ValueType::String);
    let ValueType::List(pair) = plan.types[ty.result.unwrap() as usize] else {
        panic!("not a list");
    };
    assert_eq!(
        plan.types[pair as usize],
        ValueType::Tuple(vec![k, v].into())
    );
}

#[test]
fn unsupported_constructs_are_errors_with_offsets() {
    for (wat, reason) in [
        (
            r#"(component (import "c" (component)))"#,
            "component imports",
        ),
        (
            r#"(component
                 (import "m" (core module $m))
                 (core instance (instantiate $m)))"#,
            "not supported: importing a core module",
        ),
        (
            r#"(component
                 (core module $m (func (export "f")))
                 (core instance $i (instantiate $m))
                 (func $f (canon lift (core func $i "f")))
                 (start $f))"#,
            "not supported: component start functions",
        ),
    ] {
        let wasm = wat::parse_str(wat).unwrap();
        let err = validate_component(&wasm, &Options::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{wat}: {err}");
        assert!(err.message().contains(reason), "{wat}: {err}");
        assert!(err.offset().is_some(), "{err}");
    }
}

#[test]
fn invalid_components_are_errors() {
    // Lifting with a type whose flattening needs a memory, without one.
    let wasm = wat::parse_str(
        r#"(component
             (core module $m (func (export "f") (param i32 i32)))
             (core instance $i (instantiate $m))
             (func (export "f") (param "s" string) (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    let err = validate_component(&wasm, &Options::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.offset().is_some());
    assert!(err.message().contains("memory"), "{err}");
    // A core module is not a component.
    let module = wat::parse_str("(module)").unwrap();
    assert!(!is_component(&module));
    assert!(validate_component(&module, &Options::default()).is_err());
}

/// `Binary.md` rules wasmparser 0.263 decides differently, and what Rivet
/// makes of them.
#[test]
fn spec_binary_rules_wasmparser_lacks() {
    let options = Options::default();
    let preamble = b"\0asm\x0d\0\x01\0".to_vec();
    // A non-final core subtype in a component's core type section (WebAssembly
    // 3.0, `0x00 0x50` prefixed there) is a valid type definition.
    let mut sub = preamble.clone();
    sub.extend(b"\x03\x07\x01\x00\x50\x00\x60\x00\x00");
    validate_component(&sub, &options).unwrap();
    // Core modules still get only the features Rivet compiles.
    let gc_module = wat::parse_str("(component (core module (type (struct))))").unwrap();
    let err = validate_component(&gc_module, &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.message().contains("gc"), "{err}");
    // `waitable-set.poll cancellable`: valid, and async, which is refused.
    // The text format no longer writes the flag: set it in the last section,
    // the canonical one, `0x21 cancel? memory`.
    let canon = |memory: u8| {
        let mut wasm = wat::parse_str(
            r#"(component
                 (core module (memory (export "mem") 1))
                 (core instance (instantiate 0))
                 (alias core export 0 "mem" (core memory))
                 (core func (canon waitable-set.poll (memory 0))))"#,
        )
        .unwrap();
        let n = wasm.len();
        assert_eq!(wasm[n - 3..], [0x21, 0x00, 0x00]);
        wasm[n - 2..].copy_from_slice(&[0x01, memory]);
        wasm
    };
    let wasm = canon(0);
    let err = validate_component(&wasm, &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert_eq!(err.message(), ASYNC_UNSUPPORTED);
    assert_eq!(
        err.offset(),
        Some(wasm.len() - 3),
        "the offset of the builtin"
    );
    // With a memory that does not exist it is invalid, not merely async.
    let err = validate_component(&canon(1), &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
}

/// `a1` and `a-1` are distinct names (`Explainer.md`, "Name Uniqueness");
/// wasmparser 0.263 alone takes them as one. The plan keeps both spellings,
/// for instance exports, parameters and record fields alike.
#[test]
fn names_only_hyphens_tell_apart_stay_distinct() {
    let (p, _) = plan(
        r#"(component
             (type $r (record (field "x1" u32) (field "x-1" u32)))
             (import "i" (instance $i
               (export "r" (type $rr (eq $r)))
               (export "a1" (func (param "p1" u32) (param "p-1" u32)))
               (export "a-1" (func (param "v" $rr)))))
             (alias export $i "a1" (func $a1))
             (alias export $i "a-1" (func $a_1))
             (core func (canon lower (func $a1)))
             (core func (canon lower (func $a_1))))"#,
    )
    .unwrap();
    let names: Vec<_> = p.imports.iter().map(|i| i.name.as_ref()).collect();
    assert_eq!(names, ["i#a1", "i#a-1"]);
    let params: Vec<_> = p.func_types[p.imports[0].ty as usize]
        .params
        .iter()
        .map(|(n, _)| n.as_ref())
        .collect();
    assert_eq!(params, ["p1", "p-1"]);
    let fields = p.types.iter().find_map(|t| match t {
        ValueType::Record(fields) => {
            Some(fields.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())
        }
        _ => None,
    });
    assert_eq!(fields.unwrap(), ["x1", "x-1"]);
    // Names the spec does call equal still conflict, with the names as written.
    let err = plan(r#"(component (import "a-b" (func)) (import "A-B" (func)))"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(
        err.message()
            .contains("`A-B` conflicts with previous name `a-b`"),
        "{err}"
    );
}

const NESTED: &str = r#"
(component
  (import "wasi:io/x@0.2.0" (instance $io (export "get" (func (result u32)))))
  (alias export $io "get" (func $get))
  (core func $get_l (canon lower (func $get)))
  (core module $d (func (export "dtor") (param i32)))
  (core instance $di (instantiate $d))
  (type $r (resource (rep i32) (dtor (core func $di "dtor"))))
  (core func $new (canon resource.new $r))
  (component $inner
    (import "get" (func $g (result u32)))
    (core module $m (import "" "g" (func (result i32))) (func (export "f") (result i32) call 0))
    (core func $gl (canon lower (func $g)))
    (core instance $i (instantiate $m (with "" (instance (export "g" (func $gl))))))
    (func (export "f") (result u32) (canon lift (core func $i "f"))))
  (instance $a (instantiate $inner (with "get" (func $get))))
  (export "a" (instance $a))
  (export "r" (type $r))
)
"#;

#[test]
fn corrupt_bytes_never_panic() {
    let options = Options::default();
    for wat in [ADD, NESTED] {
        let wasm = wat::parse_str(wat).unwrap();
        validate_component(&wasm, &options).unwrap();
        let mut rejected = 0;
        for i in 8..wasm.len() {
            for value in [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff] {
                let mut bad = wasm.clone();
                if bad[i] == value {
                    continue;
                }
                bad[i] = value;
                if validate_component(&bad, &options).is_err() {
                    rejected += 1;
                }
            }
            // A prefix ending at a section boundary is a valid component; any
            // other must be rejected.
            if validate_component(&wasm[..i], &options).is_err() {
                rejected += 1;
            }
        }
        assert!(rejected > wasm.len());
        assert!(validate_component(&wasm[..wasm.len() - 1], &options).is_err());
    }
}

/// A loaded compiled unit; the library stays loaded while this lives.
struct Loaded {
    _lib: libloading::Library,
    desc: &'static RawDescriptor,
}

fn load(name: &str, object: Vec<u8>, symbol: &str) -> Loaded {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let obj_path = dir.join(format!("{name}.o"));
    let so_path = dir.join(format!("lib{name}.so"));
    std::fs::write(&obj_path, object).unwrap();
    link_shared(&[obj_path], &so_path).unwrap();
    unsafe {
        let lib = libloading::Library::new(&so_path).unwrap();
        let desc: *const RawDescriptor =
            *lib.get::<*const RawDescriptor>(symbol.as_bytes()).unwrap();
        Loaded {
            _lib: lib,
            desc: &*desc,
        }
    }
}

impl Loaded {
    fn unit(&self) -> Unit {
        let meta =
            unsafe { std::slice::from_raw_parts(self.desc.metadata, self.desc.metadata_len) };
        Unit::decode(meta).unwrap()
    }

    fn data(&self) -> &[u8] {
        unsafe { std::slice::from_raw_parts(self.desc.data, self.desc.data_len) }
    }
}

#[test]
fn compiled_component_carries_every_module_and_the_plan() {
    let wat = r#"
        (component
          (core module $a
            (memory (export "mem") 1)
            (data (i32.const 0) "first")
            (func $one (export "one") (result i32) i32.const 1)
            (func (export "two") (result i32) call $one i32.const 1 i32.add))
          (core module $b
            (import "a" "one" (func (result i32)))
            (memory 1)
            (data (i32.const 4) "second")
            (func (export "three") (result i32) call 0 i32.const 2 i32.add)
            (func (export "f64") (param f64) (result f64) local.get 0))
          (core instance $x (instantiate $a))
          (core instance $y (instantiate $b (with "a" (instance $x))))
          (core instance $z (instantiate $a))
          (func (export "two") (result u32) (canon lift (core func $x "two")))
          (func (export "three") (result u32) (canon lift (core func $y "three")))
        )"#;
    let wasm = wat::parse_str(wat).unwrap();
    let options = Options {
        symbol: "rivet_test_component_unit".to_string(),
        ..Options::default()
    };
    let object = compile_component(&wasm, &options).unwrap();
    let loaded = load("component_unit", object, &options.symbol);
    let unit = loaded.unit();
    let expected = flatten(&decode_component(&wasm, true).unwrap()).unwrap();
    assert_eq!(unit.component.as_ref(), Some(&expected.plan));
    assert_eq!(unit.modules.len(), 2);
    assert_eq!(expected.plan.steps.len(), 3);

    let (a, b) = (&unit.modules[0], &unit.modules[1]);
    assert_eq!(a.defined_function_base, 0);
    assert_eq!(b.defined_function_base, 2);
    assert_eq!(loaded.desc.function_count, 4);
    for f in 0..loaded.desc.function_count {
        assert!(!unsafe { *loaded.desc.functions.add(f) }.is_null());
    }
    // Trampoline indices of the two modules are disjoint and in range.
    let mut used: Vec<u32> = [a, b]
        .iter()
        .flat_map(|m| m.array_trampolines.iter().chain(m.host_trampolines.iter()))
        .copied()
        .collect();
    used.sort();
    used.dedup();
    assert!(used
        .iter()
        .all(|t| (*t as usize) < loaded.desc.trampoline_count));
    assert!(a
        .array_trampolines
        .iter()
        .all(|t| !b.array_trampolines.contains(t) && !b.host_trampolines.contains(t)));
    // Each module's data segments point at its own bytes in the shared blob.
    let bytes = |m: &rivet_descriptor::Module| {
        let d = &m.data[0];
        assert!(matches!(d.mode, SegmentMode::Active { .. }));
        loaded.data()[d.start as usize..(d.start + d.len) as usize].to_vec()
    };
    assert_eq!(bytes(a), b"first");
    assert_eq!(bytes(b), b"second");
}

#[test]
fn compile_errors_point_into_the_component() {
    // A tag section in a nested module: valid under the component features only
    // if exceptions were enabled, so use a table initializer expression that
    // Rivet's core decoder rejects after validation instead.
    let wat = r#"
        (component
          (core module $m (table 1 funcref (ref.null func)))
          (core instance $i (instantiate $m)))"#;
    let wasm = wat::parse_str(wat).unwrap();
    match compile_component(&wasm, &Options::default()) {
        Ok(_) => {}
        Err(e) => {
            let offset = e.offset().expect("offset");
            assert!(offset > 8 && offset < wasm.len(), "{e}");
        }
    }
}

#[test]
fn each_instantiation_defines_its_own_resources() {
    let (plan, _) = plan(
        r#"
        (component
          (component $c
            (core module $m (func (export "id") (param i32) (result i32) local.get 0))
            (core instance $i (instantiate $m))
            (type $r (resource (rep i32)))
            (export $re "r" (type $r))
            (func (export "pass") (param "x" (own $re)) (result (own $re))
              (canon lift (core func $i "id"))))
          (instance $a (instantiate $c))
          (instance $b (instantiate $c))
          (alias export $b "r" (type $br))
          (core func $drop (canon resource.drop $br))
          (export "a" (instance $a))
          (export "b" (instance $b))
        )"#,
    )
    .unwrap();
    assert_eq!(plan.resources.len(), 2);
    assert_eq!(
        (plan.resources[0].instance, plan.resources[1].instance),
        (1, 2)
    );
    // Named as the root exports it, which is how the host knows it.
    assert_eq!(plan.resources[0].name, "a#r");
    assert_eq!(plan.resources[1].name, "b#r");
    let own = |export: &str| {
        let e = plan.exports.iter().find(|e| e.name == export).unwrap();
        let ty = &plan.func_types[plan.lifts[e.lift as usize].ty as usize];
        plan.types[ty.params[0].1 as usize].clone()
    };
    assert_eq!(own("a#pass"), ValueType::Own(0));
    assert_eq!(own("b#pass"), ValueType::Own(1));
}

#[test]
fn lowers_between_the_same_instances_share_one_adapter_module() {
    let (plan, modules) = plan(
        r#"
        (component
          (component $callee
            (core module $m
              (memory (export "mem") 1)
              (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
              (func (export "f") (param i32) (result i32) local.get 0)
              (func (export "g") (param i32 i32) (result i32) local.get 1)
              (func (export "h") (param i32 i32)))
            (core instance $i (instantiate $m))
            (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f")))
            (func (export "g") (param "s" string) (result u32)
              (canon lift (core func $i "g") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
            (func (export "h") (param "s" string)
              (canon lift (core func $i "h") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))
          (instance $a (instantiate $callee))
          (core module $libc (memory (export "mem") 1))
          (core instance $libc (instantiate $libc))
          (alias export $a "f" (func $f))
          (alias export $a "g" (func $g))
          (alias export $a "h" (func $h))
          (core func $lf (canon lower (func $f)))
          (core func $lg (canon lower (func $g) (memory (core memory $libc "mem"))))
          (core func $lh (canon lower (func $h) (memory (core memory $libc "mem"))))
          (core module $caller
            (import "" "f" (func (param i32) (result i32)))
            (import "" "g" (func (param i32 i32) (result i32)))
            (import "" "h" (func (param i32 i32))))
          (core instance $c (instantiate $caller (with "" (instance
            (export "f" (func $lf)) (export "g" (func $lg)) (export "h" (func $lh))))))
        )"#,
    )
    .unwrap();
    // The callee's module, libc, the caller, and one adapter module.
    assert_eq!(modules, 4);
    assert_eq!(plan.steps.len(), 4);
    let Step::Instantiate { module, args } = &plan.steps[2];
    assert_eq!(*module, 3);
    // g and h both use the callee's memory and realloc: imported once.
    for (i, a) in args.iter().enumerate() {
        assert!(!args[..i].contains(a), "{a:?} imported twice");
    }
    assert_eq!(args.iter().filter(|a| **a == export(0, "mem")).count(), 1);
    assert!(args.contains(&export(0, "realloc")));
    assert!(args.contains(&export(1, "mem")));
    let Step::Instantiate { module, args } = &plan.steps[3];
    assert_eq!(*module, 2);
    let instances: Vec<u32> = args
        .iter()
        .map(|a| match a {
            CoreDef::Export { instance, .. } => *instance,
            other => panic!("caller import wired to {other:?}"),
        })
        .collect();
    assert_eq!(instances, [2, 2, 2]);
}
