//! `rivet-build`: compiles WebAssembly to native object files at build time.
//!
//! The stages, one module each: [`decode`] validates a binary and builds a
//! [`env::ModuleEnv`]; [`translate`] turns each function body into Cranelift IR;
//! [`inline`] takes small and shared callees into their callers;
//! [`codegen`] compiles them to machine code on all cores; [`emit`] puts the
//! functions and [`trampoline`]s into one object file with its descriptor; [`c_backend`] (opt-in) writes the numeric functions as C instead, which
//! [`package`] compiles with the system C compiler and merges into that object;
//! [`package`] links objects into libraries. [`component`] decodes and
//! flattens components into a unit of several core modules and a plan.
//! [`compose`] wires separately built components together into one before
//! that. [`config`] is the `build.rs` entry point that does all of this for a
//! crate's components.
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
//! generates typed bindings in the crate's code. A bad component stops the build
//! with the file, the byte offset and the reason.
//!
//! # Composing at build time
//! ```no_run
//! rivet_build::Config::new()
//!     .component("pipeline", "guests/front.wasm") // the socket
//!     .plug("pipeline", "components/upper.wat")   // satisfies imports by name
//!     .plug("pipeline", "components/count.wat")   // may import from `upper`
//!     .compile();
//! ```
//! The socket and its plugs are composed ([`compose::compose`]) into one
//! component, compiled under the socket's name: calls between them go through
//! fused adapters, and the imports no plug satisfies are left to the host.

pub mod c_backend;
pub mod codegen;
pub mod component;
pub mod compose;
pub mod config;
pub mod decode;
pub mod emit;
pub mod env;
pub mod error;
pub mod fuse;
pub mod inline;
pub mod package;
pub mod rust_source;
pub mod trampoline;
pub mod translate;

pub use config::Config;
pub use error::Error;
pub use rivet_descriptor::BoundsMode;

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
    /// Inline small and shared callees within each module ([`inline`]); off,
    /// every wasm call stays a call, so that a profile shows each function on
    /// its own.
    pub inline: bool,
    /// Compile the functions the [`c_backend`] handles with the system C
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
