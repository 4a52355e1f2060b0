//! `rivet::component!`: typed bindings for a component compiled by
//! `rivet_build::Config` in the crate's build script.
//!
//! `rivet::component!(Hello, "hello")` reads the plan build.rs recorded at
//! `$OUT_DIR/rivet/hello.plan` and generates:
//! * `pub struct Hello` with `Hello::instantiate(&mut store, imports)` and one
//!   method per top-level export (`greet(&self, &mut store, args…) ->
//!   Result<T, Trap>`), named in snake_case;
//! * per exported interface, an accessor on `Hello` returning a view that
//!   borrows the instance, `pub struct Hello<Interface>Exports<'a>`, with one
//!   method per function of the interface: `hello.api().greet(&mut store, …)`
//!   for `my:pkg/api#greet`. Accessor and view are named after the
//!   interface's last path segment, the whole path when two interfaces share
//!   one (as the host traits below are);
//! * one trait per imported interface, `pub trait Hello<Interface>Host`
//!   (after the interface's last path segment, e.g. `HelloStoreHost` for
//!   `example:kv/store`; the whole path when two interfaces share one), and
//!   `HelloWorldHost` for top-level function imports. Each has one method per
//!   function, named after the function (`[constructor]r` → `r_new`,
//!   `[method]r.f` and `[static]r.f` → `r_f`, the handle first), and a
//!   destructor `r_drop` per resource `r` the host defines;
//! * `pub trait HelloImports`, implemented by every type that implements all
//!   those traits (by `()` when there are none): what `instantiate` takes;
//! * Rust types for the component types the functions use (see below);
//! * the `extern` declaration of the descriptor symbol
//!   `rivet_component_hello`, loaded once per process: its metadata read in
//!   place from the static build.rs wrote (`$OUT_DIR/rivet/hello.rs`), or,
//!   when that static's source is over 4 MiB, decoded from the descriptor.
//!
//! WASI: a component importing WASI 0.2 (`wasi:*@0.2.x`) gets no host trait
//! for those imports; the `rivet-wasi` crate serves them, so the host crate
//! must depend on `rivet-wasi` (the generated code names `::rivet_wasi`;
//! without it rustc reports that it cannot find `rivet_wasi`).
//! `Hello::instantiate(&mut store, imports, ctx)` takes the
//! `rivet_wasi::WasiCtx` the guest's WASI imports see, `hello.wasi()` returns
//! the `rivet_wasi::Wasi` serving the instance (its `ctx()` is the context),
//! and a command, exporting `wasi:cli/run@0.2.x`, gets
//! `hello.run(&mut store) -> Result<i32, Trap>`, its exit status (0 for `ok`,
//! 1 for `err`, `n` for `exit-with-code(n)`, another trap as the `Err`)
//! instead of a view of that interface. A `wasi:` import of another version
//! beside WASI 0.2 ones is a compile error naming it.
//!
//! Every generated item's rustdoc gives its component-side signature; when the
//! component carries WIT docs (wit-component's `package-docs` section), they
//! come first, for functions, interfaces, named types and resources.
//!
//! Type mapping: `bool`, integers, floats and `char` map to their Rust
//! counterparts; `string` → `String` (`&str` as an export argument);
//! `list<T>` → `Vec<T>` (`&[T]` as an export argument); `map<K, V>` →
//! `BTreeMap<K, V>` (`&BTreeMap<K, V>` as an export argument; a distinct Rust
//! type, because a `Vec<(K, V)>` would be indistinguishable from
//! `list<tuple<K, V>>`; map keys are always ordered types, and when the guest
//! sends a key twice the last entry wins, as the spec allows bindings to do);
//! `option`, `result` and tuples → `Option`, `Result` (`()` for a missing
//! payload) and tuples.
//! Records, variants, enums and flags the component imports or exports as
//! named types (as wit-component writes them), also inside an imported or
//! exported interface, are named after them: `HelloPerson` for `person`. Others become `HelloRecord0`, `HelloVariant0`,
//! `HelloEnum0`, `HelloFlags0`, …, numbered per kind in the order first met
//! (exports, then imports, parameters before results). There is one Rust type
//! per distinct structure; each type's rustdoc shows its component shape.
//! Flags are structs of `bool` fields. Resources become `Hello<Resource>`
//! handle types, used for owned and borrowed handles alike: for a resource the
//! component defines, an opaque newtype over `rivet::ResourceAny` (drop it with
//! `Hello::resource_drop`), whose exported constructor, methods and static
//! functions are also functions of the handle type
//! (`HelloCounter::new(&hello, &mut store, …)`, `counter.get(&hello, &mut store, …)`);
//! for a resource the host defines, a `Copy` value carrying the host's `u32`
//! representation (`Hello<Resource>::new(rep)`, `.rep()`), typically an index
//! into the host's own table. The runtime checks the handle-table rules of
//! the Canonical ABI either way (a borrow lent to the guest must be dropped
//! before the call returns, an owned handle moves, …).

mod convert;
mod generate;
mod names;
mod types;
mod wasi;

use proc_macro::TokenStream;
use rivet_descriptor::component::Component as Plan;
use std::path::PathBuf;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

/// Generates typed bindings for a component compiled in build.rs:
/// `rivet::component!(StructName, "component-name")`. See the crate docs.
#[proc_macro]
pub fn component(input: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(input as Args);
    match expand(&args) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

struct Args {
    name: Ident,
    component: LitStr,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        if input.is_empty() {
            // syn would point at the whole call; the missing part follows the name.
            return Err(syn::Error::new(
                name.span(),
                "expected the component's build.rs name after the struct name: \
                 `rivet::component!(Name, \"component-name\")`",
            ));
        }
        input.parse::<Token![,]>()?;
        let component = input.parse()?;
        input.parse::<Option<Token![,]>>()?;
        Ok(Args { name, component })
    }
}

/// The largest metadata static (Rust source, `$OUT_DIR/rivet/NAME.rs`) the
/// bindings include; a larger unit's metadata is decoded from its descriptor
/// when first loaded. Compiling the 21.6 MB static of `guests/py-plugin.wasm`
/// (CPython, 13,000 functions) took rustc 61 s and 8.2 GB without
/// incremental compilation; decoding the same metadata takes the host
/// milliseconds.
const STATIC_METADATA_LIMIT: u64 = 4 << 20;

fn expand(args: &Args) -> syn::Result<proc_macro2::TokenStream> {
    let component = args.component.value();
    let fail = |msg: String| syn::Error::new_spanned(&args.component, msg);
    let hint = format!(
        "call `rivet_build::Config::new().component(\"{component}\", \"path/to/{component}.wasm\").compile()` in build.rs"
    );
    let out_dir = std::env::var("OUT_DIR").map_err(|_| {
        fail(format!(
            "OUT_DIR is not set: this crate needs a build script; {hint}"
        ))
    })?;
    let path: PathBuf = [out_dir.as_str(), "rivet", &format!("{component}.plan")]
        .iter()
        .collect();
    // The message names the plan relative to OUT_DIR: stable for the UI tests.
    let bytes = std::fs::read(&path).map_err(|e| {
        fail(format!(
            "no plan for component `{component}` (`$OUT_DIR/rivet/{component}.plan`: {e}); {hint}"
        ))
    })?;
    let plan: Plan = postcard::from_bytes(&bytes).map_err(|e| {
        fail(format!(
            "corrupt plan {}: {e}; rebuild with the same rivet-build version as rivet",
            path.display()
        ))
    })?;
    let unit = path.with_extension("rs");
    let Ok(unit) = std::fs::metadata(&unit) else {
        return Err(fail(format!(
            "no metadata for component `{component}` (`$OUT_DIR/rivet/{component}.rs`); \
             rebuild with the same rivet-build version as rivet"
        )));
    };
    let metadata = match unit.len() > STATIC_METADATA_LIMIT {
        true => generate::Metadata::Descriptor,
        false => generate::Metadata::Static,
    };
    let code = generate::generate(&args.name, &component, &plan, metadata)
        .map_err(|e| fail(format!("component `{component}`: {e}")))?;
    let path = path.display().to_string();
    Ok(quote::quote! {
        #code
        // Rebuilds the bindings when build.rs rewrites the plan.
        const _: &[u8] = include_bytes!(#path);
    })
}
