//! Builds the launcher (`launcher/`, the body of every executable `rivet exe`
//! makes) as a static library, once, so that `rivet exe` needs nothing but a
//! C linker: `src/exe.rs` embeds the archive and the list of system
//! libraries it needs.
//!
//! The build is a nested `cargo rustc` in release mode, into a target
//! directory of its own (the outer build holds its own target directory's
//! lock), `--locked --offline`: the launcher's
//! dependencies are a subset of this crate's, already downloaded. It shares
//! the outer build's jobserver (`CARGO_MAKEFLAGS` is kept), so the two builds
//! together use no more cores than cargo was given. After the first time it
//! is incremental: it reruns only when the launcher or a crate it is built
//! from changes.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Variables cargo sets for a build script that would steer the nested
/// build away from a plain release build of the launcher: the outer target
/// directory, the outer build's flags, and clippy's driver.
const CLEARED: &[&str] = &[
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
];

/// The workspace folders the launcher is built from: a change in any of
/// them rebuilds it.
const SOURCES: &[&str] = &[
    "launcher",
    "wasi",
    "runtime-shim",
    "descriptor",
    "macro/src",
    "Cargo.lock",
    "Cargo.toml",
];

fn main() {
    let out = PathBuf::from(env("OUT_DIR"));
    let root = PathBuf::from(env("CARGO_MANIFEST_DIR")).join("..");
    let target = env("TARGET");
    for source in SOURCES {
        println!("cargo:rerun-if-changed=../{source}");
    }
    let dir = launcher_target_dir(&out);
    let libs = dir.join("native-static-libs.txt");
    build_launcher(&root, &dir, &target, &libs);
    let archive = without_debug_info(&dir.join(&target).join("release/librivet_launcher.a"));
    let native_libs = std::fs::read_to_string(&libs)
        .unwrap_or_else(|e| fail(&format!("reading {}: {e}", libs.display())));
    println!(
        "cargo:rustc-env=RIVET_LAUNCHER_ARCHIVE={}",
        archive.display()
    );
    println!("cargo:rustc-env=RIVET_LAUNCHER_LIBS={}", native_libs.trim());
    println!("cargo:rustc-env=RIVET_LAUNCHER_TARGET={target}");
    println!(
        "cargo:rustc-env=RIVET_LAUNCHER_ID={:016x}",
        launcher_id(&archive)
    );
}

/// The nested build's target directory: `rivet-launcher` in the outer
/// target directory, so that every outer build (clippy's, the tests', a
/// release build) shares one launcher build (cargo locks it for each);
/// under `OUT_DIR` if that is not laid out as `TARGET/PROFILE/build/PKG/out`.
fn launcher_target_dir(out: &Path) -> PathBuf {
    let build = out.parent().and_then(Path::parent);
    let target = build
        .filter(|b| b.ends_with("build"))
        .and_then(|b| b.parent()?.parent());
    match target {
        Some(target) => target.join("rivet-launcher"),
        None => out.join("launcher"),
    }
}

/// Runs the nested build into `dir`; the launcher's system libraries go to
/// `libs`.
fn build_launcher(root: &Path, dir: &Path, target: &str, libs: &Path) {
    let mut cmd = Command::new(env("CARGO"));
    cmd.arg("rustc")
        .arg("--manifest-path")
        .arg(root.join("launcher/Cargo.toml"))
        .args(["--lib", "--release", "--locked", "--offline", "--quiet"])
        .args(["--crate-type", "staticlib", "--target", target])
        .arg("--target-dir")
        .arg(dir)
        .arg("--")
        .arg(format!("--print=native-static-libs={}", libs.display()));
    for var in CLEARED {
        cmd.env_remove(var);
    }
    let output = cmd
        .output()
        .unwrap_or_else(|e| fail(&format!("running {cmd:?}: {e}")));
    if !output.status.success() {
        fail(&format!(
            "building the launcher (the body of `rivet exe` executables) failed:\n{}\n\
             If a dependency is missing, run `cargo fetch --locked` in the repository \
             (or install with `cargo install --locked --path cli`).",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
}

/// The archive without its debug information (the standard library's,
/// mostly: two thirds of an executable's size, of no use in one; symbol
/// names stay, for profilers), made with binutils' `strip` (`$STRIP` names
/// another). Without a working `strip`, the archive as it is, with a warning.
fn without_debug_info(archive: &Path) -> PathBuf {
    let stripped = archive.with_file_name("librivet_launcher-nodebug.a");
    let strip = std::env::var_os("STRIP").unwrap_or_else(|| "strip".into());
    let status = Command::new(&strip)
        .arg("--strip-debug")
        .arg(archive)
        .arg("-o")
        .arg(&stripped)
        .status();
    match status {
        Ok(s) if s.success() => stripped,
        other => {
            println!(
                "cargo:warning=`{} --strip-debug` failed ({other:?}): executables made by \
                 `rivet exe` will carry the standard library's debug information",
                strip.to_string_lossy()
            );
            archive.to_path_buf()
        }
    }
}

/// A fingerprint of the archive, for `rivet run`'s cache: executables built
/// with another launcher are not reused.
fn launcher_id(archive: &Path) -> u64 {
    let bytes = std::fs::read(archive)
        .unwrap_or_else(|e| fail(&format!("reading {}: {e}", archive.display())));
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("cargo did not set {name}")))
}

/// Stops the build with `message` (cargo shows a build script's stderr).
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
