//! Rust types for the plan's component types.
//!
//! The plan is structural. Standard shapes map to std types (`option` →
//! `Option`, `result` → `Result`, `list` → `Vec`, `map` → `BTreeMap`, `string`
//! → `String`, tuples → tuples). Records, variants, enums and flags become
//! generated types named after the WIT name the component gives them
//! (`<Struct>Person` for a type it imports or exports as `person`), or else
//! `<Struct>Record0`, `<Struct>Variant0`, `<Struct>Enum0`, `<Struct>Flags0`, …,
//! numbered per kind in the order they are first reached from the exports,
//! then the imports; structurally equal types share one Rust type. Resource
//! handles become `<Struct><ResourceName>` types (owned and borrowed handles
//! alike): opaque over `rivet::ResourceAny` for resources the component
//! defines, carrying the host's `u32` representation for resources the host
//! defines.

use crate::names::{camel, ident, snake};
use crate::wasi::is_wasi;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use rivet_descriptor::component::{Component as Plan, ResourceDef, ValueType};
use std::collections::{BTreeSet, HashMap};

/// Deeper nesting only arises from corrupt (cyclic) plans.
const MAX_DEPTH: u32 = 100;

/// The Rust side of a plan's types.
pub struct Types<'a> {
    plan: &'a Plan,
    prefix: String,
    /// Structural key → the generated type's name.
    names: HashMap<String, Ident>,
    /// Plan indices of generated types, in naming order (one per key).
    named: Vec<u32>,
    counters: HashMap<&'static str, usize>,
    /// Arity of every tuple reached (for the conversions).
    pub tuple_arities: BTreeSet<usize>,
    /// Handle type per resource index.
    handles: Vec<Ident>,
    /// Resources whose handles some visited type carries.
    reached: BTreeSet<u32>,
    /// Structural key → the WIT name of a generated type named after one.
    wit: HashMap<String, &'a str>,
}

impl<'a> Types<'a> {
    pub fn new(plan: &'a Plan, prefix: &str) -> Types<'a> {
        let mut seen = HashMap::new();
        let handles = plan
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let short = r.name.rsplit(['#', '/', ':']).next().unwrap_or(&r.name);
                let base = format!("{prefix}{}", camel(short));
                let n = seen.entry(base.clone()).or_insert(0usize);
                *n += 1;
                let name = if *n == 1 { base } else { format!("{base}{i}") };
                Ident::new(&name, Span::call_site())
            })
            .collect();
        Types {
            plan,
            prefix: prefix.to_string(),
            names: HashMap::new(),
            named: Vec::new(),
            counters: HashMap::new(),
            tuple_arities: BTreeSet::new(),
            handles,
            reached: BTreeSet::new(),
            wit: HashMap::new(),
        }
    }

    fn get(&self, i: u32) -> Result<&'a ValueType, String> {
        self.plan
            .types
            .get(i as usize)
            .ok_or_else(|| format!("corrupt plan: type index {i} out of range"))
    }

    /// A string equal for structurally equal types.
    fn key(&self, i: u32, depth: u32) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err("corrupt plan: component types nest too deeply".into());
        }
        let sub = |t: u32| self.key(t, depth + 1);
        let opt = |t: Option<u32>| t.map(sub).transpose();
        Ok(match self.get(i)? {
            ValueType::List(t) => format!("list<{}>", sub(*t)?),
            ValueType::Map(k, v) => format!("map<{},{}>", sub(*k)?, sub(*v)?),
            ValueType::Option(t) => format!("option<{}>", sub(*t)?),
            ValueType::Tuple(ts) => format!("tuple{:?}", keys(ts.iter().map(|t| sub(*t)))?),
            ValueType::Record(fs) => format!(
                "record{:?}",
                keys(fs.iter().map(|(n, t)| Ok(format!("{n}:{}", sub(*t)?))))?
            ),
            ValueType::Variant(cs) => format!(
                "variant{:?}",
                keys(cs.iter().map(|(n, t)| Ok(format!("{n}:{:?}", opt(*t)?))))?
            ),
            ValueType::Result { ok, err } => format!("result<{:?},{:?}>", opt(*ok)?, opt(*err)?),
            other => format!("{other:?}"),
        })
    }

    /// Registers every generated type reachable from `i` (names them).
    pub fn visit(&mut self, i: u32) -> Result<(), String> {
        self.visit_at(i, 0)
    }

    fn visit_at(&mut self, i: u32, depth: u32) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("corrupt plan: component types nest too deeply".into());
        }
        let ty = self.get(i)?;
        let kind = match ty {
            ValueType::Record(_) => Some("Record"),
            ValueType::Variant(_) => Some("Variant"),
            ValueType::Enum(_) => Some("Enum"),
            ValueType::Flags(_) => Some("Flags"),
            _ => None,
        };
        for child in children(ty) {
            self.visit_at(child, depth + 1)?;
        }
        if let ValueType::Tuple(ts) = ty {
            if ts.is_empty() {
                return Err("not supported yet: empty tuples".into());
            }
            self.tuple_arities.insert(ts.len());
        }
        if let ValueType::Map(k, _) = ty {
            if !is_key(self.get(*k)?) {
                return Err(format!(
                    "corrupt plan: map key type {k} is not a key type (bool, integer, char, string)"
                ));
            }
        }
        if let ValueType::Own(r) | ValueType::Borrow(r) = ty {
            if *r as usize >= self.handles.len() {
                return Err(format!("corrupt plan: resource index {r} out of range"));
            }
            self.reached.insert(*r);
        }
        if let Some(kind) = kind {
            let key = self.key(i, depth)?;
            if !self.names.contains_key(&key) {
                let name = match self.wit_name(&key)? {
                    Some((name, wit)) => {
                        self.wit.insert(key.clone(), wit);
                        name
                    }
                    None => {
                        let n = self.counters.entry(kind).or_default();
                        *n += 1;
                        format!("{}{kind}{}", self.prefix, *n - 1)
                    }
                };
                self.names.insert(key, Ident::new(&name, Span::call_site()));
                self.named.push(i);
            }
        }
        Ok(())
    }

    /// `<Struct><WitName>` for a type the component names (imports or exports
    /// as a type), with that WIT name, unless another generated type already
    /// has the Rust name.
    fn wit_name(&self, key: &str) -> Result<Option<(String, &'a str)>, String> {
        for (j, name) in self.plan.type_names.iter() {
            if self.key(*j, 0)? != key {
                continue;
            }
            let short = name.rsplit('#').next().unwrap_or(name);
            let candidate = format!("{}{}", self.prefix, camel(short));
            let taken = self.names.values().any(|n| *n == candidate)
                || self.handles.iter().any(|h| *h == candidate);
            return Ok((!taken).then_some((candidate, name.as_ref())));
        }
        Ok(None)
    }

    /// Rustdoc for the item the plan names `item`: its WIT docs, if the
    /// component has any, then `generated` (the component-side signature)
    /// as a second paragraph.
    pub fn doc(&self, item: &str, generated: &str) -> TokenStream {
        let wit = self.plan.docs.iter().find(|(n, _)| n == item);
        match wit {
            Some((_, text)) => quote! {
                #[doc = #text]
                #[doc = ""]
                #[doc = #generated]
            },
            None => quote!(#[doc = #generated]),
        }
    }

    /// The generated type's name for a registered type.
    fn name(&self, i: u32) -> Result<&Ident, String> {
        let key = self.key(i, 0)?;
        self.names
            .get(&key)
            .ok_or_else(|| format!("internal: type {i} was not visited"))
    }

    /// The owned Rust type of plan type `i`.
    pub fn rust(&self, i: u32) -> Result<TokenStream, String> {
        let opt = |t: Option<u32>| match t {
            Some(t) => self.rust(t),
            None => Ok(quote!(())),
        };
        Ok(match self.get(i)? {
            ValueType::Bool => quote!(bool),
            ValueType::S8 => quote!(i8),
            ValueType::U8 => quote!(u8),
            ValueType::S16 => quote!(i16),
            ValueType::U16 => quote!(u16),
            ValueType::S32 => quote!(i32),
            ValueType::U32 => quote!(u32),
            ValueType::S64 => quote!(i64),
            ValueType::U64 => quote!(u64),
            ValueType::F32 => quote!(f32),
            ValueType::F64 => quote!(f64),
            ValueType::Char => quote!(char),
            ValueType::String => quote!(rivet::__private::String),
            ValueType::List(t) => {
                let t = self.rust(*t)?;
                quote!(rivet::__private::Vec<#t>)
            }
            ValueType::Map(k, v) => {
                let (k, v) = (self.rust(*k)?, self.rust(*v)?);
                quote!(rivet::__private::BTreeMap<#k, #v>)
            }
            ValueType::Option(t) => {
                let t = self.rust(*t)?;
                quote!(::core::option::Option<#t>)
            }
            ValueType::Result { ok, err } => {
                let (ok, err) = (opt(*ok)?, opt(*err)?);
                quote!(::core::result::Result<#ok, #err>)
            }
            ValueType::Tuple(ts) => {
                let ts = ts
                    .iter()
                    .map(|t| self.rust(*t))
                    .collect::<Result<Vec<_>, _>>()?;
                quote!((#(#ts,)*))
            }
            ValueType::Own(r) | ValueType::Borrow(r) => {
                let h = &self.handles[*r as usize];
                quote!(#h)
            }
            ValueType::Record(_)
            | ValueType::Variant(_)
            | ValueType::Enum(_)
            | ValueType::Flags(_) => {
                let n = self.name(i)?;
                quote!(#n)
            }
        })
    }

    /// The type an exported function takes for a parameter: strings, lists
    /// and maps are borrowed (`&str`, `&[T]`, `&BTreeMap<K, V>`), everything
    /// else is owned.
    pub fn param(&self, i: u32) -> Result<TokenStream, String> {
        Ok(match self.get(i)? {
            ValueType::String => quote!(&str),
            ValueType::List(t) => {
                let t = self.rust(*t)?;
                quote!(&[#t])
            }
            ValueType::Map(..) => {
                let t = self.rust(i)?;
                quote!(&#t)
            }
            _ => self.rust(i)?,
        })
    }

    /// Definitions of the generated types and resource handles.
    pub fn definitions(&self) -> Result<TokenStream, String> {
        let mut out = TokenStream::new();
        for &i in &self.named {
            out.extend(self.definition(i)?);
        }
        for (i, h, r) in self.bound_handles() {
            out.extend(if r.imported {
                host_handle(h, &r.name, i as u32, self)
            } else {
                guest_handle(h, &r.name, self)
            });
        }
        Ok(out)
    }

    fn definition(&self, i: u32) -> Result<TokenStream, String> {
        let name = self.name(i)?;
        let generated = format!("The component type `{}`.", self.describe(i, 0)?);
        let doc = match self.wit.get(&self.key(i, 0)?) {
            Some(wit) => self.doc(wit, &generated),
            None => quote!(#[doc = #generated]),
        };
        Ok(match self.get(i)? {
            ValueType::Record(fields) => {
                let f = fields.iter().map(|(n, _)| ident(&snake(n)));
                let t = fields
                    .iter()
                    .map(|(_, t)| self.rust(*t))
                    .collect::<Result<Vec<_>, _>>()?;
                quote! {
                    #doc
                    #[derive(Clone, Debug, PartialEq)]
                    pub struct #name { #(pub #f: #t,)* }
                }
            }
            ValueType::Variant(cases) => {
                let cs = cases
                    .iter()
                    .map(|(n, t)| {
                        let c = ident(&camel(n));
                        Ok(match t {
                            Some(t) => {
                                let t = self.rust(*t)?;
                                quote!(#c(#t))
                            }
                            None => quote!(#c),
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                quote! {
                    #doc
                    #[derive(Clone, Debug, PartialEq)]
                    pub enum #name { #(#cs,)* }
                }
            }
            ValueType::Enum(names) => {
                let cs = names.iter().map(|n| ident(&camel(n)));
                quote! {
                    #doc
                    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
                    pub enum #name { #(#cs,)* }
                }
            }
            ValueType::Flags(names) => {
                let f = names.iter().map(|n| ident(&snake(n)));
                quote! {
                    #doc
                    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
                    pub struct #name { #(pub #f: bool,)* }
                }
            }
            _ => return Err(format!("internal: type {i} is not a generated type")),
        })
    }

    /// A WIT-like rendering of type `i`, for documentation.
    pub fn describe(&self, i: u32, depth: u32) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err("corrupt plan: component types nest too deeply".into());
        }
        let d = |t: u32| self.describe(t, depth + 1);
        let od = |t: Option<u32>| t.map(d).transpose().map(|s| s.unwrap_or("_".into()));
        Ok(match self.get(i)? {
            ValueType::List(t) => format!("list<{}>", d(*t)?),
            ValueType::Map(k, v) => format!("map<{}, {}>", d(*k)?, d(*v)?),
            ValueType::Option(t) => format!("option<{}>", d(*t)?),
            ValueType::Result { ok, err } => format!("result<{}, {}>", od(*ok)?, od(*err)?),
            ValueType::Tuple(ts) => format!("tuple<{}>", joined(ts.iter().map(|t| d(*t)))?),
            ValueType::Record(fs) => format!(
                "record {{ {} }}",
                joined(fs.iter().map(|(n, t)| Ok(format!("{n}: {}", d(*t)?))))?
            ),
            ValueType::Variant(cs) => format!(
                "variant {{ {} }}",
                joined(cs.iter().map(|(n, t)| Ok(match t {
                    Some(t) => format!("{n}({})", d(*t)?),
                    None => n.clone().to_string(),
                })))?
            ),
            ValueType::Enum(ns) => format!("enum {{ {} }}", ns.join(", ")),
            ValueType::Flags(ns) => format!("flags {{ {} }}", ns.join(", ")),
            ValueType::Own(r) => format!("own<{}>", self.plan.resources[*r as usize].name),
            ValueType::Borrow(r) => format!("borrow<{}>", self.plan.resources[*r as usize].name),
            other => format!("{other:?}").to_ascii_lowercase(),
        })
    }

    /// Plan indices of the generated types, with their Rust names.
    pub fn generated(&self) -> Result<Vec<(u32, &Ident)>, String> {
        self.named.iter().map(|&i| Ok((i, self.name(i)?))).collect()
    }

    /// The handle type per plan resource.
    pub fn handles(&self) -> &[Ident] {
        &self.handles
    }

    /// The handle types the bindings define, with their resource index and
    /// definition: every resource's but those of WASI that no function of
    /// the bindings passes (rivet-wasi serves them).
    pub fn bound_handles(&self) -> impl Iterator<Item = (usize, &Ident, &'a ResourceDef)> {
        let resources = self.plan.resources.iter();
        (self.handles.iter().zip(resources).enumerate())
            .filter(|(i, (_, r))| !is_wasi(&r.name) || self.reached.contains(&(*i as u32)))
            .map(|(i, (h, r))| (i, h, r))
    }

    pub fn plan(&self) -> &'a Plan {
        self.plan
    }

    pub fn value_type(&self, i: u32) -> Result<&'a ValueType, String> {
        self.get(i)
    }
}

/// A handle to a resource the component defines: an entry of the host's
/// handle table in the runtime, opaque to the host.
fn guest_handle(h: &Ident, name: &str, types: &Types) -> TokenStream {
    let doc = types.doc(
        name,
        &format!("A handle to a `{name}` resource of the component."),
    );
    quote! {
        #doc
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct #h(rivet::ResourceAny);
        impl ::core::convert::From<#h> for rivet::ResourceAny {
            fn from(h: #h) -> rivet::ResourceAny { h.0 }
        }
    }
}

/// A handle to a resource the host defines: the host's own representation
/// (an index into its table, say), which the runtime passes through.
fn host_handle(h: &Ident, name: &str, index: u32, types: &Types) -> TokenStream {
    let doc = types.doc(
        name,
        &format!(
            "A handle to a `{name}` resource the host defines: it carries the host's \
             representation, given to the guest as `own` or `borrow`."
        ),
    );
    quote! {
        #doc
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct #h {
            rep: u32,
        }
        impl #h {
            /// The handle with the host's representation `rep`.
            pub fn new(rep: u32) -> Self {
                Self { rep }
            }
            /// The host's representation.
            pub fn rep(&self) -> u32 {
                self.rep
            }
            /// The resource type in the component's plan.
            pub fn resource_type() -> rivet::ResourceType {
                rivet::__private::resource_type(#index)
            }
        }
        impl ::core::convert::From<#h> for rivet::ResourceAny {
            fn from(h: #h) -> rivet::ResourceAny {
                rivet::ResourceAny::host(#h::resource_type(), h.rep)
            }
        }
    }
}

fn keys(it: impl Iterator<Item = Result<String, String>>) -> Result<Vec<String>, String> {
    it.collect()
}

fn joined(it: impl Iterator<Item = Result<String, String>>) -> Result<String, String> {
    Ok(keys(it)?.join(", "))
}

/// The type indices a type refers to directly.
fn children(ty: &ValueType) -> Vec<u32> {
    match ty {
        ValueType::List(t) | ValueType::Option(t) => vec![*t],
        ValueType::Map(k, v) => vec![*k, *v],
        ValueType::Tuple(ts) => ts.clone().to_vec(),
        ValueType::Record(fs) => fs.iter().map(|(_, t)| *t).collect(),
        ValueType::Variant(cs) => cs.iter().filter_map(|(_, t)| *t).collect(),
        ValueType::Result { ok, err } => ok.iter().chain(err).copied().collect(),
        _ => Vec::new(),
    }
}

/// Whether `t` may key a map (the spec's `keytype`): these all have a total
/// order, so the map's Rust type can be a `BTreeMap`. (With the floats, the
/// types the typed call path passes without `Value`.)
pub(crate) fn is_key(t: &ValueType) -> bool {
    use ValueType as V;
    matches!(
        t,
        V::Bool
            | V::S8
            | V::U8
            | V::S16
            | V::U16
            | V::S32
            | V::U32
            | V::S64
            | V::U64
            | V::Char
            | V::String
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(types: Vec<ValueType>) -> Plan {
        Plan {
            types: types.into(),
            ..Plan::default()
        }
    }

    #[test]
    fn map_is_a_btree_map_borrowed_as_a_parameter() {
        let p = plan(vec![
            ValueType::String,
            ValueType::U32,
            ValueType::List(1),
            ValueType::Map(0, 2),
        ]);
        let mut types = Types::new(&p, "Hello");
        types.visit(3).unwrap();
        let map = "rivet::__private::BTreeMap<rivet::__private::String,rivet::__private::Vec<u32>>";
        let tokens = |t: TokenStream| t.to_string().replace(' ', "");
        assert_eq!(tokens(types.rust(3).unwrap()), map);
        assert_eq!(tokens(types.param(3).unwrap()), format!("&{map}"));
        assert_eq!(types.describe(3, 0).unwrap(), "map<string, list<u32>>");
        assert_ne!(types.key(3, 0).unwrap(), types.key(2, 0).unwrap());
    }

    #[test]
    fn map_keys_must_be_ordered_key_types() {
        let p = plan(vec![ValueType::F32, ValueType::Map(0, 0)]);
        let e = Types::new(&p, "Hello").visit(1).unwrap_err();
        assert!(e.contains("not a key type"), "{e}");
        let p = plan(vec![ValueType::Char, ValueType::Map(0, 0)]);
        assert!(Types::new(&p, "Hello").visit(1).is_ok());
    }
}
