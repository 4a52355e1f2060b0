//! Component value and function types as the host sees them: the plan's
//! indexed types resolved into trees.

use crate::prelude::*;
use core::fmt;
use rivet_descriptor::component::{Component as Plan, TypeRef, ValueType};
use rivet_descriptor::Text;

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

/// A type in WIT's syntax (`list<u8>`, `record { a: u32 }`, `result<_, string>`),
/// as error messages name it. Resources are named by their plan index. Written
/// as the plan's types are ([`TypeRef`]'s `Display`), from a plan of this one
/// type's tree.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut plan = Plan::default();
        let root = unresolve(self, plan.types.to_mut());
        TypeRef::new(&plan, root).fmt(f)
    }
}

/// Lists `t` and the types it is made of in `types`, each after its parts (as
/// a plan lists them); returns `t`'s index.
fn unresolve(t: &Type, types: &mut Vec<ValueType>) -> u32 {
    let mut sub = |t: &Type| unresolve(t, types);
    let names = |ns: &[String]| ns.iter().map(|n| Text::from(n.clone())).collect();
    let value = match t {
        Type::Bool => ValueType::Bool,
        Type::S8 => ValueType::S8,
        Type::U8 => ValueType::U8,
        Type::S16 => ValueType::S16,
        Type::U16 => ValueType::U16,
        Type::S32 => ValueType::S32,
        Type::U32 => ValueType::U32,
        Type::S64 => ValueType::S64,
        Type::U64 => ValueType::U64,
        Type::F32 => ValueType::F32,
        Type::F64 => ValueType::F64,
        Type::Char => ValueType::Char,
        Type::String => ValueType::String,
        Type::List(e) => ValueType::List(sub(e)),
        Type::Map(k, v) => {
            let k = sub(k);
            ValueType::Map(k, sub(v))
        }
        Type::Record(fs) => ValueType::Record(
            fs.iter()
                .map(|(n, t)| (Text::from(n.clone()), sub(t)))
                .collect(),
        ),
        Type::Tuple(ts) => ValueType::Tuple(ts.iter().map(&mut sub).collect()),
        Type::Variant(cs) => ValueType::Variant(
            cs.iter()
                .map(|(n, t)| (Text::from(n.clone()), t.as_ref().map(&mut sub)))
                .collect(),
        ),
        Type::Enum(ns) => ValueType::Enum(names(ns)),
        Type::Flags(ns) => ValueType::Flags(names(ns)),
        Type::Option(t) => ValueType::Option(sub(t)),
        Type::Result { ok, err } => {
            let ok = ok.as_deref().map(&mut sub);
            ValueType::Result {
                ok,
                err: err.as_deref().map(&mut sub),
            }
        }
        Type::Own(r) => ValueType::Own(r.0),
        Type::Borrow(r) => ValueType::Borrow(r.0),
    };
    types.push(value);
    types.len() as u32 - 1
}

/// Identity of a resource type: the plan's resource index. The plan gives each
/// resource its defining component instance, so within one instantiation the
/// index is the identity; handles held by the host also record the
/// instantiation they belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceType(pub(crate) u32);

/// The resource type with plan index `index`, as generated bindings know it
/// (a host finds one by name with [`crate::Component::resource_type`]).
pub fn resource_type(index: u32) -> ResourceType {
    ResourceType(index)
}

impl ResourceType {
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

/// The plan's types and function types as trees, for the dynamic API (the
/// typed path reads the plan's types in place, see [`super::typed`]).
pub(crate) struct Trees {
    pub types: Vec<Type>,
    pub funcs: Vec<FuncType>,
}

/// Resolves every type of the plan, each from the trees of the types before
/// it: a checked plan lists a type after the types it is made of
/// ([`rivet_descriptor::check`]). A reference that breaks that order, which
/// only a plan built by hand can hold, resolves to an empty tuple.
pub(crate) fn resolve(plan: &Plan) -> Trees {
    let mut types: Vec<Type> = Vec::with_capacity(plan.types.len());
    for ty in plan.types.iter() {
        let tree = resolve_one(ty, &types);
        types.push(tree);
    }
    let get = |t: u32| earlier(&types, t);
    let funcs = plan
        .func_types
        .iter()
        .map(|f| FuncType {
            params: f
                .params
                .iter()
                .map(|(n, t)| (n.to_string(), get(*t)))
                .collect(),
            result: f.result.map(get),
        })
        .collect();
    Trees { types, funcs }
}

fn earlier(types: &[Type], t: u32) -> Type {
    types
        .get(t as usize)
        .cloned()
        .unwrap_or(Type::Tuple(Vec::new()))
}

fn resolve_one(ty: &ValueType, types: &[Type]) -> Type {
    let sub = |t: u32| earlier(types, t);
    let boxed = |t: u32| Box::new(sub(t));
    let names = |ns: &[rivet_descriptor::Text]| ns.iter().map(|n| n.to_string()).collect();
    match ty {
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
        ValueType::List(t) => Type::List(boxed(*t)),
        ValueType::Map(k, v) => Type::Map(boxed(*k), boxed(*v)),
        ValueType::Record(fields) => Type::Record(
            fields
                .iter()
                .map(|(n, t)| (n.to_string(), sub(*t)))
                .collect(),
        ),
        ValueType::Tuple(ts) => Type::Tuple(ts.iter().map(|t| sub(*t)).collect()),
        ValueType::Variant(cases) => Type::Variant(
            cases
                .iter()
                .map(|(n, t)| (n.to_string(), t.map(sub)))
                .collect(),
        ),
        ValueType::Enum(ns) => Type::Enum(names(ns)),
        ValueType::Option(t) => Type::Option(boxed(*t)),
        ValueType::Result { ok, err } => Type::Result {
            ok: ok.map(boxed),
            err: err.map(boxed),
        },
        ValueType::Flags(ns) => Type::Flags(names(ns)),
        ValueType::Own(r) => Type::Own(ResourceType(*r)),
        ValueType::Borrow(r) => Type::Borrow(ResourceType(*r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_nested_types_from_earlier_ones() {
        let mut plan = Plan {
            types: vec![
                ValueType::U8,
                ValueType::List(0),
                ValueType::Record(vec![("a".into(), 1), ("b".into(), 0)].into()),
            ]
            .into(),
            ..Plan::default()
        };
        let types = resolve(&plan).types;
        assert_eq!(
            types[2],
            Type::Record(vec![
                ("a".into(), Type::List(Box::new(Type::U8))),
                ("b".into(), Type::U8)
            ])
        );
        plan.types.to_mut().push(ValueType::Map(0, 2));
        assert_eq!(
            resolve(&plan).types[3],
            Type::Map(Box::new(Type::U8), Box::new(types[2].clone()))
        );
        // Out of order (only a plan built by hand): no recursion, no panic.
        plan.types.to_mut()[3] = ValueType::List(3);
        assert_eq!(
            resolve(&plan).types[3],
            Type::List(Box::new(Type::Tuple(vec![])))
        );
    }

    /// The typed path reads the plan's types in place, the dynamic API the
    /// trees: both must lay out and name every type alike.
    #[test]
    fn plan_types_in_place_agree_with_their_trees() {
        use rivet_descriptor::abi::{alignment, flatten, size};
        use rivet_descriptor::component::{ResourceDef, TypeRef};
        let t = |s: &str| rivet_descriptor::Text::from(s.to_string());
        let plan = Plan {
            types: vec![
                ValueType::U8,
                ValueType::String,
                ValueType::F64,
                ValueType::Record(vec![(t("a"), 0), (t("b"), 2)].into()),
                ValueType::Variant(vec![(t("x"), None), (t("y"), Some(3))].into()),
                ValueType::Result {
                    ok: Some(1),
                    err: None,
                },
                ValueType::Map(1, 4),
                ValueType::Tuple(vec![5, 6, 0].into()),
                ValueType::Enum(vec![t("p"), t("q")].into()),
                ValueType::Flags((0..40).map(|i| t(&i.to_string())).collect()),
                ValueType::Option(9),
                ValueType::Own(0),
                ValueType::Borrow(0),
                ValueType::List(7),
                ValueType::Result {
                    ok: None,
                    err: None,
                },
            ]
            .into(),
            resources: vec![ResourceDef {
                instance: 0,
                imported: false,
                dtor: None,
                name: t("r"),
            }]
            .into(),
            ..Plan::default()
        };
        let trees = resolve(&plan).types;
        for (i, tree) in trees.iter().enumerate() {
            let r = TypeRef::new(&plan, i as u32);
            assert_eq!(r.to_string(), tree.to_string());
            assert_eq!(
                (size(r), alignment(r), flatten(r)),
                (size(tree), alignment(tree), flatten(tree)),
                "{tree}"
            );
            let own = |v: &ValueType| matches!(v, ValueType::Own(_));
            assert_eq!(r.contains(&own), i == 11);
            let string = |v: &ValueType| matches!(v, ValueType::String);
            assert_eq!(r.contains(&string), [1, 5, 6, 7, 13].contains(&i));
        }
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
