//! `rivet-build`: compiles WebAssembly components (and core modules) to native
//! object files at build time, for the `rivet` runtime crate.
//!
//! # In a build script
//! ```no_run
//! // In `main` of the build.rs of the crate that embeds the component; `rivet`
//! // (package `rivet-runtime`) is a normal dependency of that crate and
//! // `rivet-build` a build-dependency.
//! rivet_build::Config::new()
//!     .component("hello", "guest/hello.wat") // .wasm or .wat
//!     .compile();
//! ```
//! The component is compiled for cargo's `TARGET`, archived as
//! `librivet_component_hello.a` and linked into the crate; its plan is written to
//! `$OUT_DIR/rivet/hello.plan`, from which `rivet::component!(Hello, "hello")`
//! generates typed bindings in the crate's code.
//!
//! # Composing at build time
//! ```no_run
//! rivet_build::Config::new()
//!     .component("pipeline", "guests/front.wasm") // the socket
//!     .plug("pipeline", "components/upper.wat")   // satisfies imports by name
//!     .plug("pipeline", "components/count.wat")   // may import from `upper`
//!     .compile();
//! ```
//! The socket and its plugs are composed into one component, compiled under
//! the socket's name: calls between them go through fused adapters, and the
//! imports no plug satisfies are left to the host.
//!
//! # Errors
//! Every failure is an [`Error`]: an [`ErrorKind`] to match on, the file, the
//! byte offset and the nested component or core module it concerns when
//! known, and a message. [`Config::compile`] prints its [`Error::report`] and
//! ends the build script with exit status 1; [`Config::try_compile`] returns it.
//!
//! # Without a build script
//! [`compile_component`] and [`compile_module`] compile bytes to an object
//! file, [`validate_component`] and [`validate_module`] only check them; the
//! `rivet` command (package `rivet-wasm-cli`) is built on these.
//!
//! # Inside
//! One module per stage: `decode` validates a core module and builds its
//! environment, `translate` turns each function body into Cranelift IR,
//! `inline` takes small and shared callees into their callers, `codegen` compiles
//! them to machine code on all cores, `emit` places the functions and
//! `trampoline`s into one object with its descriptor,
//! `c_backend` (opt-in) writes the numeric functions as C, which `package`
//! compiles with the system C compiler and merges into that object; `package`
//! also archives objects. `component` decodes and flattens components into a
//! unit of core modules and a plan, with `fuse`d adapters between them;
//! `compose` wires separately built components together before that; `input`
//! reads files; `config` drives it all for a crate's components.

mod c_backend;
mod codegen;
mod component;
mod compose;
mod config;
mod decode;
mod emit;
mod env;
mod error;
mod fuse;
mod inline;
mod input;
mod package;
mod rust_source;
mod trampoline;
mod translate;

pub use config::Config;
pub use error::{Error, ErrorKind};
pub use rivet_descriptor::BoundsMode;

/// The compiler's internals that Rivet's own crates use: its tests, the
/// conformance runner, the benchmarks and the `rivet` command. Not part of
/// the API: anything here may change in any release.
#[doc(hidden)]
pub mod __internal {
    pub use crate::component::decode::decode as decode_component;
    pub use crate::component::direct::targets as direct_targets;
    pub use crate::component::flatten::flatten;
    pub use crate::component::ASYNC_UNSUPPORTED;
    pub use crate::compose::{compose, Part};
    pub use crate::config::{compile_with_plan, symbol_name};
    pub use crate::decode::decode as decode_module;
    pub use crate::emit::{compile_unit, target_isa, UnitModule};
    pub use crate::fuse::{adapter_module, AdapterRequest};
    pub use crate::input::Input;
    pub use crate::package::{archive, link_executable, link_shared};
}

/// How to compile.
///
/// Whatever the options, functions are compiled in parallel on the current
/// [`rayon`] thread pool: the global one (every core, or `RAYON_NUM_THREADS`),
/// or the pool whose `install` the compile is called in. The object is the
/// same byte for byte for any number of threads.
#[derive(Debug, Clone)]
pub struct Options {
    /// How linear-memory accesses are checked.
    pub bounds: BoundsMode,
    /// Target triple (as cargo's `TARGET`); `None` compiles for the host and
    /// uses every CPU feature the host has.
    pub target: Option<String>,
    /// CPU features the code may use beyond `target`'s baseline, by their rustc
    /// names (`popcnt`, `bmi2`, `avx2`, ...), as `-C target-feature` grants them
    /// to Rust code: compiled wasm then runs wherever the Rust code beside it
    /// does. Names Cranelift does not use are skipped; unused when `target` is
    /// `None`.
    pub target_features: Vec<String>,
    /// Name of the exported descriptor symbol.
    pub symbol: String,
    /// Accept the multi-memory proposal on top of WebAssembly 2.0 (on by default:
    /// fused adapters need it). Off, validation follows the 2.0 spec exactly.
    pub multi_memory: bool,
    /// Inline small and shared callees within each module; off,
    /// every wasm call stays a call, so that a profile shows each function on
    /// its own.
    pub inline: bool,
    /// Compile the functions the C backend handles with the system C
    /// compiler (`cc`, `-O2`) instead of Cranelift: faster code for compute
    /// kernels, several times the build time. Needs guard-region bounds and
    /// an x86-64 Linux target.
    pub c_backend: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bounds: BoundsMode::Guard,
            target: None,
            target_features: Vec::new(),
            symbol: "rivet_unit".to_string(),
            multi_memory: true,
            inline: true,
            c_backend: false,
        }
    }
}

/// Validates and compiles one core wasm module (binary format) to the bytes of a
/// relocatable object file exporting `options.symbol`.
pub fn compile_module(wasm: &[u8], options: &Options) -> Result<Vec<u8>, Error> {
    emit::compile_module(wasm, options)
}

/// Validates one core wasm module (binary format) with the features `options`
/// select, without compiling it. The test runner uses this for `assert_invalid`
/// and `assert_malformed`.
pub fn validate_module(wasm: &[u8], options: &Options) -> Result<(), Error> {
    decode::validate(wasm, options.multi_memory)
}

/// Validates and compiles a component (binary format) into one object: its
/// distinct core modules, its adapter modules, and a descriptor whose unit has
/// `component: Some(plan)`.
pub fn compile_component(wasm: &[u8], options: &Options) -> Result<Vec<u8>, Error> {
    component::compile_component(wasm, options)
}

/// Decodes, validates and flattens a component (generating its adapters), without
/// compiling anything. The test runner uses this for `assert_invalid` and
/// `assert_malformed` of components.
pub fn validate_component(wasm: &[u8], options: &Options) -> Result<(), Error> {
    component::validate_component(wasm, options.multi_memory)
}

/// Whether the bytes are a component (layer 1) rather than a core module.
pub fn is_component(wasm: &[u8]) -> bool {
    component::is_component(wasm)
}
