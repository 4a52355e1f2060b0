//! Core exception handling end to end: modules compiled by rivet-build from
//! WAT, linked into shared libraries, instantiated and called through the
//! runtime's public API.

mod common;

use common::{call_i32, func};
use rivet::{BoundsMode, Extern, FuncType, Instance, Module, Store, Tag, TrapKind, Val};
use rivet::{Global, GlobalType, ValType};

/// Compiles the modules as one unit for `bounds` and loads them.
fn compile(wats: &[&str], bounds: BoundsMode) -> Vec<Module> {
    let options = rivet_build::Options {
        bounds,
        ..Default::default()
    };
    common::compile(wats, &options)
}

fn export(store: &Store, instance: Instance, name: &str) -> Extern {
    instance.export(store, name).unwrap()
}

fn both_modes(test: impl Fn(BoundsMode)) {
    for bounds in [BoundsMode::Guard, BoundsMode::Explicit] {
        test(bounds);
    }
}

/// Defines the tag and a function that throws it from two frames down; the
/// code after each call must not run when the callee threw.
const THROWER: &str = r#"(module
  (tag $t (export "t") (param i32 i64))
  (global $after (export "after") (mut i32) (i32.const 0))
  (func $deep (param i32)
    (if (local.get 0) (then (throw $t (local.get 0) (i64.const 0x1_0000_0000))))
    (global.set $after (i32.add (global.get $after) (i32.const 1))))
  (func (export "throw-if") (param i32)
    (call $deep (local.get 0))
    (global.set $after (i32.add (global.get $after) (i32.const 1)))))"#;

/// Has no tag of its own: only catch_all can see the exception, and the unit
/// still compiles it exception-aware because its neighbours have tags.
const MIDDLE: &str = r#"(module
  (import "thrower" "throw-if" (func $throw-if (param i32)))
  (global $after (export "after") (mut i32) (i32.const 0))
  (func $pass (export "pass") (param i32)
    (call $throw-if (local.get 0))
    (global.set $after (i32.add (global.get $after) (i32.const 1))))
  (func (export "catch-all") (param i32) (result i32)
    (block $h
      (try_table (catch_all $h) (call $pass (local.get 0)))
      (return (i32.const 1)))
    (i32.const 2)))"#;

/// Catches by tag through the middle module, with the payload.
const CATCHER: &str = r#"(module
  (import "thrower" "t" (tag $t (param i32 i64)))
  (import "middle" "pass" (func $pass (param i32)))
  (func (export "run") (param i32) (result i64) (local $high i64)
    (block $h (result i32 i64)
      (try_table (result i32 i64) (catch $t $h)
        (call $pass (local.get 0))
        (i32.const 0) (i64.const 0))
      (drop) (drop)
      (return (i64.const -1)))
    (local.set $high)
    (i64.extend_i32_u)
    (local.get $high)
    (i64.add)))"#;

struct Chain {
    store: Store,
    thrower: Instance,
    middle: Instance,
    catcher: Instance,
}

fn chain(bounds: BoundsMode) -> Chain {
    let m = compile(&[THROWER, MIDDLE, CATCHER], bounds);
    let mut store = Store::new(bounds);
    let thrower = store.instantiate(&m[0], &[]).unwrap();
    let throw_if = export(&store, thrower, "throw-if");
    let middle = store.instantiate(&m[1], &[throw_if]).unwrap();
    let tag = export(&store, thrower, "t");
    let pass = export(&store, middle, "pass");
    let catcher = store.instantiate(&m[2], &[tag, pass]).unwrap();
    Chain {
        store,
        thrower,
        middle,
        catcher,
    }
}

fn global_i32(store: &Store, instance: Instance, name: &str) -> i32 {
    match export(store, instance, name) {
        Extern::Global(g) => match g.get(store) {
            Val::I32(v) => v,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn throw_crosses_frames_and_instances_to_the_matching_catch() {
    both_modes(|bounds| {
        let mut c = chain(bounds);
        let run = func(&c.store, c.catcher, "run");
        let got = run.call(&mut c.store, &[Val::I32(5)]).unwrap();
        assert!(matches!(got[..], [Val::I64(0x1_0000_0005)]), "{got:?}");
        // Nothing after a throwing call ran, in any frame.
        assert_eq!(global_i32(&c.store, c.thrower, "after"), 0);
        assert_eq!(global_i32(&c.store, c.middle, "after"), 0);
        // Without a throw every frame completes.
        let got = run.call(&mut c.store, &[Val::I32(0)]).unwrap();
        assert!(matches!(got[..], [Val::I64(-1)]), "{got:?}");
        assert_eq!(global_i32(&c.store, c.thrower, "after"), 2);
        assert_eq!(global_i32(&c.store, c.middle, "after"), 1);
    });
}

#[test]
fn catch_all_catches_a_tag_the_module_cannot_name() {
    both_modes(|bounds| {
        let mut c = chain(bounds);
        let catch_all = func(&c.store, c.middle, "catch-all");
        assert_eq!(call_i32(&mut c.store, catch_all, &[Val::I32(3)]), Ok(2));
        assert_eq!(call_i32(&mut c.store, catch_all, &[Val::I32(0)]), Ok(1));
    });
}

#[test]
fn uncaught_exception_is_a_trap_and_the_store_stays_usable() {
    both_modes(|bounds| {
        let mut c = chain(bounds);
        let pass = func(&c.store, c.middle, "pass");
        let err = pass.call(&mut c.store, &[Val::I32(1)]).unwrap_err();
        assert_eq!(err.kind, TrapKind::UncaughtException);
        assert!(err.to_string().contains("uncaught exception"), "{err}");
        // The pending exception was cleared: a normal call returns normally,
        // and a later exception is caught as usual.
        pass.call(&mut c.store, &[Val::I32(0)]).unwrap();
        let run = func(&c.store, c.catcher, "run");
        let got = run.call(&mut c.store, &[Val::I32(9)]).unwrap();
        assert!(matches!(got[..], [Val::I64(0x1_0000_0009)]), "{got:?}");
    });
}

/// Two instances of one tag module: distinct tags.
const TAG: &str = r#"(module (tag (export "t") (param i32)))"#;
const BY_IDENTITY: &str = r#"(module
  (import "a" "t" (tag $a (param i32)))
  (import "b" "t" (tag $b (param i32)))
  (func $throw (param $which i32) (param $v i32)
    (if (local.get $which)
      (then (throw $b (local.get $v)))
      (else (throw $a (local.get $v)))))
  ;; Catches only tag $a; anything else leaves.
  (func (export "catch-a") (param i32 i32) (result i32)
    (block $h (result i32)
      (try_table (catch $a $h) (call $throw (local.get 0) (local.get 1)))
      (return (i32.const -1))))
  ;; The inner try_table does not match $b; the outer one does.
  (func (export "nested") (param i32 i32) (result i32)
    (block $outer (result i32)
      (try_table (catch $b $outer)
        (block $inner (result i32)
          (try_table (catch $a $inner) (call $throw (local.get 0) (local.get 1)))
          (return (i32.const -1)))
        (return (i32.add (i32.const 1000))))
      (return (i32.const -2)))
    (i32.add (i32.const 2000))))"#;

#[test]
fn catch_matches_by_tag_identity() {
    both_modes(|bounds| {
        let m = compile(&[TAG, BY_IDENTITY], bounds);
        let mut store = Store::new(bounds);
        let a = store.instantiate(&m[0], &[]).unwrap();
        let b = store.instantiate(&m[0], &[]).unwrap();
        let (ta, tb) = (export(&store, a, "t"), export(&store, b, "t"));
        let i = store.instantiate(&m[1], &[ta, tb]).unwrap();
        let catch_a = func(&store, i, "catch-a");
        let args = |which: i32, v: i32| [Val::I32(which), Val::I32(v)];
        assert_eq!(call_i32(&mut store, catch_a, &args(0, 7)), Ok(7));
        let err = call_i32(&mut store, catch_a, &args(1, 7));
        assert_eq!(err, Err(TrapKind::UncaughtException));
        let nested = func(&store, i, "nested");
        assert_eq!(call_i32(&mut store, nested, &args(0, 5)), Ok(1005));
        assert_eq!(call_i32(&mut store, nested, &args(1, 5)), Ok(2005));

        // The same instance of the tag module twice: one tag, both clauses see it.
        let i = store.instantiate(&m[1], &[ta, ta]).unwrap();
        let catch_a = func(&store, i, "catch-a");
        assert_eq!(call_i32(&mut store, catch_a, &args(1, 3)), Ok(3));
    });
}

/// catch_ref keeps the exception in an exnref local; throw_ref rethrows it
/// with its original tag and payload.
const RETHROW: &str = r#"(module
  (tag $t (param i32))
  (global $seen (export "seen") (mut i32) (i32.const 0))
  (func $throw (param i32) (throw $t (local.get 0)))
  (func $rethrow (param i32) (local $e exnref)
    (block $h (result i32 exnref)
      (try_table (catch_ref $t $h) (call $throw (local.get 0)))
      (return))
    (local.set $e)
    (global.set $seen)
    (throw_ref (local.get $e)))
  (func (export "run") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (call $rethrow (local.get 0)))
      (i32.const -1)))
  (func (export "all-ref") (param i32) (result i32)
    (block $h (result i32)
      (block $all (result exnref)
        (try_table (catch_all_ref $all) (call $throw (local.get 0)))
        (return (i32.const -1)))
      (try_table (param exnref) (catch $t $h) (throw_ref))
      (i32.const -2)))
  (func (export "throw-null")
    (throw_ref (ref.null exn)))
  (func (export "catch-ref") (param i32) (result exnref)
    (block $h (result i32 exnref)
      (try_table (catch_ref $t $h) (call $throw (local.get 0)))
      (return (ref.null exn)))
    (return))
  (func (export "payload") (param exnref) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (throw_ref (local.get 0)))
      (i32.const -1))))"#;

#[test]
fn catch_ref_and_throw_ref_rethrow_the_same_exception() {
    both_modes(|bounds| {
        let m = compile(&[RETHROW], bounds);
        let mut store = Store::new(bounds);
        let i = store.instantiate(&m[0], &[]).unwrap();
        let run = func(&store, i, "run");
        assert_eq!(call_i32(&mut store, run, &[Val::I32(42)]), Ok(42));
        assert_eq!(global_i32(&store, i, "seen"), 42);
        let all_ref = func(&store, i, "all-ref");
        assert_eq!(call_i32(&mut store, all_ref, &[Val::I32(8)]), Ok(8));
        let null = func(&store, i, "throw-null");
        let err = null.call(&mut store, &[]).unwrap_err();
        assert_eq!(err.kind, TrapKind::NullReference);
        assert_eq!(call_i32(&mut store, run, &[Val::I32(1)]), Ok(1));
    });
}

/// A tag made by the host links like one a module defines.
const HOST_TAG: &str = r#"(module
  (import "host" "t" (tag $t (param f64)))
  (import "host" "count" (global $count (mut i32)))
  (func $throw (param f64) (throw $t (local.get 0)))
  (func (export "run") (param f64) (result f64)
    (block $h (result f64)
      (try_table (catch $t $h) (call $throw (local.get 0)))
      (f64.const -1))
    (global.set $count (i32.add (global.get $count) (i32.const 1)))))"#;

#[test]
fn host_tags_link_and_are_checked() {
    both_modes(|bounds| {
        let m = compile(&[HOST_TAG], bounds);
        let mut store = Store::new(bounds);
        let ty = FuncType {
            params: vec![ValType::F64].into(),
            results: vec![].into(),
        };
        let tag = Tag::new(&mut store, ty.clone());
        assert_eq!(tag.ty(&store), ty);
        let count_ty = GlobalType {
            content: ValType::I32,
            mutable: true,
        };
        let count = Global::new(&mut store, count_ty, Val::I32(0)).unwrap();
        let imports = [Extern::Tag(tag), Extern::Global(count)];
        let i = store.instantiate(&m[0], &imports).unwrap();
        let run = func(&store, i, "run");
        let got = run.call(&mut store, &[Val::F64(2.5f64.to_bits())]).unwrap();
        assert!(
            matches!(got[..], [Val::F64(b)] if b == 2.5f64.to_bits()),
            "{got:?}"
        );
        assert!(matches!(count.get(&store), Val::I32(1)));

        let wrong = Tag::new(
            &mut store,
            FuncType {
                params: vec![ValType::I32].into(),
                results: vec![].into(),
            },
        );
        let imports = [Extern::Tag(wrong), Extern::Global(count)];
        let err = store.instantiate(&m[0], &imports).unwrap_err();
        assert!(err.to_string().contains("tag type"), "{err}");
    });
}

#[test]
fn exnrefs_reach_the_host_opaque_and_typed() {
    both_modes(|bounds| {
        let m = compile(&[RETHROW], bounds);
        let mut store = Store::new(bounds);
        let i = store.instantiate(&m[0], &[]).unwrap();
        let catch_ref = func(&store, i, "catch-ref");
        let got = catch_ref.call(&mut store, &[Val::I32(31)]).unwrap();
        let [Val::ExnRef(Some(exn))] = got[..] else {
            panic!("expected a non-null exnref, got {got:?}");
        };
        let payload = func(&store, i, "payload");
        assert_eq!(
            call_i32(&mut store, payload, &[Val::ExnRef(Some(exn))]),
            Ok(31)
        );
        let null = call_i32(&mut store, payload, &[Val::ExnRef(None)]);
        assert_eq!(null, Err(TrapKind::NullReference));
        // An externref is not an exnref, whatever its bits.
        let err = payload
            .call(&mut store, &[Val::ExternRef(Some(1))])
            .unwrap_err();
        assert_eq!(err.kind, TrapKind::Host);
        // Nor is an exception of another store.
        let mut other = Store::new(bounds);
        let j = other.instantiate(&m[0], &[]).unwrap();
        let foreign = func(&other, j, "payload");
        assert!(foreign.call(&mut other, &[Val::ExnRef(Some(exn))]).is_err());
    });
}
