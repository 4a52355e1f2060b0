//! Linking objects into shared and static libraries with the system toolchain.
//!
//! Compiled objects call the C math library for the float operations Cranelift
//! lowers to libcalls (`ceilf`, `nearbyint`, `fma`, …), so links add `-lm`.

use crate::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Links `objects` into the shared library `output` with the system C compiler.
/// This is how the test runner loads compiled modules with `dlopen`.
pub fn link_shared(objects: &[PathBuf], output: &Path) -> Result<(), Error> {
    let mut cmd = host_build()
        .try_get_compiler()
        .map_err(|e| Error::msg(format!("finding the C compiler: {e}")))?
        .to_command();
    cmd.arg("-shared")
        .arg("-o")
        .arg(output)
        .args(objects)
        .arg("-lm");
    run(cmd)
}

/// Archives `objects` into the static library `out_dir/lib<lib_name>.a`, replacing
/// any previous one, and returns its path. This is what a build script links.
pub fn archive(objects: &[PathBuf], out_dir: &Path, lib_name: &str) -> Result<PathBuf, Error> {
    let output = out_dir.join(format!("lib{lib_name}.a"));
    match std::fs::remove_file(&output) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::msg(format!("removing {}: {e}", output.display())));
        }
    }
    let mut cmd = host_build()
        .try_get_archiver()
        .map_err(|e| Error::msg(format!("finding the archiver: {e}")))?;
    cmd.arg("crs").arg(&output).args(objects);
    run(cmd)?;
    Ok(output)
}

/// A `cc` configuration for the machine we run on, usable outside a build script
/// (where cargo's `TARGET`/`HOST`/`OPT_LEVEL` variables are not set).
fn host_build() -> cc::Build {
    let host = target_lexicon::HOST.to_string();
    let mut build = cc::Build::new();
    build
        .cargo_metadata(false)
        .opt_level(0)
        .debug(false)
        .target(&host)
        .host(&host);
    build
}

/// Runs `cmd`; on failure the error names the command and carries its output.
fn run(mut cmd: Command) -> Result<(), Error> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| Error::msg(format!("running {shown}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::msg(format!(
        "{shown} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    )))
}
