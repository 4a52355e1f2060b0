//! The bindings for one component: the imports trait, the struct with
//! `instantiate`, a method per top-level export and a view per exported
//! interface, and the descriptor loading.

use crate::convert;
use crate::names::{camel, func_part, ident, interface_names, method_names, snake};
use crate::types::Types;
use crate::wasi::{is_wasi, Wasi};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use rivet_descriptor::component::{Component as Plan, ComponentFuncType, CoreDef, Step};

/// Methods of the generated struct that exports must not shadow.
const RESERVED: &[&str] = &["instantiate", "component", "instance", "resource_drop"];

/// The descriptor symbol build.rs gives component `name`: `rivet_component_`
/// and the name with every character outside `[A-Za-z0-9_]` replaced by `_`.
pub fn symbol(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("rivet_component_{clean}")
}

/// The runtime's constructor of the import set: bindings of a plan that
/// needs no resource or adapter intrinsic let the host leave their code out.
fn imports_constructor(plan: &Plan) -> TokenStream {
    let needs_intrinsics = plan.steps.iter().any(|Step::Instantiate { args, .. }| {
        args.iter()
            .any(|a| !matches!(a, CoreDef::Export { .. } | CoreDef::HostLower(_)))
    });
    match needs_intrinsics {
        true => quote!(rivet::ComponentImports::new()),
        false => quote!(rivet::__private::imports_without_intrinsics()),
    }
}

/// One function of the component, resolved for generation.
struct Func<'p> {
    /// Import/export name as the runtime knows it.
    name: &'p str,
    method: Ident,
    ty: &'p ComponentFuncType,
}

/// The bindings for component `component` (its build.rs name) under the Rust
/// name `name`, from its plan.
pub fn generate(
    name: &Ident,
    component: &str,
    plan: &Plan,
    metadata: Metadata,
) -> Result<TokenStream, String> {
    let wasi = Wasi::of(plan)?;
    let exports = exports(name, plan, wasi.as_ref())?;
    let hosts = host_traits(name, plan)?;
    let imports: Vec<&Func> = hosts.iter().flat_map(|h| &h.funcs).collect();
    let mut types = Types::new(plan, &name.to_string());
    for f in exports.all().chain(imports.iter().copied()) {
        for (_, t) in f.ty.params.iter() {
            types.visit(*t)?;
        }
        if let Some(t) = f.ty.result {
            types.visit(t)?;
        }
    }
    let trait_name = format_ident!("{name}Imports");
    let definitions = types.definitions()?;
    let support = convert::support(&types)?;
    let imports_trait = imports_trait(&trait_name, &hosts, &types)?;
    let register = hosts
        .iter()
        .map(|h| register_host(h, &types))
        .collect::<Result<Vec<_>, _>>()?;
    let methods = exports
        .top
        .iter()
        .map(|f| export_method(f, &types))
        .collect::<Result<Vec<_>, _>>()?;
    let view_structs = exports.groups.iter().map(|g| view_struct(name, g, &types));
    let views = exports
        .groups
        .iter()
        .map(|g| view_impl(name, g, &types))
        .collect::<Result<Vec<_>, _>>()?;
    let handle_methods = exports
        .top
        .iter()
        .map(|f| (f, None))
        .chain(
            exports
                .groups
                .iter()
                .flat_map(|g| g.funcs.iter().map(move |f| (f, Some(g)))),
        )
        .filter_map(|(f, g)| handle_method(name, f, g, plan, &types).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let symbol = Ident::new(&symbol(component), Span::call_site());
    let new_imports = imports_constructor(plan);
    let (unit_mod, load) = loader(component, &symbol, metadata);
    let doc = format!(
        "Typed bindings for the Rivet component `{component}` (see `{trait_name}` for its imports)."
    );
    let wasi_field = wasi.as_ref().map(Wasi::field);
    let wasi_param = wasi.as_ref().map(Wasi::param);
    let wasi_doc = wasi.as_ref().map(Wasi::doc);
    let wasi_methods = wasi.as_ref().map(Wasi::methods);
    let finish = match &wasi {
        Some(w) => w.instantiate(),
        None => quote! {
            let instance = store.instantiate_component(&Self::component()?, &funcs)?;
            Ok(Self { instance })
        },
    };
    Ok(quote! {
        #[doc = #doc]
        pub struct #name {
            instance: rivet::ComponentInstance,
            #wasi_field
        }
        #(#view_structs)*
        #definitions
        #imports_trait
        #[allow(dead_code, clippy::all)]
        const _: () = {
            // What `std`'s prelude has, for hosts without `std`.
            #[allow(unused_imports)]
            use rivet::__private::{format, vec, Box, String, ToString, Vec};
            #support
            #unit_mod
            impl #name {
                /// The compiled component, loaded from its descriptor once.
                pub fn component() -> Result<rivet::Component, rivet::Error> {
                    static LOADED: rivet::__private::Once<rivet::Component> = rivet::__private::Once::new();
                    if let Some(c) = LOADED.get() {
                        return Ok(c.clone());
                    }
                    unsafe extern "C" {
                        static #symbol: rivet::RawDescriptor;
                    }
                    // SAFETY: the symbol is the descriptor rivet_build compiled
                    // and linked for this component, and the static (if any)
                    // its metadata, from the same build.
                    let c = unsafe { #load }?;
                    Ok(LOADED.call_once(|| c).clone())
                }

                /// Instantiates the component in `store`, with `imports` as the
                /// host's implementation of its imports.
                #wasi_doc
                pub fn instantiate(
                    store: &mut rivet::Store,
                    imports: impl #trait_name + Send + 'static,
                    #wasi_param
                ) -> Result<Self, rivet::Error> {
                    let host = rivet::__private::Arc::new(rivet::__private::Mutex::new(imports));
                    let mut funcs = #new_imports;
                    #(#register)*
                    let _ = &host;
                    #finish
                }

                /// The underlying instance, for the dynamic API.
                pub fn instance(&self) -> rivet::ComponentInstance {
                    self.instance
                }

                /// Drops a resource handle the host owns (runs its destructor).
                pub fn resource_drop(
                    &self,
                    store: &mut rivet::Store,
                    handle: impl Into<rivet::ResourceAny>,
                ) -> Result<(), Trap> {
                    self.instance.resource_drop(store, handle.into())
                }

                #(#methods)*
                #wasi_methods
            }
            #(#views)*
            #(#handle_methods)*
        };
    })
}

/// Where the bindings read the unit's metadata (the runtime's description of
/// the compiled modules) from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metadata {
    /// The `static` rivet_build wrote beside the plan, included and read in
    /// place: the host links no metadata reader.
    Static,
    /// The descriptor's postcard bytes, decoded and checked at load: for
    /// units whose static costs rustc far more than decoding costs the host.
    Descriptor,
}

/// The module that includes the metadata static (none when the metadata is
/// decoded from the descriptor), and the expression loading the component
/// from `symbol`, the descriptor.
fn loader(component: &str, symbol: &Ident, metadata: Metadata) -> (TokenStream, TokenStream) {
    let addr = quote!(::core::ptr::addr_of!(#symbol));
    if metadata == Metadata::Descriptor {
        return (
            TokenStream::new(),
            quote!(rivet::Component::from_descriptor(#addr)),
        );
    }
    let unit = format!("/rivet/{component}.rs");
    let unit_mod = quote! {
        /// The component's metadata and the runtime parts it uses as
        /// statics, which rivet_build writes beside the plan.
        #[allow(unused_imports, clippy::all)]
        mod rivet_unit {
            include!(concat!(env!("OUT_DIR"), #unit));
        }
    };
    let load = quote! {
        rivet::__private::component_from_static(#addr, &rivet_unit::UNIT, &rivet_unit::PARTS)
    };
    (unit_mod, load)
}

/// The view type of one exported interface: it borrows the instance, so
/// that `hello.api().check(&mut store, …)` reads like the WIT.
fn view_struct(name: &Ident, g: &ExportGroup, types: &Types) -> TokenStream {
    let view = &g.view;
    let doc = types.doc(
        g.iface,
        &format!(
            "The functions of the exported interface `{}`, from [`{name}::{}`].",
            g.iface, g.accessor
        ),
    );
    quote! {
        #doc
        #[derive(Clone, Copy)]
        pub struct #view<'a> {
            instance: &'a rivet::ComponentInstance,
        }
    }
}

/// The accessor of one exported interface's view, and the view's methods.
fn view_impl(name: &Ident, g: &ExportGroup, types: &Types) -> Result<TokenStream, String> {
    let (view, accessor) = (&g.view, &g.accessor);
    let methods = g
        .funcs
        .iter()
        .map(|f| export_method(f, types))
        .collect::<Result<Vec<_>, _>>()?;
    let doc = types.doc(
        g.iface,
        &format!("The functions of the exported interface `{}`.", g.iface),
    );
    Ok(quote! {
        impl #name {
            #doc
            pub fn #accessor(&self) -> #view<'_> {
                #view { instance: &self.instance }
            }
        }
        impl #view<'_> {
            #(#methods)*
        }
    })
}

/// For an export that is a constructor, method or static function of a
/// resource the component defines (`[method]counter.get`), the same call as a
/// function of the resource's handle type: `HelloCounter::new(&hello, &mut
/// store, …)`, `counter.get(&hello, &mut store, …)`; `group` is the exported
/// interface the export belongs to, if any.
fn handle_method(
    name: &Ident,
    f: &Func,
    group: Option<&ExportGroup>,
    plan: &Plan,
    types: &Types,
) -> Result<Option<TokenStream>, String> {
    let (iface, last) = match f.name.rsplit_once('#') {
        Some((i, l)) => (Some(i), l),
        None => (None, f.name),
    };
    let (kind, rest) = match last.split_once(']') {
        Some((k, r)) => (k.trim_start_matches('['), r),
        None => return Ok(None),
    };
    let (resource, func) = rest.split_once('.').unwrap_or((rest, "new"));
    let full = iface.map_or(resource.to_string(), |i| format!("{i}#{resource}"));
    let Some(r) = plan
        .resources
        .iter()
        .position(|d| !d.imported && d.name == full)
    else {
        return Ok(None);
    };
    let handle = &types.handles()[r];
    let m = &f.method;
    let ps = params(f);
    let ts = param_types(f, |t| types.param(t))?;
    let out = result_type(f, types)?;
    let (call, target) = match group {
        Some(g) => {
            let (a, view) = (&g.accessor, &g.view);
            (quote!(component.#a().#m), format!("{view}::{m}"))
        }
        None => (quote!(component.#m), format!("{name}::{m}")),
    };
    let doc = types.doc(
        f.name,
        &format!("Calls the export `{}` (as [`{target}`]).", f.name),
    );
    let func = ident(&snake(func));
    let body = match kind {
        "method" if !ps.is_empty() => {
            let (first, rest) = (&ps[0], &ps[1..]);
            let rest_ts = &ts[1..];
            quote! {
                #doc
                pub fn #func(&self, component: &#name, store: &mut rivet::Store, #(#rest: #rest_ts),*) -> Result<#out, Trap> {
                    let #first = *self;
                    #call(store, #first, #(#rest),*)
                }
            }
        }
        "constructor" | "static" => quote! {
            #doc
            pub fn #func(component: &#name, store: &mut rivet::Store, #(#ps: #ts),*) -> Result<#out, Trap> {
                #call(store, #(#ps),*)
            }
        },
        _ => return Ok(None),
    };
    Ok(Some(quote!(impl #handle { #body })))
}

fn func_type(plan: &Plan, ty: u32) -> Result<&ComponentFuncType, String> {
    plan.func_types
        .get(ty as usize)
        .ok_or_else(|| format!("corrupt plan: function type {ty} out of range"))
}

/// The component's exports: top-level functions, methods of the struct, and
/// the functions of each exported interface, grouped as in the WIT.
struct Exports<'p> {
    top: Vec<Func<'p>>,
    groups: Vec<ExportGroup<'p>>,
}

impl Exports<'_> {
    fn all(&self) -> impl Iterator<Item = &Func<'_>> {
        self.top
            .iter()
            .chain(self.groups.iter().flat_map(|g| &g.funcs))
    }
}

/// One exported interface: the struct's accessor `accessor` returns the view
/// type `view`, with one method per function.
struct ExportGroup<'p> {
    /// The interface's export name (`my:pkg/api`).
    iface: &'p str,
    accessor: Ident,
    view: Ident,
    funcs: Vec<Func<'p>>,
}

/// The exports, in first-export order; an interface's accessor is named
/// after its last path segment (the whole path when two share one) and its
/// view `<Struct><Interface>Exports`, as the host traits are named.
/// A WASI command's `run` export is left out: it is the struct's `run`.
fn exports<'p>(name: &Ident, plan: &'p Plan, wasi: Option<&Wasi>) -> Result<Exports<'p>, String> {
    let bound = |n: &str| !wasi.is_some_and(|w| w.is_run_export(n));
    let mut ifaces: Vec<&str> = Vec::new();
    for e in plan.exports.iter().filter(|e| bound(&e.name)) {
        match iface_of(&e.name) {
            Some(i) if !ifaces.contains(&i) => ifaces.push(i),
            _ => {}
        }
    }
    let extra = wasi.map_or(&[][..], Wasi::reserved);
    let reserved: Vec<&str> = RESERVED.iter().chain(extra).copied().collect();
    let top = export_funcs(plan, None, &reserved)?;
    let mut taken: Vec<String> = reserved.iter().map(|r| r.to_string()).collect();
    taken.extend(top.iter().map(|f| f.method.to_string()));
    let accessors = interface_names(&ifaces, snake);
    let views = interface_names(&ifaces, camel);
    let mut groups = Vec::new();
    for ((iface, accessor), view) in ifaces.into_iter().zip(accessors).zip(views) {
        let accessor = if taken.contains(&accessor) {
            format!("{accessor}_")
        } else {
            accessor
        };
        if taken.contains(&accessor) {
            return Err(format!(
                "the exported interface `{iface}` maps to the Rust name `{accessor}`, which is taken"
            ));
        }
        taken.push(accessor.clone());
        groups.push(ExportGroup {
            iface,
            accessor: ident(&accessor),
            view: format_ident!("{name}{view}Exports"),
            funcs: export_funcs(plan, Some(iface), &[])?,
        });
    }
    Ok(Exports { top, groups })
}

/// The exported functions of interface `iface` (the top-level ones for
/// `None`), as methods named after the function alone.
fn export_funcs<'p>(
    plan: &'p Plan,
    iface: Option<&str>,
    reserved: &[&str],
) -> Result<Vec<Func<'p>>, String> {
    let exports: Vec<_> = plan
        .exports
        .iter()
        .filter(|e| iface_of(&e.name) == iface)
        .collect();
    let names: Vec<&str> = exports
        .iter()
        .map(|e| e.name.rsplit('#').next().unwrap_or(&e.name))
        .collect();
    let methods = method_names(&names, reserved)
        .map_err(|e| format!("{e} (in `{}`)", iface.unwrap_or("the top-level exports")))?;
    exports
        .into_iter()
        .zip(methods)
        .map(|(e, m)| {
            let lift = plan
                .lifts
                .get(e.lift as usize)
                .ok_or_else(|| format!("corrupt plan: lift {} out of range", e.lift))?;
            Ok(Func {
                name: &e.name,
                method: ident(&m),
                ty: func_type(plan, lift.ty)?,
            })
        })
        .collect()
}

/// The host's side of one imported interface (or of the world's own function
/// imports): a trait with one method per function and a destructor per
/// resource type the interface defines.
struct HostTrait<'p> {
    name: Ident,
    /// The interface's import name; `None` for top-level imports.
    iface: Option<&'p str>,
    funcs: Vec<Func<'p>>,
    /// Plan indices of the imported resources, with their destructor methods.
    resources: Vec<(u32, Ident)>,
}

/// Interface part of an import name (`iface` of `iface#f`).
fn iface_of(name: &str) -> Option<&str> {
    name.rsplit_once('#').map(|(i, _)| i)
}

/// The names of the imported functions, then of the imported resources.
pub fn imported_names(plan: &Plan) -> impl Iterator<Item = &str> {
    let resources = plan.resources.iter().filter(|r| r.imported);
    (plan.imports.iter().map(|i| i.name.as_ref())).chain(resources.map(|r| r.name.as_ref()))
}

/// One trait per imported interface, in first-import order; named
/// `<Struct><Interface>Host` after the interface's last path segment (the whole
/// path when two share one), `<Struct>WorldHost` for top-level imports.
fn host_traits<'p>(name: &Ident, plan: &'p Plan) -> Result<Vec<HostTrait<'p>>, String> {
    let mut ifaces: Vec<Option<&str>> = Vec::new();
    for i in imported_names(plan).filter(|n| !is_wasi(n)).map(iface_of) {
        if !ifaces.contains(&i) {
            ifaces.push(i);
        }
    }
    // Top-level imports are the world's: `World`, unless an interface is
    // named that too, which then gets its whole path.
    let keys: Vec<&str> = ifaces.iter().map(|i| i.unwrap_or("world")).collect();
    let bases = interface_names(&keys, camel);
    let mut traits = Vec::new();
    for (iface, base) in ifaces.iter().zip(&bases) {
        traits.push(host_trait(format_ident!("{name}{base}Host"), *iface, plan)?);
    }
    Ok(traits)
}

fn host_trait<'p>(
    name: Ident,
    iface: Option<&'p str>,
    plan: &'p Plan,
) -> Result<HostTrait<'p>, String> {
    let mut seen = std::collections::HashSet::new();
    let mut method = |n: String, full: &str| {
        if seen.insert(n.clone()) {
            Ok(ident(&n))
        } else {
            Err(format!(
                "imports of `{full}` map to the same Rust name `{n}`"
            ))
        }
    };
    let mut funcs = Vec::new();
    for i in plan.imports.iter().filter(|i| iface_of(&i.name) == iface) {
        let f = i.name.rsplit('#').next().unwrap_or(&i.name);
        funcs.push(Func {
            name: &i.name,
            method: method(func_part(f), &i.name)?,
            ty: func_type(plan, i.ty)?,
        });
    }
    let mut resources = Vec::new();
    for (r, def) in plan.resources.iter().enumerate() {
        if def.imported && iface_of(&def.name) == iface {
            let short = def.name.rsplit('#').next().unwrap_or(&def.name);
            let m = method(format!("{}_drop", snake(short)), &def.name)?;
            resources.push((r as u32, m));
        }
    }
    Ok(HostTrait {
        name,
        iface,
        funcs,
        resources,
    })
}

fn params(f: &Func) -> Vec<Ident> {
    f.ty.params.iter().map(|(n, _)| ident(&snake(n))).collect()
}

/// The Rust type of each parameter, by `map` (owned types for host traits,
/// borrowing ones for export arguments).
fn param_types(
    f: &Func,
    map: impl Fn(u32) -> Result<TokenStream, String>,
) -> Result<Vec<TokenStream>, String> {
    f.ty.params.iter().map(|(_, t)| map(*t)).collect()
}

fn result_type(f: &Func, types: &Types) -> Result<TokenStream, String> {
    match f.ty.result {
        Some(t) => types.rust(t),
        None => Ok(quote!(())),
    }
}

fn signature_doc(f: &Func, types: &Types) -> Result<String, String> {
    let ps =
        f.ty.params
            .iter()
            .map(|(n, t)| Ok(format!("{n}: {}", types.describe(*t, 0)?)))
            .collect::<Result<Vec<_>, String>>()?;
    let r = match f.ty.result {
        Some(t) => format!(" -> {}", types.describe(t, 0)?),
        None => String::new(),
    };
    Ok(format!("`{}: func({}){r}`", f.name, ps.join(", ")))
}

/// The host traits, and `pub trait <Name>Imports` that combines them (every
/// type implementing them all implements it).
fn imports_trait(name: &Ident, hosts: &[HostTrait], types: &Types) -> Result<TokenStream, String> {
    let traits = hosts
        .iter()
        .map(|h| host_trait_def(h, types))
        .collect::<Result<Vec<_>, String>>()?;
    let supers: Vec<&Ident> = hosts.iter().map(|h| &h.name).collect();
    let doc = format!(
        "The host's implementation of every import of the component: implement {} \
         on one type and pass it to `instantiate`.",
        if supers.is_empty() {
            "nothing (there are no imports; pass `()`)".to_string()
        } else {
            supers
                .iter()
                .map(|s| format!("[`{s}`]"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    Ok(quote! {
        #(#traits)*
        #[doc = #doc]
        pub trait #name: #(#supers +)* 'static {}
        impl<T: #(#supers +)* 'static> #name for T {}
    })
}

/// One host trait: a method per imported function (resource functions as
/// `<resource>_new`, `<resource>_<method>` taking the handle first) and a
/// `<resource>_drop` destructor per host-defined resource.
fn host_trait_def(h: &HostTrait, types: &Types) -> Result<TokenStream, String> {
    let name = &h.name;
    let mut methods = Vec::new();
    for f in &h.funcs {
        let m = &f.method;
        let ps = params(f);
        let ts = param_types(f, |t| types.rust(t))?;
        let r = result_type(f, types)?;
        let doc = types.doc(f.name, &format!("The import {}.", signature_doc(f, types)?));
        methods.push(quote! {
            #doc
            fn #m(&mut self, #(#ps: #ts),*) -> Result<#r, rivet::Trap>;
        });
    }
    for (r, m) in &h.resources {
        let handle = &types.handles()[*r as usize];
        let doc = format!(
            "Destructor of the host-defined resource `{}`: the guest dropped its last \
             owned handle (or the host called `resource_drop`).",
            types.plan().resources[*r as usize].name
        );
        methods.push(quote! {
            #[doc = #doc]
            fn #m(&mut self, handle: #handle) -> Result<(), rivet::Trap>;
        });
    }
    let doc = match h.iface {
        Some(i) => types.doc(
            i,
            &format!("The host's implementation of the imported interface `{i}`."),
        ),
        None => {
            let doc = "The host's implementation of the component's top-level function imports.";
            quote!(#[doc = #doc])
        }
    };
    // An import's type fixes its method's arity, which the host cannot change.
    Ok(quote! {
        #[allow(clippy::too_many_arguments)]
        #doc
        pub trait #name {
            #(#methods)*
        }
    })
}

/// Registers one host trait with the dynamic API: for each function, a
/// closure that lifts the arguments, calls the trait method and lowers its
/// result; for each resource, its destructor.
fn register_host(h: &HostTrait, types: &Types) -> Result<TokenStream, String> {
    let t = &h.name;
    let mut out = TokenStream::new();
    for f in &h.funcs {
        let name = f.name;
        let m = &f.method;
        let ps = params(f);
        let ts = param_types(f, |t| types.rust(t))?;
        let what = ps.iter().map(|p| format!("argument `{p}` of `{name}`"));
        let ret = match f.ty.result {
            Some(_) => quote!(Ok(Some(Lower::lower(&r)))),
            None => quote!({
                let () = r;
                Ok(None)
            }),
        };
        out.extend(quote! {
            {
                let host = host.clone();
                funcs.func(#name, move |args: &[Value]| -> Result<Option<Value>, Trap> {
                    let mut args = args.iter().cloned();
                    #(let #ps: #ts = Lift::lift(next(&mut args, #what)?)?;)*
                    let r = #t::#m(&mut *rivet::__private::lock_host(&host)?, #(#ps),*)?;
                    #ret
                });
            }
        });
    }
    for (r, m) in &h.resources {
        let name = &types.plan().resources[*r as usize].name;
        let handle = &types.handles()[*r as usize];
        out.extend(quote! {
            {
                let host = host.clone();
                funcs.resource(#name, move |rep: u32| -> Result<(), Trap> {
                    #t::#m(&mut *rivet::__private::lock_host(&host)?, #handle::new(rep))
                });
            }
        });
    }
    Ok(out)
}

/// One export method: calls the export by its number through the typed path
/// (`rivet::__private::call_binding`, the typed call without the checks the
/// plan settles here): numbers, `bool`, `char` and strings are lowered and
/// lifted directly, other types through `Value`.
fn export_method(f: &Func, types: &Types) -> Result<TokenStream, String> {
    let m = &f.method;
    let ps = params(f);
    let ts = param_types(f, |t| types.param(t))?;
    let r = result_type(f, types)?;
    let index = export_index(f, types)?;
    let args = typed_args(f, &ps, types)?;
    let call = quote!(rivet::__private::call_binding(&self.instance, store, #index, #args));
    let body = match f.ty.result {
        Some(t) if !lifts_directly(types, t)? => quote! {
            let result: Value = #call?;
            Lift::lift(result)
        },
        _ => call,
    };
    let doc = types.doc(
        f.name,
        &format!("Calls the export {}.", signature_doc(f, types)?),
    );
    Ok(quote! {
        #doc
        pub fn #m(&self, store: &mut rivet::Store, #(#ps: #ts),*) -> Result<#r, Trap> {
            #body
        }
    })
}

/// The export's place in the plan: the number `call_binding` takes.
fn export_index(f: &Func, types: &Types) -> Result<u32, String> {
    let exports = &types.plan().exports;
    exports
        .iter()
        .position(|e| e.name == f.name)
        .map(|i| i as u32)
        .ok_or_else(|| format!("corrupt plan: no export `{}`", f.name))
}

/// Whether values of component type `t` have a Rust type the runtime lowers
/// and lifts without `Value` (the runtime's `LowerArg` and `LiftResult`).
fn lifts_directly(types: &Types, t: u32) -> Result<bool, String> {
    use rivet_descriptor::component::ValueType as V;
    let ty = types.value_type(t)?;
    Ok(crate::types::is_key(ty) || matches!(ty, V::F32 | V::F64))
}

/// Argument `p` of component type `t` as the typed call takes it.
fn typed_arg(types: &Types, t: u32, p: &Ident) -> Result<TokenStream, String> {
    Ok(if lifts_directly(types, t)? {
        quote!(#p)
    } else {
        quote!(Lower::lower(&#p))
    })
}

/// The arguments of an export call: a tuple, whose lowering is compiled for
/// its types, up to the 12 elements the runtime takes as a tuple; a slice of
/// `&dyn LowerArg` beyond.
fn typed_args(f: &Func, ps: &[Ident], types: &Types) -> Result<TokenStream, String> {
    let args = f.ty.params.iter().zip(ps);
    let args = args
        .map(|((_, t), p)| typed_arg(types, *t, p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if args.len() <= 12 {
        quote!((#(#args,)*))
    } else {
        quote!(&[#(&#args as &dyn rivet::__private::LowerArg),*][..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivet_descriptor::component::{
        ComponentExport, ComponentImport, CoreDef, Lift, ResourceDef, ValueType as V,
    };

    /// A plan using every kind of type, with one import and three exports.
    fn plan() -> Plan {
        let types = vec![
            V::String,                                                                    // 0
            V::U32,                                                                       // 1
            V::Record(vec![("first-name".into(), 0), ("age".into(), 1)].into()),          // 2
            V::List(2),                                                                   // 3
            V::Variant(vec![("none".into(), None), ("some-num".into(), Some(1))].into()), // 4
            V::Enum(vec!["red".into(), "dark-blue".into()].into()),                       // 5
            V::Flags(vec!["read".into(), "write".into()].into()),                         // 6
            V::Option(0),                                                                 // 7
            V::Result {
                ok: None,
                err: Some(0),
            }, // 8
            V::Tuple(vec![1, 5, 6].into()),                                               // 9
            V::Own(0),                                                                    // 10
            V::Borrow(0),                                                                 // 11
            V::Record(vec![("first-name".into(), 0), ("age".into(), 1)].into()), // 12: same as 2
            V::Own(1),                                                           // 13
        ];
        let func_types = vec![
            ComponentFuncType {
                params: vec![("who".into(), 0)].into(),
                result: Some(0),
            },
            ComponentFuncType {
                params: vec![("people".into(), 3), ("pick".into(), 4), ("t".into(), 9)].into(),
                result: Some(8),
            },
            ComponentFuncType {
                params: vec![("c".into(), 11)].into(),
                result: Some(7),
            },
            ComponentFuncType {
                params: vec![("p".into(), 12)].into(),
                result: Some(10),
            },
            ComponentFuncType {
                params: vec![].into(),
                result: Some(13),
            },
        ];
        let lift = |ty| Lift {
            func: CoreDef::Export {
                instance: 0,
                name: "f".into(),
            },
            ty,
            options: Default::default(),
            instance: 0,
            layout: Default::default(),
        };
        Plan {
            types: types.into(),
            func_types: func_types.into(),
            resources: vec![
                ResourceDef {
                    instance: 0,
                    dtor: None,
                    name: "my:pkg/api#counter".into(),
                    imported: false,
                },
                ResourceDef {
                    instance: 0,
                    dtor: None,
                    name: "my:host/kv#store".into(),
                    imported: true,
                },
            ]
            .into(),
            imports: vec![
                ComponentImport {
                    name: "my:host/log#emit".into(),
                    ty: 0,
                },
                ComponentImport {
                    name: "my:host/kv#[constructor]store".into(),
                    ty: 4,
                },
            ]
            .into(),
            lifts: vec![lift(0), lift(1), lift(2), lift(3)].into(),
            exports: [
                "greet",
                "my:pkg/api#check",
                "my:pkg/api#[method]counter.get",
                "make",
            ]
            .iter()
            .enumerate()
            .map(|(i, n)| ComponentExport {
                name: n.to_string().into(),
                lift: i as u32,
            })
            .collect(),
            ..Plan::default()
        }
    }

    fn generated(plan: &Plan) -> String {
        let name = Ident::new("Hello", Span::call_site());
        let code = generate(&name, "hello", plan, Metadata::Static).unwrap();
        code.to_string()
    }

    #[test]
    fn generates_bindings_with_documented_names() {
        let code = generated(&plan());
        for want in [
            "pub struct Hello",
            "pub trait HelloImports",
            "pub trait HelloLogHost { # [doc = \"The import `my:host/log#emit: func(who: string) -> string`.\"] fn emit (& mut self , who : rivet :: __private :: String)",
            "pub trait HelloImports : HelloLogHost + HelloKvHost + 'static { }",
            "fn store_drop (& mut self , handle : HelloStore)",
            "fn store_new (& mut self ,) -> Result < HelloStore , rivet :: Trap >",
            "pub struct HelloStore { rep : u32 , }",
            "impl HelloCounter { # [doc = \"Calls the export `my:pkg/api#[method]counter.get` (as [`HelloApiExports::counter_get`]).\"] pub fn get (& self , component : & Hello , store : & mut rivet :: Store ,) -> Result < :: core :: option :: Option < rivet :: __private :: String > , Trap > { let c = * self ; component . api () . counter_get (store , c ,) } }",
            "funcs . resource (\"my:host/kv#store\"",
            "pub fn greet (& self , store : & mut rivet :: Store , who : & str)",
            "pub struct HelloApiExports < 'a > { instance : & 'a rivet :: ComponentInstance , }",
            "pub fn api (& self) -> HelloApiExports < '_ > { HelloApiExports { instance : & self . instance } }",
            "impl HelloApiExports < '_ > {",
            "pub fn check (& self , store : & mut rivet :: Store , people : & [HelloRecord0]",
            "people : & [HelloRecord0]",
            "pick : HelloVariant0",
            "t : (u32 , HelloEnum0 , HelloFlags0 ,)",
            ":: core :: result :: Result < () , rivet :: __private :: String >",
            "pub fn counter_get (& self , store : & mut rivet :: Store , c : HelloCounter)",
            "pub struct HelloRecord0 { pub first_name : rivet :: __private :: String , pub age : u32 , }",
            "pub enum HelloVariant0 { None , SomeNum (u32) , }",
            "pub enum HelloEnum0 { Red , DarkBlue , }",
            "pub struct HelloFlags0 { pub read : bool , pub write : bool , }",
            "pub struct HelloCounter (rivet :: ResourceAny)",
            "static rivet_component_hello : rivet :: RawDescriptor",
            "\"my:host/log#emit\"",
        ] {
            assert!(code.contains(want), "missing `{want}` in:\n{code}");
        }
        // Structurally equal records share one type.
        assert!(!code.contains("HelloRecord1"), "{code}");
        assert!(code.contains("pub fn make (& self , store : & mut rivet :: Store , p : HelloRecord0) -> Result < HelloCounter"));
    }

    /// A host trait's methods take as many parameters as the imports have:
    /// a host crate denying clippy's warnings must still build.
    #[test]
    fn host_traits_allow_many_arguments() {
        let code = generated(&plan());
        let want = "# [allow (clippy :: too_many_arguments)] # [doc = \"The host's implementation \
                    of the imported interface `my:host/log`.\"] pub trait HelloLogHost";
        assert!(code.contains(want), "{code}");
    }

    #[test]
    fn no_imports_means_every_type_implements_the_trait() {
        let mut p = plan();
        p.imports.to_mut().clear();
        p.resources.to_mut().truncate(1);
        let code = generated(&p);
        assert!(
            code.contains("pub trait HelloImports : 'static { }"),
            "{code}"
        );
        assert!(
            code.contains("impl < T : 'static > HelloImports for T { }"),
            "{code}"
        );
    }

    #[test]
    fn types_the_component_names_keep_their_wit_names() {
        let mut p = plan();
        // Type 12 is structurally type 2: the name reaches the shared type.
        p.type_names = vec![(12, "my:pkg/api#person".into()), (5, "color".into())].into();
        let code = generated(&p);
        assert!(
            code.contains("pub struct HelloPerson { pub first_name"),
            "{code}"
        );
        assert!(
            code.contains("pub enum HelloColor { Red , DarkBlue , }"),
            "{code}"
        );
        assert!(!code.contains("HelloRecord0"), "{code}");
        // A WIT name that would clash with a handle type falls back to a number.
        p.type_names = vec![(6, "counter".into())].into();
        assert!(generated(&p).contains("pub struct HelloFlags0"));
    }

    #[test]
    fn interfaces_sharing_a_last_segment_get_full_trait_names() {
        let mut p = plan();
        p.imports.to_mut().push(ComponentImport {
            name: "other:pkg/log#emit".into(),
            ty: 0,
        });
        let code = generated(&p);
        assert!(code.contains("pub trait HelloMyHostLogHost"), "{code}");
        assert!(code.contains("pub trait HelloOtherPkgLogHost"), "{code}");
    }

    #[test]
    fn exported_interfaces_get_accessors_named_like_host_traits() {
        let mut p = plan();
        let export = |name: &'static str| ComponentExport {
            name: name.into(),
            lift: 0,
        };
        // Two interfaces ending in `api`, and a top-level function `other`
        // that the second one's short name would take.
        p.exports.to_mut().push(export("other:pkg/api#greet"));
        p.exports.to_mut().push(export("x:y/other#greet"));
        p.exports.to_mut().push(export("other"));
        let code = generated(&p);
        for want in [
            "pub fn my_pkg_api (& self) -> HelloMyPkgApiExports < '_ >",
            "pub fn other_pkg_api (& self) -> HelloOtherPkgApiExports < '_ >",
            "pub fn other_ (& self) -> HelloOtherExports < '_ >",
            "pub fn other (& self , store : & mut rivet :: Store , who : & str)",
            "component . my_pkg_api () . counter_get (store , c ,)",
        ] {
            assert!(code.contains(want), "missing `{want}` in:\n{code}");
        }
        assert!(!code.contains("pub fn api ("), "{code}");
    }

    #[test]
    fn wit_docs_come_first_and_the_signature_second() {
        let mut p = plan();
        p.type_names = vec![(2, "my:pkg/api#person".into())].into();
        p.docs = [
            ("greet", "Greets someone."),
            ("my:pkg/api", "The API."),
            ("my:pkg/api#person", "A person."),
            ("my:pkg/api#counter", "Counts."),
            ("my:pkg/api#[method]counter.get", "The count."),
            ("my:host/log#emit", "Emits a line."),
            ("my:host/log", "Logging."),
        ]
        .iter()
        .map(|&(n, d)| (n.into(), d.into()))
        .collect();
        let code = generated(&p);
        for want in [
            "# [doc = \"Greets someone.\"] # [doc = \"\"] # [doc = \"Calls the export `greet: func(who: string) -> string`.\"] pub fn greet",
            "# [doc = \"The API.\"] # [doc = \"\"] # [doc = \"The functions of the exported interface `my:pkg/api`, from [`Hello::api`].\"] # [derive (Clone , Copy)] pub struct HelloApiExports",
            "# [doc = \"The API.\"] # [doc = \"\"] # [doc = \"The functions of the exported interface `my:pkg/api`.\"] pub fn api",
            "# [doc = \"A person.\"] # [doc = \"\"] # [doc = \"The component type `record { first-name: string, age: u32 }`.\"] # [derive (Clone , Debug , PartialEq)] pub struct HelloPerson",
            "# [doc = \"Counts.\"] # [doc = \"\"] # [doc = \"A handle to a `my:pkg/api#counter` resource of the component.\"]",
            "# [doc = \"The count.\"] # [doc = \"\"] # [doc = \"Calls the export `my:pkg/api#[method]counter.get` (as [`HelloApiExports::counter_get`]).\"] pub fn get",
            "# [doc = \"Emits a line.\"] # [doc = \"\"] # [doc = \"The import `my:host/log#emit: func(who: string) -> string`.\"] fn emit",
            "# [doc = \"Logging.\"] # [doc = \"\"] # [doc = \"The host's implementation of the imported interface `my:host/log`.\"] pub trait HelloLogHost",
        ] {
            assert!(code.contains(want), "missing `{want}` in:\n{code}");
        }
        // Items without WIT docs keep only the signature.
        assert!(code.contains("# [doc = \"Calls the export `make: func(p: record { first-name: string, age: u32 }) -> own<my:pkg/api#counter>`.\"] pub fn make"), "{code}");
    }

    /// `plan()` with WASI 0.2 imports (a function returning an imported
    /// WASI resource), the command export `wasi:cli/run` and a top-level
    /// export named `run`.
    fn wasi_plan() -> Plan {
        let mut p = plan();
        let types = p.types.to_mut();
        types.push(V::Own(2)); // 14
        types.push(V::Result {
            ok: None,
            err: None,
        }); // 15
        let funcs = p.func_types.to_mut();
        funcs.push(ComponentFuncType {
            params: vec![].into(),
            result: Some(14),
        }); // 5
        funcs.push(ComponentFuncType {
            params: vec![].into(),
            result: Some(15),
        }); // 6
        p.resources.to_mut().push(ResourceDef {
            instance: 0,
            dtor: None,
            name: "wasi:io/streams@0.2.6#output-stream".into(),
            imported: true,
        });
        p.imports.to_mut().push(ComponentImport {
            name: "wasi:cli/stdout@0.2.6#get-stdout".into(),
            ty: 5,
        });
        let lift = p.lifts[0].clone();
        p.lifts.to_mut().push(Lift { ty: 6, ..lift });
        for name in ["wasi:cli/run@0.2.6#run", "run"] {
            p.exports.to_mut().push(ComponentExport {
                name: name.into(),
                lift: 4,
            });
        }
        p
    }

    #[test]
    fn wasi_imports_are_left_to_rivet_wasi_and_run_is_a_method() {
        let code = generated(&wasi_plan());
        for want in [
            "pub struct Hello { instance : rivet :: ComponentInstance , wasi : :: rivet_wasi :: Wasi , }",
            "imports : impl HelloImports + Send + 'static , wasi : :: rivet_wasi :: WasiCtx ,) -> Result < Self , rivet :: Error >",
            "let wasi = :: rivet_wasi :: add_to_imports (& mut funcs , & component , wasi) ? ;",
            "Ok (Self { instance , wasi })",
            "pub fn wasi (& self) -> & :: rivet_wasi :: Wasi { & self . wasi }",
            "pub fn run (& self , store : & mut rivet :: Store) -> Result < i32 , Trap > { self . wasi . run (store , & self . instance) }",
            // The component's own top-level `run` export steps aside.
            "pub fn run_ (& self , store : & mut rivet :: Store ,)",
            // The host still implements its own interfaces.
            "pub trait HelloImports : HelloLogHost + HelloKvHost + 'static { }",
        ] {
            assert!(code.contains(want), "missing `{want}` in:\n{code}");
        }
        for unwanted in [
            "HelloStdoutHost",
            "HelloOutputStream",
            "HelloRunExports",
            "get_stdout",
        ] {
            assert!(!code.contains(unwanted), "`{unwanted}` in:\n{code}");
        }
    }

    #[test]
    fn a_wasi_import_of_another_version_beside_wasi_0_2_is_an_error() {
        let name = Ident::new("Hello", Span::call_site());
        let mut p = wasi_plan();
        p.imports.to_mut().push(ComponentImport {
            name: "wasi:cli/stdout@0.3.0#get-stdout".into(),
            ty: 5,
        });
        let e = generate(&name, "hello", &p, Metadata::Static).unwrap_err();
        assert!(
            e.contains("`wasi:cli/stdout@0.3.0#get-stdout` is not WASI 0.2"),
            "{e}"
        );
        // Alone, it is an interface like any other: the host implements it.
        p.imports.to_mut().retain(|i| !i.name.contains("@0.2."));
        p.resources.to_mut()[2].name = "wasi:io/streams@0.3.0#output-stream".into();
        p.exports.to_mut().retain(|e| !e.name.starts_with("wasi:"));
        assert!(generated(&p).contains("pub trait HelloStdoutHost"));
    }

    #[test]
    fn corrupt_plans_are_errors_not_panics() {
        let name = Ident::new("Hello", Span::call_site());
        let mut p = plan();
        p.types.to_mut()[3] = V::List(99);
        let e = generate(&name, "hello", &p, Metadata::Static).unwrap_err();
        assert!(e.contains("type index 99"), "{e}");
        let mut p = plan();
        p.types.to_mut()[3] = V::List(3);
        let e = generate(&name, "hello", &p, Metadata::Static).unwrap_err();
        assert!(e.contains("nest too deeply"), "{e}");
        let mut p = plan();
        p.types.to_mut()[10] = V::Own(5);
        let e = generate(&name, "hello", &p, Metadata::Static).unwrap_err();
        assert!(e.contains("resource index 5"), "{e}");
        let mut p = plan();
        p.exports.to_mut()[0].lift = 40;
        assert!(generate(&name, "hello", &p, Metadata::Static)
            .unwrap_err()
            .contains("lift 40"));
        let mut p = plan();
        p.exports.to_mut()[1].name = "greet".into();
        assert!(generate(&name, "hello", &p, Metadata::Static)
            .unwrap_err()
            .contains("both map"));
    }

    #[test]
    fn large_metadata_is_decoded_from_the_descriptor_not_included() {
        let name = Ident::new("Hello", Span::call_site());
        let code = generate(&name, "hello", &plan(), Metadata::Descriptor).unwrap();
        let code = code.to_string();
        assert!(
            code.contains("rivet :: Component :: from_descriptor (:: core :: ptr :: addr_of ! (rivet_component_hello))"),
            "{code}"
        );
        assert!(!code.contains("rivet_unit"), "{code}");
        assert!(generated(&plan()).contains("mod rivet_unit"));
    }

    #[test]
    fn symbols_are_c_identifiers() {
        assert_eq!(symbol("hello"), "rivet_component_hello");
        assert_eq!(symbol("my-comp.v2"), "rivet_component_my_comp_v2");
    }
}
