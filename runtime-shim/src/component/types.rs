//! Component value and function types as the host sees them: the plan's
//! indexed types resolved into trees.

use crate::error::Error;
use crate::prelude::*;
use core::fmt;
use rivet_descriptor::component::{Component as Plan, ValueType};
use rivet_descriptor::display::separated;

/// A component value type, resolved (no indices).
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(Box<Type>),
    /// `map<k, v>`: in memory a list of `(k, v)` tuples.
    Map(Box<Type>, Box<Type>),
    Record(Vec<(String, Type)>),
    Tuple(Vec<Type>),
    Variant(Vec<(String, Option<Type>)>),
    Enum(Vec<String>),
    Option(Box<Type>),
    Result {
        ok: Option<Box<Type>>,
        err: Option<Box<Type>>,
    },
    Flags(Vec<String>),
    Own(ResourceType),
    Borrow(ResourceType),
}

impl Type {
    /// Whether this type or any type nested in it satisfies `pred`: what a
    /// call decides once per export (does lowering it lend handles, or run
    /// the guest's realloc?) instead of on every call.
    pub(crate) fn contains(&self, pred: &dyn Fn(&Type) -> bool) -> bool {
        if pred(self) {
            return true;
        }
        match self {
            Type::List(t) | Type::Option(t) => t.contains(pred),
            Type::Map(k, v) => k.contains(pred) || v.contains(pred),
            Type::Record(fs) => fs.iter().any(|(_, t)| t.contains(pred)),
            Type::Tuple(ts) => ts.iter().any(|t| t.contains(pred)),
            Type::Variant(cs) => cs.iter().flat_map(|(_, t)| t).any(|t| t.contains(pred)),
            Type::Result { ok, err } => [ok, err].into_iter().flatten().any(|t| t.contains(pred)),
            _ => false,
        }
    }
}

/// A type in WIT's syntax (`list<u8>`, `record { a: u32 }`, `result<_, string>`),
/// as error messages name it. Resources are named by their plan index.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let name = match self {
            Type::Bool => "bool",
            Type::S8 => "s8",
            Type::U8 => "u8",
            Type::S16 => "s16",
            Type::U16 => "u16",
            Type::S32 => "s32",
            Type::U32 => "u32",
            Type::S64 => "s64",
            Type::U64 => "u64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::Char => "char",
            Type::String => "string",
            Type::List(t) => return write!(f, "list<{t}>"),
            Type::Map(k, v) => return write!(f, "map<{k}, {v}>"),
            Type::Option(t) => return write!(f, "option<{t}>"),
            Type::Own(r) => return write!(f, "own<resource {}>", r.0),
            Type::Borrow(r) => return write!(f, "borrow<resource {}>", r.0),
            Type::Tuple(ts) => return separated(f, "tuple<", ts, ", ", ">", fmt::Display::fmt),
            Type::Record(fs) => {
                return separated(f, "record { ", fs, ", ", " }", |(n, t), f| {
                    write!(f, "{n}: {t}")
                });
            }
            Type::Variant(cs) => {
                return separated(f, "variant { ", cs, ", ", " }", |c, f| match c {
                    (n, Some(t)) => write!(f, "{n}({t})"),
                    (n, None) => f.write_str(n),
                });
            }
            Type::Enum(ns) => return separated(f, "enum { ", ns, ", ", " }", fmt::Display::fmt),
            Type::Flags(ns) => return separated(f, "flags { ", ns, ", ", " }", fmt::Display::fmt),
            Type::Result { ok, err } => {
                return match (ok, err) {
                    (None, None) => f.write_str("result"),
                    (Some(ok), None) => write!(f, "result<{ok}>"),
                    (None, Some(err)) => write!(f, "result<_, {err}>"),
                    (Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
                };
            }
        };
        f.write_str(name)
    }
}

/// Identity of a resource type: the plan's resource index. The plan gives each
/// resource its defining component instance, so within one instantiation the
/// index is the identity; handles held by the host also record the
/// instantiation they belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceType(pub(crate) u32);

impl ResourceType {
    /// The resource type with plan index `index`, as generated bindings know
    /// it; [`crate::Component::resource_type`] finds one by name.
    pub fn from_index(index: u32) -> ResourceType {
        ResourceType(index)
    }

    /// The plan index of the resource type.
    pub fn index(self) -> u32 {
        self.0
    }
}

/// A component function type.
#[derive(Clone, Debug, PartialEq)]
pub struct FuncType {
    pub params: Vec<(String, Type)>,
    pub result: Option<Type>,
}

/// Deeper nesting than this is refused: it only arises from corrupt (cyclic)
/// plans, and would otherwise overflow the stack.
const MAX_DEPTH: u32 = 100;

/// Resolves every function type of the plan, each from the plan's indexed
/// types (nothing else resolves them: no tree is made twice or cloned).
pub(crate) fn resolve_funcs(plan: &Plan) -> Result<Vec<FuncType>, Error> {
    let mut funcs = Vec::with_capacity(plan.func_types.len());
    for f in plan.func_types.iter() {
        let mut params = Vec::with_capacity(f.params.len());
        for (n, t) in f.params.iter() {
            params.push((n.to_string(), resolve(plan, *t, 0)?));
        }
        let result = match f.result {
            Some(t) => Some(resolve(plan, t, 0)?),
            None => None,
        };
        funcs.push(FuncType { params, result });
    }
    Ok(funcs)
}

fn resolve(plan: &Plan, index: u32, depth: u32) -> Result<Type, Error> {
    if depth > MAX_DEPTH {
        return Err(Error::Format("component types nest too deeply".into()));
    }
    let ty = plan
        .types
        .get(index as usize)
        .ok_or_else(|| Error::Format(format!("type index {index} out of range")))?;
    let sub = |i: u32| resolve(plan, i, depth + 1);
    let boxed = |i: u32| sub(i).map(Box::new);
    let resource = |r: u32| {
        if (r as usize) < plan.resources.len() {
            Ok(ResourceType(r))
        } else {
            Err(Error::Format(format!("resource index {r} out of range")))
        }
    };
    Ok(match ty {
        ValueType::Bool => Type::Bool,
        ValueType::S8 => Type::S8,
        ValueType::U8 => Type::U8,
        ValueType::S16 => Type::S16,
        ValueType::U16 => Type::U16,
        ValueType::S32 => Type::S32,
        ValueType::U32 => Type::U32,
        ValueType::S64 => Type::S64,
        ValueType::U64 => Type::U64,
        ValueType::F32 => Type::F32,
        ValueType::F64 => Type::F64,
        ValueType::Char => Type::Char,
        ValueType::String => Type::String,
        ValueType::List(t) => Type::List(boxed(*t)?),
        ValueType::Map(k, v) => Type::Map(boxed(*k)?, boxed(*v)?),
        ValueType::Record(fields) => Type::Record(
            fields
                .iter()
                .map(|(n, t)| Ok((n.to_string(), sub(*t)?)))
                .collect::<Result<_, Error>>()?,
        ),
        ValueType::Tuple(ts) => Type::Tuple(ts.iter().map(|t| sub(*t)).collect::<Result<_, _>>()?),
        ValueType::Variant(cases) => Type::Variant(
            cases
                .iter()
                .map(|(n, t)| Ok((n.to_string(), t.map(sub).transpose()?)))
                .collect::<Result<_, Error>>()?,
        ),
        ValueType::Enum(names) => Type::Enum(names.iter().map(|n| n.to_string()).collect()),
        ValueType::Option(t) => Type::Option(boxed(*t)?),
        ValueType::Result { ok, err } => Type::Result {
            ok: ok.map(boxed).transpose()?,
            err: err.map(boxed).transpose()?,
        },
        ValueType::Flags(names) => Type::Flags(names.iter().map(|n| n.to_string()).collect()),
        ValueType::Own(r) => Type::Own(resource(*r)?),
        ValueType::Borrow(r) => Type::Borrow(resource(*r)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_nested_types_and_refuses_cycles() {
        let mut plan = Plan {
            types: vec![
                ValueType::U8,
                ValueType::List(0),
                ValueType::Record(vec![("a".into(), 1), ("b".into(), 0)].into()),
            ]
            .into(),
            ..Plan::default()
        };
        let types: Vec<Type> = (0..3).map(|i| resolve(&plan, i, 0).unwrap()).collect();
        assert_eq!(
            types[2],
            Type::Record(vec![
                ("a".into(), Type::List(Box::new(Type::U8))),
                ("b".into(), Type::U8)
            ])
        );
        plan.types.to_mut().push(ValueType::Map(0, 2));
        assert_eq!(
            resolve(&plan, 3, 0).unwrap(),
            Type::Map(Box::new(Type::U8), Box::new(types[2].clone()))
        );
        plan.types.to_mut()[3] = ValueType::List(3);
        assert!(matches!(resolve(&plan, 3, 0), Err(Error::Format(_))));
        plan.types.to_mut()[3] = ValueType::Own(0);
        assert!(matches!(resolve(&plan, 3, 0), Err(Error::Format(_))));
    }

    #[test]
    fn types_read_as_wit() {
        let b = |t| Box::new(t);
        let s = |x: &str| String::from(x);
        let cases = [
            (Type::List(b(Type::U8)), "list<u8>"),
            (Type::Map(b(Type::String), b(Type::S64)), "map<string, s64>"),
            (
                Type::Record(vec![(s("a"), Type::U32), (s("b"), Type::Char)]),
                "record { a: u32, b: char }",
            ),
            (Type::Tuple(vec![Type::F32, Type::Bool]), "tuple<f32, bool>"),
            (
                Type::Variant(vec![(s("none"), None), (s("some"), Some(Type::U16))]),
                "variant { none, some(u16) }",
            ),
            (Type::Enum(vec![s("x"), s("y")]), "enum { x, y }"),
            (Type::Flags(vec![s("r")]), "flags { r }"),
            (Type::Option(b(Type::S8)), "option<s8>"),
            (
                Type::Result {
                    ok: None,
                    err: None,
                },
                "result",
            ),
            (
                Type::Result {
                    ok: Some(b(Type::U64)),
                    err: None,
                },
                "result<u64>",
            ),
            (
                Type::Result {
                    ok: None,
                    err: Some(b(Type::F64)),
                },
                "result<_, f64>",
            ),
            (
                Type::Result {
                    ok: Some(b(Type::S16)),
                    err: Some(b(Type::String)),
                },
                "result<s16, string>",
            ),
            (Type::Own(ResourceType(2)), "own<resource 2>"),
            (Type::Borrow(ResourceType(0)), "borrow<resource 0>"),
        ];
        for (ty, wit) in cases {
            assert_eq!(ty.to_string(), wit);
        }
    }
}
