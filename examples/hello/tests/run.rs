//! Runs the example binary and checks what it prints: the guest's greeting, and
//! the guest's trap reported as an error while the host carries on.

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hello"))
        .args(args)
        .output()
        .expect("running the hello example");
    assert!(
        out.status.success(),
        "hello failed: {}",
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
