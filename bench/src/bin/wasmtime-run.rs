//! `wasmtime-run`: runs a WASI 0.2 component on Wasmtime the way `wasmtime run`
//! does, so that the reference outputs of the WASI guests (issue 19, recorded in
//! `guests/expected/`) come from the engine Rivet is compared with. It lives in
//! the bench because the bench already builds Wasmtime; the `wasmtime` command
//! itself is not a crates.io library.
//!
//! ```text
//! wasmtime-run [--dir HOST::GUEST]... [--env NAME=VALUE]... [--inherit-network]
//!              [--allow-ip-name-lookup] [--invoke 'CALL'] [--allow-precompiled] WASM [ARG]...
//! wasmtime-run compile WASM -o OUT.cwasm
//! ```
//!
//! `--inherit-network` lets the guest make TCP and UDP sockets and bind,
//! connect and send to any address; `--allow-ip-name-lookup` lets it resolve
//! names (after `wasmtime run`'s `-S inherit-network`, `-S tcp`, `-S udp` and
//! `-S allow-ip-name-lookup`). Without them `wasmtime-wasi`'s defaults hold:
//! no socket can be made and no name resolved.
//!
//! Without `--invoke` the component is a command: its `wasi:cli/run` export runs
//! with `WASM`'s file name as `argv[0]` and the `ARG`s after it. With `--invoke`
//! it is a library: `CALL` is a function call in WAVE, the value syntax of
//! `wasmtime run --invoke` (`'handle("text")'`), naming a top-level export or a
//! function of the one exported interface that has it; each result is printed
//! in WAVE on its own line.
//!
//! As with `wasmtime compile` and `wasmtime run --allow-precompiled`,
//! `compile` precompiles the component to `OUT.cwasm` and
//! `--allow-precompiled` runs such a file: the bench times both (a command's
//! start to exit without the compile, and the compile alone).
//!
//! The exit status follows `wasmtime run` (its `src/commands/run.rs`): the
//! status the guest passed to `wasi:cli/exit`; 134, a Unix abort's
//! `128 + SIGABRT`, after a trap, whose message goes to stderr after `Error: `;
//! 1 for any other failure. Wasm backtraces are off, so that a trap's message is
//! the same from build to build of a guest and can be compared with Rivet's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wasmtime::component::wasm_wave::{self, untyped::UntypedFuncCall};
use wasmtime::component::{Component, Func, Linker, ResourceTable, Type, Val};
use wasmtime::{format_err, Config, Engine, Store, Trap};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxView, WasiView};

const USAGE: &str = "usage: wasmtime-run [--dir HOST::GUEST]... [--env NAME=VALUE]... \
                     [--inherit-network] [--allow-ip-name-lookup] [--invoke 'CALL'] \
                     [--allow-precompiled] WASM [ARG]...\n       \
                     wasmtime-run compile WASM -o OUT.cwasm";

/// The exit status `wasmtime run` gives a trap on Unix: that of a process
/// killed by `SIGABRT`.
const TRAP_STATUS: i32 = 128 + 6;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let ["compile", wasm, "-o", out] = args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        return match precompile(Path::new(wasm), Path::new(out)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => exit_for(&error),
        };
    }
    let options = match Options::parse(args.into_iter()) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("wasmtime-run: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => exit_for(&error),
    }
}

/// The command line, parsed.
struct Options {
    /// `(host, guest)` directory pairs to preopen, read-write.
    dirs: Vec<(String, String)>,
    env: Vec<(String, String)>,
    /// `--inherit-network`: any address may be used.
    network: bool,
    /// `--allow-ip-name-lookup`.
    name_lookup: bool,
    invoke: Option<String>,
    /// `WASM` may be a component precompiled by `wasmtime-run compile`.
    allow_precompiled: bool,
    wasm: PathBuf,
    args: Vec<String>,
}

impl Options {
    /// Options come before `WASM`; everything after it goes to the guest.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let (mut dirs, mut env, mut invoke) = (Vec::new(), Vec::new(), None);
        let (mut network, mut name_lookup) = (false, false);
        let mut allow_precompiled = false;
        let wasm = loop {
            let arg = args.next().ok_or("no component given")?;
            match arg.as_str() {
                "--dir" => {
                    let dir = value(&mut args, "--dir")?;
                    dirs.push(split_dir(&dir));
                }
                "--env" => env.push(split(&value(&mut args, "--env")?, "=")?),
                "--invoke" => invoke = Some(value(&mut args, "--invoke")?),
                "--inherit-network" => network = true,
                "--allow-ip-name-lookup" => name_lookup = true,
                "--allow-precompiled" => allow_precompiled = true,
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                _ => break PathBuf::from(arg),
            }
        };
        Ok(Self {
            dirs,
            env,
            network,
            name_lookup,
            invoke,
            allow_precompiled,
            wasm,
            args: args.collect(),
        })
    }
}

/// The value after `flag`.
fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    args.next().ok_or_else(|| format!("{flag} needs a value"))
}

/// `HOST::GUEST`, or `DIR` for the same path on both sides, as `wasmtime run`.
fn split_dir(dir: &str) -> (String, String) {
    split(dir, "::").unwrap_or_else(|_| (dir.to_string(), dir.to_string()))
}

fn split(text: &str, separator: &str) -> Result<(String, String), String> {
    text.split_once(separator)
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .ok_or_else(|| format!("`{text}` has no `{separator}`"))
}

/// The store's data: the WASI context and the table of its resources.
struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The engine, the same for `compile` and for running: a precompiled
/// component loads only into an engine configured as the one that made it.
fn engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_backtrace_max_frames(None);
    Engine::new(&config)
}

/// `wasmtime-run compile`: writes the precompiled component.
fn precompile(wasm: &Path, out: &Path) -> wasmtime::Result<()> {
    let bytes = std::fs::read(wasm).map_err(|e| format_err!("{}: {e}", wasm.display()))?;
    let cwasm = engine()?.precompile_component(&bytes)?;
    std::fs::write(out, cwasm).map_err(|e| format_err!("{}: {e}", out.display()))
}

/// The component of `options`: compiled, or with `--allow-precompiled` and a
/// precompiled file, loaded as it is.
fn load(engine: &Engine, options: &Options) -> wasmtime::Result<Component> {
    let path = &options.wasm;
    let component = match Engine::detect_precompiled_file(path) {
        Ok(None) => Component::from_file(engine, path),
        // SAFETY: the file is one `wasmtime-run compile` wrote (the flag says
        // the caller trusts it), as `wasmtime run --allow-precompiled` requires.
        Ok(Some(_)) if options.allow_precompiled => unsafe {
            Component::deserialize_file(engine, path)
        },
        Ok(Some(_)) => Err(format_err!("precompiled: run with --allow-precompiled")),
        Err(e) => Err(e),
    };
    component.map_err(|e| format_err!("{}: {e}", path.display()))
}

/// Loads, links and runs the component as `options` say.
fn run(options: &Options) -> wasmtime::Result<()> {
    let engine = engine()?;
    let component = load(&engine, options)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let host = Host {
        wasi: wasi_context(options)?,
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&engine, host);
    match &options.invoke {
        None => {
            let command = Command::instantiate(&mut store, &component, &linker)?;
            command
                .wasi_cli_run()
                .call_run(&mut store)?
                .map_err(|()| format_err!("run returned a failure"))
        }
        Some(call) => {
            let instance = linker.instantiate(&mut store, &component)?;
            invoke(&mut store, &component, &instance, call)
        }
    }
}

/// The guest's WASI world: stdio inherited, the arguments, environment,
/// directories and network access of the command line.
fn wasi_context(options: &Options) -> wasmtime::Result<WasiCtx> {
    let mut builder = WasiCtx::builder();
    builder.inherit_stdio().arg(argv0(&options.wasm));
    builder.args(options.args.as_slice());
    for (name, value) in &options.env {
        builder.env(name, value);
    }
    if options.network {
        builder.allow_tcp(true).allow_udp(true).inherit_network();
    }
    builder.allow_ip_name_lookup(options.name_lookup);
    for (host, guest) in &options.dirs {
        builder
            .preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(|e| format_err!("--dir {host}: {e}"))?;
    }
    Ok(builder.build())
}

/// `argv[0]` is the component's file name alone, as `wasmtime run` passes it
/// (no host path leaks into the guest).
fn argv0(wasm: &Path) -> String {
    wasm.file_name().map_or_else(
        || wasm.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Calls the export `call` names with its WAVE arguments and prints the results.
fn invoke(
    store: &mut Store<Host>,
    component: &Component,
    instance: &wasmtime::component::Instance,
    call: &str,
) -> wasmtime::Result<()> {
    let call = UntypedFuncCall::parse(call).map_err(|e| format_err!("--invoke {call}: {e}"))?;
    let func = find_func(store, component, instance, call.name())?;
    let ty = func.ty(&*store);
    let param_types: Vec<Type> = ty.params().map(|(_, t)| t).collect();
    let params: Vec<Val> = call
        .to_wasm_params(&param_types)
        .map_err(|e| format_err!("--invoke {call}: {e}"))?;
    let mut results = vec![Val::Bool(false); ty.results().len()];
    func.call(&mut *store, &params, &mut results)?;
    for result in &results {
        let text = wasm_wave::to_string(result).map_err(|e| format_err!("result: {e}"))?;
        println!("{text}");
    }
    Ok(())
}

/// The function `name`: a top-level export, or the function of that name in
/// the one exported interface that has one.
fn find_func(
    store: &mut Store<Host>,
    component: &Component,
    instance: &wasmtime::component::Instance,
    name: &str,
) -> wasmtime::Result<Func> {
    if let Some(func) = instance.get_func(&mut *store, name) {
        return Ok(func);
    }
    let engine = store.engine().clone();
    let mut found = Vec::new();
    for (export, _) in component.component_type().exports(&engine) {
        let inner = instance
            .get_export_index(&mut *store, None, export)
            .and_then(|i| instance.get_export_index(&mut *store, Some(&i), name));
        if let Some(func) = inner.and_then(|i| instance.get_func(&mut *store, i)) {
            found.push((export.to_string(), func));
        }
    }
    match found.len() {
        1 => Ok(found.remove(0).1),
        0 => Err(format_err!("the component exports no function `{name}`")),
        _ => {
            let names: Vec<String> = found.into_iter().map(|(n, _)| n).collect();
            Err(format_err!(
                "`{name}` is in several interfaces: {}",
                names.join(", ")
            ))
        }
    }
}

/// The process status for a failed run, after telling why on stderr (an exit
/// through `wasi:cli/exit` is no failure and prints nothing).
fn exit_for(error: &wasmtime::Error) -> ExitCode {
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        std::process::exit(exit.0);
    }
    eprintln!("Error: {error:?}");
    if error.is::<Trap>() {
        std::process::exit(TRAP_STATUS);
    }
    ExitCode::FAILURE
}
