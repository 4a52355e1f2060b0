//! Workload 7: the stripped size of a release host binary running the `hello`
//! example, with Rivet and with Wasmtime's runtime alone (the component
//! precompiled and embedded), in two pairs: with `std`, Rivet's
//! `examples/hello` against `bench/wasmtime-hello`; and without `std`,
//! Rivet's `examples/hello-nostd` against `bench/wasmtime-hello-nostd`
//! (each its own workspace), where Wasmtime runs on its custom-platform
//! layer with no virtual memory and no signal handlers, the host supplying
//! thread-local storage and executable pages.

use super::wasmtime_side as wt;
use super::{Row, Unit};
use std::path::{Path, PathBuf};
use std::process::Command;
use wasmtime::Engine;

const HELLO: &str = "examples/hello/guest/hello.wat";

pub fn run(scratch: &Path) -> Result<Vec<Row>, String> {
    let root = workspace_root();
    write_cwasms(&root)?;
    let rivet = stripped_size(&root, Host::member("hello"), scratch)?;
    let wasmtime = stripped_size(&root, Host::member("wasmtime-hello"), scratch)?;
    let rivet_no_std = stripped_size(&root, Host::own_workspace("examples/hello-nostd"), scratch)?;
    let wasmtime_no_std = stripped_size(
        &root,
        Host::own_workspace("bench/wasmtime-hello-nostd"),
        scratch,
    )?;
    let row = |workload, rivet: f64, wasmtime: f64| Row {
        workload,
        unit: Unit::Bytes,
        rivet: Some(rivet),
        wasmtime: Some(wasmtime),
        pooling: None,
        native: None,
        target: "Rivet ≤ 1/10 of Wasmtime (ratio ≥ 10)".to_string(),
        met: Some(wasmtime >= 10.0 * rivet),
    };
    Ok(vec![
        row(
            "release host binary running hello, stripped (bytes)",
            rivet,
            wasmtime,
        ),
        row(
            "release host binary without std running hello, stripped (bytes)",
            rivet_no_std,
            wasmtime_no_std,
        ),
    ])
}

/// How to build a host binary and where it lands.
struct Host {
    /// `cargo build --release` arguments naming the host.
    args: Vec<String>,
    /// The binary, relative to the workspace root.
    binary: PathBuf,
}

impl Host {
    /// A package of this workspace.
    fn member(package: &str) -> Host {
        Host {
            args: vec!["-p".into(), package.into()],
            binary: Path::new("target/release").join(package),
        }
    }

    /// A crate in its own workspace under `dir`, named as its directory.
    fn own_workspace(dir: &str) -> Host {
        let name = Path::new(dir).file_name().expect("a directory name");
        Host {
            args: vec!["--manifest-path".into(), format!("{dir}/Cargo.toml")],
            binary: Path::new(dir).join("target/release").join(name),
        }
    }
}

pub(super) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf()
}

/// Precompiles the hello guest into the files the two Wasmtime hosts embed:
/// with Wasmtime's default configuration for `wasmtime-hello`, and with the
/// `no_std` host's configuration for `wasmtime-hello-nostd`.
fn write_cwasms(root: &Path) -> Result<(), String> {
    let wasm = wat::parse_file(root.join(HELLO)).map_err(|e| format!("{HELLO}: {e}"))?;
    let default = wt::default_engine()?;
    write_cwasm(
        &default,
        &wasm,
        &root.join("bench/wasmtime-hello/hello.cwasm"),
    )?;
    let no_std = wt::nostd_engine()?;
    write_cwasm(
        &no_std,
        &wasm,
        &root.join("bench/wasmtime-hello-nostd/hello.cwasm"),
    )
}

/// Precompiles `wasm` with `engine` into `path`, rewriting the file only when
/// the bytes change.
fn write_cwasm(engine: &Engine, wasm: &[u8], path: &Path) -> Result<(), String> {
    let cwasm = engine.precompile_component(wasm).map_err(wt::err)?;
    if std::fs::read(path).ok().as_deref() != Some(&cwasm[..]) {
        std::fs::write(path, cwasm).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Builds `host` in release mode, checks that it runs, strips a copy and
/// returns its size.
fn stripped_size(root: &Path, host: Host, scratch: &Path) -> Result<f64, String> {
    command(
        Command::new(env!("CARGO"))
            .args(["build", "--release", "-q"])
            .args(&host.args)
            .current_dir(root),
    )?;
    let binary = root.join(&host.binary);
    let out = command(&mut Command::new(&binary))?;
    if !out.contains("greet: Hello, Rivet!") {
        return Err(format!("{} printed {out:?}", binary.display()));
    }
    let copy = scratch.join(binary.file_name().expect("a file name"));
    std::fs::copy(&binary, &copy).map_err(|e| format!("{}: {e}", binary.display()))?;
    command(Command::new("strip").arg(&copy))?;
    let len = std::fs::metadata(&copy)
        .map_err(|e| format!("{}: {e}", copy.display()))?
        .len();
    Ok(len as f64)
}

pub(super) fn command(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
