//! Runs the `rivet` binary on a small component: compile writes an object with
//! the component's descriptor symbol, inspect prints the plan and the adapters,
//! wast runs a script and says which directive failed.

use std::path::PathBuf;
use std::process::{Command, Output};
use truncated::{expected_report, truncated_component};

/// The truncated component and its report, shared with rivet-build's tests.
#[path = "../../build-support/tests/truncated/mod.rs"]
mod truncated;

/// A component exporting `add`, and a second instance calling it through an
/// adapter (so inspect has a generated module to print).
const COMPONENT: &str = r#"
(component
  (component $inner
    (core module $m (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1))))
    (core instance $i (instantiate $m))
    (func (export "add") (param "a" u32) (param "b" u32) (result u32)
      (canon lift (core func $i "add"))))
  (instance $a (instantiate $inner))
  (core func $add (canon lower (func $a "add")))
  (core module $user
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (func (export "twice") (param i32) (result i32)
      (call $add (local.get 0) (local.get 0))))
  (core instance $host (export "add" (func $add)))
  (core instance $u (instantiate $user (with "host" (instance $host))))
  (func (export "twice") (param "x" u32) (result u32)
    (canon lift (core func $u "twice"))))"#;

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rivet-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rivet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rivet"))
        .args(args)
        .output()
        .expect("running rivet")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compiles `COMPONENT` (as `twice.wat` in a directory for `test`) with
/// `flags`; returns the command's output and the object's path.
fn compile_twice(test: &str, flags: &[&str]) -> (Output, PathBuf) {
    let dir = temp_dir(test);
    let input = dir.join("twice.wat");
    std::fs::write(&input, COMPONENT).unwrap();
    let output = dir.join("twice.o");
    let mut args = vec![
        "compile",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    (rivet(&args), output)
}

#[test]
fn compile_with_the_c_backend_puts_code_in_its_section() {
    let (out, output) = compile_twice("compile-c", &["--c-backend"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let object = std::fs::read(&output).unwrap();
    let section = b"rivet_c_rivet_component_twice";
    assert!(object.windows(section.len()).any(|w| w == section));
    // Explicit bounds checks are not supported by it: a clear error.
    let flags = ["--c-backend", "--bounds", "explicit"];
    let (out, _) = compile_twice("compile-c-explicit", &flags);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not supported yet: the C backend"));
}

#[test]
fn compile_writes_an_object_with_the_descriptor_symbol() {
    let (out, output) = compile_twice("compile", &["--bounds", "explicit"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("rivet_component_twice"));
    let object = std::fs::read(&output).unwrap();
    assert!(object.starts_with(b"\x7fELF") || object.len() > 64);
    let has_symbol = object
        .windows(b"rivet_component_twice".len())
        .any(|w| w == b"rivet_component_twice");
    assert!(has_symbol, "the object names its descriptor symbol");
}

#[test]
fn inspect_prints_the_plan_and_adapters() {
    let dir = temp_dir("inspect");
    let input = dir.join("twice.wat");
    std::fs::write(&input, COMPONENT).unwrap();
    let out = rivet(&["inspect", input.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("core instance 0: module"), "{stdout}");
    assert!(stdout.contains("export twice: lift"), "{stdout}");
    assert!(stdout.contains("func(x: u32) -> u32"), "{stdout}");
    assert!(
        stdout.contains("generated adapter module (1 adapters, core instance 1)\n(module"),
        "{stdout}"
    );
    // The user's import of the adapter is called directly.
    assert!(
        stdout.contains("direct call: module 1 import function 0 -> module 2 function"),
        "{stdout}"
    );
}

/// `rivet inspect x.wasm | head`: a closed pipe ends the command as it ends
/// `cat`, by SIGPIPE, with nothing on stderr (no panic).
#[test]
fn a_closed_stdout_ends_inspect_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = temp_dir("pipe");
    let input = dir.join("twice.wat");
    std::fs::write(&input, COMPONENT).unwrap();
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_rivet"))
        .args(["inspect", input.to_str().unwrap()])
        .stdout(writer)
        .output()
        .expect("running rivet");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn errors_are_reported_as_a_build_script_reports_them() {
    let dir = temp_dir("errors");
    let input = dir.join("truncated.wasm");
    std::fs::write(&input, truncated_component()).unwrap();
    let out = rivet(&["compile", input.to_str().unwrap(), "-o", "x.o"]);
    assert_eq!(out.status.code(), Some(1));
    // Word for word what `Config::compile` prints for this component in a
    // build script (rivet-build's tests/report.rs).
    assert_eq!(text(&out.stderr), expected_report(&input));
    let out = rivet(&["compile", "--bounds", "sometimes"]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: rivet: bad configuration\n"),
        "{stderr}"
    );
    assert!(stderr.contains("guard or explicit"), "{stderr}");
}

/// A script: the `add` plug as a component, and one assertion on it.
fn script(expected: u32) -> String {
    format!("{ADD}\n(assert_return (invoke \"add\" (u32.const 2) (u32.const 3)) (u32.const {expected}))\n")
}

#[test]
fn wast_runs_scripts_and_fails_on_a_failed_directive() {
    let dir = temp_dir("wast");
    let good = dir.join("good.wast");
    std::fs::write(&good, script(5)).unwrap();
    let out = rivet(&["wast", "--mode", "guard", good.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
    let bad = dir.join("bad.wast");
    std::fs::write(&bad, script(6)).unwrap();
    let out = rivet(&["wast", bad.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("3 passed, 3 failed")
            && stdout.contains("bad.wast:8 [explicit]")
            && stdout.contains("bad.wast:8 [c]"),
        "every mode: {stdout}"
    );
    let out = rivet(&["wast", "--mode", "both", bad.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("2 passed, 2 failed"),
        "both bounds modes: {stdout}"
    );
    let out = rivet(&["wast"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no files given"));
}

/// A component whose `twice` calls an imported `add`: the socket for `--plug`.
const SOCKET: &str = r#"
(component
  (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
  (core func $add (canon lower (func $add)))
  (core module $m
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (func (export "twice") (param i32) (result i32)
      (call $add (local.get 0) (local.get 0))))
  (core instance $h (export "add" (func $add)))
  (core instance $i (instantiate $m (with "host" (instance $h))))
  (func (export "twice") (param "x" u32) (result u32) (canon lift (core func $i "twice"))))"#;

/// A plug exporting `add`.
const ADD: &str = r#"
(component
  (core module $m (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add"))))"#;

#[test]
fn plugs_compose_before_inspecting_and_compiling() {
    let dir = temp_dir("plug");
    let (socket, add) = (dir.join("socket.wat"), dir.join("add.wat"));
    std::fs::write(&socket, SOCKET).unwrap();
    std::fs::write(&add, ADD).unwrap();
    let (socket, add) = (socket.to_str().unwrap(), add.to_str().unwrap());
    let alone = text(&rivet(&["inspect", socket]).stdout);
    assert!(
        alone.contains("import 0: add func(a: u32, b: u32) -> u32"),
        "{alone}"
    );
    let out = rivet(&["inspect", socket, "--plug", add]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains("import 0:"),
        "the plug satisfies `add`: {stdout}"
    );
    assert!(
        stdout.contains("generated adapter module (1 adapters"),
        "{stdout}"
    );
    let object = dir.join("socket.o");
    let out = rivet(&[
        "compile",
        socket,
        "--plug",
        add,
        "-o",
        object.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = rivet(&["inspect", socket, "--plug"]);
    assert!(text(&out.stderr).contains("--plug options"));
}
