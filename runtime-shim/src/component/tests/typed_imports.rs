//! Typed host imports ([`ComponentImports::func_typed`]) on hand-built
//! plans: every kind of value the WASI interfaces pass, both ways; bad guest
//! input trapping exactly as the dynamic path traps; registered types that
//! do not match the import refused at instantiation.

use super::*;
use crate::component::abi;
use crate::component::typed_import::{
    typecheck_record, typecheck_variant, Check, ComponentType, Cx, EnumCase, Fields, FlagBits,
    Flat, FlatBuf, Lift, Lower, Payload, Rep, TypeRef, Variant,
};
use crate::{Trap, ValType};
use ValueType as V;

/// A component whose export `name` has the same type as its import `name`
/// and passes its core arguments straight to it: the test calls the export
/// with dynamic values, the export lowers them into the guest, the typed
/// import lifts them, and its result comes back the same way.
struct Through {
    b: Builder,
    imports: String,
    body: String,
}

impl Through {
    fn new() -> Self {
        Through {
            b: Builder::new(),
            imports: String::new(),
            body: String::new(),
        }
    }

    fn func(&mut self, name: &str, params: &[u32], result: Option<u32>) {
        self.func_with(name, params, params, result);
    }

    /// As [`Through::func`], the export taking `exported` parameters of the
    /// same core types: `own` handles where the import borrows, as a borrow
    /// lent to the guest would have to be dropped before it returns.
    fn func_with(&mut self, name: &str, params: &[u32], exported: &[u32], result: Option<u32>) {
        let f = self.b.func(params, result);
        let export_ty = self.b.func(exported, result);
        let plan = &self.b.plan;
        let types: Vec<TypeRef> = params.iter().map(|t| TypeRef::new(plan, *t)).collect();
        let result_ty = result.map(|t| TypeRef::new(plan, t));
        let lowered = abi::core_signature(&types, result_ty, true);
        let lifted = abi::core_signature(&types, result_ty, false);
        let wat = |kind: &str, ts: &[ValType]| -> String {
            ts.iter().map(|t| format!(" ({kind} {t})")).collect()
        };
        let (import_params, import_results) = (
            wat("param", &lowered.params),
            wat("result", &lowered.results),
        );
        self.imports += &format!(
            "(import \"host\" \"{name}\" (func ${name}{import_params}{import_results}))\n"
        );
        let args: String = (0..lifted.params.len())
            .map(|i| format!(" (local.get {i})"))
            .collect();
        let (export_params, export_results) =
            (wat("param", &lifted.params), wat("result", &lifted.results));
        let call = match lowered.params.len() > lifted.params.len() {
            true => format!("(call ${name}{args} (i32.const 1024)) (i32.const 1024)"),
            false => format!("(call ${name}{args})"),
        };
        self.body += &format!("(func (export \"{name}\"){export_params}{export_results} {call})\n");
        self.b.plan.imports.to_mut().push(ComponentImport {
            name: name.to_string().into(),
            ty: f,
        });
        self.b.plan.host_lowers.to_mut().push(HostLower {
            import: self.b.plan.imports.len() as u32 - 1,
            options: opts(StringEncoding::Utf8, None),
            instance: 0,
        });
        self.b
            .export(name, name, export_ty, opts(StringEncoding::Utf8, None));
    }

    fn instantiate(self, host: &ComponentImports) -> (Store, ComponentInstance) {
        let lowers = (0..self.b.plan.host_lowers.len() as u32).map(CoreDef::HostLower);
        let module = compile(&guest_with(&self.imports, &self.body));
        self.b.instantiate_with(module, lowers.collect(), host)
    }
}

/// `wasi:clocks/wall-clock.datetime`, written by hand as a host's record.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Datetime {
    seconds: u64,
    nanoseconds: u32,
}

impl ComponentType for Datetime {
    fn typecheck(ty: TypeRef) -> bool {
        let fields: [(&str, Check); 2] =
            [("seconds", u64::typecheck), ("nanoseconds", u32::typecheck)];
        typecheck_record(ty, &fields)
    }
}

impl Lift for Datetime {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        let mut f = Fields::new(ty, 0);
        Ok(Datetime {
            seconds: f.lift(cx, flat)?,
            nanoseconds: f.lift(cx, flat)?,
        })
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        let mut f = Fields::new(ty, ptr);
        Ok(Datetime {
            seconds: f.load(cx)?,
            nanoseconds: f.load(cx)?,
        })
    }
}

impl Lower for Datetime {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        let mut f = Fields::new(ty, 0);
        f.lower(cx, &self.seconds, out)?;
        f.lower(cx, &self.nanoseconds, out)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let mut f = Fields::new(ty, ptr);
        f.store(cx, &self.seconds)?;
        f.store(cx, &self.nanoseconds)
    }
}

/// `wasi:filesystem/types.new-timestamp`: a variant with a payload, lifted.
#[derive(Debug, PartialEq)]
enum NewTimestamp {
    NoChange,
    Now,
    At(Datetime),
}

impl ComponentType for NewTimestamp {
    fn typecheck(ty: TypeRef) -> bool {
        let at: Check = Datetime::typecheck;
        typecheck_variant(
            ty,
            &[("no-change", None), ("now", None), ("timestamp", Some(at))],
        )
    }
}

fn new_timestamp(cx: &mut Cx, v: &Variant, i: u32, p: Payload) -> Result<NewTimestamp, Trap> {
    Ok(match i {
        0 => NewTimestamp::NoChange,
        1 => NewTimestamp::Now,
        _ => NewTimestamp::At(p.get(cx, v.payload_type(2))?),
    })
}

impl Lift for NewTimestamp {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        Variant::lift_case(cx, ty, flat, new_timestamp)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        Variant::load_case(cx, ty, ptr, new_timestamp)
    }
}

/// `wasi:io/streams.stream-error`: a variant with a handle payload, lowered.
enum StreamError {
    Failed(Rep),
    Closed,
}

impl ComponentType for StreamError {
    fn typecheck(ty: TypeRef) -> bool {
        let own: Check = Rep::typecheck;
        typecheck_variant(
            ty,
            &[("last-operation-failed", Some(own)), ("closed", None)],
        )
    }
}

impl StreamError {
    fn case(&self) -> (u32, Option<&dyn Lower>) {
        match self {
            StreamError::Failed(e) => (0, Some(e)),
            StreamError::Closed => (1, None),
        }
    }
}

impl Lower for StreamError {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        let (i, p) = self.case();
        Variant::new(ty).lower(cx, out, i, p)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let (i, p) = self.case();
        Variant::new(ty).store(cx, ptr, i, p)
    }
}

const CODES: [&str; 3] = ["access", "busy", "exist"];

/// An enum of the host's, through [`EnumCase`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Code(u32);

impl ComponentType for Code {
    fn typecheck(ty: TypeRef) -> bool {
        EnumCase::typecheck_names(ty, &CODES)
    }
}

impl Lift for Code {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        EnumCase::lift(cx, ty, flat).map(|c| Code(c.0))
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        EnumCase::load(cx, ty, ptr).map(|c| Code(c.0))
    }
}

impl Lower for Code {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        EnumCase(self.0).lower(cx, ty, out)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        EnumCase(self.0).store(cx, ty, ptr)
    }
}

const PERMS: [&str; 3] = ["read", "write", "mutate-directory"];

/// Flags of the host's, through [`FlagBits`].
struct Perms(FlagBits);

impl ComponentType for Perms {
    fn typecheck(ty: TypeRef) -> bool {
        FlagBits::typecheck_labels(ty, &PERMS)
    }
}

impl Lift for Perms {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        FlagBits::lift(cx, ty, flat).map(Perms)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        FlagBits::load(cx, ty, ptr).map(Perms)
    }
}

impl Lower for Perms {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        self.0.lower(cx, ty, out)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        self.0.store(cx, ty, ptr)
    }
}

fn string(s: &str) -> Value {
    Value::String(s.into())
}

fn some(v: Value) -> Value {
    Value::Option(Some(Box::new(v)))
}

fn datetime(seconds: u64, nanoseconds: u32) -> Value {
    Value::Record(vec![
        ("seconds".into(), Value::U64(seconds)),
        ("nanoseconds".into(), Value::U32(nanoseconds)),
    ])
}

/// The types of [`every_kind`]'s functions, by name.
struct Types {
    scalars: Vec<u32>,
    scalar_tuple: u32,
    u32t: u32,
    u64t: u32,
    bytes: u32,
    string: u32,
    strings: u32,
    env: u32,
    datetime: u32,
    new_timestamp: u32,
    option_datetime: u32,
    own: u32,
    borrow: u32,
    write_result: u32,
    read_result: u32,
    code: u32,
    code_result: u32,
    perms: u32,
    option_string: u32,
    borrows: u32,
    owns: u32,
    u32s: u32,
}

fn types(b: &mut Builder) -> Types {
    let scalars: Vec<u32> = [
        V::U8,
        V::S16,
        V::U32,
        V::S64,
        V::F32,
        V::F64,
        V::Bool,
        V::Char,
    ]
    .into_iter()
    .map(|t| b.ty(t))
    .collect();
    let (u32t, u64t, u8t, string) = (scalars[2], b.ty(V::U64), scalars[0], b.ty(V::String));
    b.plan.resources.to_mut().push(ResourceDef {
        instance: 0,
        imported: true,
        dtor: None,
        name: "io#stream".into(),
    });
    let (own, borrow) = (b.ty(V::Own(0)), b.ty(V::Borrow(0)));
    let bytes = b.ty(V::List(u8t));
    let pair = b.ty(V::Tuple(vec![string, string].into()));
    let datetime = b.ty(V::Record(
        vec![("seconds".into(), u64t), ("nanoseconds".into(), u32t)].into(),
    ));
    let cases = [
        ("no-change", None),
        ("now", None),
        ("timestamp", Some(datetime)),
    ];
    let new_timestamp = b.ty(V::Variant(
        cases.map(|(n, t)| (n.into(), t)).to_vec().into(),
    ));
    let stream_error = b.ty(V::Variant(
        vec![
            ("last-operation-failed".into(), Some(own)),
            ("closed".into(), None),
        ]
        .into(),
    ));
    let code = b.ty(V::Enum(CODES.map(Into::into).to_vec().into()));
    Types {
        scalar_tuple: b.ty(V::Tuple(scalars.clone().into())),
        u32t,
        u64t,
        bytes,
        string,
        strings: b.ty(V::List(string)),
        env: b.ty(V::List(pair)),
        datetime,
        new_timestamp,
        option_datetime: b.ty(V::Option(datetime)),
        own,
        borrow,
        write_result: b.ty(V::Result {
            ok: Some(u64t),
            err: Some(stream_error),
        }),
        read_result: b.ty(V::Result {
            ok: Some(bytes),
            err: Some(stream_error),
        }),
        code,
        code_result: b.ty(V::Result {
            ok: None,
            err: Some(code),
        }),
        perms: b.ty(V::Flags(PERMS.map(Into::into).to_vec().into())),
        option_string: b.ty(V::Option(string)),
        borrows: b.ty(V::List(borrow)),
        owns: b.ty(V::List(own)),
        u32s: b.ty(V::List(u32t)),
        scalars,
    }
}

/// Registers the typed host functions of [`every_kind`].
fn register(host: &mut ComponentImports) {
    type Scalars = (u8, i16, u32, i64, f32, f64, bool, char);
    host.func_typed(
        "scalars",
        |a: u8,
         b: i16,
         c: u32,
         d: i64,
         e: f32,
         f: f64,
         g: bool,
         h: char|
         -> Result<Scalars, Trap> {
            let next = char::from_u32(h as u32 + 1).unwrap_or(h);
            Ok((a + 1, -b, c * 2, d - 1, e * 2.0, f / 2.0, !g, next))
        },
    );
    host.func_typed("rev", |mut b: Vec<u8>| {
        b.reverse();
        Ok(b)
    });
    host.func_typed("prefix", |p: String, words: Vec<String>| {
        Ok(words
            .into_iter()
            .map(|w| format!("{p}{w}"))
            .collect::<Vec<_>>())
    });
    host.func_typed("env", || {
        Ok(vec![
            ("HOME".to_string(), "/".to_string()),
            ("LANG".into(), "C".into()),
        ])
    });
    host.func_typed("later", |d: Datetime| {
        Ok(Datetime {
            seconds: d.seconds + 1,
            ..d
        })
    });
    host.func_typed("when", |t: NewTimestamp| {
        Ok(match t {
            NewTimestamp::NoChange => None,
            NewTimestamp::Now => Some(Datetime {
                seconds: 9,
                nanoseconds: 0,
            }),
            NewTimestamp::At(d) => Some(d),
        })
    });
    host.func_typed("write", |s: Rep, b: Vec<u8>| {
        Ok(match &b[..] {
            b"" => Err(StreamError::Closed),
            b"fail" => Err(StreamError::Failed(Rep(77))),
            _ => Ok(b.len() as u64 + s.0 as u64),
        })
    });
    host.func_typed("read", |s: Rep, n: u64| {
        Ok(Ok::<_, StreamError>(vec![s.0 as u8; n as usize]))
    });
    host.func_typed("check", |c: Code| {
        Ok(if c.0 == 0 { Ok(()) } else { Err(c) })
    });
    host.func_typed("flip", |p: Perms| Ok(Perms(FlagBits(p.0 .0 ^ 1))));
    host.func_typed("maybe", |s: Option<String>| Ok(s.map(|s| s.to_uppercase())));
    host.func_typed("make", |n: u32| Ok(Rep(n)));
    host.func_typed("peek", |r: Rep| Ok(r.0 * 10));
    host.func_typed("take", |h: ResourceAny| Ok(h.host_rep().unwrap_or(0)));
    host.func_typed("poll", |rs: Vec<Rep>| {
        Ok(rs.into_iter().map(|r| r.0).collect::<Vec<u32>>())
    });
}

/// Every kind of value the WASI interfaces pass, through typed imports
/// (and one dynamic import beside them: both kinds serve one component).
fn every_kind() -> (Store, ComponentInstance) {
    let mut t = Through::new();
    let ty = types(&mut t.b);
    t.func("scalars", &ty.scalars.clone(), Some(ty.scalar_tuple));
    t.func("twice", &[ty.u64t], Some(ty.u64t));
    t.func("rev", &[ty.bytes], Some(ty.bytes));
    t.func("prefix", &[ty.string, ty.strings], Some(ty.strings));
    t.func("env", &[], Some(ty.env));
    t.func("later", &[ty.datetime], Some(ty.datetime));
    t.func("when", &[ty.new_timestamp], Some(ty.option_datetime));
    t.func_with(
        "write",
        &[ty.borrow, ty.bytes],
        &[ty.own, ty.bytes],
        Some(ty.write_result),
    );
    t.func_with(
        "read",
        &[ty.borrow, ty.u64t],
        &[ty.own, ty.u64t],
        Some(ty.read_result),
    );
    t.func("check", &[ty.code], Some(ty.code_result));
    t.func("flip", &[ty.perms], Some(ty.perms));
    t.func("maybe", &[ty.option_string], Some(ty.option_string));
    t.func("make", &[ty.u32t], Some(ty.own));
    t.func_with("peek", &[ty.borrow], &[ty.own], Some(ty.u32t));
    t.func("take", &[ty.own], Some(ty.u32t));
    t.func_with("poll", &[ty.borrows], &[ty.owns], Some(ty.u32s));
    let mut host = ComponentImports::new();
    register(&mut host);
    host.func("twice", |a| match a {
        [Value::U64(x)] => Ok(Some(Value::U64(x * 2))),
        _ => Err(Trap::host("bad args")),
    });
    host.resource("io#stream", |_| Ok(()));
    t.instantiate(&host)
}

#[test]
fn typed_imports_take_and_return_every_kind_wasi_uses() {
    let (mut store, inst) = every_kind();
    let mut call = |name: &str, args: &[Value]| inst.call(&mut store, name, args).unwrap();
    let scalars = [
        Value::U8(1),
        Value::S16(-300),
        Value::U32(7),
        Value::S64(i64::MIN + 1),
        Value::F32(1.5),
        Value::F64(-3.0),
        Value::Bool(false),
        Value::Char('☃'),
    ];
    let want = Value::Tuple(vec![
        Value::U8(2),
        Value::S16(300),
        Value::U32(14),
        Value::S64(i64::MIN),
        Value::F32(3.0),
        Value::F64(-1.5),
        Value::Bool(true),
        Value::Char('☄'),
    ]);
    assert_eq!(call("scalars", &scalars), Some(want));
    assert_eq!(call("twice", &[Value::U64(21)]), Some(Value::U64(42)));
    let bytes = |b: &[u8]| Value::List(b.iter().map(|b| Value::U8(*b)).collect());
    assert_eq!(call("rev", &[bytes(b"abc")]), Some(bytes(b"cba")));
    assert_eq!(call("rev", &[bytes(b"")]), Some(bytes(b"")));
    let words = Value::List(vec![string("a"), string("ß")]);
    let got = call("prefix", &[string("x-"), words]);
    assert_eq!(got, Some(Value::List(vec![string("x-a"), string("x-ß")])));
    let pair = |k, v| Value::Tuple(vec![string(k), string(v)]);
    let env = Value::List(vec![pair("HOME", "/"), pair("LANG", "C")]);
    assert_eq!(call("env", &[]), Some(env));
    assert_eq!(call("later", &[datetime(5, 6)]), Some(datetime(6, 6)));
    let case = |n: &str, p: Option<Value>| Value::Variant(n.into(), p.map(Box::new));
    assert_eq!(
        call("when", &[case("no-change", None)]),
        Some(Value::Option(None))
    );
    assert_eq!(
        call("when", &[case("now", None)]),
        Some(some(datetime(9, 0)))
    );
    let at = case("timestamp", Some(datetime(3, 4)));
    assert_eq!(call("when", &[at]), Some(some(datetime(3, 4))));

    let made = call("make", &[Value::U32(5)]);
    let Some(Value::Own(h)) = made else {
        panic!("make returned {made:?}")
    };
    assert_eq!(h.host_rep(), Some(5));
    assert_eq!(call("peek", &[Value::Own(h)]), Some(Value::U32(50)));
    let ok = |v: Value| Some(Value::Result(Ok(Some(Box::new(v)))));
    let err = |v: Value| Some(Value::Result(Err(Some(Box::new(v)))));
    assert_eq!(
        call("write", &[Value::Own(h), bytes(b"hey")]),
        ok(Value::U64(8))
    );
    assert_eq!(
        call("write", &[Value::Own(h), bytes(b"")]),
        err(case("closed", None))
    );
    let failed = call("write", &[Value::Own(h), bytes(b"fail")]);
    let error = ResourceAny::host(ResourceType(0), 77);
    assert_eq!(
        failed,
        err(case("last-operation-failed", Some(Value::Own(error))))
    );
    assert_eq!(
        call("read", &[Value::Own(h), Value::U64(3)]),
        ok(bytes(&[5; 3]))
    );
    let other = ResourceAny::host(ResourceType(0), 6);
    let borrows = Value::List(vec![Value::Own(h), Value::Own(other)]);
    assert_eq!(
        call("poll", &[borrows]),
        Some(Value::List(vec![Value::U32(5), Value::U32(6)]))
    );
    assert_eq!(call("take", &[Value::Own(h)]), Some(Value::U32(5)));

    assert_eq!(
        call("check", &[Value::Enum("access".into())]),
        Some(Value::Result(Ok(None)))
    );
    let busy = Value::Enum("busy".into());
    assert_eq!(call("check", std::slice::from_ref(&busy)), err(busy));
    let flags = |names: &[&str]| Value::Flags(names.iter().map(|n| n.to_string()).collect());
    let flipped = call("flip", &[flags(&["write", "mutate-directory"])]);
    assert_eq!(flipped, Some(flags(&["read", "write", "mutate-directory"])));
    assert_eq!(call("flip", &[flags(&["read"])]), Some(flags(&[])));
    assert_eq!(
        call("maybe", &[some(string("ok"))]),
        Some(some(string("OK")))
    );
    assert_eq!(
        call("maybe", &[Value::Option(None)]),
        Some(Value::Option(None))
    );
}

/// Three tuples of six `u32`s: more flat values than fit, so the guest
/// passes the arguments in memory and the import loads them from there.
#[test]
fn typed_imports_load_spilled_parameters() {
    let mut t = Through::new();
    let u32t = t.b.ty(V::U32);
    let six = t.b.ty(V::Tuple(vec![u32t; 6].into()));
    t.func("sum", &[six, six, six], Some(u32t));
    let mut host = ComponentImports::new();
    type Six = (u32, u32, u32, u32, u32, u32);
    let sum = |t: Six| t.0 + t.1 + t.2 + t.3 + t.4 + t.5;
    host.func_typed("sum", move |a: Six, b: Six, c: Six| {
        Ok(sum(a) + sum(b) * 100 + sum(c) * 10000)
    });
    let (mut store, inst) = t.instantiate(&host);
    let tuple = |k: u32| Value::Tuple((0..6).map(|i| Value::U32(k + i)).collect());
    let got = inst.call(&mut store, "sum", &[tuple(0), tuple(1), tuple(2)]);
    assert_eq!(got.unwrap(), Some(Value::U32(15 + 2100 + 270000)));
}

/// Registered types that do not match the import's type are an
/// instantiation error naming the import and both types.
#[test]
fn mismatched_typed_imports_are_instantiation_errors() {
    let mut b = Builder::new();
    let (u32t, s) = (b.ty(V::U32), b.ty(V::String));
    let f = b.func(&[u32t], Some(s));
    b.plan.imports.to_mut().push(ComponentImport {
        name: "greet".into(),
        ty: f,
    });
    let c = Component::from_parts(Meta::leaked(b.plan), vec![], None, &Parts::ALL);
    let refused = |host: &ComponentImports| {
        let e = Store::new(BoundsMode::Guard).instantiate_component(&c, host);
        match e {
            Err(Error::Link(m)) => m,
            other => panic!("expected a link error, got {:?}", other.map(|_| ())),
        }
    };
    let mut host = ComponentImports::new();
    host.func_typed("greet", |n: String| Ok(n));
    let m = refused(&host);
    assert!(m.contains("host import `greet`"), "{m}");
    assert!(m.contains("`u32`") && m.contains("String"), "{m}");
    let mut host = ComponentImports::new();
    host.func_typed("greet", |n: u32| Ok(n));
    let m = refused(&host);
    assert!(
        m.contains("result type `string`") && m.contains("`u32`"),
        "{m}"
    );
    let mut host = ComponentImports::new();
    host.func_typed("greet", |n: u32, _: u32| Ok(n.to_string()));
    let m = refused(&host);
    assert!(
        m.contains("passes 1 parameters") && m.contains("takes 2"),
        "{m}"
    );
    let mut host = ComponentImports::new();
    host.func_typed("greet", |n: u32| Ok(n.to_string()));
    let ok = Store::new(BoundsMode::Guard).instantiate_component(&c, &host);
    assert!(ok.is_ok());
}

/// A guest that calls its imports with bad pointers, lengths and bytes.
const BAD_GUEST: &str = r#"(module
  (import "host" "bytes" (func $bytes (param i32 i32) (result i32)))
  (import "host" "text" (func $text (param i32 i32) (result i32)))
  (import "host" "words" (func $words (param i32 i32) (result i32)))
  (import "host" "give" (func $give (param i32)))
  (import "host" "spread" (func $spread (param i32) (result i32)))
  (memory (export "mem") 1)
  (data (i32.const 8) "\ff\fe")
  (data (i32.const 16) "\e2\82")
  (global $bad (mut i32) (i32.const 0))
  (global $bump (mut i32) (i32.const 4096))
  (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    (if (global.get $bad) (then (return (global.get $bad))))
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "oob-list") (result i32) (call $bytes (i32.const 65530) (i32.const 100)))
  (func (export "huge-list") (result i32) (call $bytes (i32.const 0) (i32.const 0x10000000)))
  (func (export "bad-utf8") (result i32) (call $text (i32.const 8) (i32.const 2)))
  (func (export "cut-utf8") (result i32) (call $text (i32.const 16) (i32.const 2)))
  (func (export "oob-string") (result i32) (call $text (i32.const 65535) (i32.const 2)))
  (func (export "misaligned-list") (result i32) (call $words (i32.const 2) (i32.const 1)))
  (func (export "misaligned-ret") (result i32) (call $give (i32.const 2)) (i32.const 0))
  (func (export "misaligned-args") (result i32) (call $spread (i32.const 2)))
  (func (export "oob-args") (result i32) (call $spread (i32.const 65532)))
  (func (export "realloc-misaligned") (result i32)
    (global.set $bad (i32.const 2)) (call $give (i32.const 1024)) (i32.const 0))
  (func (export "realloc-oob") (result i32)
    (global.set $bad (i32.const 65532)) (call $give (i32.const 1024)) (i32.const 0))
)"#;

/// The plan of [`BAD_GUEST`]: its imports' types and its exports, each
/// `func() -> u32`.
fn bad_plan(exports: &[&str]) -> Plan {
    let mut b = Builder::new();
    let (u8t, u32t, s) = (b.ty(V::U8), b.ty(V::U32), b.ty(V::String));
    let (bytes, words) = (b.ty(V::List(u8t)), b.ty(V::List(u32t)));
    let six = b.ty(V::Tuple(vec![u32t; 6].into()));
    let imports = [
        ("bytes", b.func(&[bytes], Some(u32t))),
        ("text", b.func(&[s], Some(u32t))),
        ("words", b.func(&[words], Some(u32t))),
        ("give", b.func(&[], Some(words))),
        ("spread", b.func(&[six, six, six], Some(u32t))),
    ];
    for (i, (name, ty)) in imports.into_iter().enumerate() {
        b.plan.imports.to_mut().push(ComponentImport {
            name: name.into(),
            ty,
        });
        b.plan.host_lowers.to_mut().push(HostLower {
            import: i as u32,
            options: opts(StringEncoding::Utf8, None),
            instance: 0,
        });
    }
    let run = b.func(&[], Some(u32t));
    for name in exports {
        b.export(name, name, run, opts(StringEncoding::Utf8, None));
    }
    let lowers: Vec<CoreDef> = (0..5).map(CoreDef::HostLower).collect();
    b.plan.steps.to_mut().push(Step::Instantiate {
        module: 0,
        args: lowers.into(),
    });
    b.plan
}

/// The host functions of [`BAD_GUEST`], typed or dynamic.
fn bad_host(typed: bool) -> ComponentImports {
    let mut host = ComponentImports::new();
    if typed {
        host.func_typed("bytes", |b: Vec<u8>| Ok(b.len() as u32));
        host.func_typed("text", |s: String| Ok(s.len() as u32));
        host.func_typed("words", |w: Vec<u32>| Ok(w.len() as u32));
        host.func_typed("give", || Ok(vec![1u32, 2, 3]));
        type Six = (u32, u32, u32, u32, u32, u32);
        host.func_typed("spread", |a: Six, _: Six, _: Six| Ok(a.0));
        return host;
    }
    for name in ["bytes", "text", "words", "spread"] {
        host.func(name, |_| Ok(Some(Value::U32(0))));
    }
    host.func("give", |_| {
        Ok(Some(Value::List((1..=3).map(Value::U32).collect())))
    });
    host
}

/// Bad pointers, lengths and bytes from the guest trap in the typed path
/// with the dynamic path's messages.
#[test]
fn bad_guest_input_traps_as_the_dynamic_path_does() {
    let cases = [
        ("oob-list", "list pointer/length out of bounds of memory"),
        ("huge-list", "list content out-of-bounds"),
        ("bad-utf8", "invalid utf-8"),
        ("cut-utf8", "incomplete utf-8 byte sequence"),
        (
            "oob-string",
            "string pointer/length out of bounds of memory",
        ),
        ("misaligned-list", "unaligned pointer"),
        ("misaligned-ret", "unaligned pointer"),
        ("misaligned-args", "unaligned pointer"),
        ("oob-args", "pointer out of bounds of memory"),
        ("realloc-misaligned", "realloc return: result not aligned"),
        ("realloc-oob", "realloc return: beyond end of memory"),
    ];
    let names: Vec<&str> = cases.iter().map(|(n, _)| *n).collect();
    let plan = bad_plan(&names);
    let module = compile(BAD_GUEST);
    let c = Component::from_parts(Meta::leaked(plan), vec![module], None, &Parts::ALL);
    for (export, want) in cases {
        for typed in [true, false] {
            let mut store = Store::new(BoundsMode::Guard);
            let inst = store.instantiate_component(&c, &bad_host(typed)).unwrap();
            let e = inst.call(&mut store, export, &[]).unwrap_err();
            assert_eq!(e.message, want, "{export}, typed: {typed}");
        }
    }
}
