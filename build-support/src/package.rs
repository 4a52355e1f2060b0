//! Linking objects into shared and static libraries with the system toolchain.
//!
//! Compiled objects call the C math library for the float operations Cranelift
//! lowers to libcalls (`ceilf`, `nearbyint`, `fma`, …), so links add `-lm`.

use crate::{Error, ErrorKind, Options};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Links `objects` into the shared library `output` with the system C compiler.
/// This is how the test runner loads compiled modules with `dlopen`.
pub fn link_shared(objects: &[PathBuf], output: &Path) -> Result<(), Error> {
    let mut cmd = compiler(None)?.to_command();
    cmd.arg("-shared")
        .arg("-o")
        .arg(output)
        .args(objects)
        .arg("-lm");
    run(cmd)
}

/// Links `inputs` (C sources, objects and archives, in link order) with the
/// system libraries `libs` (`-lNAME`) into the executable `output`, with the
/// system C compiler. Sections nothing refers to are dropped, as rustc does
/// for its executables.
pub fn link_executable(inputs: &[PathBuf], libs: &[String], output: &Path) -> Result<(), Error> {
    let mut cmd = compiler(None)?.to_command();
    let gc = if cfg!(target_os = "macos") {
        "-Wl,-dead_strip"
    } else {
        "-Wl,--gc-sections"
    };
    cmd.arg("-o")
        .arg(output)
        .args(inputs)
        .arg("-lm")
        .args(libs)
        .arg(gc);
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
            return Err(Error::new(
                ErrorKind::Io,
                format!("removing {}: {e}", output.display()),
            ));
        }
    }
    let mut cmd = host_build()
        .try_get_archiver()
        .map_err(|e| Error::new(ErrorKind::Toolchain, format!("finding the archiver: {e}")))?;
    cmd.arg("crs").arg(&output).args(objects);
    run(cmd)?;
    Ok(output)
}

/// Compiles the C backend's `source` and merges its object with Cranelift's
/// `object` into one relocatable object (`cc -r`), so that a unit stays one
/// object file whichever backend compiled its functions. With `RIVET_C_KEEP`
/// set, the C file and the objects are kept in the temporary directory named
/// on stderr, for reading.
pub fn merge_c(object: &[u8], sources: &[String], options: &Options) -> Result<Vec<u8>, Error> {
    let dir = scratch_dir(&options.symbol)?;
    let result = merge_in(&dir, object, sources, options);
    if std::env::var_os("RIVET_C_KEEP").is_some() {
        eprintln!("rivet: C backend files kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn merge_in(
    dir: &Path,
    object: &[u8],
    sources: &[String],
    options: &Options,
) -> Result<Vec<u8>, Error> {
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        write_file(&path, bytes).map(|()| path)
    };
    let mut objects = vec![write("cranelift.o", object)?];
    let mut files = Vec::with_capacity(sources.len());
    for (i, source) in sources.iter().enumerate() {
        files.push(write(&format!("functions{i}.c"), source.as_bytes())?);
        objects.push(dir.join(format!("functions{i}.o")));
    }
    let compiler = compiler(options.target.as_deref())?;
    let compile = |c: &Path, o: &Path| {
        let mut cmd = compiler.to_command();
        // `-O2`: the point of the backend. `-fPIC`: the object may end up in a
        // shared library (the test runner's). Stack probes for large frames,
        // so that overflowing the stack always hits its guard page; no tail
        // calls, which would turn unbounded wasm recursion (a
        // stack-exhaustion trap) into an endless loop. Floats exactly as
        // written (no fused multiply-add), with `sqrt` and friends inline
        // (they set no `errno`). Loop heads on 32-byte
        // boundaries, as the emitter puts Cranelift's.
        cmd.args(["-std=c11", "-O2", "-fPIC", "-fno-strict-aliasing"])
            .args(["-fstack-clash-protection", "-fno-optimize-sibling-calls"])
            .args(["-ffp-contract=off", "-fno-math-errno", "-fsignaling-nans"])
            .args(["-fno-asynchronous-unwind-tables", "-falign-loops=32"]);
        match options.target {
            None => {
                cmd.arg("-march=native");
            }
            Some(_) => {
                cmd.args(gcc_feature_flags(&options.target_features));
            }
        }
        cmd.arg("-c").arg(c).arg("-o").arg(o);
        run(cmd)
    };
    // As many at once as the current rayon pool has threads; the first
    // error in file order wins.
    files
        .par_iter()
        .zip(&objects[1..])
        .map(|(c, o)| compile(c, o))
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<(), Error>>()?;
    let merged = dir.join("unit.o");
    let mut link = compiler.to_command();
    link.args(["-r", "-nostdlib", "-o"])
        .arg(&merged)
        .args(&objects);
    run(link)?;
    std::fs::read(&merged)
        .map_err(|e| Error::new(ErrorKind::Io, format!("reading {}: {e}", merged.display())))
}

/// A fresh directory for one merge.
fn scratch_dir(symbol: &str) -> Result<PathBuf, Error> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rivet-c-{}-{n}-{symbol}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::new(ErrorKind::Io, format!("creating {}: {e}", dir.display())))?;
    Ok(dir)
}

/// GCC's `-m` flag for each x86-64 feature (rustc's names, as cargo lists
/// them in `CARGO_CFG_TARGET_FEATURE`) that changes scalar code: the C backend
/// then uses the same instructions as Cranelift and rustc (`popcnt`, `lzcnt`,
/// `tzcnt`, SSE4.1's rounding instead of a call to `nearbyintf`). Features
/// GCC has no use for here, or of another architecture, give no flag.
fn gcc_feature_flags(features: &[String]) -> Vec<&'static str> {
    const FLAGS: [(&str, &str); 14] = [
        ("sse3", "-msse3"),
        ("ssse3", "-mssse3"),
        ("sse4.1", "-msse4.1"),
        ("sse4.2", "-msse4.2"),
        ("popcnt", "-mpopcnt"),
        ("lzcnt", "-mlzcnt"),
        ("bmi1", "-mbmi"),
        ("bmi2", "-mbmi2"),
        ("avx", "-mavx"),
        ("avx2", "-mavx2"),
        ("fma", "-mfma"),
        ("f16c", "-mf16c"),
        ("movbe", "-mmovbe"),
        ("cmpxchg16b", "-mcx16"),
    ];
    FLAGS
        .iter()
        .filter(|(name, _)| features.iter().any(|f| f == name))
        .map(|&(_, flag)| flag)
        .collect()
}

/// The system C compiler for `target` (`None`: the machine we run on).
fn compiler(target: Option<&str>) -> Result<cc::Tool, Error> {
    let mut build = host_build();
    if let Some(target) = target {
        build.target(target);
    }
    build
        .try_get_compiler()
        .map_err(|e| Error::new(ErrorKind::Toolchain, format!("finding the C compiler: {e}")))
}

/// Writes `bytes` to `path`; the error names the file.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes)
        .map_err(|e| Error::new(ErrorKind::Io, format!("writing {}: {e}", path.display())))
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
    let out = cmd.output().map_err(|e| {
        let program = cmd.get_program().to_string_lossy();
        let message = match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "`{program}` was not found: install a C compiler and archiver (gcc or clang, \
                 and binutils), or name them in the CC and AR environment variables"
            ),
            _ => format!("running {shown}: {e}"),
        };
        Error::new(ErrorKind::Toolchain, message)
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Toolchain,
        format!(
            "{shown} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ),
    ))
}
