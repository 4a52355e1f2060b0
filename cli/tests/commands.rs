//! `rivet run` and `rivet exe` on the committed WASI command guest
//! (guests/wasi-command): every case whose Wasmtime outputs are recorded in
//! guests/expected/command-*.txt, run the same way and compared byte for
//! byte; one executable run for several of them; and the errors a user can
//! act on.

use rivet_tests::recorded::{self, files_after, Case};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `command-*.txt` case, in name order.
fn cases() -> Vec<Case> {
    recorded::cases("command-").unwrap_or_else(|e| panic!("{e}"))
}

/// The case `name`.
fn case(name: &str) -> Case {
    recorded::case(name).unwrap_or_else(|e| panic!("{e}"))
}

/// The arguments of `case`'s command line after `wasmtime-run`.
fn args(case: &Case) -> &[String] {
    &case.command[1..]
}

/// A fresh working directory holding the guest (a case's [`Case::prepare`]
/// adds the rest of what the recording had).
fn workdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rivet-cmd-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let guest = repo().join("guests/wasi-command.wasm");
    std::fs::copy(&guest, dir.join("wasi-command.wasm"))
        .unwrap_or_else(|e| panic!("{}: {e}", guest.display()));
    dir
}

/// Runs `cmd` in a fresh working directory for `case`, with its setup and
/// stdin, and returns what differs from the recording (empty if nothing).
fn differences(case: &Case, mut cmd: Command, dir: &Path) -> Vec<String> {
    case.prepare(dir).unwrap_or_else(|e| panic!("{e}"));
    let stdin = match &case.stdin {
        Some(file) => {
            let path = recorded::expected_dir().join("inputs").join(file);
            Stdio::from(std::fs::File::open(&path).unwrap_or_else(|e| panic!("{e}")))
        }
        None => Stdio::null(),
    };
    let out = cmd
        .current_dir(dir)
        .stdin(stdin)
        .output()
        .expect("the command starts");
    let diffs = compare(case, &out, dir);
    let _ = std::fs::remove_dir_all(dir);
    diffs
}

fn compare(case: &Case, out: &Output, dir: &Path) -> Vec<String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut diffs = Vec::new();
    let mut differ = |what: &str, want: String, got: String| {
        if want != got {
            diffs.push(format!(
                "{}: {what}: expected {want:?}, got {got:?}",
                case.name
            ));
        }
    };
    let status = out
        .status
        .code()
        .map_or("a signal".into(), |c| c.to_string());
    differ("status", case.status.to_string(), status);
    differ("stdout", text(&case.stdout), text(&out.stdout));
    // After a trap, the runner's own `Error: …` line differs; the guest's
    // lines before it must not.
    let (want, got) = match case.status {
        134 => (guest_lines(&case.stderr), guest_lines(&out.stderr)),
        _ => (Some(&case.stderr[..]), Some(&out.stderr[..])),
    };
    differ(
        "stderr",
        format!("{:?}", want.map(text)),
        format!("{:?}", got.map(text)),
    );
    differ(
        "files after",
        case.files_after.clone(),
        files_after(dir).unwrap(),
    );
    diffs
}

/// What a trapping run printed before its `Error: ` line (`None` without one).
fn guest_lines(stderr: &[u8]) -> Option<&[u8]> {
    let text = std::str::from_utf8(stderr).ok()?;
    let at = match text.rfind("\nError: ") {
        Some(i) => i + 1,
        None => text.starts_with("Error: ").then_some(0)?,
    };
    Some(&stderr[..at])
}

fn rivet() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rivet"));
    cmd.env("RIVET_CACHE_DIR", cache_dir());
    cmd
}

/// `rivet run`'s cache for this test binary.
fn cache_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rivet-cmd-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    })
}

#[test]
fn recorded_cases_run_through_rivet_run_as_under_wasmtime() {
    let cases = cases();
    let mut diffs = Vec::new();
    for case in &cases {
        let mut cmd = rivet();
        cmd.arg("run").args(args(case));
        diffs.extend(differences(case, cmd, &workdir(&case.name)));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // One build per distinct set of options: the cache serves the rest.
    let option_sets: BTreeSet<&[String]> = cases
        .iter()
        .map(|c| {
            let file = args(c).iter().position(|a| a == "wasi-command.wasm");
            &args(c)[..file.unwrap()]
        })
        .collect();
    let built = std::fs::read_dir(cache_dir().join("run")).unwrap();
    assert_eq!(built.count(), option_sets.len(), "{option_sets:?}");
    let _ = std::fs::remove_dir_all(cache_dir().join("run"));
}

/// The cases one executable runs: its grants are the preopen and the two
/// variables these recordings were given (the others ignore them).
const EXE_CASES: &[&str] = &[
    "command-args",
    "command-env",
    "command-files",
    "command-sandbox",
    "command-echo",
    "command-exit-3",
    "command-panic",
];

#[test]
fn one_executable_runs_the_cases_with_the_grants_it_recorded() {
    let dir = workdir("exe-build");
    let exe = dir.join("wasi-command");
    let out = rivet()
        .args(["exe", "wasi-command.wasm", "-o", "wasi-command"])
        .args([
            "--dir",
            "sandbox::/sandbox",
            "--env",
            "GREETING=hello",
            "--env",
            "EMPTY=",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut diffs = Vec::new();
    for name in EXE_CASES {
        let case = case(name);
        let file = args(&case).iter().position(|a| a == "wasi-command.wasm");
        let file = file.unwrap();
        let mut cmd = Command::new(&exe);
        // The process's own environment does not reach the guest: `env`
        // still finds MISSING unset.
        cmd.args(&args(&case)[file + 1..])
            .env("MISSING", "from the process");
        // The preopen `sandbox` is relative: resolved in each case's own
        // working directory, not the one the executable was built in.
        diffs.extend(differences(&case, cmd, &workdir(&format!("exe-{name}"))));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A command (it exports `wasi:cli/run`) that imports `IMPORT` with a
/// function `F`, and calls it.
const COMMAND: &str = r#"
(component
  (import "IMPORT" (instance $h (export "F" (func))))
  (core func $f (canon lower (func $h "F")))
  (core module $m
    (import "host" "f" (func $f))
    (func (export "run") (result i32) (call $f) (i32.const 0)))
  (core instance $hi (export "f" (func $f)))
  (core instance $i (instantiate $m (with "host" (instance $hi))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $r (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $r)))"#;

/// A library: it exports a function and no `wasi:cli/run`.
const LIBRARY: &str = r#"
(component
  (core module $m (func (export "f") (result i32) (i32.const 7)))
  (core instance $i (instantiate $m))
  (func (export "f") (result u32) (canon lift (core func $i "f"))))"#;

/// `rivet exe` on the text `wat` (written to `name.wat`) with `flags`; the
/// failure's stderr.
fn exe_fails(name: &str, wat: &str, flags: &[&str], env: &[(&str, &str)]) -> String {
    let dir = workdir(&format!("err-{name}"));
    std::fs::write(dir.join(format!("{name}.wat")), wat).unwrap();
    let out = rivet()
        .args(["exe", &format!("{name}.wat"), "-o", name])
        .args(flags)
        .envs(env.iter().copied())
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{name}: rivet exe fails");
    assert!(!dir.join(name).exists(), "{name}: no executable left");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn exe_errors_say_what_is_wrong() {
    let with = |import: &str, func: &str| {
        COMMAND
            .replace("IMPORT", import)
            .replace("\"F\"", &format!("\"{func}\""))
    };
    let stderr = exe_fails("library", LIBRARY, &[], &[]);
    assert!(
        stderr.contains("exports no `wasi:cli/run`; use `rivet compile` for libraries"),
        "{stderr}"
    );
    let stderr = exe_fails("custom", &with("my:host/log@1.0.0", "log"), &[], &[]);
    assert!(
        stderr.contains("imports `my:host/log@1.0.0#log`, which no host"),
        "{stderr}"
    );
    let stderr = exe_fails(
        "newer",
        &with("wasi:cli/stdout@0.3.0", "get-stdout"),
        &[],
        &[],
    );
    assert!(
        stderr.contains("`wasi:cli/stdout@0.3.0#get-stdout`: version `0.3.0` is not served"),
        "{stderr}"
    );
    let stderr = exe_fails("module", "(module)", &[], &[]);
    assert!(
        stderr.contains("a core module, not a component"),
        "{stderr}"
    );
    // A command whose imports are all served, for the checks after them.
    let command = with("wasi:cli/environment@0.2.0", "get-arguments");
    let stderr = exe_fails(
        "target",
        &command,
        &["--target", "riscv64gc-unknown-linux-gnu"],
        &[],
    );
    assert!(
        stderr.contains("not supported yet: `rivet exe --target riscv64gc-unknown-linux-gnu`"),
        "{stderr}"
    );
    // This machine's own triple is the one target supported: its baseline.
    let dir = workdir("own-target");
    std::fs::write(dir.join("command.wat"), &command).unwrap();
    let out = rivet()
        .args(["exe", "command.wat", "-o", "command"])
        .args(["--target", env!("RIVET_LAUNCHER_TARGET")])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("command").exists());
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = exe_fails("linker", &command, &[], &[("CC", "/nonexistent/cc")]);
    assert!(
        stderr.contains("`/nonexistent/cc` was not found: install a C compiler"),
        "{stderr}"
    );
}

/// `rivet run` in a fresh working directory with `env` in the process's
/// environment (and a cache of its own, so that the recorded cases' test
/// counts its builds alone); stdout, and the status's success.
fn run_with_env(tag: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = workdir(tag);
    let out = rivet()
        .env("RIVET_CACHE_DIR", cache_dir().join("env"))
        .arg("run")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn variables_come_from_the_process_only_when_granted() {
    let process = [("FROM_PROCESS", "p"), ("GREETING", "from the process")];
    // `--env NAME` passes the process's value; a name it lacks stays unset.
    let args = [
        "--env",
        "FROM_PROCESS",
        "--env",
        "NOT_IN_PROCESS",
        "--env",
        "GIVEN=1",
    ];
    let probe = [
        "wasi-command.wasm",
        "env",
        "FROM_PROCESS",
        "NOT_IN_PROCESS",
        "GIVEN",
        "GREETING",
    ];
    let stdout = run_with_env("env-names", &[&args[..], &probe].concat(), &process);
    assert_eq!(
        stdout,
        "FROM_PROCESS=p\nNOT_IN_PROCESS unset\nGIVEN=1\nGREETING unset\ncount 2\n"
    );
    // `--inherit-env` passes them all, and a value given with `--env` wins.
    let args = ["--inherit-env", "--env", "GREETING=given"];
    let probe = ["wasi-command.wasm", "env", "FROM_PROCESS", "GREETING"];
    let stdout = run_with_env("env-inherit", &[&args[..], &probe].concat(), &process);
    assert!(
        stdout.starts_with("FROM_PROCESS=p\nGREETING=given\ncount "),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(cache_dir().join("env"));
}

/// `--allow-network` is what lets a guest use the network: the guest's lookup
/// of `localhost` succeeds with it, and without it fails with `access-denied`
/// (the guest's `expect` panics, a trap).
#[test]
fn the_network_is_granted_by_its_flag_alone() {
    let guest = repo().join("guests/wasi-sockets.wasm");
    let run = |flags: &[&str]| {
        // A cache of its own, so that the recorded cases' test counts its builds alone.
        let mut cmd = rivet();
        cmd.env("RIVET_CACHE_DIR", cache_dir().join("network"));
        cmd.arg("run").args(flags).arg(&guest).arg("lookup");
        cmd.stdin(Stdio::null()).output().unwrap()
    };
    let granted = run(&["--allow-network"]);
    let stdout = String::from_utf8_lossy(&granted.stdout);
    let stderr = String::from_utf8_lossy(&granted.stderr);
    assert!(granted.status.success(), "{stderr}");
    assert!(
        stdout.contains("localhost includes 127.0.0.1: true"),
        "{stdout}"
    );
    let denied = run(&[]);
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert_eq!(denied.status.code(), Some(134), "{stderr}");
    assert!(stderr.contains("localhost resolves"), "{stderr}");
}
