//! Fused adapters between two guest modules, run natively: scalar
//! conversions, variant slot joins, spilled parameters, strings in every pair
//! of encodings, lists, handles, reentrance flags, post-return, and the
//! Canonical ABI traps on bad input.

mod fuse_common;

use fuse_common::{assert_trap, Scenario, CALLEE, CALLER};
use rivet::Val;
use rivet_descriptor::component::{
    AbiTrap, Component, ComponentFuncType, StringEncoding, ValueType,
};

/// A plan whose function type 0 takes `params` and returns `result` (type
/// indices into `types`).
fn plan(types: Vec<ValueType>, params: &[u32], result: Option<u32>) -> Component {
    Component {
        types: types.into(),
        func_types: vec![ComponentFuncType {
            params: params
                .iter()
                .map(|&t| (format!("p{t}").into(), t))
                .collect(),
            result,
        }]
        .into(),
        ..Component::default()
    }
}

fn scenario<'a>(plan: &'a Component, callee_funcs: &'a str) -> Scenario<'a> {
    Scenario {
        plan,
        ty: 0,
        callee_funcs,
        caller_encoding: StringEncoding::Utf8,
        callee_encoding: StringEncoding::Utf8,
        post_return: false,
        pages: 1,
        shared_memory: false,
    }
}

/// The callee of `scalars`: records its raw flat params at 512.., stores
/// them as the result record at 256 and returns that pointer.
const SCALARS_CALLEE: &str = r#"
  (func (export "f") (param i32 i32 i32 i32 i32 i32 i32 i32 i64 f32 f64) (result i32)
    (i32.store offset=512 (i32.const 0) (local.get 0))
    (i32.store offset=516 (i32.const 0) (local.get 1))
    (i32.store offset=520 (i32.const 0) (local.get 2))
    (i32.store offset=524 (i32.const 0) (local.get 3))
    (i32.store offset=528 (i32.const 0) (local.get 4))
    (i32.store offset=532 (i32.const 0) (local.get 6))
    (i32.store offset=536 (i32.const 0) (local.get 7))
    (i32.store8 offset=256 (i32.const 0) (local.get 0))
    (i32.store8 offset=257 (i32.const 0) (local.get 1))
    (i32.store16 offset=258 (i32.const 0) (local.get 2))
    (i32.store16 offset=260 (i32.const 0) (local.get 3))
    (i32.store8 offset=262 (i32.const 0) (local.get 4))
    (i32.store offset=264 (i32.const 0) (local.get 5))
    (i32.store8 offset=268 (i32.const 0) (local.get 6))
    (i32.store8 offset=269 (i32.const 0) (local.get 7))
    (i64.store offset=272 (i32.const 0) (local.get 8))
    (f32.store offset=280 (i32.const 0) (local.get 9))
    (f64.store offset=288 (i32.const 0) (local.get 10))
    (i32.const 256))
  (func (export "post_return") (param i32)
    (global.set $post (i64.extend_i32_u (local.get 0))))"#;

#[test]
fn scalars_flags_and_post_return() {
    let types = vec![
        ValueType::U8,
        ValueType::S8,
        ValueType::U16,
        ValueType::S16,
        ValueType::Bool,
        ValueType::Char,
        ValueType::Enum(vec!["a".into(), "b".into(), "c".into()].into()),
        ValueType::Flags(vec!["x".into(), "y".into(), "z".into()].into()),
        ValueType::U64,
        ValueType::F32,
        ValueType::F64,
        ValueType::Tuple((0..11).collect()),
    ];
    let plan = plan(types, &(0..11).collect::<Vec<_>>(), Some(11));
    let mut s = scenario(&plan, SCALARS_CALLEE);
    s.post_return = true;
    let mut f = s.build();
    let args = |ch: i32, en: i32| {
        vec![
            Val::I32(0x1ff),
            Val::I32(0x180),
            Val::I32(0x1ffff),
            Val::I32(0x8000),
            Val::I32(5),
            Val::I32(ch),
            Val::I32(en),
            Val::I32(0xff),
            Val::I64(-2),
            Val::F32(0x7fc0_1234),
            Val::F64(0x4009_21fb_5444_2d18),
            Val::I32(64),
        ]
    };
    f.call(&args(0x1f600, 2)).unwrap();
    let raw: Vec<u32> = (0..7).map(|i| f.u32_at(CALLEE, 512 + 4 * i)).collect();
    assert_eq!(raw, [0xff, 0xffff_ff80, 0xffff, 0xffff_8000, 1, 2, 7]);
    let out = f.read(CALLER, 64, 40);
    assert_eq!(out[0], 0xff);
    assert_eq!(out[1] as i8, -128);
    assert_eq!(u16::from_le_bytes([out[2], out[3]]), 0xffff);
    assert_eq!(i16::from_le_bytes([out[4], out[5]]), i16::MIN);
    assert_eq!(out[6], 1);
    assert_eq!(u32::from_le_bytes(out[8..12].try_into().unwrap()), 0x1f600);
    assert_eq!((out[12], out[13]), (2, 7));
    assert_eq!(i64::from_le_bytes(out[16..24].try_into().unwrap()), -2);
    assert_eq!(
        u32::from_le_bytes(out[24..28].try_into().unwrap()),
        0x7fc0_1234
    );
    assert_eq!(
        u64::from_le_bytes(out[32..40].try_into().unwrap()),
        0x4009_21fb_5444_2d18
    );
    // post-return saw the callee's core result; the flags are back.
    assert_eq!(f.global(CALLEE, "post").get(&f.rig.store).unwrap_i64(), 256);
    for g in f.flags {
        assert_eq!(g.get(&f.rig.store).unwrap_i32(), 3);
    }
    assert_trap(f.call(&args(0xd800, 0)), AbiTrap::InvalidChar);
    reset(&mut f);
    assert_trap(f.call(&args(0x110000, 0)), AbiTrap::InvalidChar);
    reset(&mut f);
    assert_trap(f.call(&args(0x41, 3)), AbiTrap::InvalidDiscriminant);
    reset(&mut f);
    f.flags[0].set(&mut f.rig.store, Val::I32(1)).unwrap();
    assert_trap(f.call(&args(0x41, 0)), AbiTrap::CannotEnter);
    f.flags[0].set(&mut f.rig.store, Val::I32(3 | 4)).unwrap();
    assert_trap(f.call(&args(0x41, 0)), AbiTrap::CannotEnter);
    reset(&mut f);
    f.flags[1].set(&mut f.rig.store, Val::I32(2)).unwrap();
    assert_trap(f.call(&args(0x41, 0)), AbiTrap::CannotLeave);
    reset(&mut f);
    f.call(&args(0x41, 1)).unwrap();
}

fn reset(f: &mut fuse_common::Fused) {
    for g in f.flags {
        g.set(&mut f.rig.store, Val::I32(3)).unwrap();
    }
}

trait Unwrap {
    fn unwrap_i32(&self) -> i32;
    fn unwrap_i64(&self) -> i64;
}

impl Unwrap for Val {
    fn unwrap_i32(&self) -> i32 {
        match self {
            Val::I32(v) => *v,
            v => panic!("not an i32: {v:?}"),
        }
    }
    fn unwrap_i64(&self) -> i64 {
        match self {
            Val::I64(v) => *v,
            v => panic!("not an i64: {v:?}"),
        }
    }
}

#[test]
fn variant_payloads_share_joined_slots() {
    let types = vec![
        ValueType::F32,
        ValueType::U64,
        ValueType::Variant(
            vec![
                ("a".into(), Some(0)),
                ("b".into(), Some(1)),
                ("c".into(), None),
            ]
            .into(),
        ),
    ];
    let plan = plan(types, &[2], Some(1));
    let callee = r#"(func (export "f") (param i32 i64) (result i64)
        (i64.or (local.get 1) (i64.shl (i64.extend_i32_u (local.get 0)) (i64.const 56))))"#;
    let mut f = scenario(&plan, callee).build();
    let call = |f: &mut fuse_common::Fused, d: i32, p: i64| {
        f.call(&[Val::I32(d), Val::I64(p)])
            .map(|r| r[0].unwrap_i64())
    };
    // An f32 in the i64 slot: only its 32 bits cross.
    assert_eq!(call(&mut f, 0, 0x1234_5678_3fc0_0000).unwrap(), 0x3fc0_0000);
    assert_eq!(
        call(&mut f, 1, 0x00ab_cdef_0123_4567).unwrap(),
        0x01ab_cdef_0123_4567
    );
    // No payload: the callee's slot is zero whatever the caller left there.
    assert_eq!(call(&mut f, 2, -1).unwrap(), 2 << 56);
    assert_trap(call(&mut f, 3, 0), AbiTrap::InvalidDiscriminant);
}

#[test]
fn more_than_sixteen_params_spill() {
    let plan = plan(vec![ValueType::U32], &[0; 17], Some(0));
    let callee = r#"(func (export "f") (param i32) (result i32) (local $i i32) (local $s i32)
        (global.set $last (local.get 0))
        (loop $l
          (local.set $s (i32.add (local.get $s)
            (i32.load (i32.add (local.get 0) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 17))))
        (local.get $s))"#;
    let mut f = scenario(&plan, callee).build();
    let values: Vec<u8> = (1..=17u32).flat_map(u32::to_le_bytes).collect();
    f.write(CALLER, 64, &values);
    let r = f.call(&[Val::I32(64)]).unwrap();
    assert_eq!(r[0].unwrap_i32(), 153);
    // The callee got a fresh allocation in its own memory.
    let last = f.global(CALLEE, "last").get(&f.rig.store).unwrap_i32() as u32;
    assert!(last >= 4096, "{last}");
    assert_eq!(f.read(CALLEE, last, 68), values);
    assert_trap(f.call(&[Val::I32(66)]), AbiTrap::UnalignedPointer);
}

/// Test-side string encoding: the bytes and the (tagged) length.
fn encode(s: &str, enc: StringEncoding) -> (Vec<u8>, u32) {
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    match enc {
        StringEncoding::Utf8 => (s.as_bytes().to_vec(), s.len() as u32),
        StringEncoding::Utf16 => (utf16(s), s.encode_utf16().count() as u32),
        StringEncoding::CompactUtf16 if s.chars().all(|c| (c as u32) < 256) => (
            s.chars().map(|c| c as u8).collect(),
            s.chars().count() as u32,
        ),
        StringEncoding::CompactUtf16 => (utf16(s), s.encode_utf16().count() as u32 | 1 << 31),
    }
}

fn decode(
    f: &fuse_common::Fused,
    instance: u32,
    ptr: u32,
    len: u32,
    enc: StringEncoding,
) -> String {
    let utf16 = |units: u32| {
        let bytes = f.read(instance, ptr, 2 * units);
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).expect("valid utf-16")
    };
    match enc {
        StringEncoding::Utf8 => String::from_utf8(f.read(instance, ptr, len)).expect("valid utf-8"),
        StringEncoding::Utf16 => utf16(len),
        StringEncoding::CompactUtf16 if len & 1 << 31 != 0 => utf16(len & !(1 << 31)),
        StringEncoding::CompactUtf16 => f
            .read(instance, ptr, len)
            .iter()
            .map(|&b| b as char)
            .collect(),
    }
}

const ENCODINGS: [StringEncoding; 3] = [
    StringEncoding::Utf8,
    StringEncoding::Utf16,
    StringEncoding::CompactUtf16,
];

/// The callee of string tests: keeps (ptr, len) at 16 and returns it.
const STRING_ECHO: &str = r#"(func (export "f") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 0))
    (i32.store (i32.const 20) (local.get 1))
    (i32.const 16))"#;

#[test]
fn strings_cross_every_encoding_pair() {
    let plan = plan(vec![ValueType::String], &[0], Some(0));
    let texts = [
        "",
        "hello",
        "héllo wörld ÿ",
        "日本語 ✓ text",
        "emoji 😀 and 𝄞 clef",
        "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
    ];
    for from in ENCODINGS {
        for to in ENCODINGS {
            let mut s = scenario(&plan, STRING_ECHO);
            (s.caller_encoding, s.callee_encoding) = (from, to);
            let mut f = s.build();
            for text in texts {
                let (bytes, len) = encode(text, from);
                f.write(CALLER, 8192, &bytes);
                f.call(&[Val::I32(8192), Val::I32(len as i32), Val::I32(32)])
                    .unwrap();
                let (p, l) = (f.u32_at(CALLEE, 16), f.u32_at(CALLEE, 20));
                assert_eq!(
                    decode(&f, CALLEE, p, l, to),
                    text,
                    "{from:?} -> {to:?} in the callee"
                );
                assert_eq!(l, encode(text, to).1, "{from:?} -> {to:?} length");
                let (p, l) = (f.u32_at(CALLER, 32), f.u32_at(CALLER, 36));
                assert_eq!(
                    decode(&f, CALLER, p, l, from),
                    text,
                    "{from:?} -> {to:?} and back"
                );
            }
        }
    }
}

#[test]
fn malformed_strings_trap() {
    let plan = plan(vec![ValueType::String], &[0], Some(0));
    let cases: [(StringEncoding, &[u8], u32, AbiTrap); 9] = [
        (StringEncoding::Utf8, b"\xc0\x80", 2, AbiTrap::InvalidUtf8),
        (
            StringEncoding::Utf8,
            b"\xed\xa0\x80",
            3,
            AbiTrap::InvalidUtf8,
        ),
        (StringEncoding::Utf8, b"ab\xe2\x82", 4, AbiTrap::InvalidUtf8),
        (StringEncoding::Utf8, b"\x80", 1, AbiTrap::InvalidUtf8),
        (
            StringEncoding::Utf8,
            b"\xf4\x90\x80\x80",
            4,
            AbiTrap::InvalidUtf8,
        ),
        (
            StringEncoding::Utf16,
            b"\x00\xd8a\x00",
            2,
            AbiTrap::InvalidUtf16,
        ),
        (StringEncoding::Utf16, b"\x00\xdc", 1, AbiTrap::InvalidUtf16),
        (StringEncoding::Utf16, b"\x00\xd8", 1, AbiTrap::InvalidUtf16),
        (
            StringEncoding::CompactUtf16,
            b"\x00\xd8",
            1 | 1 << 31,
            AbiTrap::InvalidUtf16,
        ),
    ];
    for (enc, bytes, len, trap) in cases {
        let mut s = scenario(&plan, STRING_ECHO);
        (s.caller_encoding, s.callee_encoding) = (enc, StringEncoding::Utf8);
        let mut f = s.build();
        f.write(CALLER, 8192, bytes);
        assert_trap(
            f.call(&[Val::I32(8192), Val::I32(len as i32), Val::I32(32)]),
            trap,
        );
        reset(&mut f);
        assert_trap(
            f.call(&[Val::I32(65530), Val::I32(10), Val::I32(32)]),
            AbiTrap::StringOutOfBounds,
        );
        if enc != StringEncoding::Utf8 {
            reset(&mut f);
            assert_trap(
                f.call(&[Val::I32(8193), Val::I32(0), Val::I32(32)]),
                AbiTrap::UnalignedPointer,
            );
        }
    }
}

/// A source string as the spec's `store_string` sees it.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Src {
    Utf8,
    Utf16,
    /// The Latin-1 half of `latin1+utf16`.
    Latin1,
    /// The UTF-16 half of `latin1+utf16`.
    CompactUtf16,
}

impl Src {
    /// The source a string with (tagged) length `len` in `enc` is.
    fn of(enc: StringEncoding, len: u32) -> Src {
        match enc {
            StringEncoding::Utf8 => Src::Utf8,
            StringEncoding::Utf16 => Src::Utf16,
            StringEncoding::CompactUtf16 if len & 1 << 31 != 0 => Src::CompactUtf16,
            StringEncoding::CompactUtf16 => Src::Latin1,
        }
    }

    fn code_units(self, text: &str) -> u32 {
        match self {
            Src::Utf8 => text.len() as u32,
            Src::Latin1 => text.chars().count() as u32,
            Src::Utf16 | Src::CompactUtf16 => text.encode_utf16().count() as u32,
        }
    }
}

/// The `realloc` calls, as (old size, alignment, new size), that the
/// spec's `store_string_*` functions make to store `text` from `src` in
/// encoding `to`.
fn spec_reallocs(text: &str, src: Src, to: StringEncoding) -> Vec<[u32; 3]> {
    let n = src.code_units(text);
    let utf8 = text.len() as u32;
    let utf16 = text.encode_utf16().count() as u32;
    let latin1 = text.chars().all(|c| (c as u32) < 256);
    let mut calls = vec![];
    let mut call = |old, align, new| calls.push([old, align, new]);
    match (to, src) {
        (StringEncoding::Utf8, Src::Utf8) => call(0, 1, n),
        // store_string_to_utf8
        (StringEncoding::Utf8, _) => {
            call(0, 1, n);
            if !text.is_ascii() {
                let worst = n * if src == Src::Latin1 { 2 } else { 3 };
                call(n, 1, worst);
                if worst > utf8 {
                    call(worst, 1, utf8);
                }
            }
        }
        // store_utf8_to_utf16
        (StringEncoding::Utf16, Src::Utf8) => {
            call(0, 2, 2 * n);
            if 2 * utf16 < 2 * n {
                call(2 * n, 2, 2 * utf16);
            }
        }
        // store_string_copy
        (StringEncoding::Utf16, _) => call(0, 2, 2 * n),
        (StringEncoding::CompactUtf16, Src::Latin1) => call(0, 2, n),
        // store_probably_utf16_to_latin1_or_utf16, whose shrink to Latin-1
        // passes alignment 1
        (StringEncoding::CompactUtf16, Src::CompactUtf16) => {
            call(0, 2, 2 * n);
            if latin1 {
                call(2 * n, 1, n);
            }
        }
        // store_string_to_latin1_or_utf16
        (StringEncoding::CompactUtf16, _) => {
            call(0, 2, n);
            let chars = text.chars().count() as u32;
            if !latin1 {
                call(n, 2, 2 * n);
                if 2 * n > 2 * utf16 {
                    call(2 * n, 2, 2 * utf16);
                }
            } else if chars < n {
                call(n, 2, chars);
            }
        }
    }
    calls
}

/// Checks the logged `realloc` calls against the spec's: the same sizes and
/// alignments, the first a fresh allocation, each later one resizing what
/// the one before returned.
fn assert_reallocs(got: &[[u32; 5]], want: &[[u32; 3]], what: &str) {
    let sizes: Vec<[u32; 3]> = got.iter().map(|c| [c[1], c[2], c[3]]).collect();
    assert_eq!(
        sizes, want,
        "{what}: (old size, align, new size) of each realloc"
    );
    for (i, c) in got.iter().enumerate() {
        let old = if i == 0 { 0 } else { got[i - 1][4] };
        assert_eq!(c[0], old, "{what}: old pointer of realloc {i}");
    }
}

/// The string forms a caller in `enc` can pass for `text`: its encoding,
/// and for `latin1+utf16` also UTF-16 when Latin-1 would do (which the spec
/// stores back as Latin-1).
fn sources(text: &str, enc: StringEncoding) -> Vec<(Vec<u8>, u32)> {
    let mut forms = vec![encode(text, enc)];
    if enc == StringEncoding::CompactUtf16 && forms[0].1 & 1 << 31 == 0 {
        let (bytes, units) = encode(text, StringEncoding::Utf16);
        forms.push((bytes, units | 1 << 31));
    }
    forms
}

/// Texts that take every branch of the spec's transcoders: empty, ASCII,
/// Latin-1, the BMP, and beyond it.
const REALLOC_TEXTS: [&str; 6] = [
    "",
    "hello",
    "héllo wörld ÿ",
    "日本語 ✓ text",
    "a😀b",
    "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}",
];

/// Both directions of a call (arguments into the callee, the result back
/// into the caller) call `realloc` exactly as the spec's `store_string`
/// does, for every pair of encodings: a `latin1+utf16` destination always
/// with alignment 2, growth and shrinking included.
#[test]
fn string_reallocs_follow_the_spec() {
    let plan = plan(vec![ValueType::String], &[0], Some(0));
    for from in ENCODINGS {
        for to in ENCODINGS {
            let mut s = scenario(&plan, STRING_ECHO);
            (s.caller_encoding, s.callee_encoding) = (from, to);
            let mut f = s.build();
            for text in REALLOC_TEXTS {
                for (bytes, len) in sources(text, from) {
                    let what = format!("{text:?} {from:?} ({len:#x}) -> {to:?}");
                    f.write(CALLER, 8192, &bytes);
                    f.call(&[Val::I32(8192), Val::I32(len as i32), Val::I32(32)])
                        .unwrap();
                    let (p, l) = (f.u32_at(CALLEE, 16), f.u32_at(CALLEE, 20));
                    assert_eq!(decode(&f, CALLEE, p, l, to), text, "{what}");
                    let want = spec_reallocs(text, Src::of(from, len), to);
                    assert_reallocs(&f.take_reallocs(CALLEE), &want, &what);
                    let back = spec_reallocs(text, Src::of(to, l), from);
                    assert_reallocs(&f.take_reallocs(CALLER), &back, &format!("{what} and back"));
                    let (p, l) = (f.u32_at(CALLER, 32), f.u32_at(CALLER, 36));
                    assert_eq!(decode(&f, CALLER, p, l, from), text, "{what} and back");
                }
            }
        }
    }
}

/// Every pointer `realloc` returns while a string is stored is checked, the
/// first allocation's and every resize's alike: misaligned for an
/// alignment of 2 traps as an unaligned pointer, not in memory as string
/// contents out of bounds.
#[test]
fn every_string_realloc_result_is_checked() {
    let plan = plan(vec![ValueType::String], &[0], Some(0));
    let texts = ["héllo wörld ÿ", "日本語 ✓ text", "emoji 😀 and 𝄞 clef"];
    for from in ENCODINGS {
        for to in ENCODINGS {
            let mut s = scenario(&plan, STRING_ECHO);
            (s.caller_encoding, s.callee_encoding) = (from, to);
            let mut f = s.build();
            for (text, (bytes, len)) in texts
                .iter()
                .flat_map(|t| sources(t, from).into_iter().map(move |s| (*t, s)))
            {
                let calls = spec_reallocs(text, Src::of(from, len), to);
                for (i, [_, align, _]) in calls.iter().enumerate() {
                    let modes: &[(i32, AbiTrap)] = if *align == 2 {
                        &[
                            (1, AbiTrap::UnalignedPointer),
                            (2, AbiTrap::StringOutOfBounds),
                        ]
                    } else {
                        &[(2, AbiTrap::StringOutOfBounds)]
                    };
                    for &(mode, trap) in modes {
                        reset(&mut f);
                        f.global(CALLEE, "good_calls")
                            .set(&mut f.rig.store, Val::I32(i as i32))
                            .unwrap();
                        f.global(CALLEE, "mode")
                            .set(&mut f.rig.store, Val::I32(mode))
                            .unwrap();
                        f.write(CALLER, 8192, &bytes);
                        let result = f.call(&[Val::I32(8192), Val::I32(len as i32), Val::I32(32)]);
                        let what = format!("{text:?} {from:?} -> {to:?}, realloc {i} mode {mode}");
                        match result {
                            Err(t) => assert_eq!(t.message, trap.message(), "{what}"),
                            Ok(v) => panic!("{what}: expected `{}`, got {v:?}", trap.message()),
                        }
                        assert_eq!(f.take_reallocs(CALLEE).len(), i + 1, "{what}: calls made");
                    }
                }
            }
        }
    }
}

/// A string longer than the spec's `MAX_STRING_BYTE_LENGTH` traps as such
/// when lifted, before its alignment or bounds are looked at.
#[test]
fn strings_beyond_the_maximum_length_trap() {
    let plan = plan(vec![ValueType::String], &[0], Some(0));
    for (from, len) in [
        (StringEncoding::Utf8, 1u32 << 28),
        (StringEncoding::Utf16, 1 << 27),
        (StringEncoding::CompactUtf16, 1 << 28),
        (StringEncoding::CompactUtf16, 1 << 27 | 1 << 31),
    ] {
        let mut s = scenario(&plan, STRING_ECHO);
        s.caller_encoding = from;
        let mut f = s.build();
        assert_trap(
            f.call(&[Val::I32(8193), Val::I32(len as i32), Val::I32(32)]),
            AbiTrap::StringTooLong,
        );
        reset(&mut f);
        assert_trap(
            f.call(&[Val::I32(8192), Val::I32(len as i32 - 1), Val::I32(32)]),
            AbiTrap::StringOutOfBounds,
        );
    }
}

/// The ASCII fast path of UTF-8 validation (16 bytes at a time) must hand
/// over to the exact decoder wherever the first non-ASCII byte sits: in the
/// first chunk, in a later one, or in the tail shorter than a chunk; and pick
/// up again after it.
#[test]
fn utf8_ascii_fast_path_is_exact() {
    let plan = plan(vec![ValueType::String], &[0], Some(0));
    let ascii = |n: usize| -> Vec<u8> { (0..n).map(|i| b'a' + (i % 26) as u8).collect() };
    // Non-ASCII bytes placed at `pos` in a 70-byte string of ASCII.
    let at = |pos: usize, mid: &[u8]| -> Vec<u8> {
        let mut v = ascii(pos);
        v.extend_from_slice(mid);
        v.extend(ascii(70 - pos - mid.len()));
        v
    };
    let positions = [0, 1, 14, 15, 16, 17, 30, 31, 32, 47, 50, 60, 63, 66];
    let mut valid = Vec::new();
    for pos in positions {
        for ch in ["é", "✓", "😀"] {
            valid.push(at(pos, ch.as_bytes()));
        }
    }
    // Two far-apart non-ASCII characters: the fast path must resume between.
    let mut two = at(3, "日".as_bytes());
    two.extend(at(40, "𝄞".as_bytes()));
    valid.push(two);
    valid.push(ascii(64));
    valid.push(ascii(17));
    let mut invalid = Vec::new();
    for pos in positions {
        for bad in [
            &b"\x80"[..],
            b"\xc0\x80",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"\xe2\x82a",
            b"\xff",
        ] {
            invalid.push(at(pos, bad));
        }
    }
    // Truncated at the very end, and an error after a valid character.
    let mut end = ascii(40);
    end.extend_from_slice(b"\xe2\x82");
    invalid.push(end);
    let mut late = at(2, "é".as_bytes());
    late.extend(at(33, b"\x80"));
    invalid.push(late);
    for to in ENCODINGS {
        let mut s = scenario(&plan, STRING_ECHO);
        (s.caller_encoding, s.callee_encoding) = (StringEncoding::Utf8, to);
        let mut f = s.build();
        for bytes in &valid {
            echo_valid_utf8(&mut f, bytes, to);
        }
        assert_invalid_utf8_traps(&s, &invalid);
    }
}

/// Passes `bytes` (valid UTF-8) from a UTF-8 caller, with garbage right
/// after it that must not be looked at, to a callee that echoes it back;
/// checks what the callee got (in encoding `to`) and what came back.
fn echo_valid_utf8(f: &mut fuse_common::Fused, bytes: &[u8], to: StringEncoding) {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut mem = bytes.to_vec();
    mem.extend_from_slice(&[0xff; 64]);
    f.write(CALLER, 8192, &mem);
    let len = bytes.len() as i32;
    f.call(&[Val::I32(8192), Val::I32(len), Val::I32(32)])
        .unwrap();
    let (p, l) = (f.u32_at(CALLEE, 16), f.u32_at(CALLEE, 20));
    assert!(decode(f, CALLEE, p, l, to) == text, "utf8 -> {to:?}");
    assert_eq!(l, encode(text, to).1, "utf8 -> {to:?} length");
    let (p, l) = (f.u32_at(CALLER, 32), f.u32_at(CALLER, 36));
    assert!(decode(f, CALLER, p, l, StringEncoding::Utf8) == text);
}

/// Each of `strings` (not UTF-8) passed from a UTF-8 caller traps, each in
/// a fresh pair.
fn assert_invalid_utf8_traps(s: &Scenario, strings: &[Vec<u8>]) {
    for bytes in strings {
        assert!(std::str::from_utf8(bytes).is_err());
        let mut f = s.build();
        f.write(CALLER, 8192, bytes);
        let len = bytes.len() as i32;
        assert_trap(
            f.call(&[Val::I32(8192), Val::I32(len), Val::I32(32)]),
            AbiTrap::InvalidUtf8,
        );
    }
}

/// UTF-8 into UTF-8 validates while it copies: long ASCII runs 64 bytes a
/// step, the exact decoder from the first chunk that is not all ASCII on,
/// the runs again after it. Strings of 64 KiB with non-ASCII or invalid
/// bytes near the end, in a tail shorter than a step, or between runs.
#[test]
fn long_utf8_strings_validate_while_copying() {
    let plan = plan(vec![ValueType::String], &[0], Some(0));
    const K64: usize = 65536;
    let ascii = |n: usize| -> Vec<u8> { (0..n).map(|i| b' ' + (i % 95) as u8).collect() };
    // `len` bytes of ASCII with `mid` at `pos`.
    let at = |len: usize, pos: usize, mid: &[u8]| -> Vec<u8> {
        let mut v = ascii(pos);
        v.extend_from_slice(mid);
        v.extend(ascii(len - pos - mid.len()));
        v
    };
    let mut sprinkled = ascii(100);
    for ch in ["é", "✓", "😀", "ÿ"] {
        sprinkled.extend_from_slice(ch.as_bytes());
        sprinkled.extend(ascii(16_000));
    }
    let valid = [
        ascii(K64),
        ascii(K64 - 7),
        at(K64, K64 - 5, "é".as_bytes()),
        at(K64, K64 - 4, "😀".as_bytes()),
        at(K64 - 3, K64 - 70, "✓".as_bytes()),
        sprinkled,
        "日本語テキスト".repeat(1000).into_bytes(),
    ];
    let invalid = [
        at(K64, K64 - 1, b"\x80"),
        at(K64, K64 - 2, b"\xe2\x82"),
        at(K64, K64 - 40, b"\xff"),
        at(K64 - 9, K64 - 20, b"\xed\xa0\x80"),
        {
            let mut v = at(30_000, 20, "é".as_bytes());
            v.extend(at(30_000, 29_990, b"\xc0\x80"));
            v
        },
    ];
    for to in ENCODINGS {
        let mut s = scenario(&plan, STRING_ECHO);
        (s.callee_encoding, s.pages) = (to, 4);
        for bytes in &valid {
            // A fresh pair each time: the bump allocators never free.
            echo_valid_utf8(&mut s.build(), bytes, to);
        }
        assert_invalid_utf8_traps(&s, &invalid);
    }
}

/// When both sides share a memory, the callee's allocation may overlap the
/// string it receives; the copy must still deliver the original bytes (as
/// `memory.copy` does) and still reject invalid ones.
#[test]
fn utf8_copy_within_one_memory_may_overlap() {
    let plan = plan(vec![ValueType::String], &[0], None);
    let callee = r#"(func (export "f") (param i32 i32)
        (i32.store (i32.const 16) (local.get 0))
        (i32.store (i32.const 20) (local.get 1)))"#;
    let mut text = "overlap ".repeat(40).into_bytes();
    text.extend_from_slice("é ✓ ".as_bytes());
    text.extend("tail ".repeat(30).into_bytes());
    let mut bad = text.clone();
    bad[300] = 0x80;
    // The shared bump allocator hands out 4096 first: the string starts
    // before it (a forward copy would trample it), at it, or after it.
    for src in [4000, 4095, 4096, 4097, 4136] {
        let mut s = scenario(&plan, callee);
        s.shared_memory = true;
        let mut f = s.build();
        f.write(CALLER, src, &text);
        f.call(&[Val::I32(src as i32), Val::I32(text.len() as i32)])
            .unwrap();
        let (p, l) = (f.u32_at(CALLEE, 16), f.u32_at(CALLEE, 20));
        assert_eq!((p, l), (4096, text.len() as u32));
        assert!(f.read(CALLER, p, l) == text, "string at {src}");
        let mut f = s.build();
        f.write(CALLER, src, &bad);
        assert_trap(
            f.call(&[Val::I32(src as i32), Val::I32(bad.len() as i32)]),
            AbiTrap::InvalidUtf8,
        );
    }
}

#[test]
fn lists_copy_and_check_bounds_and_realloc() {
    let plan = plan(vec![ValueType::U32, ValueType::List(0)], &[1], Some(0));
    let callee = r#"(func (export "f") (param i32 i32) (result i32) (local $s i32)
        (block $done (loop $l
          (br_if $done (i32.eqz (local.get 1)))
          (local.set $s (i32.add (local.get $s) (i32.load (local.get 0))))
          (local.set 0 (i32.add (local.get 0) (i32.const 4)))
          (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
          (br $l)))
        (local.get $s))"#;
    let mut f = scenario(&plan, callee).build();
    let values: Vec<u8> = [10u32, 20, 30, 40]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    f.write(CALLER, 1024, &values);
    assert_eq!(
        f.call(&[Val::I32(1024), Val::I32(4)]).unwrap()[0].unwrap_i32(),
        100
    );
    assert_eq!(
        f.call(&[Val::I32(1024), Val::I32(0)]).unwrap()[0].unwrap_i32(),
        0
    );
    assert_trap(
        f.call(&[Val::I32(1026), Val::I32(1)]),
        AbiTrap::UnalignedPointer,
    );
    reset(&mut f);
    assert_trap(
        f.call(&[Val::I32(65528), Val::I32(4)]),
        AbiTrap::ListOutOfBounds,
    );
    reset(&mut f);
    assert_trap(
        f.call(&[Val::I32(0), Val::I32(0x4000_0000)]),
        AbiTrap::ListOutOfBounds,
    );
    reset(&mut f);
    let mode = f.global(CALLEE, "mode");
    mode.set(&mut f.rig.store, Val::I32(1)).unwrap();
    // A bad pointer from the callee's realloc traps as the list copy it is for
    // (values/realloc.wast expects these messages between components).
    assert_trap(
        f.call(&[Val::I32(1024), Val::I32(4)]),
        AbiTrap::UnalignedPointer,
    );
    reset(&mut f);
    mode.set(&mut f.rig.store, Val::I32(2)).unwrap();
    assert_trap(
        f.call(&[Val::I32(1024), Val::I32(4)]),
        AbiTrap::ListOutOfBounds,
    );
}

/// Element bytes of `record { id: u32, score: f32, flag: bool }` (12 bytes,
/// padding zero) with the flag byte given raw.
fn point(id: u32, score: f32, flag: u8) -> Vec<u8> {
    let mut v = id.to_le_bytes().to_vec();
    v.extend(score.to_bits().to_le_bytes());
    v.extend([flag, 0, 0, 0]);
    v
}

/// Calls an adapter for `echo(list<T>) -> list<T>` with the `n` elements
/// `bytes` (of `size` bytes each) at 8192 in a fresh pair; returns the pair.
fn echo_list(
    plan: &Component,
    bytes: &[u8],
    size: usize,
) -> (fuse_common::Fused, Result<(), String>) {
    let mut f = scenario(plan, STRING_ECHO).build();
    f.write(CALLER, 8192, bytes);
    let n = (bytes.len() / size) as i32;
    let result = f
        .call(&[Val::I32(8192), Val::I32(n), Val::I32(32)])
        .map(|_| ())
        .map_err(|t| t.message.into_owned());
    (f, result)
}

/// What both sides hold after an echo of a list: the callee's copy and the
/// caller's copy of that, each `len` bytes.
fn echoed(f: &fuse_common::Fused, len: usize) -> [Vec<u8>; 2] {
    let (p, l) = (f.u32_at(CALLEE, 16), f.u32_at(CALLEE, 20));
    let (q, m) = (f.u32_at(CALLER, 32), f.u32_at(CALLER, 36));
    assert_eq!(l, m);
    [f.read(CALLEE, p, len as u32), f.read(CALLER, q, len as u32)]
}

/// A list of records of plain numbers and a bool is copied 16 bytes at a
/// time with the bools checked on the way; whole groups of elements and the
/// ones left over must come out equal, a bool byte other than 0 or 1 (in a
/// group or left over) must come out as 1, and NaN bits stay as they are.
#[test]
fn lists_of_records_with_bools_copy_in_bulk() {
    let types = vec![
        ValueType::U32,
        ValueType::F32,
        ValueType::Bool,
        ValueType::Record(vec![("id".into(), 0), ("score".into(), 1), ("flag".into(), 2)].into()),
        ValueType::List(3),
    ];
    let plan = plan(types, &[4], Some(4));
    let nan = f32::from_bits(0x7fc0_1234);
    for n in [0, 1, 3, 4, 5, 99, 100, 101] {
        let list: Vec<u8> = (0..n)
            .flat_map(|i| point(i * 7, if i == 2 { nan } else { i as f32 }, (i % 2) as u8))
            .collect();
        let (f, result) = echo_list(&plan, &list, 12);
        result.unwrap();
        assert_eq!(echoed(&f, list.len()), [list.clone(), list], "{n} records");
    }
    // Bool bytes 2 and 255: in a group (element 57) and left over (100).
    let mut list: Vec<u8> = (0..101).flat_map(|i| point(i, 0.5, 1)).collect();
    let mut want = list.clone();
    list[57 * 12 + 8] = 2;
    list[100 * 12 + 8] = 255;
    let (f, result) = echo_list(&plan, &list, 12);
    result.unwrap();
    assert_eq!(echoed(&f, list.len()), [want.clone(), want.clone()]);
    // Only the group part is bad.
    list[100 * 12 + 8] = 0;
    want[100 * 12 + 8] = 0;
    let (f, result) = echo_list(&plan, &list, 12);
    result.unwrap();
    assert_eq!(echoed(&f, list.len()), [want.clone(), want]);
}

/// Enums with a power-of-two case count and flags are checked by mask too:
/// unknown flag bits are cleared, a discriminant out of range traps, wherever
/// the element sits.
#[test]
fn lists_of_records_with_enums_and_flags_check_every_element() {
    let types = vec![
        ValueType::U8,
        ValueType::Enum(vec!["a".into(), "b".into(), "c".into(), "d".into()].into()),
        ValueType::Flags(vec!["x".into(), "y".into(), "z".into()].into()),
        ValueType::Tuple(vec![0, 1, 2].into()),
        ValueType::List(3),
    ];
    let plan = plan(types, &[4], Some(4));
    // 37 elements of 3 bytes: two groups of 16, five left over.
    let good: Vec<u8> = (0..37u8).flat_map(|i| [i, i % 4, i % 8]).collect();
    let (f, result) = echo_list(&plan, &good, 3);
    result.unwrap();
    assert_eq!(echoed(&f, good.len()), [good.clone(), good.clone()]);
    for at in [3, 33] {
        let mut list = good.clone();
        list[3 * at + 2] = 0xff;
        let mut want = good.clone();
        want[3 * at + 2] = 0x07;
        let (f, result) = echo_list(&plan, &list, 3);
        result.unwrap();
        assert_eq!(echoed(&f, list.len()), [want.clone(), want]);
    }
    for (at, d) in [(0, 4), (20, 0x80), (31, 5), (36, 4)] {
        let mut list = good.clone();
        list[3 * at + 1] = d;
        let (_, result) = echo_list(&plan, &list, 3);
        assert_eq!(
            result,
            Err(AbiTrap::InvalidDiscriminant.message().to_string())
        );
    }
}

/// Elements with a char or an enum whose case count is no power of two are
/// copied with `memory.copy` and then looked at one by one: a bad char or
/// discriminant traps, an odd bool is normalised.
#[test]
fn lists_with_chars_and_other_enums_check_every_element() {
    let types = vec![
        ValueType::Char,
        ValueType::Bool,
        ValueType::Record(vec![("c".into(), 0), ("b".into(), 1)].into()),
        ValueType::List(2),
        ValueType::Enum(vec!["a".into(), "b".into(), "c".into()].into()),
        ValueType::List(4),
    ];
    let chars = |cs: &[u32], b: u8| -> Vec<u8> {
        cs.iter()
            .flat_map(|c| {
                let mut v = c.to_le_bytes().to_vec();
                v.extend([b, 0, 0, 0]);
                v
            })
            .collect()
    };
    let plan_chars = plan(types.clone(), &[3], Some(3));
    let good = chars(&[0x61, 0x1f600, 0x10ffff, 0xd7ff, 0xe000, 0], 1);
    let (f, result) = echo_list(&plan_chars, &good, 8);
    result.unwrap();
    assert_eq!(echoed(&f, good.len()), [good.clone(), good.clone()]);
    let mut odd = good.clone();
    odd[8 * 5 + 4] = 9;
    let (f, result) = echo_list(&plan_chars, &odd, 8);
    result.unwrap();
    assert_eq!(echoed(&f, good.len()), [good.clone(), good]);
    for bad in [0xd800, 0xdfff, 0x110000] {
        let list = chars(&[0x61, 0x62, bad], 0);
        let (_, result) = echo_list(&plan_chars, &list, 8);
        assert_eq!(result, Err(AbiTrap::InvalidChar.message().to_string()));
    }
    let plan_enum = plan(types, &[5], Some(5));
    let good = [0u8, 1, 2, 2, 1, 0, 1];
    let (f, result) = echo_list(&plan_enum, &good, 1);
    result.unwrap();
    assert_eq!(echoed(&f, good.len()), [good.to_vec(), good.to_vec()]);
    let (_, result) = echo_list(&plan_enum, &[0, 1, 2, 3], 1);
    assert_eq!(
        result,
        Err(AbiTrap::InvalidDiscriminant.message().to_string())
    );
}

/// With one memory on both sides, the callee's allocation may overlap the
/// list it receives: the copy must still hold the original elements
/// (normalised) and still trap on a bad one.
#[test]
fn list_copy_within_one_memory_may_overlap() {
    let types = vec![
        ValueType::U32,
        ValueType::Bool,
        ValueType::Record(vec![("n".into(), 0), ("b".into(), 1)].into()),
        ValueType::List(2),
        ValueType::Char,
        ValueType::Record(vec![("c".into(), 4), ("b".into(), 1)].into()),
        ValueType::List(5),
    ];
    let callee = r#"(func (export "f") (param i32 i32)
        (i32.store (i32.const 16) (local.get 0))
        (i32.store (i32.const 20) (local.get 1)))"#;
    let elements = |b: &dyn Fn(u32) -> u8| -> Vec<u8> {
        (0..21u32)
            .flat_map(|i| {
                let mut v = (0x41 + i).to_le_bytes().to_vec();
                v.extend([b(i), 0, 0, 0]);
                v
            })
            .collect()
    };
    let list = elements(&|i| (i % 3) as u8);
    let want = elements(&|i| u8::from(i % 3 != 0));
    for list_ty in [3, 6] {
        let plan = plan(types.clone(), &[list_ty], None);
        // The shared bump allocator hands out 4096 first.
        for src in [4000, 4088, 4096, 4104, 4200] {
            let mut s = scenario(&plan, callee);
            s.shared_memory = true;
            let mut f = s.build();
            f.write(CALLER, src, &list);
            f.call(&[Val::I32(src as i32), Val::I32(21)]).unwrap();
            let (p, l) = (f.u32_at(CALLEE, 16), f.u32_at(CALLEE, 20));
            assert_eq!((p, l), (4096, 21));
            assert_eq!(f.read(CALLER, p, 8 * 21), want, "type {list_ty} at {src}");
        }
    }
    let mut bad = list.clone();
    bad[8 * 20..8 * 20 + 4].copy_from_slice(&0xd800u32.to_le_bytes());
    let plan = plan(types, &[6], None);
    let mut s = scenario(&plan, callee);
    s.shared_memory = true;
    let mut f = s.build();
    f.write(CALLER, 4000, &bad);
    assert_trap(
        f.call(&[Val::I32(4000), Val::I32(21)]),
        AbiTrap::InvalidChar,
    );
}

#[test]
fn handles_go_through_the_intrinsics() {
    let plan = plan(
        vec![ValueType::Own(0), ValueType::Borrow(0)],
        &[0, 1],
        Some(0),
    );
    let callee =
        r#"(func (export "f") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))"#;
    let mut f = scenario(&plan, callee).build();
    // own 1 -> 101 in the callee, borrow 2 -> 1002; the result own 1103 -> 1203.
    assert_eq!(
        f.call(&[Val::I32(1), Val::I32(2)]).unwrap()[0].unwrap_i32(),
        1203
    );
    assert_eq!(*f.events.lock().unwrap(), ["enter 0", "exit 0"]);
}
