//! The body of every executable that `rivet exe` makes.
//!
//! `rivet exe` links three things with the system C compiler: the compiled
//! component (descriptor symbol `rivet_component_app`), this crate as a
//! static library (built once, when the `rivet` command is built), and a
//! small generated C file whose `main` passes the process's arguments, the
//! descriptor and the recorded [`Grants`] to [`rivet_launch`]. The component
//! then runs as `wasmtime run` would run it, with exactly those grants.
//!
//! The `rivet` command also uses this crate as an ordinary library, for
//! [`Grants`]: one definition of what is recorded and how it is encoded.

use rivet::{BoundsMode, Component, ComponentImports, RawDescriptor, Store, Trap};
use rivet_wasi::{DirPerms, FilePerms, Network, WasiCtx, WasiCtxBuilder};
use serde::{Deserialize, Serialize};
use std::ffi::{c_char, c_int, CStr};
use std::io::Write;

/// The exit status of a trap: `wasmtime run`'s on Unix, 128 + SIGABRT.
pub const TRAP_STATUS: i32 = 134;

/// The exit status when the guest cannot be started (a grant that cannot be
/// given, a component that does not instantiate), as `wasmtime run`'s.
pub const SETUP_STATUS: i32 = 1;

/// What an executable grants its guest: nothing but what `rivet exe` was told.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grants {
    /// Preopened directories, read-write: (host path, guest path). A
    /// relative host path is resolved against the working directory the
    /// executable runs in.
    pub dirs: Vec<(String, String)>,
    /// Environment variables: a value, or `None` to pass the variable's value
    /// from the environment the executable runs in (if it is set there).
    pub env: Vec<(String, Option<String>)>,
    /// Pass every variable of the environment the executable runs in.
    pub inherit_env: bool,
    /// Allow the network (every protocol).
    pub network: bool,
}

impl Grants {
    /// The bytes `rivet exe` records in the executable.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("encoding into memory cannot fail")
    }

    /// The grants from the bytes [`Grants::encode`] made.
    pub fn decode(bytes: &[u8]) -> Result<Grants, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("the recorded grants are corrupt: {e}"))
    }

    /// A WASI context with these grants, the arguments `args` (the first is
    /// the program name) and the process's standard streams.
    pub fn context(&self, args: Vec<String>) -> Result<WasiCtx, String> {
        let mut builder = WasiCtx::builder().args(args).inherit_stdio();
        for (key, value) in self.environment() {
            builder = builder.env(key, value);
        }
        for (host, guest) in &self.dirs {
            builder = builder
                .preopened_dir(host, guest.as_str(), DirPerms::ALL, FilePerms::ALL)
                .map_err(|e| format!("preopening directory `{host}` as `{guest}`: {e}"))?;
        }
        Ok(self.grant_network(builder).build())
    }

    /// The guest's environment: the variables given, then (with
    /// `inherit_env`) the process's own that were not given (and whose names
    /// and values are UTF-8), so a given value wins.
    fn environment(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = (self.env.iter())
            .filter_map(|(k, v)| Some((k.clone(), v.clone().or_else(|| std::env::var(k).ok())?)))
            .collect();
        if self.inherit_env {
            let given: Vec<String> = self.env.iter().map(|(k, _)| k.clone()).collect();
            let inherited = std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .filter(|(k, _)| !given.contains(k));
            vars.extend(inherited);
        }
        vars
    }

    fn grant_network(&self, builder: WasiCtxBuilder) -> WasiCtxBuilder {
        if !self.network {
            return builder;
        }
        builder.network(Network {
            tcp: true,
            udp: true,
            ip_name_lookup: true,
        })
    }
}

/// Why a run ended without a status from the guest.
#[derive(Debug)]
pub enum Failure {
    /// The guest could not be started: exit status [`SETUP_STATUS`].
    Setup(String),
    /// The guest trapped: exit status [`TRAP_STATUS`].
    Trap(Trap),
}

impl Failure {
    /// The process exit status `wasmtime run` gives for the same failure.
    pub fn status(&self) -> i32 {
        match self {
            Failure::Setup(_) => SETUP_STATUS,
            Failure::Trap(_) => TRAP_STATUS,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Setup(message) => f.write_str(message),
            Failure::Trap(trap) => write!(f, "wasm trap: {trap}"),
        }
    }
}

/// Instantiates `component` with its WASI imports served from `ctx` and
/// calls its `wasi:cli/run`: the guest's exit status, or why it had none.
pub fn run(component: &Component, ctx: WasiCtx) -> Result<i32, Failure> {
    let mut imports = ComponentImports::new();
    let wasi = rivet_wasi::add_to_imports(&mut imports, component, ctx)
        .map_err(|e| Failure::Setup(e.to_string()))?;
    let mut store = Store::new(BoundsMode::Guard);
    let instance = match store.instantiate_component(component, &imports) {
        Ok(instance) => instance,
        Err(rivet::Error::Trap(trap)) => return Err(Failure::Trap(trap)),
        Err(e) => return Err(Failure::Setup(e.to_string())),
    };
    wasi.run(&mut store, &instance).map_err(Failure::Trap)
}

/// The program's arguments as strings: `argc` entries of `argv`.
///
/// # Safety
/// `argv` holds `argc` pointers to NUL-terminated strings, as `main` gets.
unsafe fn arguments(argc: c_int, argv: *const *const c_char) -> Result<Vec<String>, String> {
    (0..argc.max(0) as usize)
        .map(|i| {
            // SAFETY: `i < argc`, and each entry is a C string (the caller's contract).
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            arg.to_str()
                .map(str::to_owned)
                .map_err(|_| format!("argument {i} is not valid UTF-8"))
        })
        .collect()
}

/// Everything the executable does, with the failure for `main` to report.
///
/// # Safety
/// As [`rivet_launch`].
unsafe fn launch(
    argc: c_int,
    argv: *const *const c_char,
    descriptor: *const RawDescriptor,
    grants: &[u8],
) -> Result<i32, Failure> {
    let grants = Grants::decode(grants).map_err(Failure::Setup)?;
    // SAFETY: the caller's contract.
    let args = unsafe { arguments(argc, argv) }.map_err(Failure::Setup)?;
    let ctx = grants.context(args).map_err(Failure::Setup)?;
    // SAFETY: `descriptor` is the descriptor symbol of the linked component.
    let component = unsafe { Component::from_descriptor(descriptor) }
        .map_err(|e| Failure::Setup(e.to_string()))?;
    run(&component, ctx)
}

/// The `main` of an executable made by `rivet exe` (its generated C `main`
/// calls this): runs the component behind `descriptor` with the grants
/// encoded in `grants[..grants_len]` and the process's arguments, and returns
/// the exit status. A failure is reported on stderr as `Error: …`, with
/// `wasmtime run`'s status: 134 for a trap, 1 otherwise.
///
/// # Safety
/// `argv` holds `argc` C strings; `descriptor` is a component's descriptor
/// symbol; `grants` points to `grants_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rivet_launch(
    argc: c_int,
    argv: *const *const c_char,
    descriptor: *const RawDescriptor,
    grants: *const u8,
    grants_len: usize,
) -> c_int {
    // SAFETY: the caller's contract.
    let grants = unsafe { std::slice::from_raw_parts(grants, grants_len) };
    // SAFETY: the caller's contract.
    let result = unsafe { launch(argc, argv, descriptor, grants) };
    // Rust's stdout is line-buffered, and no Rust runtime flushes it after a
    // C `main` returns.
    let _ = std::io::stdout().flush();
    match result {
        Ok(status) => status,
        Err(failure) => {
            eprintln!("Error: {failure}");
            failure.status()
        }
    }
}
