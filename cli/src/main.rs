//! `rivet`: run WASI commands and make native executables of them, and
//! compile, inspect and test WebAssembly from the command line, outside a
//! build script. A crate of its own because it joins the compiler
//! (`rivet-build`) and the conformance runner (`rivet-tests`), which depends on
//! the compiler itself.

mod compile;
mod exe;
mod inspect;
mod run;

use rivet_build::{Error, ErrorKind};
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  rivet compile FILE.wasm|FILE.wat -o OUT.o [--bounds guard|explicit] [--target TRIPLE] [--name NAME] [--plug PLUG]... [--no-inline] [--c-backend]
      Compiles a core module or a component to a relocatable object. The descriptor
      symbol is rivet_component_NAME (components) or rivet_unit (modules); NAME
      defaults to the file's stem. --no-inline keeps every wasm call a call, so that
      a profiler shows each function on its own. --c-backend compiles the functions it
      can with the system C compiler at -O2 (slower build, faster code). Functions are
      compiled on every core; RAYON_NUM_THREADS=N in the environment uses N threads.
  rivet inspect FILE.wasm|FILE.wat [--plug PLUG]...
      Prints a component's flattened plan (core instances and their wiring, lifts,
      lowers, host imports, exports), the imports called directly, and its
      generated adapter modules (each holding every adapter that can share it) as WAT.
  --plug PLUG (repeatable) first composes the component FILE with PLUG: PLUG's exports
      satisfy FILE's imports (and later plugs' imports) of the same name.
  rivet exe APP.wasm -o APP [--dir HOST[::GUEST]]... [--env NAME[=VALUE]]... [--inherit-env] [--allow-network] [--target TRIPLE]
      Makes a native executable of a WASI command (a component exporting wasi:cli/run):
      the compiled component, the runtime and the WASI host, linked by the system C
      compiler. It grants the guest only what the options say: --dir preopens HOST
      read-write as GUEST (a relative HOST is resolved where the executable runs),
      --env sets a variable (without =VALUE: passes the one it runs with). Without
      --target the code uses every feature of this machine's CPU; --target with this
      machine's triple builds for the triple's baseline, to run on other machines.
  rivet run [OPTIONS] APP.wasm [ARGS]...      (or: rivet run APP.wasm [OPTIONS] -- [ARGS]...)
      Builds APP.wasm as rivet exe does, into a cache ($RIVET_CACHE_DIR, else
      $XDG_CACHE_HOME/rivet, else ~/.cache/rivet), and runs it with ARGS (argv[0] is
      APP.wasm's file name). OPTIONS are rivet exe's grant options. The exit status is the
      guest's; a trap prints `Error: ...` on stderr and exits with 134, as wasmtime run.
  rivet wast [--mode guard|explicit|c|both|all] [--verbose] FILE...
      Runs spec scripts (.wast) through the whole pipeline: every module and component
      is compiled, linked by the system C compiler, loaded and checked; in every mode
      by default (guard regions, explicit checks, the C backend), or only in guard and
      explicit mode (both), or in one. Prints one line per file and the totals; fails if any failed.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|command| command != "run") {
        end_quietly_on_a_closed_pipe();
    }
    let result = match args.first().map(String::as_str) {
        Some("compile") => compile::run(&args[1..]),
        Some("inspect") => inspect::run(&args[1..]),
        Some("exe") => exe::run(&args[1..]),
        Some("run") => Err(run::run(&args[1..])),
        Some("wast") => return rivet_tests::wast_command::main(args.into_iter().skip(1)),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(Error::new(
            ErrorKind::Config,
            format!("expected a command\n{USAGE}"),
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The report a build script prints for the same error.
        Err(e) => {
            eprint!("{}", e.report());
            ExitCode::FAILURE
        }
    }
}

/// Lets a closed stdout end the process as it ends `cat` (`rivet inspect
/// x.wasm | head`), where Rust's `println!` would panic. Not for `rivet run`:
/// the command it starts inherits the disposition, and keeps `wasmtime run`'s
/// (a guest writing to a closed pipe gets a stream error).
fn end_quietly_on_a_closed_pipe() {
    // SAFETY: sets a signal's disposition to its default, before any thread starts.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}
