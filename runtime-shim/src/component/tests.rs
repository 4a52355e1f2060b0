//! Component runtime tests with hand-built plans over real compiled core
//! modules (WAT compiled by rivet-build, linked and loaded with dlopen).

use super::instance::call_binding;
use super::*;
use crate::prelude::*;
use crate::{BoundsMode, Store};
use rivet_descriptor::abi::call_layout;
use rivet_descriptor::component::{
    CanonOptions, ComponentExport, ComponentFuncType, ComponentImport,
    ComponentInstance as PlanInstance, CoreDef, HostLower, Lift, ResourceDef, Step, StringEncoding,
    ValueType,
};
use std::sync::atomic::{AtomicU32, Ordering};

/// Compiles `wat` into a loaded module; the library stays loaded for the test run.
fn compile(wat: &str) -> Module {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let wasm = wat::parse_str(wat).unwrap();
    let obj = rivet_build::compile_module(&wasm, &rivet_build::Options::default()).unwrap();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("rivet-comp-{}-{n}", std::process::id()));
    let (o, so) = (base.with_extension("o"), base.with_extension("so"));
    std::fs::write(&o, obj).unwrap();
    rivet_build::__internal::link_shared(std::slice::from_ref(&o), &so).unwrap();
    // SAFETY: the library holds only the unit just compiled.
    let lib = unsafe { libloading::Library::new(&so) }.unwrap();
    let _ = (std::fs::remove_file(&o), std::fs::remove_file(&so));
    // SAFETY: `rivet_unit` is the descriptor symbol; the library is leaked so
    // it stays loaded.
    let modules = unsafe {
        let sym = lib.get::<*const RawDescriptor>(b"rivet_unit\0").unwrap();
        Module::from_descriptor(*sym).unwrap()
    };
    std::mem::forget(lib);
    modules.into_iter().next().unwrap()
}

/// A bump allocator, `mem`, and the functions under test.
fn guest(body: &str) -> String {
    guest_with("", body)
}

/// As [`guest`], with core imports first.
/// What a `realloc` that moves an allocation does with its contents: keeps
/// them (the smaller of the two sizes), as the spec trusts it to.
const KEEP: &str = "(if (local.get 0) (then (memory.copy (local.get $p) (local.get 0)
      (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))))";

fn guest_with(imports: &str, body: &str) -> String {
    format!(
        r#"(module
  {imports}
  (memory (export "mem") 1)
  (global $bump (mut i32) (i32.const 4096))
  (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    {KEEP}
    (local.get $p))
  {body})"#
    )
}

fn export(instance: u32, name: &str) -> CoreDef {
    CoreDef::Export {
        instance,
        name: name.to_string().into(),
    }
}

fn opts(enc: StringEncoding, post: Option<&str>) -> CanonOptions {
    CanonOptions {
        memory: Some(export(0, "mem")),
        realloc: Some(export(0, "realloc")),
        post_return: post.map(|p| export(0, p)),
        string_encoding: enc,
    }
}

/// Builds a plan whose core instance 0 is the guest module.
struct Builder {
    plan: Plan,
    /// The runtime parts the component is loaded with (all by default).
    parts: &'static Parts,
}

impl Builder {
    fn new() -> Self {
        Builder {
            plan: Plan {
                instances: vec![PlanInstance { parent: None }].into(),
                ..Plan::default()
            },
            parts: &Parts::ALL,
        }
    }
    fn ty(&mut self, t: ValueType) -> u32 {
        self.plan.types.to_mut().push(t);
        self.plan.types.len() as u32 - 1
    }
    fn func(&mut self, params: &[u32], result: Option<u32>) -> u32 {
        self.plan.func_types.to_mut().push(ComponentFuncType {
            params: params
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("p{i}").into(), *t))
                .collect(),
            result,
        });
        self.plan.func_types.len() as u32 - 1
    }
    fn export(&mut self, name: &str, core: &str, ty: u32, options: CanonOptions) {
        let layout = call_layout(&self.plan, &self.plan.func_types[ty as usize]);
        self.plan.lifts.to_mut().push(Lift {
            func: export(0, core),
            ty,
            options,
            instance: 0,
            layout,
        });
        self.plan.exports.to_mut().push(ComponentExport {
            name: name.to_string().into(),
            lift: self.plan.lifts.len() as u32 - 1,
        });
    }
    fn instantiate(self, module: Module, args: Vec<CoreDef>) -> (Store, ComponentInstance) {
        self.instantiate_with(module, args, &ComponentImports::new())
    }
    fn instantiate_with(
        mut self,
        module: Module,
        args: Vec<CoreDef>,
        imports: &ComponentImports,
    ) -> (Store, ComponentInstance) {
        self.plan.steps.to_mut().push(Step::Instantiate {
            module: 0,
            args: args.into(),
        });
        let c = Component::from_parts(Meta::leaked(self.plan), vec![module], None, self.parts);
        let mut store = Store::new(BoundsMode::Guard);
        let i = store.instantiate_component(&c, imports).unwrap();
        (store, i)
    }
}

const ECHO: &str = r#"
  (func (export "id32") (param i32) (result i32) (local.get 0))
  (func (export "id64") (param i64) (result i64) (local.get 0))
  (func (export "idf32") (param f32) (result f32) (local.get 0))
  (func (export "idf64") (param f64) (result f64) (local.get 0))
  (func (export "pair") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 0)) (i32.store (i32.const 20) (local.get 1)) (i32.const 16))
  (func (export "wide") (param i32 i64) (result i32)
    (i32.store (i32.const 32) (local.get 0)) (i64.store (i32.const 40) (local.get 1)) (i32.const 32))
"#;

fn call1(store: &mut Store, i: &ComponentInstance, f: &str, v: Value) -> Value {
    i.call(store, f, &[v]).unwrap().unwrap()
}

#[test]
fn scalars_round_trip_flat() {
    let mut b = Builder::new();
    let cases = [
        (ValueType::Bool, "id32", Value::Bool(true)),
        (ValueType::S8, "id32", Value::S8(-5)),
        (ValueType::U16, "id32", Value::U16(65000)),
        (ValueType::S32, "id32", Value::S32(-7)),
        (ValueType::U64, "id64", Value::U64(u64::MAX - 3)),
        (ValueType::S64, "id64", Value::S64(-9)),
        (ValueType::F32, "idf32", Value::F32(1.5)),
        (ValueType::F64, "idf64", Value::F64(-2.25)),
        (ValueType::Char, "id32", Value::Char('ß')),
        (
            ValueType::Enum(vec!["a".into(), "b".into()].into()),
            "id32",
            Value::Enum("b".into()),
        ),
        (
            ValueType::Flags(vec!["x".into(), "y".into(), "z".into()].into()),
            "id32",
            Value::Flags(vec!["x".into(), "z".into()]),
        ),
    ];
    for (k, (t, core, _)) in cases.iter().enumerate() {
        let t = b.ty(t.clone());
        let f = b.func(&[t], Some(t));
        b.export(&format!("f{k}"), core, f, CanonOptions::default());
    }
    let (mut store, inst) = b.instantiate(compile(&guest(ECHO)), vec![]);
    for (k, (_, _, v)) in cases.iter().enumerate() {
        assert_eq!(call1(&mut store, &inst, &format!("f{k}"), v.clone()), *v);
    }
    let nan = call1(
        &mut store,
        &inst,
        "f6",
        Value::F32(f32::from_bits(0x7fc0_1234)),
    );
    assert!(matches!(nan, Value::F32(f) if f.to_bits() == 0x7fc0_0000));
    let e = inst.call(&mut store, "f0", &[Value::U8(1)]).unwrap_err();
    assert!(e.message.contains("type mismatch"), "{}", e.message);
    assert!(inst.call(&mut store, "f0", &[]).is_err());
}

#[test]
fn strings_in_every_encoding_round_trip() {
    for enc in [
        StringEncoding::Utf8,
        StringEncoding::Utf16,
        StringEncoding::CompactUtf16,
    ] {
        let mut b = Builder::new();
        let s = b.ty(ValueType::String);
        let f = b.func(&[s], Some(s));
        b.export("echo", "pair", f, opts(enc, None));
        let (mut store, inst) = b.instantiate(compile(&guest(ECHO)), vec![]);
        for text in ["", "hello", "héllo wörld", "snow ☃ and 😀"] {
            let v = Value::String(text.into());
            assert_eq!(call1(&mut store, &inst, "echo", v.clone()), v, "{enc:?}");
        }
    }
}

/// A host string is written where and when the spec's `store_string`
/// writes it, which a `realloc` that does not keep contents shows: this
/// guest's grows into fresh zeros and shrinks in place, so the Latin-1
/// prefix written before growing is lost (the spec inflates what `realloc`
/// kept), and a UTF-16 string written before its shrink stays whole.
#[test]
fn host_strings_are_written_in_the_spec_order() {
    const FORGETFUL: &str = r#"(module
  (memory (export "mem") 1)
  (func (export "realloc") (param $old i32) (param $osize i32) (param i32) (param $nsize i32)
    (result i32)
    (if (result i32) (i32.eqz (local.get $old)) (then (i32.const 1024))
      (else (if (result i32) (i32.gt_u (local.get $nsize) (local.get $osize))
        (then (i32.const 2048)) (else (local.get $old))))))
  (func (export "pair") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 0)) (i32.store (i32.const 20) (local.get 1)) (i32.const 16)))"#;
    for (enc, sent, kept) in [
        (StringEncoding::CompactUtf16, "ab\u{100}", "\0\0\u{100}"),
        (StringEncoding::Utf16, "h\u{e9}llo", "h\u{e9}llo"),
    ] {
        let mut b = Builder::new();
        let s = b.ty(ValueType::String);
        let f = b.func(&[s], Some(s));
        b.export("echo", "pair", f, opts(enc, None));
        let (mut store, inst) = b.instantiate(compile(FORGETFUL), vec![]);
        let got = call1(&mut store, &inst, "echo", Value::String(sent.into()));
        assert_eq!(got, Value::String(kept.into()), "{enc:?}");
    }
}

/// A guest whose `realloc` logs each call's (old pointer, old size,
/// alignment, new size) at 1024, a sink `take` for a string, and `log`,
/// which returns the log as a `list<u32>` and starts it over.
const REALLOC_LOG: &str = r#"(module
  (memory (export "mem") 1)
  (global $bump (mut i32) (i32.const 4096))
  (global $n (mut i32) (i32.const 0))
  (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $at i32) (local $p i32)
    (local.set $at (i32.add (i32.const 1024) (i32.shl (global.get $n) (i32.const 4))))
    (i32.store (local.get $at) (local.get 0))
    (i32.store offset=4 (local.get $at) (local.get 1))
    (i32.store offset=8 (local.get $at) (local.get 2))
    (i32.store offset=12 (local.get $at) (local.get 3))
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    {KEEP}
    (local.get $p))
  (func (export "take") (param i32 i32))
  (func (export "log") (result i32)
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (i32.shl (global.get $n) (i32.const 2)))
    (global.set $n (i32.const 0))
    (i32.const 16)))"#;

/// The `realloc` calls, as (old size, alignment, new size), of the spec's
/// `store_string` for a UTF-8 source (every host string) into `to`.
fn spec_reallocs_from_utf8(text: &str, to: StringEncoding) -> Vec<[u32; 3]> {
    let n = text.len() as u32;
    let utf16 = 2 * text.encode_utf16().count() as u32;
    let chars = text.chars().count() as u32;
    let mut calls = vec![];
    match to {
        StringEncoding::Utf8 => calls.push([0, 1, n]),
        StringEncoding::Utf16 => {
            calls.push([0, 2, 2 * n]);
            if utf16 < 2 * n {
                calls.push([2 * n, 2, utf16]);
            }
        }
        StringEncoding::CompactUtf16 if text.chars().all(|c| (c as u32) < 256) => {
            calls.push([0, 2, n]);
            if chars < n {
                calls.push([n, 2, chars]);
            }
        }
        StringEncoding::CompactUtf16 => {
            calls.extend([[0, 2, n], [n, 2, 2 * n]]);
            if utf16 < 2 * n {
                calls.push([2 * n, 2, utf16]);
            }
        }
    }
    calls
}

/// A host string lowered into a guest calls its `realloc` as the spec's
/// `store_string` does: the same calls, sizes and alignments, each after
/// the first resizing the allocation before it.
#[test]
fn host_strings_call_realloc_as_the_spec_does() {
    for enc in [
        StringEncoding::Utf8,
        StringEncoding::Utf16,
        StringEncoding::CompactUtf16,
    ] {
        let mut b = Builder::new();
        let (s, u) = (b.ty(ValueType::String), b.ty(ValueType::U32));
        let list = b.ty(ValueType::List(u));
        let take = b.func(&[s], None);
        let log = b.func(&[], Some(list));
        b.export("take", "take", take, opts(enc, None));
        b.export("log", "log", log, opts(enc, None));
        let (mut store, inst) =
            b.instantiate(compile(&REALLOC_LOG.replace("{KEEP}", KEEP)), vec![]);
        for text in ["", "hello", "héllo wörld", "snow ☃ and 😀"] {
            inst.call(&mut store, "take", &[Value::String(text.into())])
                .unwrap();
            let Some(Value::List(words)) = inst.call(&mut store, "log", &[]).unwrap() else {
                panic!("log is not a list")
            };
            let words: Vec<u32> = words
                .iter()
                .map(|w| match w {
                    Value::U32(w) => *w,
                    other => panic!("not a u32: {other:?}"),
                })
                .collect();
            let calls: Vec<&[u32]> = words.chunks(4).collect();
            let sizes: Vec<[u32; 3]> = calls.iter().map(|c| [c[1], c[2], c[3]]).collect();
            assert_eq!(
                sizes,
                spec_reallocs_from_utf8(text, enc),
                "{text:?} {enc:?}"
            );
            for (i, c) in calls.iter().enumerate() {
                assert_eq!(
                    c[0] == 0,
                    i == 0,
                    "{text:?} {enc:?}: old pointer of call {i}"
                );
            }
        }
    }
}

/// A plan's own runtime parts: strings in encodings other than UTF-8 need
/// the transcoders and exports taking borrows need their release, which a
/// unit's parts name only when its plan uses them; a call that would need
/// one its parts lack is refused instead of run without it.
#[test]
fn plans_use_the_parts_their_unit_names() {
    use rivet_descriptor::parts::{BORROWS, TRANSCODING};
    let hello = Value::String("héllo".into());
    for (enc, parts) in [
        (StringEncoding::Utf16, TRANSCODING),
        (StringEncoding::Utf16, 0),
        (StringEncoding::Utf8, 0),
    ] {
        let mut b = Builder::new();
        let s = b.ty(ValueType::String);
        let f = b.func(&[s], Some(s));
        b.export("echo", "pair", f, opts(enc, None));
        let transcodes = enc != StringEncoding::Utf8;
        assert_eq!(b.plan.parts(), if transcodes { TRANSCODING } else { 0 });
        b.parts = Box::leak(Box::new(Parts::of(parts)));
        let (mut store, inst) = b.instantiate(compile(&guest(ECHO)), vec![]);
        let got = inst.call(&mut store, "echo", core::slice::from_ref(&hello));
        match got {
            Ok(v) if !transcodes || parts != 0 => assert_eq!(v, Some(hello.clone())),
            Err(e) if transcodes && parts == 0 => {
                assert!(e.message.contains("parts 0x100"), "{}", e.message)
            }
            other => panic!("{enc:?} with parts {parts:#x}: {other:?}"),
        }
    }
    let mut b = Builder::new();
    let r = b.ty(ValueType::Borrow(0));
    let f = b.func(&[r], None);
    b.export("take", "nothing", f, opts(StringEncoding::Utf8, None));
    assert_eq!(b.plan.parts(), BORROWS);
}

#[test]
fn compound_values_round_trip_through_memory() {
    let mut b = Builder::new();
    let u8t = b.ty(ValueType::U8);
    let u32t = b.ty(ValueType::U32);
    let s = b.ty(ValueType::String);
    let opt = b.ty(ValueType::Option(u32t));
    let res = b.ty(ValueType::Result {
        ok: Some(s),
        err: None,
    });
    let en = b.ty(ValueType::Enum(vec!["r".into(), "g".into()].into()));
    let fl = b.ty(ValueType::Flags(
        (0..40).map(|i| format!("f{i}").into()).collect(),
    ));
    let var = b.ty(ValueType::Variant(
        vec![
            ("none".into(), None),
            ("b".into(), Some(u8t)),
            ("s".into(), Some(s)),
        ]
        .into(),
    ));
    let tup = b.ty(ValueType::Tuple(vec![u8t, s].into()));
    let rec = b.ty(ValueType::Record(
        vec![
            ("a".into(), opt),
            ("b".into(), res),
            ("c".into(), en),
            ("d".into(), fl),
            ("e".into(), var),
            ("f".into(), tup),
        ]
        .into(),
    ));
    let list = b.ty(ValueType::List(rec));
    let f = b.func(&[list], Some(list));
    b.export("echo", "pair", f, opts(StringEncoding::Utf8, None));
    let (mut store, inst) = b.instantiate(compile(&guest(ECHO)), vec![]);
    let item = |k: u32| {
        Value::Record(vec![
            (
                "a".into(),
                Value::Option(if k == 0 {
                    None
                } else {
                    Some(Box::new(Value::U32(k)))
                }),
            ),
            (
                "b".into(),
                Value::Result(if k == 0 {
                    Ok(Some(Box::new(Value::String("ok".into()))))
                } else {
                    Err(None)
                }),
            ),
            (
                "c".into(),
                Value::Enum(if k == 0 { "r" } else { "g" }.into()),
            ),
            (
                "d".into(),
                Value::Flags(vec!["f1".into(), format!("f{}", 30 + k)]),
            ),
            (
                "e".into(),
                match k {
                    0 => Value::Variant("none".into(), None),
                    1 => Value::Variant("b".into(), Some(Box::new(Value::U8(9)))),
                    _ => Value::Variant("s".into(), Some(Box::new(Value::String("vv".into())))),
                },
            ),
            (
                "f".into(),
                Value::Tuple(vec![Value::U8(k as u8), Value::String(format!("t{k}"))]),
            ),
        ])
    };
    let v = Value::List((0..3).map(item).collect());
    assert_eq!(call1(&mut store, &inst, "echo", v.clone()), v);
}

#[test]
fn flat_variants_join_payload_types() {
    let mut b = Builder::new();
    let f32t = b.ty(ValueType::F32);
    let u64t = b.ty(ValueType::U64);
    let u32t = b.ty(ValueType::U32);
    let opt = b.ty(ValueType::Option(u32t));
    let res = b.ty(ValueType::Result {
        ok: Some(f32t),
        err: Some(u64t),
    });
    let f = b.func(&[opt], Some(opt));
    b.export("opt", "pair", f, opts(StringEncoding::Utf8, None));
    let f = b.func(&[res], Some(res));
    b.export("res", "wide", f, opts(StringEncoding::Utf8, None));
    let (mut store, inst) = b.instantiate(compile(&guest(ECHO)), vec![]);
    for v in [
        Value::Option(None),
        Value::Option(Some(Box::new(Value::U32(77)))),
    ] {
        assert_eq!(call1(&mut store, &inst, "opt", v.clone()), v);
    }
    for v in [
        Value::Result(Ok(Some(Box::new(Value::F32(3.5))))),
        Value::Result(Err(Some(Box::new(Value::U64(1 << 40))))),
    ] {
        assert_eq!(call1(&mut store, &inst, "res", v.clone()), v);
    }
}

/// A guest whose `sum` takes seventeen `u32`s (so they pass through memory)
/// and whose post-return adds each result to the total `count` returns.
fn sum_of_seventeen() -> (Store, ComponentInstance) {
    let body = r#"
  (func (export "sum") (param $p i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 17))))
    (local.get $s))
  (func (export "post") (param i32) (i32.store (i32.const 100) (i32.add (i32.load (i32.const 100)) (local.get 0))))
  (func (export "count") (result i32) (i32.load (i32.const 100)))
"#;
    let mut b = Builder::new();
    let u32t = b.ty(ValueType::U32);
    let f = b.func(&[u32t; 17], Some(u32t));
    b.export("sum", "sum", f, opts(StringEncoding::Utf8, Some("post")));
    let g = b.func(&[], Some(u32t));
    b.export("count", "count", g, CanonOptions::default());
    let sixteen = b.ty(ValueType::Tuple(vec![u32t; 16].into()));
    let h = b.func(&[sixteen, u32t], Some(u32t));
    b.export(
        "sum-tuple",
        "sum",
        h,
        opts(StringEncoding::Utf8, Some("post")),
    );
    b.instantiate(compile(&guest(body)), vec![])
}

#[test]
fn spilled_params_and_post_return() {
    let (mut store, inst) = sum_of_seventeen();
    let args: Vec<Value> = (1..=17).map(Value::U32).collect();
    assert_eq!(
        inst.call(&mut store, "sum", &args).unwrap(),
        Some(Value::U32(153))
    );
    assert_eq!(
        inst.call(&mut store, "count", &[]).unwrap(),
        Some(Value::U32(153))
    );
}

#[test]
fn guest_traps_poison_the_instance_and_report_abi_errors() {
    let body = r#"
  (data (i32.const 200) "\f0\ff\0f\00\64\00\00\00")
  (data (i32.const 216) "\08\01\00\00\01\00\00\00")
  (data (i32.const 264) "\ff")
  (data (i32.const 300) "\07")
  (func (export "boom") (unreachable))
  (func (export "bad-string") (result i32) (i32.const 200))
  (func (export "bad-utf8") (result i32) (i32.const 216))
  (func (export "bad-char") (result i32) (i32.const 0xd800))
  (func (export "bad-disc") (result i32) (i32.const 300))
  (func (export "unaligned") (result i32) (i32.const 301))
"#;
    let mut b = Builder::new();
    let s = b.ty(ValueType::String);
    let c = b.ty(ValueType::Char);
    let u32t = b.ty(ValueType::U32);
    let opt = b.ty(ValueType::Option(u32t));
    let unit = b.func(&[], None);
    let fs = b.func(&[], Some(s));
    let fc = b.func(&[], Some(c));
    let fo = b.func(&[], Some(opt));
    let o = opts(StringEncoding::Utf8, None);
    b.export("boom", "boom", unit, o.clone());
    b.export("bad-string", "bad-string", fs, o.clone());
    b.export("bad-utf8", "bad-utf8", fs, o.clone());
    b.export("bad-char", "bad-char", fc, o.clone());
    b.export("bad-disc", "bad-disc", fo, o.clone());
    b.export("unaligned", "unaligned", fo, o);
    let module = compile(&guest(body));
    let expect = |name: &str, msg: &str| {
        let mut b2 = Builder {
            plan: b.plan.clone(),
            parts: b.parts,
        };
        b2.plan.steps.to_mut().clear();
        let (mut store, inst) = b2.instantiate(module.clone(), vec![]);
        let e = inst.call(&mut store, name, &[]).unwrap_err();
        assert_eq!(e.message, msg, "{name}");
        let again = inst.call(&mut store, name, &[]).unwrap_err();
        assert!(again.message.contains("cannot enter component instance"));
    };
    expect("boom", "unreachable");
    expect(
        "bad-string",
        "string pointer/length out of bounds of memory",
    );
    expect("bad-utf8", "invalid utf-8");
    expect("bad-char", "invalid `char` bit pattern");
    expect("bad-disc", "invalid variant discriminant");
    expect("unaligned", "unaligned pointer");
}

#[test]
fn host_imports_get_lifted_args_and_return_strings_through_realloc() {
    let imports = r#"(import "host" "greet" (func $greet (param i32 i32 i32)))"#;
    let body = r#"
  (func (export "run") (param i32 i32) (result i32)
    (call $greet (local.get 0) (local.get 1) (i32.const 48)) (i32.const 48))
  (func (export "post-call") (param i32) (call $greet (i32.const 0) (i32.const 0) (i32.const 48)))
"#;
    let mut b = Builder::new();
    let s = b.ty(ValueType::String);
    let f = b.func(&[s], Some(s));
    b.plan.imports.to_mut().push(ComponentImport {
        name: "greet".into(),
        ty: f,
    });
    b.plan.host_lowers.to_mut().push(HostLower {
        import: 0,
        options: opts(StringEncoding::Utf16, None),
        instance: 0,
    });
    b.export("run", "run", f, opts(StringEncoding::Utf16, None));
    b.export(
        "run-post",
        "run",
        f,
        opts(StringEncoding::Utf16, Some("post-call")),
    );
    let mut host = ComponentImports::new();
    host.func("greet", |args| match args {
        [Value::String(n)] => Ok(Some(Value::String(format!("hello {n} ☃")))),
        _ => Err(crate::Trap::host("bad args")),
    });
    let module = compile(&guest_with(imports, body));
    let mut missing = Store::new(BoundsMode::Guard);
    let c = Component::from_parts(
        Meta::leaked(b.plan.clone()),
        vec![module.clone()],
        None,
        &Parts::ALL,
    );
    assert!(matches!(
        missing.instantiate_component(&c, &ComponentImports::new()),
        Err(Error::Link(m)) if m.contains("greet")
    ));
    // A host that supplies other imports: looked up by name, still missing.
    let mut other = ComponentImports::new();
    other.func("other", |_| Ok(None));
    assert!(matches!(
        missing.instantiate_component(&c, &other),
        Err(Error::Link(m)) if m == "missing component import `greet`"
    ));
    assert_eq!(c.imports()[0].0, "greet");
    assert_eq!(c.exports().len(), 2);
    let (mut store, inst) = b.instantiate_with(module, vec![CoreDef::HostLower(0)], &host);
    let r = inst
        .call(&mut store, "run", &[Value::String("wörld".into())])
        .unwrap();
    assert_eq!(r, Some(Value::String("hello wörld ☃".into())));
    let e = inst
        .call(&mut store, "run-post", &[Value::String("x".into())])
        .unwrap_err();
    assert_eq!(e.message, "cannot leave component instance");
    let e = inst
        .call(&mut store, "run", &[Value::String("x".into())])
        .unwrap_err();
    assert!(e.message.contains("cannot enter component instance"));
}

#[test]
fn resources_move_between_host_and_guest_and_run_destructors() {
    let imports = r#"
  (import "r" "new" (func $new (param i32) (result i32)))
  (import "r" "rep" (func $rep (param i32) (result i32)))
  (import "r" "drop" (func $drop (param i32)))"#;
    let body = r#"
  (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
  (func (export "get") (param i32) (result i32) (local.get 0))
  (func (export "consume") (param i32) (result i32) (local $r i32)
    (local.set $r (call $rep (local.get 0))) (call $drop (local.get 0)) (local.get $r))
  (func (export "dtor") (param i32) (i32.store (i32.const 104) (local.get 0)))
  (func (export "dropped") (result i32) (i32.load (i32.const 104)))
  (func (export "bad-rep") (result i32) (call $rep (i32.const 9)))
"#;
    let mut b = Builder::new();
    b.plan.resources.to_mut().push(ResourceDef {
        instance: 0,
        imported: false,
        dtor: Some(export(0, "dtor")),
        name: "r".into(),
    });
    let u32t = b.ty(ValueType::U32);
    let own = b.ty(ValueType::Own(0));
    let borrow = b.ty(ValueType::Borrow(0));
    let make = b.func(&[u32t], Some(own));
    let get = b.func(&[borrow], Some(u32t));
    let consume = b.func(&[own], Some(u32t));
    let nullary = b.func(&[], Some(u32t));
    let o = CanonOptions::default();
    b.export("make", "make", make, o.clone());
    b.export("get", "get", get, o.clone());
    b.export("consume", "consume", consume, o.clone());
    b.export("dropped", "dropped", nullary, o.clone());
    b.export("bad-rep", "bad-rep", nullary, o);
    let args = vec![
        CoreDef::ResourceNew {
            resource: 0,
            instance: 0,
        },
        CoreDef::ResourceRep {
            resource: 0,
            instance: 0,
        },
        CoreDef::ResourceDrop {
            resource: 0,
            instance: 0,
        },
    ];
    let (mut store, inst) = b.instantiate(compile(&guest_with(imports, body)), args);
    let Some(Value::Own(h)) = call1_opt(&mut store, &inst, "make", Value::U32(7)) else {
        panic!("expected an own handle")
    };
    assert_eq!(
        call1(&mut store, &inst, "get", Value::Borrow(h)),
        Value::U32(7)
    );
    assert_eq!(
        call1(&mut store, &inst, "consume", Value::Own(h)),
        Value::U32(7)
    );
    assert_eq!(
        inst.call(&mut store, "dropped", &[]).unwrap(),
        Some(Value::U32(7))
    );
    let e = inst
        .call(&mut store, "get", &[Value::Borrow(h)])
        .unwrap_err();
    assert_eq!(e.message, "unknown handle index 1");
    let Some(Value::Own(h2)) = call1_opt(&mut store, &inst, "make", Value::U32(8)) else {
        panic!("expected an own handle")
    };
    inst.resource_drop(&mut store, h2).unwrap();
    assert_eq!(
        inst.call(&mut store, "dropped", &[]).unwrap(),
        Some(Value::U32(8))
    );
    assert!(inst.resource_drop(&mut store, h2).is_err());
    let e = inst.call(&mut store, "bad-rep", &[]).unwrap_err();
    assert_eq!(e.message, "unknown handle index 9");
    let e = inst.call(&mut store, "dropped", &[]).unwrap_err();
    assert!(e.message.contains("cannot enter component instance"));
}

#[test]
fn imports_without_intrinsics_refuse_a_plan_that_needs_them() {
    let imports = r#"(import "r" "new" (func $new (param i32) (result i32)))"#;
    let body = r#"(func (export "make") (param i32) (result i32) (call $new (local.get 0)))"#;
    let mut plan = Builder::new().plan;
    plan.resources.to_mut().push(ResourceDef {
        instance: 0,
        imported: false,
        dtor: None,
        name: "r".into(),
    });
    let new = CoreDef::ResourceNew {
        resource: 0,
        instance: 0,
    };
    plan.steps.to_mut().push(Step::Instantiate {
        module: 0,
        args: vec![new].into(),
    });
    let module = compile(&guest_with(imports, body));
    let c = Component::from_parts(Meta::leaked(plan), vec![module], None, &Parts::ALL);
    let mut store = Store::new(BoundsMode::Guard);
    let bare = imports_without_intrinsics();
    match store.instantiate_component(&c, &bare) {
        Err(Error::Format(m)) => assert!(
            m.contains("resource.new of resource 0 without the intrinsics' code"),
            "{m}"
        ),
        other => panic!("expected a format error, got {:?}", other.map(|_| ())),
    }
    assert!(store
        .instantiate_component(&c, &ComponentImports::new())
        .is_ok());
}

fn call1_opt(store: &mut Store, i: &ComponentInstance, f: &str, v: Value) -> Option<Value> {
    i.call(store, f, &[v]).unwrap()
}

#[test]
fn host_imported_modules_and_resources_are_link_errors() {
    let mut b = Builder::new();
    b.plan.module_imports.to_mut().push("libc".into());
    let c = Component::from_parts(Meta::leaked(b.plan.clone()), vec![], None, &Parts::ALL);
    let mut store = Store::new(BoundsMode::Guard);
    assert!(matches!(
        store.instantiate_component(&c, &ComponentImports::new()),
        Err(Error::Link(m)) if m.contains("`libc`") && m.contains("importing a core module")
    ));
    let mut b = Builder::new();
    b.plan.resources.to_mut().push(ResourceDef {
        instance: 0,
        imported: true,
        dtor: None,
        name: "wasi:io/streams#input-stream".into(),
    });
    let c = Component::from_parts(Meta::leaked(b.plan), vec![], None, &Parts::ALL);
    assert!(matches!(
        store.instantiate_component(&c, &ComponentImports::new()),
        Err(Error::Link(m)) if m.contains("input-stream") && m.contains("the host defines")
    ));
}

#[test]
fn maps_round_trip_and_lie_in_memory_as_lists_of_pairs() {
    let mut b = Builder::new();
    let (s, u8t, u64t) = (
        b.ty(ValueType::String),
        b.ty(ValueType::U8),
        b.ty(ValueType::U64),
    );
    let inner = b.ty(ValueType::Map(u8t, u64t));
    let map = b.ty(ValueType::Map(s, inner));
    let f = b.func(&[map], Some(map));
    b.export("echo", "pair", f, opts(StringEncoding::Utf8, None));
    let pair = b.ty(ValueType::Tuple(vec![u8t, u64t].into()));
    let pairs = b.ty(ValueType::List(pair));
    let f = b.func(&[inner], Some(pairs));
    b.export("as-pairs", "pair", f, opts(StringEncoding::Utf8, None));
    let (mut store, inst) = b.instantiate(compile(&guest(ECHO)), vec![]);
    let inner_map = |es: &[(u8, u64)]| {
        Value::Map(
            es.iter()
                .map(|&(k, v)| (Value::U8(k), Value::U64(v)))
                .collect(),
        )
    };
    let key = |k: &str| Value::String(k.into());
    // Order and duplicate keys survive: the ABI does not deduplicate.
    let v = Value::Map(vec![
        (key("b"), inner_map(&[(7, u64::MAX), (7, 1)])),
        (key("a"), inner_map(&[])),
        (key("b"), inner_map(&[(0, 3)])),
    ]);
    assert_eq!(call1(&mut store, &inst, "echo", v.clone()), v);
    let got = call1(
        &mut store,
        &inst,
        "as-pairs",
        inner_map(&[(1, 2), (255, 1 << 40)]),
    );
    let tuple = |k: u8, v: u64| Value::Tuple(vec![Value::U8(k), Value::U64(v)]);
    assert_eq!(got, Value::List(vec![tuple(1, 2), tuple(255, 1 << 40)]));
    let wrong = Value::List(vec![tuple(1, 2)]);
    assert!(inst.call(&mut store, "as-pairs", &[wrong]).is_err());
}

/// A guest using a host-defined `store` resource: `[constructor]store` and
/// `[method]store.get` are host imports, `resource.drop` calls the host's
/// destructor.
#[test]
fn host_defined_resources_pass_both_ways_and_drop_in_the_host() {
    let imports = r#"
  (import "host" "new" (func $new (param i32) (result i32)))
  (import "host" "get" (func $get (param i32 i32) (result i32)))
  (import "host" "drop" (func $drop (param i32)))"#;
    let body = r#"
  (func (export "run") (param i32) (result i32) (local $h i32) (local $v i32)
    (local.set $h (call $new (local.get 0)))
    (local.set $v (call $get (local.get $h) (i32.const 1)))
    (call $drop (local.get $h))
    (local.get $v))
  (func (export "keep") (param i32) (result i32) (call $new (local.get 0)))
  (func (export "use") (param i32) (result i32) (local $v i32)
    (local.set $v (call $get (local.get 0) (i32.const 2)))
    (call $drop (local.get 0))
    (local.get $v))
  (func (export "leak-borrow") (param i32) (result i32) (local.get 0))
  (func (export "take") (param i32) (call $drop (local.get 0)))
  (func (export "twice") (param i32) (call $drop (local.get 0)) (call $drop (local.get 0)))
"#;
    let mut b = Builder::new();
    b.plan.resources.to_mut().push(ResourceDef {
        instance: 0,
        imported: true,
        dtor: None,
        name: "kv#store".into(),
    });
    let u32t = b.ty(ValueType::U32);
    let own = b.ty(ValueType::Own(0));
    let borrow = b.ty(ValueType::Borrow(0));
    let new = b.func(&[u32t], Some(own));
    let get = b.func(&[borrow, u32t], Some(u32t));
    let use_ = b.func(&[borrow], Some(u32t));
    let take = b.func(&[own], None);
    let run = b.func(&[u32t], Some(u32t));
    for (name, ty) in [
        ("kv#[constructor]store", new),
        ("kv#[method]store.get", get),
    ] {
        b.plan.imports.to_mut().push(ComponentImport {
            name: name.into(),
            ty,
        });
        b.plan.host_lowers.to_mut().push(HostLower {
            import: b.plan.imports.len() as u32 - 1,
            options: CanonOptions::default(),
            instance: 0,
        });
    }
    let o = CanonOptions::default();
    b.export("run", "run", run, o.clone());
    b.export("keep", "keep", new, o.clone());
    b.export("use", "use", use_, o.clone());
    b.export("leak-borrow", "leak-borrow", use_, o.clone());
    b.export("take", "take", take, o.clone());
    b.export("twice", "twice", take, o);
    let c = Component::from_parts(Meta::leaked(b.plan.clone()), vec![], None, &Parts::ALL);
    let ty = c.resource_type("kv#store").unwrap();
    assert_eq!(c.imported_resources(), vec!["kv#store".to_string()]);

    // The host's "table": rep i holds the value 10 * i; `get` adds its argument.
    let dropped = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut host = ComponentImports::new();
    let log = dropped.clone();
    host.resource("kv#store", move |rep| {
        log.lock().unwrap().push(rep);
        Ok(())
    });
    host.func("kv#[constructor]store", move |args| match args {
        [Value::U32(rep)] => Ok(Some(Value::Own(ResourceAny::host(ty, *rep)))),
        _ => Err(crate::Trap::host("bad args")),
    });
    host.func("kv#[method]store.get", |args| match args {
        [Value::Borrow(h), Value::U32(k)] => Ok(Some(Value::U32(h.host_rep().unwrap() * 10 + k))),
        _ => Err(crate::Trap::host("bad args")),
    });
    let module = compile(&guest_with(imports, body));
    let drop_def = CoreDef::ResourceDrop {
        resource: 0,
        instance: 0,
    };
    let args = vec![CoreDef::HostLower(0), CoreDef::HostLower(1), drop_def];
    let (mut store, inst) = b.instantiate_with(module, args, &host);

    // Made, borrowed and dropped inside the guest: the host's dtor sees rep 4.
    assert_eq!(
        call1(&mut store, &inst, "run", Value::U32(4)),
        Value::U32(41)
    );
    assert_eq!(*dropped.lock().unwrap(), vec![4]);
    // An own handle comes out as the host's rep; the guest's table lets go.
    let Some(Value::Own(h)) = call1_opt(&mut store, &inst, "keep", Value::U32(5)) else {
        panic!("expected an own handle")
    };
    assert_eq!((h.host_rep(), h.ty()), (Some(5), ty));
    // Lent to the guest, which passes the borrow on to the host.
    assert_eq!(
        call1(&mut store, &inst, "use", Value::Borrow(h)),
        Value::U32(52)
    );
    assert_eq!(
        call1(&mut store, &inst, "use", Value::Own(h)),
        Value::U32(52)
    );
    assert_eq!(dropped.lock().unwrap().len(), 1, "lending must not drop");
    // Given to the guest and dropped there.
    assert_eq!(
        inst.call(&mut store, "take", &[Value::Own(h)]).unwrap(),
        None
    );
    assert_eq!(*dropped.lock().unwrap(), vec![4, 5]);
    // The host can drop its own handles through the instance as well.
    inst.resource_drop(&mut store, ResourceAny::host(ty, 6))
        .unwrap();
    assert_eq!(*dropped.lock().unwrap(), vec![4, 5, 6]);
    // Spec rule: a borrow must be dropped before the call returns.
    let e = inst
        .call(&mut store, "leak-borrow", &[Value::Borrow(h)])
        .unwrap_err();
    assert_eq!(
        e.message,
        "borrow handles still remain at the end of the call"
    );
}

#[test]
fn host_defined_handles_are_checked_against_the_resource_kind() {
    let mut b = Builder::new();
    b.plan.resources.to_mut().push(ResourceDef {
        instance: 0,
        imported: false,
        dtor: None,
        name: "mine".into(),
    });
    b.plan.resources.to_mut().push(ResourceDef {
        instance: 0,
        imported: true,
        dtor: None,
        name: "yours".into(),
    });
    let own = b.ty(ValueType::Own(0));
    let f = b.func(&[own], None);
    b.export("take", "take", f, CanonOptions::default());
    let module = compile(&guest(r#"(func (export "take") (param i32))"#));
    let c = Component::from_parts(Meta::leaked(b.plan.clone()), vec![], None, &Parts::ALL);
    let mine = c.resource_type("mine").unwrap();
    let mut host = ComponentImports::new();
    host.resource("yours", |_| Ok(()));
    let (mut store, inst) = b.instantiate_with(module, vec![], &host);
    // Refused every time: the host's mistake does not poison the guest.
    for _ in 0..2 {
        let e = inst
            .call(
                &mut store,
                "take",
                &[Value::Own(ResourceAny::host(mine, 3))],
            )
            .unwrap_err();
        assert!(
            e.message.contains("defined by the component"),
            "{}",
            e.message
        );
    }
}

/// The typed path (`call_typed`) over the `ECHO` guest: `u32`, `char` and
/// strings in every encoding, both ways, without `Value`.
#[test]
fn typed_calls_pass_scalars_and_strings_both_ways() {
    let mut b = Builder::new();
    let u32t = b.ty(ValueType::U32);
    let ch = b.ty(ValueType::Char);
    let s = b.ty(ValueType::String);
    let f = b.func(&[u32t], Some(u32t));
    b.export("id", "id32", f, CanonOptions::default());
    let f = b.func(&[ch], Some(ch));
    b.export("ch", "id32", f, CanonOptions::default());
    let encodings = [
        StringEncoding::Utf8,
        StringEncoding::Utf16,
        StringEncoding::CompactUtf16,
    ];
    let f = b.func(&[s], Some(s));
    for (k, enc) in encodings.iter().enumerate() {
        b.export(&format!("echo{k}"), "pair", f, opts(*enc, None));
    }
    let (mut store, inst) = b.instantiate(compile(&guest(ECHO)), vec![]);
    let index = |store: &Store, name: &str| inst.export_index(store, name).unwrap();
    let id = index(&store, "id");
    for x in [0u32, 7, u32::MAX] {
        let got: u32 = inst.call_typed(&mut store, id, (x,)).unwrap();
        assert_eq!(got, x);
    }
    let ch = index(&store, "ch");
    let got: char = inst.call_typed(&mut store, ch, ('ß',)).unwrap();
    assert_eq!(got, 'ß');
    for (k, enc) in encodings.iter().enumerate() {
        let echo = index(&store, &format!("echo{k}"));
        for text in ["", "hello", "héllo wörld", "snow ☃ and 😀"] {
            let got: String = inst.call_typed(&mut store, echo, (text,)).unwrap();
            assert_eq!(got, text, "{enc:?}");
        }
    }
    assert_eq!(inst.export_index(&store, "nope"), None);
}

/// The `ECHO` guest's `id32` exported as `id(u32) -> u32`, export number 0.
fn u32_identity() -> (Store, ComponentInstance) {
    let mut b = Builder::new();
    let u32t = b.ty(ValueType::U32);
    let f = b.func(&[u32t], Some(u32t));
    b.export("id", "id32", f, CanonOptions::default());
    b.instantiate(compile(&guest(ECHO)), vec![])
}

/// Arguments or a result of the wrong Rust type, a wrong count, or an export
/// number out of range are the host's errors: refused before the guest is
/// entered, so the instance stays usable.
#[test]
fn typed_calls_refuse_mismatches_without_poisoning() {
    let (mut store, inst) = u32_identity();
    let id = inst.export_index(&store, "id").unwrap();
    let e = inst
        .call_typed::<u32>(&mut store, id, ("text",))
        .unwrap_err();
    assert!(e.message.contains("type mismatch"), "{}", e.message);
    let e = inst
        .call_typed::<String>(&mut store, id, (1u32,))
        .unwrap_err();
    assert!(e.message.contains("type mismatch"), "{}", e.message);
    let e = inst.call_typed::<u32>(&mut store, id, ()).unwrap_err();
    assert!(e.message.contains("expects 1 arguments"), "{}", e.message);
    let e = inst.call_typed::<u32>(&mut store, 9, (1u32,)).unwrap_err();
    assert!(e.message.contains("no export number 9"), "{}", e.message);
    let got: u32 = inst.call_typed(&mut store, id, (3u32,)).unwrap();
    assert_eq!(got, 3);
}

/// A trap in a typed call is an `Err` and poisons the instance, as in the
/// dynamic API; so does one in a second instantiation right after (the trap
/// path leaves no signal blocked).
#[test]
fn typed_call_traps_are_errors_and_poison() {
    let mut b = Builder::new();
    let unit = b.func(&[], None);
    b.export("boom", "boom", unit, CanonOptions::default());
    let module = compile(&guest(r#"(func (export "boom") (unreachable))"#));
    for _ in 0..2 {
        let b2 = Builder {
            plan: b.plan.clone(),
            parts: b.parts,
        };
        let (mut store, inst) = b2.instantiate(module.clone(), vec![]);
        let e = inst.call_typed::<()>(&mut store, 0, ()).unwrap_err();
        assert_eq!(e.message, "unreachable");
        let again = inst.call_typed::<()>(&mut store, 0, ()).unwrap_err();
        assert!(again.message.contains("cannot enter component instance"));
        let dynamic = inst.call(&mut store, "boom", &[]).unwrap_err();
        assert!(dynamic.message.contains("cannot enter component instance"));
    }
}

/// Seventeen `u32`s pass through memory (realloc) on the typed path, and the
/// post-return function runs after the result is lifted.
#[test]
fn typed_calls_spill_params_and_run_post_return() {
    let (mut store, inst) = sum_of_seventeen();
    let args: Vec<u32> = (1..=17).collect();
    let dyn_args: Vec<&dyn typed::LowerArg> = args.iter().map(|a| a as _).collect();
    for round in 1..=2 {
        let sum: u32 = inst.call_typed(&mut store, 0, dyn_args.as_slice()).unwrap();
        assert_eq!(sum, 153);
        let count: u32 = inst.call_typed(&mut store, 1, ()).unwrap();
        assert_eq!(count, 153 * round, "post-return ran once per call");
    }
}

/// A tuple of arguments that spills (a `tuple<u32 × 16>` `Value` and a
/// `u32`: 17 flat values) goes through memory; the same tuple types given as
/// two `u32`s cannot spill: `call_typed` refuses them before entering, and a
/// binding call that gets them anyway fails instead of storing them (inside
/// the call, so the instance is poisoned, as by a trap).
#[test]
fn typed_tuples_spill_only_when_their_types_can() {
    let (mut store, inst) = sum_of_seventeen();
    let sixteen = Value::Tuple((1..=16).map(Value::U32).collect());
    for _ in 0..2 {
        let sum: u32 = call_binding(&inst, &mut store, 2, (sixteen.clone(), 17u32)).unwrap();
        assert_eq!(sum, 153);
        let e = inst
            .call_typed::<u32>(&mut store, 2, (1u32, 2u32))
            .unwrap_err();
        assert!(e.message.contains("type mismatch"), "{}", e.message);
    }
    let e = call_binding::<u32>(&inst, &mut store, 2, (1u32, 2u32)).unwrap_err();
    assert!(e.message.contains("too few flat values"), "{}", e.message);
    let e = inst.call_typed::<u32>(&mut store, 2, (sixteen, 17u32));
    let e = e.unwrap_err();
    assert!(e.message.contains("cannot enter"), "{}", e.message);
}

/// The bindings' call leaves out the checks the build settled (Rust numbers
/// and strings chosen from the plan), not the rest: a `Value` is still
/// checked, and a wrong-typed number makes a wrong value, not a fault.
#[test]
fn binding_calls_check_what_the_build_cannot() {
    let (mut store, inst) = u32_identity();
    let got: u32 = call_binding(&inst, &mut store, 0, (5u32,)).unwrap();
    assert_eq!(got, 5);
    let e = call_binding::<u32>(&inst, &mut store, 0, (Value::String("x".into()),)).unwrap_err();
    assert!(e.message.contains("type mismatch"), "{}", e.message);
    let e = call_binding::<u32>(&inst, &mut store, 0, ()).unwrap_err();
    assert!(e.message.contains("expects 1 arguments"), "{}", e.message);
    let wrong: Result<u64, _> = call_binding(&inst, &mut store, 0, (7i32,));
    assert_eq!(wrong.unwrap(), 7, "an i32 lowers to the same bits");
    let got: u32 = call_binding(&inst, &mut store, 0, (6u32,)).unwrap();
    assert_eq!(got, 6);
}

/// An instance handle used with a store that does not own it is refused.
#[test]
fn typed_calls_refuse_another_store() {
    let (_store, inst) = u32_identity();
    let mut other = Store::new(BoundsMode::Guard);
    let e = inst.call_typed::<u32>(&mut other, 0, (1u32,)).unwrap_err();
    assert!(e.message.contains("does not own"), "{}", e.message);
}

/// A core import wired to an export of another type is refused when the
/// plan is instantiated, with a format error (not a fault in the call).
#[test]
fn mistyped_plan_wiring_is_refused() {
    let first = compile(&guest(ECHO));
    let second = compile(r#"(module (import "m" "f" (func (param i32) (result i32))))"#);
    let mut plan = Builder::new().plan;
    for (module, args) in [(0, vec![]), (1, vec![export(0, "id64")])] {
        plan.steps.to_mut().push(Step::Instantiate {
            module,
            args: args.into(),
        });
    }
    let c = Component::from_parts(Meta::leaked(plan), vec![first, second], None, &Parts::ALL);
    let mut store = Store::new(BoundsMode::Guard);
    match store.instantiate_component(&c, &ComponentImports::new()) {
        Err(Error::Format(m)) => assert!(m.contains("m::f does not match"), "{m}"),
        other => panic!("expected a format error, got {:?}", other.map(|_| ())),
    }
}

mod typed_imports;
