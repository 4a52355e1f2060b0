//! Generated adapter tests: random value types (nested lists, maps, records,
//! variants, options, results, enums, flags, strings, scalars) with random
//! values, round-tripped through an echo callee between two guests with
//! different string encodings. The value is checked in the callee's memory
//! (in its encoding) and back in the caller's.
//!
//! Fixed seed by default; `RIVET_FUZZ_SEED` and `RIVET_FUZZ_CASES` explore more.

mod fuse_common;

use fuse_common::{Scenario, CALLEE, CALLER};
use rivet::Val;
use rivet_descriptor::component::{Component, ComponentFuncType, StringEncoding, ValueType};

/// xorshift64*: small, deterministic, good enough to pick shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The test's own model of a type: layout is computed here independently of
/// the compiler's. A `map<k, v>` is modelled as the `list<tuple<k, v>>` the
/// Canonical ABI despecializes it to.
#[derive(Clone, Debug)]
enum T {
    /// An integer-like scalar of this many bytes (bool, ints, char, floats).
    Prim(ValueType, u32),
    Str,
    List(Box<T>),
    Rec(Vec<T>),
    Var(Vec<Option<T>>),
    Flags(u32),
}

#[derive(Clone, Debug, PartialEq)]
enum V {
    Bits(u64),
    Str(String),
    List(Vec<V>),
    Rec(Vec<V>),
    Var(u32, Option<Box<V>>),
}

fn align_to(x: u32, a: u32) -> u32 {
    x.div_ceil(a) * a
}

fn disc_size(n: usize) -> u32 {
    if n <= 256 {
        1
    } else if n <= 65536 {
        2
    } else {
        4
    }
}

impl T {
    fn align(&self) -> u32 {
        match self {
            T::Prim(_, n) => *n,
            T::Str | T::List(_) => 4,
            T::Rec(fs) => fs.iter().map(T::align).max().unwrap(),
            T::Var(cs) => cs
                .iter()
                .flatten()
                .map(T::align)
                .fold(disc_size(cs.len()), u32::max),
            T::Flags(n) => {
                if *n <= 8 {
                    1
                } else if *n <= 16 {
                    2
                } else {
                    4
                }
            }
        }
    }
    fn size(&self) -> u32 {
        match self {
            T::Prim(_, n) => *n,
            T::Str | T::List(_) => 8,
            T::Rec(fs) => {
                let end = fs
                    .iter()
                    .fold(0, |off, f| align_to(off, f.align()) + f.size());
                align_to(end, self.align())
            }
            T::Var(cs) => align_to(
                self.payload() + cs.iter().flatten().map(T::size).max().unwrap_or(0),
                self.align(),
            ),
            T::Flags(n) => {
                if *n <= 8 {
                    1
                } else if *n <= 16 {
                    2
                } else {
                    4 * n.div_ceil(32)
                }
            }
        }
    }
    fn payload(&self) -> u32 {
        let T::Var(cs) = self else { return 0 };
        align_to(
            disc_size(cs.len()),
            cs.iter().flatten().map(T::align).max().unwrap_or(1),
        )
    }
}

const PRIMS: [(ValueType, u32); 12] = [
    (ValueType::Bool, 1),
    (ValueType::S8, 1),
    (ValueType::U8, 1),
    (ValueType::S16, 2),
    (ValueType::U16, 2),
    (ValueType::S32, 4),
    (ValueType::U32, 4),
    (ValueType::Char, 4),
    (ValueType::F32, 4),
    (ValueType::S64, 8),
    (ValueType::U64, 8),
    (ValueType::F64, 8),
];

/// A random type, added to `plan.types`; returns its model and index.
fn gen_type(rng: &mut Rng, plan: &mut Component, depth: u32) -> (T, u32) {
    let pick = if depth == 0 {
        rng.below(3)
    } else {
        rng.below(11)
    };
    let names = |n: u64| (0..n).map(|i| format!("n{i}")).collect::<Vec<_>>();
    let (t, vt) = match pick {
        0 => {
            let (vt, size) = PRIMS[rng.below(12) as usize].clone();
            (T::Prim(vt.clone(), size), vt)
        }
        1 => (T::Str, ValueType::String),
        2 => {
            let n = [1, 5, 8, 9, 16, 17, 32, 33, 40, 70][rng.below(10) as usize];
            (
                T::Flags(n as u32),
                ValueType::Flags(names(n).into_iter().map(Into::into).collect()),
            )
        }
        3 | 4 => {
            let (e, i) = gen_type(rng, plan, depth - 1);
            (T::List(Box::new(e)), ValueType::List(i))
        }
        5 | 6 => {
            let fields: Vec<_> = (0..1 + rng.below(3))
                .map(|_| gen_type(rng, plan, depth - 1))
                .collect();
            let t = T::Rec(fields.iter().map(|f| f.0.clone()).collect());
            if rng.below(2) == 0 {
                (t, ValueType::Tuple(fields.iter().map(|f| f.1).collect()))
            } else {
                (
                    t,
                    ValueType::Record(
                        fields
                            .iter()
                            .enumerate()
                            .map(|(k, f)| (format!("f{k}").into(), f.1))
                            .collect(),
                    ),
                )
            }
        }
        7 => {
            let (p, i) = gen_type(rng, plan, depth - 1);
            (T::Var(vec![None, Some(p)]), ValueType::Option(i))
        }
        8 => {
            let ok = (rng.below(3) > 0).then(|| gen_type(rng, plan, depth - 1));
            let err = (rng.below(3) > 0).then(|| gen_type(rng, plan, depth - 1));
            let t = T::Var(vec![
                ok.as_ref().map(|o| o.0.clone()),
                err.as_ref().map(|e| e.0.clone()),
            ]);
            (
                t,
                ValueType::Result {
                    ok: ok.map(|o| o.1),
                    err: err.map(|e| e.1),
                },
            )
        }
        10 => {
            let (k, ki) = gen_key(rng, plan);
            let (v, vi) = gen_type(rng, plan, depth - 1);
            (
                T::List(Box::new(T::Rec(vec![k, v]))),
                ValueType::Map(ki, vi),
            )
        }
        _ => {
            if rng.below(3) == 0 {
                let n = 1 + rng.below(300);
                (
                    T::Var(vec![None; n as usize]),
                    ValueType::Enum(names(n).into_iter().map(Into::into).collect()),
                )
            } else {
                let cases: Vec<_> = (0..1 + rng.below(4))
                    .map(|_| (rng.below(4) > 0).then(|| gen_type(rng, plan, depth - 1)))
                    .collect();
                let t = T::Var(
                    cases
                        .iter()
                        .map(|c| c.as_ref().map(|c| c.0.clone()))
                        .collect(),
                );
                let vt = ValueType::Variant(
                    cases
                        .iter()
                        .enumerate()
                        .map(|(k, c)| (format!("c{k}").into(), c.as_ref().map(|c| c.1)))
                        .collect(),
                );
                (t, vt)
            }
        }
    };
    plan.types.to_mut().push(vt);
    (t, plan.types.len() as u32 - 1)
}

/// A random map key type (the spec's `keytype`: no floats), added to
/// `plan.types`.
fn gen_key(rng: &mut Rng, plan: &mut Component) -> (T, u32) {
    let keys: Vec<_> = PRIMS
        .iter()
        .filter(|(vt, _)| !matches!(vt, ValueType::F32 | ValueType::F64))
        .collect();
    let pick = rng.below(keys.len() as u64 + 1) as usize;
    let (t, vt) = match keys.get(pick) {
        Some((vt, size)) => (T::Prim(vt.clone(), *size), vt.clone()),
        None => (T::Str, ValueType::String),
    };
    plan.types.to_mut().push(vt);
    (t, plan.types.len() as u32 - 1)
}

fn gen_value(rng: &mut Rng, t: &T) -> V {
    match t {
        T::Prim(ValueType::Bool, _) => V::Bits(rng.below(2)),
        T::Prim(ValueType::Char, _) => {
            let pool = ['a', 'é', 'ÿ', 'Ā', '日', '😀', '\u{10ffff}', '\0'];
            V::Bits(pool[rng.below(pool.len() as u64) as usize] as u64)
        }
        T::Prim(_, n) => V::Bits(rng.next() & (u64::MAX >> (64 - 8 * n))),
        T::Str => {
            let pool = ["", "a", "z", "é", "ÿ", "Ā", "日本", "😀", "\u{80}", "𝄞"];
            V::Str(
                (0..rng.below(5))
                    .map(|_| pool[rng.below(pool.len() as u64) as usize])
                    .collect(),
            )
        }
        T::List(e) => V::List((0..rng.below(4)).map(|_| gen_value(rng, e)).collect()),
        T::Rec(fs) => V::Rec(fs.iter().map(|f| gen_value(rng, f)).collect()),
        T::Var(cs) => {
            let d = rng.below(cs.len() as u64) as u32;
            V::Var(
                d,
                cs[d as usize].as_ref().map(|p| Box::new(gen_value(rng, p))),
            )
        }
        T::Flags(n) => V::List(
            (0..n.div_ceil(32))
                .map(|k| {
                    let bits = (n - 32 * k).min(32);
                    V::Bits(rng.next() & (u64::MAX >> (64 - bits)))
                })
                .collect(),
        ),
    }
}

/// Writes values into a memory image, allocating from a bump pointer.
struct Image<'a> {
    mem: &'a mut [u8],
    heap: u32,
    enc: StringEncoding,
}

impl Image<'_> {
    fn put(&mut self, addr: u32, bytes: &[u8]) {
        self.mem[addr as usize..][..bytes.len()].copy_from_slice(bytes);
    }
    fn alloc(&mut self, size: u32, align: u32) -> u32 {
        let p = align_to(self.heap, align);
        self.heap = p + size;
        p
    }
    fn store(&mut self, t: &T, v: &V, addr: u32) {
        match (t, v) {
            (T::Prim(_, n), V::Bits(b)) => self.put(addr, &b.to_le_bytes()[..*n as usize]),
            (T::Flags(n), V::List(words)) => {
                let size = T::Flags(*n).size().min(4) as usize;
                for (k, w) in words.iter().enumerate() {
                    let V::Bits(w) = w else { unreachable!() };
                    self.put(addr + 4 * k as u32, &w.to_le_bytes()[..size]);
                }
            }
            (T::Str, V::Str(s)) => {
                let (bytes, len) = encode(s, self.enc);
                let p = self.alloc(bytes.len() as u32, 2);
                self.put(p, &bytes);
                self.put(addr, &p.to_le_bytes());
                self.put(addr + 4, &len.to_le_bytes());
            }
            (T::List(e), V::List(items)) => {
                let p = self.alloc(e.size() * items.len() as u32, e.align());
                for (k, item) in items.iter().enumerate() {
                    self.store(e, item, p + k as u32 * e.size());
                }
                self.put(addr, &p.to_le_bytes());
                self.put(addr + 4, &(items.len() as u32).to_le_bytes());
            }
            (T::Rec(fs), V::Rec(vs)) => {
                let mut off = 0;
                for (f, v) in fs.iter().zip(vs) {
                    off = align_to(off, f.align());
                    self.store(f, v, addr + off);
                    off += f.size();
                }
            }
            (T::Var(cs), V::Var(d, p)) => {
                self.put(addr, &d.to_le_bytes()[..disc_size(cs.len()) as usize]);
                if let (Some(pt), Some(pv)) = (&cs[*d as usize], p) {
                    self.store(pt, pv, addr + t.payload());
                }
            }
            _ => unreachable!("value does not match type"),
        }
    }
}

fn encode(s: &str, enc: StringEncoding) -> (Vec<u8>, u32) {
    let utf16: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let units = s.encode_utf16().count() as u32;
    match enc {
        StringEncoding::Utf8 => (s.as_bytes().to_vec(), s.len() as u32),
        StringEncoding::Utf16 => (utf16, units),
        StringEncoding::CompactUtf16 if s.chars().all(|c| (c as u32) < 256) => (
            s.chars().map(|c| c as u8).collect(),
            s.chars().count() as u32,
        ),
        StringEncoding::CompactUtf16 => (utf16, units | 1 << 31),
    }
}

fn word(mem: &[u8], addr: u32, n: usize) -> u64 {
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&mem[addr as usize..][..n]);
    u64::from_le_bytes(b)
}

fn load(t: &T, mem: &[u8], addr: u32, enc: StringEncoding) -> V {
    match t {
        T::Prim(_, n) => V::Bits(word(mem, addr, *n as usize)),
        T::Flags(n) => {
            let size = T::Flags(*n).size().min(4) as usize;
            V::List(
                (0..n.div_ceil(32))
                    .map(|k| V::Bits(word(mem, addr + 4 * k, size)))
                    .collect(),
            )
        }
        T::Str => {
            let (p, len) = (word(mem, addr, 4) as usize, word(mem, addr + 4, 4) as u32);
            let utf16 = |units: usize| {
                let u: Vec<u16> = mem[p..][..2 * units]
                    .chunks(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                String::from_utf16(&u).expect("valid utf-16")
            };
            V::Str(match enc {
                StringEncoding::Utf8 => {
                    String::from_utf8(mem[p..][..len as usize].to_vec()).expect("valid utf-8")
                }
                StringEncoding::Utf16 => utf16(len as usize),
                StringEncoding::CompactUtf16 if len & 1 << 31 != 0 => {
                    utf16((len & !(1 << 31)) as usize)
                }
                StringEncoding::CompactUtf16 => mem[p..][..len as usize]
                    .iter()
                    .map(|&b| b as char)
                    .collect(),
            })
        }
        T::List(e) => {
            let (p, n) = (word(mem, addr, 4) as u32, word(mem, addr + 4, 4) as u32);
            V::List(
                (0..n)
                    .map(|k| load(e, mem, p + k * e.size(), enc))
                    .collect(),
            )
        }
        T::Rec(fs) => {
            let mut off = 0;
            V::Rec(
                fs.iter()
                    .map(|f| {
                        off = align_to(off, f.align());
                        let v = load(f, mem, addr + off, enc);
                        off += f.size();
                        v
                    })
                    .collect(),
            )
        }
        T::Var(cs) => {
            let d = word(mem, addr, disc_size(cs.len()) as usize) as u32;
            let p = cs[d as usize]
                .as_ref()
                .map(|pt| Box::new(load(pt, mem, addr + t.payload(), enc)));
            V::Var(d, p)
        }
    }
}

/// Param area and result area in the caller; the test's own heap in the
/// caller starts at `HEAP` (the guests' reallocs allocate from 4096 up).
const ARGS: u32 = 8;
const RET: u32 = 2048;
const HEAP: u32 = 40000;

const ECHO: &str = r#"(func (export "f") (param i32) (result i32)
    (global.set $last (local.get 0)) (local.get 0))"#;

const ENCODINGS: [StringEncoding; 3] = [
    StringEncoding::Utf8,
    StringEncoding::Utf16,
    StringEncoding::CompactUtf16,
];

/// Builds an echo plan around `gen`: `(x: T, pad: tuple<u64 x 16>) ->
/// tuple<T, tuple<u64 x 16>>`, so both params and results are spilled and the
/// echo callee just returns its parameter pointer.
fn echo_plan(plan: &mut Component, t: u32) {
    plan.types.to_mut().push(ValueType::U64);
    let u64_ = plan.types.len() as u32 - 1;
    plan.types
        .to_mut()
        .push(ValueType::Tuple(vec![u64_; 16].into()));
    let pad = plan.types.len() as u32 - 1;
    plan.types
        .to_mut()
        .push(ValueType::Tuple(vec![t, pad].into()));
    let result = plan.types.len() as u32 - 1;
    plan.func_types.to_mut().push(ComponentFuncType {
        params: vec![("x".into(), t), ("pad".into(), pad)].into(),
        result: Some(result),
    });
}

fn round_trip(t: &T, plan: &Component, values: &[V], from: StringEncoding, to: StringEncoding) {
    let mut f = Scenario {
        plan,
        ty: 0,
        callee_funcs: ECHO,
        caller_encoding: from,
        callee_encoding: to,
        post_return: false,
        pages: 1,
        shared_memory: false,
    }
    .build();
    for v in values {
        let memory = f.memory(CALLER);
        let mut image = memory.data(&f.rig.store).to_vec();
        let mut img = Image {
            mem: &mut image,
            heap: HEAP,
            enc: from,
        };
        img.put(ARGS, &[0; 256]);
        img.store(t, v, ARGS);
        memory.data_mut(&mut f.rig.store).copy_from_slice(&image);
        f.call(&[Val::I32(ARGS as i32), Val::I32(RET as i32)])
            .unwrap_or_else(|e| panic!("trap {e} for {v:?} of {t:?}"));
        let Val::I32(last) = f.global(CALLEE, "last").get(&f.rig.store) else {
            unreachable!()
        };
        let callee_mem = f.memory(CALLEE).data(&f.rig.store).to_vec();
        assert_eq!(
            &load(t, &callee_mem, last as u32, to),
            v,
            "in the callee: {t:?} {from:?}->{to:?}"
        );
        let caller_mem = memory.data(&f.rig.store).to_vec();
        assert_eq!(
            &load(t, &caller_mem, RET, from),
            v,
            "back in the caller: {t:?} {from:?}->{to:?}"
        );
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_types_round_trip() {
    let seed = env_u64("RIVET_FUZZ_SEED", 0x5eed_1234);
    let cases = env_u64("RIVET_FUZZ_CASES", 12);
    let mut rng = Rng(seed | 1);
    let mut done = 0;
    while done < cases {
        let mut plan = Component::default();
        let (t, idx) = gen_type(&mut rng, &mut plan, 3);
        if t.size() > 1500 {
            continue;
        }
        echo_plan(&mut plan, idx);
        let values: Vec<V> = (0..4).map(|_| gen_value(&mut rng, &t)).collect();
        let from = ENCODINGS[rng.below(3) as usize];
        let to = ENCODINGS[rng.below(3) as usize];
        round_trip(&t, &plan, &values, from, to);
        done += 1;
    }
}

#[test]
fn lists_of_records_of_variants_and_wide_flags() {
    // list<record { s: string, o: option<u8>, r: result<flags(40), s64>, e: enum(3) }>
    let mut plan = Component::default();
    let names = |n: usize| (0..n).map(|i| format!("f{i}")).collect::<Vec<_>>();
    plan.types = vec![
        ValueType::String,
        ValueType::U8,
        ValueType::Option(1),
        ValueType::Flags(names(40).into_iter().map(Into::into).collect()),
        ValueType::S64,
        ValueType::Result {
            ok: Some(3),
            err: Some(4),
        },
        ValueType::Enum(names(3).into_iter().map(Into::into).collect()),
        ValueType::Record(
            vec![
                ("s".into(), 0),
                ("o".into(), 2),
                ("r".into(), 5),
                ("e".into(), 6),
            ]
            .into(),
        ),
        ValueType::List(7),
    ]
    .into();
    echo_plan(&mut plan, 8);
    let rec = T::Rec(vec![
        T::Str,
        T::Var(vec![None, Some(T::Prim(ValueType::U8, 1))]),
        T::Var(vec![Some(T::Flags(40)), Some(T::Prim(ValueType::S64, 8))]),
        T::Var(vec![None; 3]),
    ]);
    let t = T::List(Box::new(rec));
    let item = |s: &str, o: Option<u64>, r: Result<(u64, u64), u64>, e: u32| {
        V::Rec(vec![
            V::Str(s.into()),
            V::Var(o.is_some() as u32, o.map(|b| Box::new(V::Bits(b)))),
            match r {
                Ok((lo, hi)) => V::Var(0, Some(Box::new(V::List(vec![V::Bits(lo), V::Bits(hi)])))),
                Err(x) => V::Var(1, Some(Box::new(V::Bits(x)))),
            },
            V::Var(e, None),
        ])
    };
    let values = vec![
        V::List(vec![]),
        V::List(vec![
            item("naïve 日本 😀", Some(7), Ok((0xdead_beef, 0xff)), 2),
            item("", None, Err(u64::MAX), 0),
            item("ÿ", Some(255), Ok((0, 1)), 1),
        ]),
    ];
    for from in ENCODINGS {
        for to in ENCODINGS {
            round_trip(&t, &plan, &values, from, to);
        }
    }
}

#[test]
fn nested_maps_keep_order_and_duplicate_keys() {
    // map<string, map<char, u64>>
    let mut plan = Component {
        types: vec![
            ValueType::String,
            ValueType::Char,
            ValueType::U64,
            ValueType::Map(1, 2),
            ValueType::Map(0, 3),
        ]
        .into(),
        ..Component::default()
    };
    echo_plan(&mut plan, 4);
    let inner = T::List(Box::new(T::Rec(vec![
        T::Prim(ValueType::Char, 4),
        T::Prim(ValueType::U64, 8),
    ])));
    let t = T::List(Box::new(T::Rec(vec![T::Str, inner])));
    let entry = |k: V, v: V| V::Rec(vec![k, v]);
    let chars = |es: &[(char, u64)]| {
        V::List(
            es.iter()
                .map(|&(c, n)| entry(V::Bits(c as u64), V::Bits(n)))
                .collect(),
        )
    };
    let values = vec![
        V::List(vec![]),
        V::List(vec![
            entry(V::Str("日本".into()), chars(&[('a', 1), ('a', u64::MAX)])),
            entry(V::Str("".into()), chars(&[])),
            entry(V::Str("日本".into()), chars(&[('😀', 7)])),
        ]),
    ];
    for from in ENCODINGS {
        for to in ENCODINGS {
            round_trip(&t, &plan, &values, from, to);
        }
    }
}
