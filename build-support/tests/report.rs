//! How a build script fails: `Config::compile` on a bad component prints the
//! error's report on stderr and exits with status 1, as cargo expects of a
//! build script, with no panic message or backtrace. The test runs its own
//! binary again as that build script, with the variables cargo would set.

use std::path::PathBuf;
use std::process::Command;
use truncated::{expected_report, truncated_component};

mod truncated;

/// Set in the child: the component it compiles, as a build script would.
const CHILD_INPUT: &str = "RIVET_REPORT_TEST_INPUT";

#[test]
fn compile_prints_the_report_and_exits_with_status_1() {
    if let Some(input) = std::env::var_os(CHILD_INPUT) {
        rivet_build::Config::new()
            .component("truncated", PathBuf::from(input))
            .compile();
        unreachable!("compile() returned after an error");
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-exit");
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let input = dir.join("truncated.wasm");
    std::fs::write(&input, truncated_component()).unwrap();
    let host = target_lexicon::HOST.to_string();
    let test = "compile_prints_the_report_and_exits_with_status_1";
    let child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_INPUT, &input)
        .env("OUT_DIR", &out_dir)
        .env("TARGET", &host)
        .env("HOST", &host)
        .env("PROFILE", "debug")
        .env("OPT_LEVEL", "0")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert_eq!(child.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert_eq!(stderr, expected_report(&input));
}
