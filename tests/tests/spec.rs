//! The spec-suite conformance gate: runs every core, multi-memory, SIMD,
//! extended-const and component-model script (see `rivet_tests::suites`) in every mode (both bounds
//! modes, and the C backend), fails
//! if a file listed in `ratchet.txt` does not pass completely (skipped directives
//! allowed), and reports (without failing) on the rest.

use rivet_tests::pipeline::{Mode, Pipeline};
use rivet_tests::ratchet;
use rivet_tests::report::{format_file, Totals};
use rivet_tests::runner::run_files;
use rivet_tests::suites;
use std::path::{Path, PathBuf};

fn testsuite_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite");
    assert!(
        root.is_dir(),
        "the spec test suite is missing: expected it at {} (../shared/testsuite beside the workspace)",
        root.display()
    );
    root
}

#[test]
fn spec_suite_ratchet() {
    let root = testsuite_root();
    let files = suites::all_files(&root).expect("listing the suite files");
    let ratchet_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ratchet.txt");
    let listed = ratchet::read(&ratchet_path).expect("reading tests/ratchet.txt");

    // Two files at a time, each compiling its own modules when it needs them.
    let pipeline = Pipeline::new(0).expect("creating the temporary directory");
    let modes = Mode::ALL;
    let reports = run_files(&files, &modes, &pipeline, 2, |report| {
        print!("{}", format_file(report, false));
    });
    let mut totals = Totals::default();
    reports.iter().for_each(|r| totals.add(r));
    println!("{totals}");

    let results: Vec<(String, bool)> = reports
        .iter()
        .map(|r| (r.name.clone(), r.passed()))
        .collect();
    let comparison = ratchet::compare(&listed, &results);
    if !comparison.newly_passing.is_empty() {
        println!(
            "passing but not in ratchet.txt: {}",
            comparison.newly_passing.join(" ")
        );
        if std::env::var_os("RIVET_RATCHET_UPDATE").is_some_and(|v| v == "1") {
            ratchet::add(&ratchet_path, &comparison.newly_passing).expect("updating ratchet.txt");
            println!("added them to {}", ratchet_path.display());
        }
    }
    assert!(
        comparison.regressions.is_empty(),
        "files listed in tests/ratchet.txt no longer pass completely: {}",
        comparison.regressions.join(" ")
    );
}
