//! Runs the example binary and checks what it prints: the guest's greeting, and
//! the guest's trap reported as an error while the host carries on. Builds and
//! runs the same host without `std` (`examples/hello-nostd`) too.

use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> String {
    output(Command::new(env!("CARGO_BIN_EXE_hello")).args(args))
}

/// What `cmd` printed to stdout; fails the test if it did not succeed.
fn output(cmd: &mut Command) -> String {
    let out = cmd.output().expect("running a command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the output is UTF-8")
}

#[test]
fn greets_and_reports_the_trap() {
    assert_eq!(
        run(&[]),
        "greet: Hello, Rivet!\nfail: the guest trapped: unreachable\n"
    );
}

#[test]
fn greets_any_name() {
    let out = run(&["wörld"]);
    assert!(out.starts_with("greet: Hello, wörld!\n"), "{out}");
}

/// The `no_std` host is its own workspace (it needs `panic = "abort"`), so
/// `cargo test` builds it here: the runtime and the generated bindings must
/// keep compiling without `std`, and the result must behave the same.
#[test]
fn the_no_std_host_prints_the_same() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hello-nostd/Cargo.toml");
    output(
        Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--locked", "--manifest-path"])
            .arg(&manifest),
    );
    let binary = manifest.with_file_name("target/debug/hello-nostd");
    assert_eq!(
        output(&mut Command::new(&binary)),
        "greet: Hello, Rivet!\nfail: the guest trapped: unreachable\n"
    );
    let out = output(Command::new(&binary).arg("wörld"));
    assert!(out.starts_with("greet: Hello, wörld!\n"), "{out}");
}
