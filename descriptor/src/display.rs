//! How the descriptor's types read in error messages: in the words of the
//! wasm text format and the component model. Written out rather than derived
//! `Debug`, which reads as Rust and, in the runtime, links `core`'s
//! structured debug printing into every host.

use crate::component::{CoreDef, TypeRef, ValueType};
use crate::{BoundsMode, FuncType, GlobalType, ValType};
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

/// A plan's type in WIT's syntax (`list<u8>`, `record { a: u32 }`,
/// `result<_, string>`), as error messages name it; resources are named by
/// their plan index. (The runtime's resolved trees read the same: they are
/// written through this.)
impl Display for TypeRef<'_> {
    fn fmt(&self, f: &mut Formatter) -> Result {
        let at = |t: &u32| self.at(*t);
        let name = match self.value() {
            ValueType::Bool => "bool",
            ValueType::S8 => "s8",
            ValueType::U8 => "u8",
            ValueType::S16 => "s16",
            ValueType::U16 => "u16",
            ValueType::S32 => "s32",
            ValueType::U32 => "u32",
            ValueType::S64 => "s64",
            ValueType::U64 => "u64",
            ValueType::F32 => "f32",
            ValueType::F64 => "f64",
            ValueType::Char => "char",
            ValueType::String => "string",
            ValueType::List(t) => return write!(f, "list<{}>", at(t)),
            ValueType::Map(k, v) => return write!(f, "map<{}, {}>", at(k), at(v)),
            ValueType::Option(t) => return write!(f, "option<{}>", at(t)),
            ValueType::Own(r) => return write!(f, "own<resource {r}>"),
            ValueType::Borrow(r) => return write!(f, "borrow<resource {r}>"),
            ValueType::Tuple(ts) => {
                return separated(f, "tuple<", ts, ", ", ">", |t, f| at(t).fmt(f));
            }
            ValueType::Record(fs) => {
                return separated(f, "record { ", fs, ", ", " }", |(n, t), f| {
                    write!(f, "{n}: {}", at(t))
                });
            }
            ValueType::Variant(cs) => {
                return separated(f, "variant { ", cs, ", ", " }", |(n, t), f| match t {
                    Some(t) => write!(f, "{n}({})", at(t)),
                    None => f.write_str(n),
                });
            }
            ValueType::Enum(ns) => {
                return separated(f, "enum { ", ns, ", ", " }", |n, f| f.write_str(n))
            }
            ValueType::Flags(ns) => {
                return separated(f, "flags { ", ns, ", ", " }", |n, f| f.write_str(n))
            }
            ValueType::Result { ok, err } => {
                return match (ok, err) {
                    (None, None) => f.write_str("result"),
                    (Some(ok), None) => write!(f, "result<{}>", at(ok)),
                    (None, Some(err)) => write!(f, "result<_, {}>", at(err)),
                    (Some(ok), Some(err)) => write!(f, "result<{}, {}>", at(ok), at(err)),
                };
            }
        };
        f.write_str(name)
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
