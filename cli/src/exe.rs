//! `rivet exe`: a WASI command component to a native executable. The
//! component is compiled as `rivet compile --name app` compiles it, checked
//! to be a command whose imports the WASI host serves, and linked by the
//! system C compiler with the launcher (built with this binary, see
//! build.rs) and a generated C `main` that carries the grants.

use crate::compile::{compile_component, usage};
use rivet_build::__internal::{link_executable, Input};
use rivet_build::{Error, ErrorKind, Options};
use rivet_descriptor::component::Component as Plan;
use rivet_launcher::Grants;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The launcher as a static library, and the system libraries it needs.
const LAUNCHER: &[u8] = include_bytes!(env!("RIVET_LAUNCHER_ARCHIVE"));
const LAUNCHER_LIBS: &str = env!("RIVET_LAUNCHER_LIBS");
/// The target the launcher is built for: this binary's own.
pub const HOST: &str = env!("RIVET_LAUNCHER_TARGET");

/// The component's name inside the executable (descriptor
/// `rivet_component_app`).
const NAME: &str = "app";

/// What to build: a command and what its executable grants.
#[derive(Debug, Default)]
pub struct Spec {
    pub input: PathBuf,
    pub grants: Grants,
    /// `--target`: `None` for this machine with every feature its CPU has.
    pub target: Option<String>,
}

/// Reads the grant option `flag` (taking its value from `value` when it has
/// one) into `grants`; `Ok(false)` when `flag` is not a grant option. The
/// names are `wasmtime run`'s, with `-S inherit-env` and `-S
/// inherit-network` as aliases of `--inherit-env` and `--allow-network`.
pub fn parse_grant(
    flag: &str,
    value: &mut dyn FnMut() -> Result<String, Error>,
    grants: &mut Grants,
) -> Result<bool, Error> {
    match flag {
        "--dir" => {
            let dir = value()?;
            let (host, guest) = dir.split_once("::").unwrap_or((&dir, &dir));
            grants.dirs.push((host.to_owned(), guest.to_owned()));
        }
        "--env" => {
            let var = value()?;
            let (key, val) = match var.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (var, None),
            };
            grants.env.push((key, val));
        }
        "--inherit-env" => grants.inherit_env = true,
        "--allow-network" => grants.network = true,
        "-S" => match value()?.as_str() {
            "inherit-env" | "inherit-env=y" => grants.inherit_env = true,
            "inherit-network" | "inherit-network=y" => grants.network = true,
            other => return Err(usage(format!("not supported: -S {other}"))),
        },
        _ => return Ok(false),
    }
    Ok(true)
}

/// Runs `rivet exe` on its arguments.
pub fn run(args: &[String]) -> Result<(), Error> {
    let mut spec = Spec::default();
    let mut output = None;
    let mut input = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| usage(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "-o" => output = Some(PathBuf::from(value()?)),
            "--target" => spec.target = Some(value()?),
            flag if parse_grant(flag, &mut value, &mut spec.grants)? => {}
            flag if flag.starts_with('-') => {
                return Err(usage(format!("exe: unknown option {flag}")));
            }
            file if input.is_none() => input = Some(PathBuf::from(file)),
            extra => return Err(usage(format!("exe: unexpected argument {extra}"))),
        }
    }
    spec.input = input.ok_or_else(|| usage("exe: missing the input file".into()))?;
    let output = output.ok_or_else(|| usage("exe: missing -o OUTPUT".into()))?;
    build(&spec, &output)?;
    println!("{} -> {}", spec.input.display(), output.display());
    Ok(())
}

/// Builds the executable `output` from `spec`. Errors name the component
/// by its file's stem.
pub fn build(spec: &Spec, output: &Path) -> Result<(), Error> {
    let stem = spec.input.file_stem().unwrap_or_default().to_string_lossy();
    build_named(spec, output).map_err(|e| e.named(stem))
}

fn build_named(spec: &Spec, output: &Path) -> Result<(), Error> {
    let mut options = Options {
        target: target(spec.target.as_deref())?,
        ..Options::default()
    };
    let source = Input::read(&spec.input, &[])?;
    if !rivet_build::is_component(source.wasm()) {
        let e = "a core module, not a component: `rivet exe` makes executables of WASI \
                 commands (components exporting `wasi:cli/run`)";
        return Err(Error::new(ErrorKind::Invalid, e).in_file(&spec.input));
    }
    let (object, plan) = compile_component(&source, NAME, &mut options)?;
    check_command(&plan).map_err(|e| e.in_file(&spec.input))?;
    link(&object, &spec.grants, output)
}

/// The compile target for `--target`: only this machine's triple is
/// supported (the launcher is built for it), compiled for its baseline CPU
/// so that the executable runs on other machines of the kind.
fn target(triple: Option<&str>) -> Result<Option<String>, Error> {
    match triple {
        None => Ok(None),
        Some(t) if t == HOST => Ok(Some(t.to_owned())),
        Some(t) => Err(Error::new(
            ErrorKind::Unsupported,
            format!("not supported yet: `rivet exe --target {t}` (this rivet links executables for {HOST} only)"),
        )),
    }
}

/// Checks that the plan is a command the WASI host can run: it exports
/// `wasi:cli/run` and imports nothing but the WASI functions and resources
/// the host serves.
fn check_command(plan: &Plan) -> Result<(), Error> {
    if rivet_wasi::run_export(plan.exports.iter().map(|e| &*e.name)).is_none() {
        return Err(Error::new(
            ErrorKind::Config,
            "exports no `wasi:cli/run`; use `rivet compile` for libraries",
        ));
    }
    let unserved = |name: &str| {
        let what = "which no host of `rivet exe` provides (it serves WASI 0.2 imports only)";
        Error::new(ErrorKind::Unsupported, format!("imports `{name}`, {what}"))
    };
    let wasi_error = |e: rivet::Error| Error::new(ErrorKind::Unsupported, e.to_string());
    for import in plan.imports.iter() {
        if !rivet_wasi::serves_import(&import.name).map_err(wasi_error)? {
            return Err(unserved(&import.name));
        }
    }
    for resource in plan.resources.iter().filter(|r| r.imported) {
        if !rivet_wasi::serves_resource(&resource.name).map_err(wasi_error)? {
            return Err(unserved(&resource.name));
        }
    }
    match plan.module_imports.first() {
        Some(module) => Err(unserved(&format!("core module {module}"))),
        None => Ok(()),
    }
}

/// Links the compiled component, the launcher and a generated `main`
/// carrying `grants` into `output`, in a scratch directory.
fn link(object: &[u8], grants: &Grants, output: &Path) -> Result<(), Error> {
    let scratch = Scratch::new()?;
    let inputs = [
        scratch.write("main.c", main_source(grants).as_bytes())?,
        scratch.write("app.o", object)?,
        scratch.write("librivet_launcher.a", LAUNCHER)?,
    ];
    let libs: Vec<String> = LAUNCHER_LIBS.split_whitespace().map(String::from).collect();
    link_executable(&inputs, &libs, output)
}

/// The C `main` of the executable: the launcher with the component's
/// descriptor and the encoded grants.
fn main_source(grants: &Grants) -> String {
    let bytes: Vec<String> = grants.encode().iter().map(|b| b.to_string()).collect();
    format!(
        "#include <stddef.h>\n\
         extern const unsigned char rivet_component_{NAME}[];\n\
         int rivet_launch(int argc, char **argv, const void *descriptor,\n\
         \x20                const unsigned char *grants, size_t grants_len);\n\
         static const unsigned char grants[] = {{{}}};\n\
         int main(int argc, char **argv) {{\n\
         \x20   return rivet_launch(argc, argv, rivet_component_{NAME}, grants, sizeof grants);\n\
         }}\n",
        bytes.join(",")
    )
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, Error> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rivet-exe-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        Ok(Scratch(dir))
    }

    /// Writes `bytes` to the file `name` in the directory; its path.
    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).map_err(|e| io_error(&path, e))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An I/O error on `path`.
pub fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{}: {e}", path.display()))
}
