//! The bindings of the `wasi-plugin` example: two components implementing the
//! world `rivet:plugin/plugin` (`guests/wasi-plugin/wit/plugin.wit`), one built
//! from Rust and one made by componentize-py (CPython inside). Both export
//! `rivet:plugin/handler` and import only WASI, which `rivet-wasi` serves: the
//! host writes no WASI code, it hands each instance a `rivet_wasi::WasiCtx`.

use rivet::{Store, Trap};
use rivet_wasi::WasiCtx;

// `Plugin::instantiate(&mut store, (), ctx)`, `plugin.handler().handle(…)`
// and `plugin.wasi()`. The only imports are WASI's, so the host's own side
// of the imports is `()`.
rivet::component!(Plugin, "wasi-plugin");
// The same for the Python plugin.
rivet::component!(PyPlugin, "py-plugin");

/// Which of the two plugins to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Rust,
    Python,
}

/// An instance of either plugin.
pub enum Loaded {
    Rust(Plugin),
    Python(PyPlugin),
}

impl Kind {
    /// Instantiates the plugin in `store`, its WASI imports served from `ctx`.
    pub fn instantiate(self, store: &mut Store, ctx: WasiCtx) -> Result<Loaded, rivet::Error> {
        Ok(match self {
            Kind::Rust => Loaded::Rust(Plugin::instantiate(store, (), ctx)?),
            Kind::Python => Loaded::Python(PyPlugin::instantiate(store, (), ctx)?),
        })
    }
}

impl Loaded {
    /// Calls the plugin's `rivet:plugin/handler#handle`: the plugin's own
    /// `err` is the inner `Err`, a trap the outer one.
    pub fn handle(&self, store: &mut Store, input: &str) -> Result<Result<String, String>, Trap> {
        match self {
            Loaded::Rust(p) => p.handler().handle(store, input),
            Loaded::Python(p) => p.handler().handle(store, input),
        }
    }
}

/// A handler result as WAVE text (the WebAssembly value encoding that
/// `wasmtime run --invoke` prints): `ok("1 lines")`, `err("empty input")`.
pub fn wave(result: &Result<String, String>) -> String {
    match result {
        Ok(s) => format!("ok({})", wave_string(s)),
        Err(s) => format!("err({})", wave_string(s)),
    }
}

/// A WAVE string literal: quotes and backslashes escaped, as are tabs, line
/// breaks and the other control characters.
fn wave_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
