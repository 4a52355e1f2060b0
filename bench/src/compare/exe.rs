//! Workload 9: WASI commands as native executables (issue 20). The hello
//! command (`guests/wasi-hello`) as a `rivet exe` executable, under Wasmtime
//! (`wasmtime-run --allow-precompiled` on the component precompiled by
//! `wasmtime-run compile`, so no compile is in the measured run), and the
//! same Rust program built natively: start to exit of the whole process, and
//! the stripped size of the executable. Then the build: `rivet exe` on the
//! hello and on the largest command guest (`guests/wasi-command`) against
//! `wasmtime-run compile`. Last, a file-heavy command (`guests/wasi-command`'s
//! `heavy` mode: 16 MiB written to a file in its preopen and read back, in
//! 64 KiB chunks, through `wasi:filesystem` and `wasi:io` streams) as a `rivet
//! exe` executable against Wasmtime with `wasmtime-wasi`. Every contender is a
//! process of its own.

use super::sample::nanos;
use super::size::{command, workspace_root};
use super::{Row, Unit};
use crate::timing::{self, Elapsed};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Rounds of the start-to-exit measurement, each running every contender
/// `RUNS` times in turn.
const ROUNDS: usize = 11;
const RUNS: u32 = 10;
/// Rounds of the build measurement.
const BUILDS: usize = 5;
/// Rounds of the file-heavy command, each running both contenders once.
const HEAVY_ROUNDS: usize = 7;

/// The programs measured, built once.
struct Tools {
    rivet: PathBuf,
    wasmtime_run: PathBuf,
    /// `guests/wasi-hello` built for this machine.
    native_hello: PathBuf,
}

pub fn run(scratch: &Path) -> Result<Vec<Row>, String> {
    let root = workspace_root();
    let tools = Tools::build(&root, scratch)?;
    let hello = root.join("guests/wasi-hello.wasm");
    let exe = scratch.join("hello-rivet");
    let cwasm = scratch.join("hello.cwasm");
    command(
        Command::new(&tools.rivet)
            .arg("exe")
            .arg(&hello)
            .arg("-o")
            .arg(&exe),
    )?;
    command(&mut wasmtime_compile(&tools, &hello, &cwasm))?;
    let mut rows = start_to_exit(&tools, &exe, &cwasm)?;
    rows.push(size(&exe, &tools.native_hello, scratch)?);
    for (workload, guest) in [
        ("rivet exe hello vs wasmtime compile (CPU)", "wasi-hello"),
        (
            "rivet exe wasi-command vs wasmtime compile (CPU)",
            "wasi-command",
        ),
    ] {
        let wasm = root.join(format!("guests/{guest}.wasm"));
        rows.push(build_time(workload, &tools, &wasm, scratch)?);
    }
    let command_wasm = root.join("guests/wasi-command.wasm");
    rows.push(file_heavy(&tools, &command_wasm, scratch)?);
    Ok(rows)
}

impl Tools {
    /// Builds the `rivet` command and `wasmtime-run` in release mode, and the
    /// hello guest's source natively (its own workspace, into `scratch`).
    fn build(root: &Path, scratch: &Path) -> Result<Tools, String> {
        for (package, bin) in [("rivet-wasm-cli", "rivet"), ("rivet-bench", "wasmtime-run")] {
            command(
                Command::new(env!("CARGO"))
                    .args(["build", "--release", "-q", "-p", package, "--bin", bin])
                    .current_dir(root),
            )?;
        }
        let native = scratch.join("native-hello");
        command(
            Command::new(env!("CARGO"))
                .args(["build", "--release", "-q", "--locked", "--manifest-path"])
                .arg(root.join("guests/wasi-hello/Cargo.toml"))
                .arg("--target-dir")
                .arg(&native),
        )?;
        Ok(Tools {
            rivet: root.join("target/release/rivet"),
            wasmtime_run: root.join("target/release/wasmtime-run"),
            native_hello: native.join("release/wasi-hello"),
        })
    }
}

fn wasmtime_compile(tools: &Tools, wasm: &Path, cwasm: &Path) -> Command {
    let mut cmd = Command::new(&tools.wasmtime_run);
    cmd.arg("compile").arg(wasm).arg("-o").arg(cwasm);
    cmd
}

/// Runs `cmd` to its end with no input or output; the hello exits with a
/// status of its own (1 under WASI, 3 natively), so only a signal fails.
fn run_quietly(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    status
        .code()
        .map(drop)
        .ok_or_else(|| format!("{cmd:?} was killed: {status}"))
}

/// Start to exit of the hello, alternating the three contenders: CPU time
/// (the target's) and wall time, medians per run.
fn start_to_exit(tools: &Tools, exe: &Path, cwasm: &Path) -> Result<Vec<Row>, String> {
    let mut wasmtime = Command::new(&tools.wasmtime_run);
    wasmtime.arg("--allow-precompiled").arg(cwasm);
    let mut contenders = [
        Command::new(exe),
        wasmtime,
        Command::new(&tools.native_hello),
    ];
    let mut samples: [Vec<Elapsed>; 3] = Default::default();
    for _ in 0..ROUNDS {
        for (cmd, samples) in contenders.iter_mut().zip(&mut samples) {
            let (result, elapsed) = timing::time(|| (0..RUNS).try_for_each(|_| run_quietly(cmd)));
            result?;
            samples.push(elapsed.per(RUNS));
        }
    }
    let [r, w, n] = samples.map(|s| timing::median_elapsed(&s));
    let cpu = Row {
        workload: "hello command, start to exit: rivet exe vs wasmtime run .cwasm vs native (CPU)",
        unit: Unit::Nanos,
        rivet: Some(nanos(r.cpu)),
        wasmtime: Some(nanos(w.cpu)),
        pooling: None,
        native: Some(nanos(n.cpu)),
        target: "≥ 3, and Rivet ≤ 1.5 × native".to_string(),
        met: Some(w.cpu >= 3 * r.cpu && r.cpu.as_secs_f64() <= 1.5 * n.cpu.as_secs_f64()),
    };
    let wall = Row {
        workload: "hello command, start to exit, wall time",
        rivet: Some(nanos(r.wall)),
        wasmtime: Some(nanos(w.wall)),
        native: Some(nanos(n.wall)),
        target: "–".to_string(),
        met: None,
        ..cpu
    };
    Ok(vec![cpu, wall])
}

/// The stripped size of the hello as a `rivet exe` executable and built
/// natively.
fn size(exe: &Path, native: &Path, scratch: &Path) -> Result<Row, String> {
    let stripped = |binary: &Path, name: &str| -> Result<f64, String> {
        let copy = scratch.join(name);
        std::fs::copy(binary, &copy).map_err(|e| format!("{}: {e}", binary.display()))?;
        command(Command::new("strip").arg(&copy))?;
        let len = std::fs::metadata(&copy).map_err(|e| format!("{}: {e}", copy.display()))?;
        Ok(len.len() as f64)
    };
    Ok(Row {
        workload: "hello command executable, stripped (bytes): rivet exe vs native",
        unit: Unit::Bytes,
        rivet: Some(stripped(exe, "hello-rivet-stripped")?),
        wasmtime: None,
        pooling: None,
        native: Some(stripped(native, "hello-native-stripped")?),
        target: "–".to_string(),
        met: None,
    })
}

/// `rivet exe` on `wasm` against `wasmtime-run compile`, alternating: CPU
/// time of each process (all its threads), medians.
fn build_time(
    workload: &'static str,
    tools: &Tools,
    wasm: &Path,
    scratch: &Path,
) -> Result<Row, String> {
    let (exe, cwasm) = (scratch.join("built"), scratch.join("built.cwasm"));
    let (mut rivet, mut wasmtime) = (Vec::new(), Vec::new());
    for _ in 0..BUILDS {
        let cmd = &mut Command::new(&tools.rivet);
        let (r, t) = timing::time(|| command(cmd.arg("exe").arg(wasm).arg("-o").arg(&exe)));
        r?;
        rivet.push(t.cpu);
        let (r, t) = timing::time(|| command(&mut wasmtime_compile(tools, wasm, &cwasm)));
        r?;
        wasmtime.push(t.cpu);
    }
    let (r, w) = (timing::median(&rivet), timing::median(&wasmtime));
    Ok(Row {
        workload,
        unit: Unit::Nanos,
        rivet: Some(nanos(r)),
        wasmtime: Some(nanos(w)),
        pooling: None,
        native: None,
        target: "–".to_string(),
        met: None,
    })
}

/// The file-heavy command under both contenders, alternating, each given the
/// same host directory as `/sandbox`: CPU time of each whole process
/// (start-up included, a small part of it), medians. The command checks what
/// it read back and removes its file; a failed run fails the workload.
fn file_heavy(tools: &Tools, wasm: &Path, scratch: &Path) -> Result<Row, String> {
    let sandbox = scratch.join("heavy-sandbox");
    std::fs::create_dir_all(&sandbox).map_err(|e| format!("{}: {e}", sandbox.display()))?;
    let dir = format!("{}::/sandbox", sandbox.display());
    let (exe, cwasm) = (scratch.join("command-rivet"), scratch.join("command.cwasm"));
    let mut build = Command::new(&tools.rivet);
    command(
        build
            .arg("exe")
            .arg(wasm)
            .arg("-o")
            .arg(&exe)
            .args(["--dir", &dir]),
    )?;
    command(&mut wasmtime_compile(tools, wasm, &cwasm))?;
    let mut rivet = Command::new(&exe);
    rivet.args(["heavy", "/sandbox"]);
    let mut wasmtime = Command::new(&tools.wasmtime_run);
    wasmtime
        .args(["--dir", &dir, "--allow-precompiled"])
        .arg(&cwasm);
    wasmtime.args(["heavy", "/sandbox"]);
    let (mut r, mut w) = (Vec::new(), Vec::new());
    for _ in 0..HEAVY_ROUNDS {
        for (cmd, samples) in [(&mut rivet, &mut r), (&mut wasmtime, &mut w)] {
            let (result, elapsed) = timing::time(|| command(cmd));
            result?;
            samples.push(elapsed.cpu);
        }
    }
    let (r, w) = (timing::median(&r), timing::median(&w));
    Ok(Row {
        workload: "file-heavy command, 16 MiB through wasi:filesystem in 64 KiB chunks: rivet exe vs wasmtime-wasi (CPU)",
        unit: Unit::Nanos,
        rivet: Some(nanos(r)),
        wasmtime: Some(nanos(w)),
        pooling: None,
        native: None,
        target: "≥ 1.0".to_string(),
        met: Some(w >= r),
    })
}
