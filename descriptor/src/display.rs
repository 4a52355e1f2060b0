//! How the descriptor's types read in error messages: in the words of the
//! wasm text format and the component model. Written out rather than derived
//! `Debug`, which reads as Rust and, in the runtime, links `core`'s
//! structured debug printing into every host.

use crate::component::{CoreDef, TypeRef, ValueType};
use crate::{BoundsMode, FuncType, GlobalType, ValType};
use alloc::vec::Vec;
use core::fmt::{Display, Formatter, Result};

impl Display for ValType {
    fn fmt(&self, f: &mut Formatter) -> Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::ExnRef => "exnref",
        })
    }
}

/// `[i32 i64] -> [f32]`, as the spec writes function types.
impl Display for FuncType {
    fn fmt(&self, f: &mut Formatter) -> Result {
        let list = |f: &mut Formatter, types| separated(f, "[", types, " ", "]", ValType::fmt);
        list(f, &self.params)?;
        f.write_str(" -> ")?;
        list(f, &self.results)
    }
}

/// Writes `open`, each of `items` with `item` and `sep` between them, then
/// `close`: the shape of every list in a type's text (the runtime's component
/// types use it too).
pub fn separated<T>(
    f: &mut Formatter,
    open: &str,
    items: &[T],
    sep: &str,
    close: &str,
    item: impl Fn(&T, &mut Formatter) -> Result,
) -> Result {
    f.write_str(open)?;
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        item(x, f)?;
    }
    f.write_str(close)
}

/// `i32` or `mut i32`.
impl Display for GlobalType {
    fn fmt(&self, f: &mut Formatter) -> Result {
        if self.mutable {
            f.write_str("mut ")?;
        }
        self.content.fmt(f)
    }
}

impl Display for BoundsMode {
    fn fmt(&self, f: &mut Formatter) -> Result {
        f.write_str(match self {
            BoundsMode::Guard => "guard-region",
            BoundsMode::Explicit => "explicit",
        })
    }
}

impl Display for CoreDef {
    fn fmt(&self, f: &mut Formatter) -> Result {
        match self {
            CoreDef::Export { instance, name } => {
                write!(f, "export `{name}` of core instance {instance}")
            }
            CoreDef::HostLower(i) => write!(f, "lowered host import {i}"),
            CoreDef::ResourceNew { resource, .. } => {
                write!(f, "resource.new of resource {resource}")
            }
            CoreDef::ResourceRep { resource, .. } => {
                write!(f, "resource.rep of resource {resource}")
            }
            CoreDef::ResourceDrop { resource, .. } => {
                write!(f, "resource.drop of resource {resource}")
            }
            CoreDef::Intrinsic(_) => f.write_str("an adapter intrinsic"),
        }
    }
}

/// What the WIT text of a value type is made of: the plan's types read in
/// place and the runtime's resolved trees both describe themselves so, and
/// read the same in messages ([`write_wit`]).
pub enum Wit<'a, T> {
    /// A primitive type, by name.
    Name(&'static str),
    List(T),
    Map(T, T),
    Option(T),
    /// `own` of the resource with this plan index.
    Own(u32),
    /// `borrow` of the resource with this plan index.
    Borrow(u32),
    Tuple(Vec<T>),
    Record(Vec<(&'a str, T)>),
    Variant(Vec<(&'a str, Option<T>)>),
    Enum(Vec<&'a str>),
    Flags(Vec<&'a str>),
    Result(Option<T>, Option<T>),
}

/// A value type that can say what its WIT text is made of.
pub trait WitType<'a>: Copy {
    fn wit(self) -> Wit<'a, Self>;
}

/// Writes a value type in WIT's syntax (`list<u8>`, `record { a: u32 }`,
/// `result<_, string>`); resources are named by their plan index.
pub fn write_wit<'a, T: WitType<'a>>(t: T, f: &mut Formatter) -> Result {
    let wit = |t: &T, f: &mut Formatter| write_wit(*t, f);
    let name = |n: &&str, f: &mut Formatter| f.write_str(n);
    match t.wit() {
        Wit::Name(n) => f.write_str(n),
        Wit::List(t) => separated(f, "list<", &[t], "", ">", wit),
        Wit::Map(k, v) => separated(f, "map<", &[k, v], ", ", ">", wit),
        Wit::Option(t) => separated(f, "option<", &[t], "", ">", wit),
        Wit::Own(r) => write!(f, "own<resource {r}>"),
        Wit::Borrow(r) => write!(f, "borrow<resource {r}>"),
        Wit::Tuple(ts) => separated(f, "tuple<", &ts, ", ", ">", wit),
        Wit::Record(fs) => separated(f, "record { ", &fs, ", ", " }", |(n, t), f| {
            write!(f, "{n}: ")?;
            write_wit(*t, f)
        }),
        Wit::Variant(cs) => separated(f, "variant { ", &cs, ", ", " }", |(n, t), f| {
            f.write_str(n)?;
            match t {
                Some(t) => separated(f, "(", &[*t], "", ")", wit),
                None => Ok(()),
            }
        }),
        Wit::Enum(ns) => separated(f, "enum { ", &ns, ", ", " }", name),
        Wit::Flags(ns) => separated(f, "flags { ", &ns, ", ", " }", name),
        Wit::Result(None, None) => f.write_str("result"),
        Wit::Result(Some(ok), None) => separated(f, "result<", &[ok], "", ">", wit),
        Wit::Result(None, Some(err)) => separated(f, "result<_, ", &[err], "", ">", wit),
        Wit::Result(Some(ok), Some(err)) => separated(f, "result<", &[ok, err], ", ", ">", wit),
    }
}

/// The plan's types, read in place.
impl<'a> WitType<'a> for TypeRef<'a> {
    fn wit(self) -> Wit<'a, TypeRef<'a>> {
        let at = |t: &u32| self.at(*t);
        let names = |ns: &'a [crate::Text]| ns.iter().map(|n| &**n).collect();
        match self.value() {
            ValueType::Bool => Wit::Name("bool"),
            ValueType::S8 => Wit::Name("s8"),
            ValueType::U8 => Wit::Name("u8"),
            ValueType::S16 => Wit::Name("s16"),
            ValueType::U16 => Wit::Name("u16"),
            ValueType::S32 => Wit::Name("s32"),
            ValueType::U32 => Wit::Name("u32"),
            ValueType::S64 => Wit::Name("s64"),
            ValueType::U64 => Wit::Name("u64"),
            ValueType::F32 => Wit::Name("f32"),
            ValueType::F64 => Wit::Name("f64"),
            ValueType::Char => Wit::Name("char"),
            ValueType::String => Wit::Name("string"),
            ValueType::List(t) => Wit::List(at(t)),
            ValueType::Map(k, v) => Wit::Map(at(k), at(v)),
            ValueType::Option(t) => Wit::Option(at(t)),
            ValueType::Own(r) => Wit::Own(*r),
            ValueType::Borrow(r) => Wit::Borrow(*r),
            ValueType::Tuple(ts) => Wit::Tuple(ts.iter().map(at).collect()),
            ValueType::Record(fs) => Wit::Record(fs.iter().map(|(n, t)| (&**n, at(t))).collect()),
            ValueType::Variant(cs) => {
                Wit::Variant(cs.iter().map(|(n, t)| (&**n, t.as_ref().map(at))).collect())
            }
            ValueType::Enum(ns) => Wit::Enum(names(ns)),
            ValueType::Flags(ns) => Wit::Flags(names(ns)),
            ValueType::Result { ok, err } => Wit::Result(ok.as_ref().map(at), err.as_ref().map(at)),
        }
    }
}

impl Display for TypeRef<'_> {
    fn fmt(&self, f: &mut Formatter) -> Result {
        write_wit(*self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn types_read_as_the_text_format_writes_them() {
        let ty = FuncType {
            params: vec![ValType::I32, ValType::FuncRef].into(),
            results: vec![ValType::V128].into(),
        };
        assert_eq!(ty.to_string(), "[i32 funcref] -> [v128]");
        let none = FuncType {
            params: vec![].into(),
            results: vec![].into(),
        };
        assert_eq!(none.to_string(), "[] -> []");
        let global = |mutable| GlobalType {
            content: ValType::F64,
            mutable,
        };
        assert_eq!(global(true).to_string(), "mut f64");
        assert_eq!(global(false).to_string(), "f64");
        assert_eq!(BoundsMode::Explicit.to_string(), "explicit");
        let export = CoreDef::Export {
            instance: 2,
            name: "f".into(),
        };
        assert_eq!(export.to_string(), "export `f` of core instance 2");
    }
}
