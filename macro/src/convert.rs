//! Conversions between Rust values and `rivet::Value`, emitted inside the
//! macro's `const _: () = { … };` block: two private traits, `Lower` (Rust →
//! `Value`) and `Lift` (`Value` → Rust, failing with a `Trap` on a shape
//! mismatch), implemented for std types and for every generated type. Being
//! private to that block, several `component!` calls in one module never clash.

use crate::names::{camel, ident, snake};
use crate::types::Types;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use rivet_descriptor::component::ValueType;
use rivet_descriptor::Text;

/// The traits, their std impls and one impl pair per generated type.
pub fn support(types: &Types) -> Result<TokenStream, String> {
    let tuples = types.tuple_arities.iter().map(|&n| tuple_impls(n));
    let mut named = TokenStream::new();
    for (i, name) in types.generated()? {
        named.extend(named_impls(name, types.value_type(i)?)?);
    }
    let handles = types.bound_handles().map(|(_, h, r)| {
        if r.imported {
            return quote! {
                impl Lower for #h {
                    fn lower(&self) -> Value { Value::Own((*self).into()) }
                }
                impl Lift for #h {
                    fn lift(v: Value) -> Result<Self, Trap> {
                        match &v {
                            Value::Own(h) | Value::Borrow(h) => match h.host_rep() {
                                Some(rep) => Ok(#h::new(rep)),
                                None => Err(mismatch("host-defined resource handle", &v)),
                            },
                            _ => Err(mismatch("resource handle", &v)),
                        }
                    }
                }
            };
        }
        quote! {
            impl Lower for #h {
                fn lower(&self) -> Value { Value::Own(self.0) }
            }
            impl Lift for #h {
                fn lift(v: Value) -> Result<Self, Trap> {
                    match v {
                        Value::Own(h) | Value::Borrow(h) => Ok(#h(h)),
                        other => Err(mismatch("resource handle", &other)),
                    }
                }
            }
        }
    });
    Ok(quote! {
        use rivet::{Trap, Value};
        #BASE
        #(#tuples)*
        #named
        #(#handles)*
    })
}

/// Fixed part: the traits and the std impls.
struct Base;
const BASE: Base = Base;

impl quote::ToTokens for Base {
    fn to_tokens(&self, out: &mut TokenStream) {
        out.extend(quote! {
            trait Lower {
                fn lower(&self) -> Value;
                /// The payload of a case or result arm; `()` has none.
                fn lower_payload(&self) -> Option<Box<Value>> {
                    Some(Box::new(self.lower()))
                }
            }
            trait Lift: Sized {
                fn lift(v: Value) -> Result<Self, Trap>;
                fn lift_payload(v: Option<Box<Value>>) -> Result<Self, Trap> {
                    match v {
                        Some(v) => Self::lift(*v),
                        None => Err(Trap::host("binding type mismatch: payload missing")),
                    }
                }
            }
            fn mismatch(want: &str, got: &Value) -> Trap {
                Trap::host(format!("binding type mismatch: expected {want}, got {got:?}"))
            }
            fn next<T>(it: &mut impl Iterator<Item = T>, what: &str) -> Result<T, Trap> {
                it.next()
                    .ok_or_else(|| Trap::host(format!("binding type mismatch: {what} missing")))
            }
            fn field(it: &mut impl Iterator<Item = (String, Value)>, name: &str) -> Result<Value, Trap> {
                let (n, v) = next(it, name)?;
                if n == name {
                    Ok(v)
                } else {
                    Err(Trap::host(format!("binding type mismatch: expected field `{name}`, got `{n}`")))
                }
            }
            macro_rules! scalar {
                ($($t:ty => $c:ident),*) => {$(
                    impl Lower for $t {
                        fn lower(&self) -> Value { Value::$c(*self) }
                    }
                    impl Lift for $t {
                        fn lift(v: Value) -> Result<Self, Trap> {
                            match v {
                                Value::$c(x) => Ok(x),
                                other => Err(mismatch(stringify!($t), &other)),
                            }
                        }
                    }
                )*};
            }
            scalar!(bool => Bool, i8 => S8, u8 => U8, i16 => S16, u16 => U16, i32 => S32,
                u32 => U32, i64 => S64, u64 => U64, f32 => F32, f64 => F64, char => Char);
            impl<T: Lower + ?Sized> Lower for &T {
                fn lower(&self) -> Value { (**self).lower() }
            }
            impl Lower for () {
                fn lower(&self) -> Value { Value::Tuple(Vec::new()) }
                fn lower_payload(&self) -> Option<Box<Value>> { None }
            }
            impl Lift for () {
                fn lift(v: Value) -> Result<Self, Trap> {
                    Err(mismatch("no value", &v))
                }
                fn lift_payload(v: Option<Box<Value>>) -> Result<Self, Trap> {
                    match v {
                        None => Ok(()),
                        Some(v) => Err(mismatch("no payload", &v)),
                    }
                }
            }
            impl Lower for str {
                fn lower(&self) -> Value { Value::String(self.to_string()) }
            }
            impl Lower for String {
                fn lower(&self) -> Value { Value::String(self.clone()) }
            }
            impl Lift for String {
                fn lift(v: Value) -> Result<Self, Trap> {
                    match v {
                        Value::String(s) => Ok(s),
                        other => Err(mismatch("string", &other)),
                    }
                }
            }
            impl<T: Lower> Lower for [T] {
                fn lower(&self) -> Value { Value::List(self.iter().map(Lower::lower).collect()) }
            }
            impl<T: Lower> Lower for Vec<T> {
                fn lower(&self) -> Value { self.as_slice().lower() }
            }
            impl<T: Lift> Lift for Vec<T> {
                fn lift(v: Value) -> Result<Self, Trap> {
                    match v {
                        Value::List(xs) => xs.into_iter().map(T::lift).collect(),
                        other => Err(mismatch("list", &other)),
                    }
                }
            }
            impl<K: Lower, V: Lower> Lower for rivet::__private::BTreeMap<K, V> {
                fn lower(&self) -> Value {
                    Value::Map(self.iter().map(|(k, v)| (k.lower(), v.lower())).collect())
                }
            }
            /// The Canonical ABI keeps duplicate keys; as the spec allows
            /// bindings to, the last entry for a key wins.
            impl<K: Lift + Ord, V: Lift> Lift for rivet::__private::BTreeMap<K, V> {
                fn lift(v: Value) -> Result<Self, Trap> {
                    match v {
                        Value::Map(es) => es
                            .into_iter()
                            .map(|(k, v)| Ok((K::lift(k)?, V::lift(v)?)))
                            .collect(),
                        other => Err(mismatch("map", &other)),
                    }
                }
            }
            impl<T: Lower> Lower for Option<T> {
                fn lower(&self) -> Value {
                    Value::Option(self.as_ref().map(|x| Box::new(x.lower())))
                }
            }
            impl<T: Lift> Lift for Option<T> {
                fn lift(v: Value) -> Result<Self, Trap> {
                    match v {
                        Value::Option(x) => x.map(|x| T::lift(*x)).transpose(),
                        other => Err(mismatch("option", &other)),
                    }
                }
            }
            impl<T: Lower, E: Lower> Lower for Result<T, E> {
                fn lower(&self) -> Value {
                    Value::Result(match self {
                        Ok(x) => Ok(x.lower_payload()),
                        Err(e) => Err(e.lower_payload()),
                    })
                }
            }
            impl<T: Lift, E: Lift> Lift for Result<T, E> {
                fn lift(v: Value) -> Result<Self, Trap> {
                    match v {
                        Value::Result(Ok(x)) => Ok(Ok(T::lift_payload(x)?)),
                        Value::Result(Err(e)) => Ok(Err(E::lift_payload(e)?)),
                        other => Err(mismatch("result", &other)),
                    }
                }
            }
        });
    }
}

fn tuple_impls(n: usize) -> TokenStream {
    let ts: Vec<Ident> = (0..n).map(|i| format_ident!("T{i}")).collect();
    let idx = (0..n).map(syn::Index::from);
    let want = format!("tuple of {n}");
    quote! {
        impl<#(#ts: Lower,)*> Lower for (#(#ts,)*) {
            fn lower(&self) -> Value { Value::Tuple(vec![#(self.#idx.lower(),)*]) }
        }
        impl<#(#ts: Lift,)*> Lift for (#(#ts,)*) {
            fn lift(v: Value) -> Result<Self, Trap> {
                match v {
                    Value::Tuple(xs) if xs.len() == #n => {
                        let mut it = xs.into_iter();
                        Ok((#(#ts::lift(next(&mut it, "tuple member")?)?,)*))
                    }
                    other => Err(mismatch(#want, &other)),
                }
            }
        }
    }
}

fn named_impls(name: &Ident, ty: &ValueType) -> Result<TokenStream, String> {
    let (lower, lift) = match ty {
        ValueType::Record(fields) => record(fields),
        ValueType::Variant(cases) => variant(cases),
        ValueType::Enum(cases) => enumeration(cases),
        ValueType::Flags(names) => flags(names),
        _ => return Err(format!("internal: `{name}` is not a generated type")),
    };
    Ok(quote! {
        impl Lower for #name {
            fn lower(&self) -> Value { #lower }
        }
        impl Lift for #name {
            fn lift(v: Value) -> Result<Self, Trap> { #lift }
        }
    })
}

fn record(fields: &[(Text, u32)]) -> (TokenStream, TokenStream) {
    let names: Vec<&Text> = fields.iter().map(|(n, _)| n).collect();
    let f: Vec<Ident> = names.iter().map(|n| ident(&snake(n))).collect();
    let lower = quote! { Value::Record(vec![#((#names.to_string(), self.#f.lower()),)*]) };
    let lift = quote! {
        match v {
            Value::Record(fields) => {
                let mut it = fields.into_iter();
                Ok(Self { #(#f: Lift::lift(field(&mut it, #names)?)?,)* })
            }
            other => Err(mismatch("record", &other)),
        }
    };
    (lower, lift)
}

fn variant(cases: &[(Text, Option<u32>)]) -> (TokenStream, TokenStream) {
    let lower_arms = cases.iter().map(|(n, t)| {
        let c = ident(&camel(n));
        match t {
            Some(_) => {
                quote!(Self::#c(x) => Value::Variant(#n.to_string(), Some(Box::new(x.lower()))))
            }
            None => quote!(Self::#c => Value::Variant(#n.to_string(), None)),
        }
    });
    let lift_arms = cases.iter().map(|(n, t)| {
        let c = ident(&camel(n));
        match t {
            Some(_) => quote!(#n => Ok(Self::#c(Lift::lift_payload(payload)?))),
            None => quote!(#n => <() as Lift>::lift_payload(payload).map(|()| Self::#c)),
        }
    });
    let lower = quote! { match self { #(#lower_arms,)* } };
    let lift = quote! {
        match v {
            Value::Variant(name, payload) => match name.as_str() {
                #(#lift_arms,)*
                other => Err(Trap::host(format!("binding type mismatch: unknown case `{other}`"))),
            },
            other => Err(mismatch("variant", &other)),
        }
    };
    (lower, lift)
}

fn enumeration(cases: &[Text]) -> (TokenStream, TokenStream) {
    let c: Vec<Ident> = cases.iter().map(|n| ident(&camel(n))).collect();
    let lower = quote! { Value::Enum(match self { #(Self::#c => #cases,)* }.to_string()) };
    let lift = quote! {
        match v {
            Value::Enum(name) => match name.as_str() {
                #(#cases => Ok(Self::#c),)*
                other => Err(Trap::host(format!("binding type mismatch: unknown case `{other}`"))),
            },
            other => Err(mismatch("enum", &other)),
        }
    };
    (lower, lift)
}

fn flags(names: &[Text]) -> (TokenStream, TokenStream) {
    let f: Vec<Ident> = names.iter().map(|n| ident(&snake(n))).collect();
    let lower = quote! {
        let mut set = Vec::new();
        #(if self.#f { set.push(#names.to_string()); })*
        Value::Flags(set)
    };
    let lift = quote! {
        match v {
            Value::Flags(set) => {
                let mut out = Self::default();
                for name in set {
                    match name.as_str() {
                        #(#names => out.#f = true,)*
                        other => return Err(Trap::host(format!("binding type mismatch: unknown flag `{other}`"))),
                    }
                }
                Ok(out)
            }
            other => Err(mismatch("flags", &other)),
        }
    };
    (lower, lift)
}
