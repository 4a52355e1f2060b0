//! Workload 7: the stripped size of a release host binary running the `hello`
//! example with Rivet (`examples/hello`) and with Wasmtime's runtime alone
//! (`bench/wasmtime-hello`, the component precompiled and embedded).

use super::wasmtime_side as wt;
use super::{Row, Unit};
use std::path::{Path, PathBuf};
use std::process::Command;

const HELLO: &str = "examples/hello/guest/hello.wat";

pub fn run(scratch: &Path) -> Result<Row, String> {
    let root = workspace_root();
    write_cwasm(&root)?;
    let rivet = stripped_size(&root, "hello", scratch)?;
    let wasmtime = stripped_size(&root, "wasmtime-hello", scratch)?;
    Ok(Row {
        workload: "release host binary running hello, stripped (bytes)",
        unit: Unit::Bytes,
        rivet: Some(rivet),
        wasmtime: Some(wasmtime),
        pooling: None,
        native: None,
        target: "Rivet ≤ 1/10 of Wasmtime (ratio ≥ 10)".to_string(),
        met: Some(wasmtime >= 10.0 * rivet),
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf()
}

/// Precompiles the hello guest with Wasmtime's default configuration into the
/// file `wasmtime-hello` embeds.
fn write_cwasm(root: &Path) -> Result<(), String> {
    let wasm = wat::parse_file(root.join(HELLO)).map_err(|e| format!("{HELLO}: {e}"))?;
    let engine = wt::default_engine()?;
    let cwasm = engine.precompile_component(&wasm).map_err(wt::err)?;
    let path = root.join("bench/wasmtime-hello/hello.cwasm");
    if std::fs::read(&path).ok().as_deref() != Some(&cwasm[..]) {
        std::fs::write(&path, cwasm).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Builds `package` in release mode, checks that it runs, strips a copy and
/// returns its size.
fn stripped_size(root: &Path, package: &str, scratch: &Path) -> Result<f64, String> {
    command(
        Command::new(env!("CARGO"))
            .args(["build", "--release", "-q", "-p", package])
            .current_dir(root),
    )?;
    let binary = root.join("target/release").join(package);
    let out = command(&mut Command::new(&binary))?;
    if !out.contains("greet: Hello, Rivet!") {
        return Err(format!("{package} printed {out:?}"));
    }
    let copy = scratch.join(package);
    std::fs::copy(&binary, &copy).map_err(|e| format!("{}: {e}", binary.display()))?;
    command(Command::new("strip").arg(&copy))?;
    let len = std::fs::metadata(&copy)
        .map_err(|e| format!("{}: {e}", copy.display()))?
        .len();
    Ok(len as f64)
}

fn command(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
