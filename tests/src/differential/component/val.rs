//! Component values of generated cases: drawn for a type from a seeded
//! stream, and written as text. Each engine converts its own values to these,
//! so that an outcome, live or recorded, compares line by line.

use super::super::generate::SplitMix64;
use super::ty::{below, Ty};
use std::fmt;

/// A component value. Floats are their bits; labels are the type's
/// positional names (`f0`, `c1`, `e2`, `g3`).
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Bool(bool),
    S8(i8),
    U8(u8),
    S16(i16),
    U16(u16),
    S32(i32),
    U32(u32),
    S64(i64),
    U64(u64),
    F32(u32),
    F64(u64),
    Char(char),
    String(String),
    List(Vec<Val>),
    Record(Vec<(String, Val)>),
    Tuple(Vec<Val>),
    Variant(String, Option<Box<Val>>),
    Enum(String),
    Option(Option<Box<Val>>),
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// The names of the flags set.
    Flags(Vec<String>),
    /// An owned handle to the host's resource with this representation.
    Own(u32),
    /// A borrowed handle to the host's resource with this representation.
    Borrow(u32),
}

/// Longest generated list, in elements.
const MAX_LIST: u64 = 4;
/// Longest generated string, in characters.
const MAX_STRING: u64 = 12;

/// A random value of type `t`.
pub fn arbitrary(rng: &mut SplitMix64, t: &Ty) -> Val {
    let bits = rng.next_u64();
    match t {
        Ty::Bool => Val::Bool(bits & 1 == 1),
        Ty::S8 => Val::S8(edge(rng, bits) as i8),
        Ty::U8 => Val::U8(edge(rng, bits) as u8),
        Ty::S16 => Val::S16(edge(rng, bits) as i16),
        Ty::U16 => Val::U16(edge(rng, bits) as u16),
        Ty::S32 => Val::S32(edge(rng, bits) as i32),
        Ty::U32 => Val::U32(edge(rng, bits) as u32),
        Ty::S64 => Val::S64(edge(rng, bits) as i64),
        Ty::U64 => Val::U64(edge(rng, bits)),
        Ty::F32 => Val::F32(float32(rng, bits)),
        Ty::F64 => Val::F64(float64(rng, bits)),
        Ty::Char => Val::Char(character(rng)),
        Ty::String => Val::String(
            (0..below(rng, MAX_STRING + 1))
                .map(|_| character(rng))
                .collect(),
        ),
        Ty::List(e) => Val::List(
            (0..below(rng, MAX_LIST + 1))
                .map(|_| arbitrary(rng, e))
                .collect(),
        ),
        Ty::Record(ts) => Val::Record(
            ts.iter()
                .enumerate()
                .map(|(i, t)| (format!("f{i}"), arbitrary(rng, t)))
                .collect(),
        ),
        Ty::Tuple(ts) => Val::Tuple(ts.iter().map(|t| arbitrary(rng, t)).collect()),
        Ty::Variant(cs) => {
            let i = below(rng, cs.len() as u64) as usize;
            Val::Variant(format!("c{i}"), payload(rng, cs[i].as_ref()))
        }
        Ty::Enum(n) => Val::Enum(format!("e{}", below(rng, u64::from(*n)))),
        Ty::Flags(n) => Val::Flags(
            (0..*n)
                .filter(|i| bits >> i & 1 == 1)
                .map(|i| format!("g{i}"))
                .collect(),
        ),
        Ty::Option(e) => Val::Option(payload(rng, (bits & 1 == 1).then_some(&**e))),
        Ty::Result(ok, err) => Val::Result(if bits & 1 == 1 {
            Ok(payload(rng, ok.as_deref()))
        } else {
            Err(payload(rng, err.as_deref()))
        }),
        Ty::Own => Val::Own(edge(rng, bits) as u32),
        Ty::Borrow => Val::Borrow(edge(rng, bits) as u32),
    }
}

fn payload(rng: &mut SplitMix64, t: Option<&Ty>) -> Option<Box<Val>> {
    t.map(|t| Box::new(arbitrary(rng, t)))
}

/// An integer's bits: an edge (0, 1, all ones, the sign bits of each width)
/// one time in two, else `bits`.
fn edge(rng: &mut SplitMix64, bits: u64) -> u64 {
    const EDGES: [u64; 6] = [0, 1, u64::MAX, 0x80, 0x8000, 0x8000_0000];
    if rng.next_u64() & 1 == 0 {
        EDGES[below(rng, EDGES.len() as u64) as usize]
    } else {
        bits
    }
}

fn float32(rng: &mut SplitMix64, bits: u64) -> u32 {
    const EDGES: [u32; 5] = [0, 0x8000_0000, 0x7f80_0000, 0x7fc0_0000, 0x7fa0_0001];
    if rng.next_u64() & 1 == 0 {
        EDGES[below(rng, EDGES.len() as u64) as usize]
    } else {
        bits as u32
    }
}

fn float64(rng: &mut SplitMix64, bits: u64) -> u64 {
    const EDGES: [u64; 5] = [0, 1 << 63, 0x7ff0 << 48, 0x7ff8 << 48, 0x7ff4 << 48 | 1];
    if rng.next_u64() & 1 == 0 {
        EDGES[below(rng, EDGES.len() as u64) as usize]
    } else {
        bits
    }
}

/// A character from every range transcoding treats apart: ASCII, the rest
/// of Latin-1, the BMP (either side of the surrogates) and beyond it, edges
/// included.
fn character(rng: &mut SplitMix64) -> char {
    const EDGES: [u32; 9] = [
        0, 0x7f, 0x80, 0xff, 0x100, 0xd7ff, 0xe000, 0xffff, 0x10_ffff,
    ];
    let code = match below(rng, 6) {
        0 => EDGES[below(rng, EDGES.len() as u64) as usize],
        1 | 2 => 0x20 + below(rng, 0x5f) as u32,
        3 => 0x80 + below(rng, 0x80) as u32,
        4 => 0x100 + below(rng, 0xd700) as u32,
        _ => 0x1_0000 + below(rng, 0x10_0000) as u32,
    };
    char::from_u32(code).unwrap_or('?')
}

impl Val {
    /// Whether `self` or any value inside it satisfies `test`.
    pub fn holds(&self, test: &dyn Fn(&Val) -> bool) -> bool {
        test(self)
            || match self {
                Val::List(vs) | Val::Tuple(vs) => vs.iter().any(|v| v.holds(test)),
                Val::Record(fs) => fs.iter().any(|(_, v)| v.holds(test)),
                Val::Variant(_, p) | Val::Option(p) | Val::Result(Ok(p) | Err(p)) => {
                    p.as_ref().is_some_and(|v| v.holds(test))
                }
                _ => false,
            }
    }

    /// Whether lowering this value stores a string or a list, so calls
    /// `realloc` (even for an empty one: the spec's `store_string` and
    /// `store_list` always do).
    pub fn allocates(&self) -> bool {
        self.holds(&|v| matches!(v, Val::String(_) | Val::List(_)))
    }

    /// Whether this value holds an owned handle.
    pub fn holds_own(&self) -> bool {
        self.holds(&|v| matches!(v, Val::Own(_)))
    }

    /// Whether this value holds a borrowed handle.
    pub fn holds_borrow(&self) -> bool {
        self.holds(&|v| matches!(v, Val::Borrow(_)))
    }
}

/// Values as outcome lines show them. Every NaN is `nan`: lifting and
/// lowering may change a NaN's payload (CanonicalABI.md, `canonicalize_nan`).
impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Bool(v) => write!(f, "{v}"),
            Val::S8(v) => write!(f, "s8:{v}"),
            Val::U8(v) => write!(f, "u8:{v}"),
            Val::S16(v) => write!(f, "s16:{v}"),
            Val::U16(v) => write!(f, "u16:{v}"),
            Val::S32(v) => write!(f, "s32:{v}"),
            Val::U32(v) => write!(f, "u32:{v}"),
            Val::S64(v) => write!(f, "s64:{v}"),
            Val::U64(v) => write!(f, "u64:{v}"),
            Val::F32(bits) if f32::from_bits(*bits).is_nan() => f.write_str("f32:nan"),
            Val::F64(bits) if f64::from_bits(*bits).is_nan() => f.write_str("f64:nan"),
            Val::F32(bits) => write!(f, "f32:{bits:#x}"),
            Val::F64(bits) => write!(f, "f64:{bits:#x}"),
            Val::Char(c) => write!(f, "{c:?}"),
            Val::String(s) => write!(f, "{s:?}"),
            Val::List(vs) => write!(f, "[{}]", joined(vs.iter())),
            Val::Tuple(vs) => write!(f, "({})", joined(vs.iter())),
            Val::Record(fs) => {
                let fields = fs.iter().map(|(n, v)| format!("{n}: {v}"));
                write!(f, "{{{}}}", joined(fields))
            }
            Val::Variant(case, p) => write!(f, "{case}{}", shown(p)),
            Val::Enum(case) => f.write_str(case),
            Val::Option(None) => f.write_str("none"),
            Val::Option(Some(v)) => write!(f, "some({v})"),
            Val::Result(Ok(p)) => write!(f, "ok{}", shown(p)),
            Val::Result(Err(p)) => write!(f, "err{}", shown(p)),
            Val::Flags(names) => write!(f, "flags({})", joined(sorted(names).iter())),
            Val::Own(rep) => write!(f, "own:{rep}"),
            Val::Borrow(rep) => write!(f, "borrow:{rep}"),
        }
    }
}

fn joined<T: fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
}

fn shown(payload: &Option<Box<Val>>) -> String {
    payload.as_ref().map_or(String::new(), |v| format!("({v})"))
}

/// Flag names in label order (`g2` before `g10`): engines may list them in
/// any order.
fn sorted(names: &[String]) -> Vec<&String> {
    let mut names: Vec<&String> = names.iter().collect();
    names.sort_by_key(|n| (n.len(), n.as_str()));
    names
}

/// How an engine's side makes and reads handles to its host's resource `r`:
/// each engine needs something of its own for that (Rivet the case's
/// resource type, Wasmtime the store).
pub trait Handles<E> {
    /// The engine's value of a handle to the host's resource `rep`.
    fn make(&self, own: bool, rep: u32) -> E;

    /// `v` as a [`Val::Own`] or [`Val::Borrow`] if it is a handle (or why it
    /// cannot be read as one); `None` if it is no handle.
    fn read(&self, v: &E) -> Option<Result<Val, String>>;
}

/// Conversions between [`Val`] and an engine's own value type, whose
/// variants mirror it (Rivet's `Value`, Wasmtime's `Val`; `$f32` and `$f64`
/// name its float variants), handles through the engine's [`Handles`]: one
/// mapping for both engines' sides, which invoke it where the engine's type
/// is in scope as `$engine`.
#[macro_export]
macro_rules! mirror_values {
    ($engine:ident, $f32:ident, $f64:ident) => {
        /// The case's value as the engine's.
        fn to_engine(
            v: &$crate::differential::component::val::Val,
            handles: &dyn $crate::differential::component::val::Handles<$engine>,
        ) -> $engine {
            use $crate::differential::component::val::Val as V;
            let to_engine = |v: &V| to_engine(v, handles);
            let boxed = |p: &Option<Box<V>>| p.as_deref().map(|v| Box::new(to_engine(v)));
            match v {
                V::Bool(x) => $engine::Bool(*x),
                V::S8(x) => $engine::S8(*x),
                V::U8(x) => $engine::U8(*x),
                V::S16(x) => $engine::S16(*x),
                V::U16(x) => $engine::U16(*x),
                V::S32(x) => $engine::S32(*x),
                V::U32(x) => $engine::U32(*x),
                V::S64(x) => $engine::S64(*x),
                V::U64(x) => $engine::U64(*x),
                V::F32(bits) => $engine::$f32(f32::from_bits(*bits)),
                V::F64(bits) => $engine::$f64(f64::from_bits(*bits)),
                V::Char(c) => $engine::Char(*c),
                V::String(s) => $engine::String(s.clone()),
                V::List(vs) => $engine::List(vs.iter().map(to_engine).collect()),
                V::Tuple(vs) => $engine::Tuple(vs.iter().map(to_engine).collect()),
                V::Record(fs) => {
                    $engine::Record(fs.iter().map(|(n, v)| (n.clone(), to_engine(v))).collect())
                }
                V::Variant(case, p) => $engine::Variant(case.clone(), boxed(p)),
                V::Enum(case) => $engine::Enum(case.clone()),
                V::Option(p) => $engine::Option(boxed(p)),
                V::Result(Ok(p)) => $engine::Result(Ok(boxed(p))),
                V::Result(Err(p)) => $engine::Result(Err(boxed(p))),
                V::Flags(names) => $engine::Flags(names.clone()),
                V::Own(rep) => handles.make(true, *rep),
                V::Borrow(rep) => handles.make(false, *rep),
            }
        }

        /// The engine's value as the case's; `Err` names a kind no case
        /// generates.
        fn from_engine(
            v: &$engine,
            handles: &dyn $crate::differential::component::val::Handles<$engine>,
        ) -> Result<$crate::differential::component::val::Val, String> {
            use $crate::differential::component::val::Val as V;
            if let Some(handle) = handles.read(v) {
                return handle;
            }
            let from_engine = |v: &$engine| from_engine(v, handles);
            let boxed = |p: &Option<Box<$engine>>| -> Result<Option<Box<V>>, String> {
                p.as_deref()
                    .map(|v| from_engine(v).map(Box::new))
                    .transpose()
            };
            let all = |vs: &[$engine]| vs.iter().map(from_engine).collect::<Result<Vec<_>, _>>();
            Ok(match v {
                $engine::Bool(x) => V::Bool(*x),
                $engine::S8(x) => V::S8(*x),
                $engine::U8(x) => V::U8(*x),
                $engine::S16(x) => V::S16(*x),
                $engine::U16(x) => V::U16(*x),
                $engine::S32(x) => V::S32(*x),
                $engine::U32(x) => V::U32(*x),
                $engine::S64(x) => V::S64(*x),
                $engine::U64(x) => V::U64(*x),
                $engine::$f32(x) => V::F32(x.to_bits()),
                $engine::$f64(x) => V::F64(x.to_bits()),
                $engine::Char(c) => V::Char(*c),
                $engine::String(s) => V::String(s.clone()),
                $engine::List(vs) => V::List(all(vs)?),
                $engine::Tuple(vs) => V::Tuple(all(vs)?),
                $engine::Record(fs) => V::Record(
                    fs.iter()
                        .map(|(n, v)| Ok((n.clone(), from_engine(v)?)))
                        .collect::<Result<_, String>>()?,
                ),
                $engine::Variant(case, p) => V::Variant(case.clone(), boxed(p)?),
                $engine::Enum(case) => V::Enum(case.clone()),
                $engine::Option(p) => V::Option(boxed(p)?),
                $engine::Result(Ok(p)) => V::Result(Ok(boxed(p)?)),
                $engine::Result(Err(p)) => V::Result(Err(boxed(p)?)),
                $engine::Flags(names) => V::Flags(names.clone()),
                other => return Err(format!("{other:?}")),
            })
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fit_their_types_and_print_stably() {
        let t = Ty::Record(vec![
            Ty::List(Box::new(Ty::String)),
            Ty::Flags(17),
            Ty::Result(None, Some(Box::new(Ty::F32))),
        ]);
        let mut rng = SplitMix64::new(11);
        let v = arbitrary(&mut rng, &t);
        assert_eq!(v, arbitrary(&mut SplitMix64::new(11), &t));
        let Val::Record(fields) = &v else {
            panic!("{v}")
        };
        assert_eq!(fields.len(), 3);
        assert!(matches!(fields[0].1, Val::List(_)), "{v}");
        assert!(v.allocates());
        let flags = Val::Flags(vec!["g10".into(), "g2".into()]);
        assert_eq!(flags.to_string(), "flags(g2, g10)");
        assert_eq!(Val::F32(0x7fc0_0001).to_string(), "f32:nan");
        assert_eq!(
            Val::Option(Some(Box::new(Val::String("a\u{0}".into())))).to_string(),
            "some(\"a\\0\")"
        );
        assert!(!Val::Option(None).allocates());
    }
}
