//! WASI in the bindings: a component's `wasi:*@0.2.x` imports are served by
//! the `rivet-wasi` crate, not by host traits the user writes. The generated
//! code names `::rivet_wasi` (the host adds it as a dependency); this crate
//! does not depend on it, so what WASI 0.2 is stays rivet-wasi's to say:
//! here only the import names are sorted.

use crate::generate::imported_names;
use proc_macro2::TokenStream;
use quote::quote;
use rivet_descriptor::component::Component as Plan;

/// Whether import (or resource) `name` belongs to a WASI 0.2 release
/// (`wasi:pkg/iface@0.2.N#…`, no pre-release): the imports rivet-wasi serves.
pub fn is_wasi(name: &str) -> bool {
    let iface = name.split('#').next().unwrap_or(name);
    let patch = iface
        .split_once('@')
        .and_then(|(_, v)| v.strip_prefix("0.2."));
    name.starts_with("wasi:")
        && patch.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// What the bindings of a component that imports WASI 0.2 add: the
/// `rivet_wasi::Wasi` serving the instance, and `run` for a command.
pub struct Wasi {
    /// The export name of `wasi:cli/run@0.2.x#run`, if the component has one.
    run: Option<String>,
}

impl Wasi {
    /// The WASI side of `plan`: `None` when it imports nothing of WASI 0.2.
    /// Another `wasi:` import beside WASI 0.2 (another version, or a
    /// pre-release) is an error, since rivet-wasi would refuse to serve it.
    pub fn of(plan: &Plan) -> Result<Option<Wasi>, String> {
        let names: Vec<&str> = imported_names(plan).collect();
        if !names.iter().any(|n| is_wasi(n)) {
            return Ok(None);
        }
        if let Some(other) = names.iter().find(|n| n.starts_with("wasi:") && !is_wasi(n)) {
            return Err(format!(
                "the WASI import `{other}` is not WASI 0.2: rivet-wasi serves WASI 0.2 \
                 (`@0.2.x`), which this component imports too, and refuses other versions"
            ));
        }
        let run = plan
            .exports
            .iter()
            .map(|e| e.name.as_ref())
            .find(|n| is_run(n));
        Ok(Some(Wasi {
            run: run.map(str::to_string),
        }))
    }

    /// Names the struct's own methods take beside `instantiate` & co.
    pub fn reserved(&self) -> &'static [&'static str] {
        match self.run {
            Some(_) => &["wasi", "run"],
            None => &["wasi"],
        }
    }

    /// Whether export `name` is the command's `run`, which becomes a method
    /// of the struct rather than an interface view.
    pub fn is_run_export(&self, name: &str) -> bool {
        self.run.as_deref() == Some(name)
    }

    /// The struct's field holding the WASI host.
    pub fn field(&self) -> TokenStream {
        quote!(wasi: ::rivet_wasi::Wasi,)
    }

    /// `instantiate`'s parameter: the context the guest's WASI imports see.
    pub fn param(&self) -> TokenStream {
        quote!(wasi: ::rivet_wasi::WasiCtx,)
    }

    /// The end of `instantiate`: rivet-wasi registers the WASI imports
    /// beside the host's, then the component is instantiated.
    pub fn instantiate(&self) -> TokenStream {
        quote! {
            let component = Self::component()?;
            let wasi = ::rivet_wasi::add_to_imports(&mut funcs, &component, wasi)?;
            let instance = store.instantiate_component(&component, &funcs)?;
            Ok(Self { instance, wasi })
        }
    }

    /// The doc lines `instantiate` gains.
    pub fn doc(&self) -> TokenStream {
        let doc = " `wasi` is the context the component's WASI imports are served from \
                   (`rivet_wasi::WasiCtx::builder()`: arguments, environment, stdio, \
                   directories); the host reads it back through `wasi()`.";
        quote!(#[doc = ""] #[doc = #doc])
    }

    /// The accessor of the WASI host, and `run` for a command.
    pub fn methods(&self) -> TokenStream {
        let run = self.run.as_ref().map(|name| {
            let doc = format!(
                "Calls the command export `{name}` and returns the guest's exit status: \
                 0 when it returns `ok` (or calls `exit(ok)`), 1 for `err`, `n` when it calls \
                 `exit-with-code(n)`; any other trap is the `Err`."
            );
            quote! {
                #[doc = #doc]
                pub fn run(&self, store: &mut rivet::Store) -> Result<i32, Trap> {
                    self.wasi.run(store, &self.instance)
                }
            }
        });
        quote! {
            /// The WASI host serving this instance: `wasi().ctx()` is the
            /// context given to `instantiate`, with what the guest left in it.
            pub fn wasi(&self) -> &::rivet_wasi::Wasi {
                &self.wasi
            }
            #run
        }
    }
}

/// Whether export `name` is `run` of `wasi:cli/run@0.2.x`.
fn is_run(name: &str) -> bool {
    name.starts_with("wasi:cli/run@") && name.ends_with("#run") && is_wasi(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasi_0_2_imports_are_recognised_by_name_and_version() {
        for yes in [
            "wasi:cli/stdout@0.2.6#get-stdout",
            "wasi:io/streams@0.2.0#[method]output-stream.write",
            "wasi:io/error@0.2.12#error",
        ] {
            assert!(is_wasi(yes), "{yes}");
        }
        for no in [
            "wasi:cli/stdout@0.3.0#get-stdout",
            "wasi:keyvalue/store@0.2.0-draft#get",
            "wasi:cli/stdout@0.2.#get-stdout",
            "wasi:cli/stdout#get-stdout",
            "my:wasi/thing@0.2.0#f",
            "log",
        ] {
            assert!(!is_wasi(no), "{no}");
        }
        assert!(is_run("wasi:cli/run@0.2.6#run"));
        assert!(!is_run("wasi:cli/run@0.3.0#run"));
    }
}
