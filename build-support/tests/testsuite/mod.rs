//! Where this crate's tests find the conformance suites: in
//! `../shared/testsuite` beside the workspace, located from the crate's own
//! directory. The unit tests (`src/translate/tests`) and the integration tests
//! both include this file, so the lookup is in one place. A missing suite
//! fails the test that needs it, saying where it was expected.

use std::path::{Path, PathBuf};

/// The suites' root: the workspace is a directory beside `shared`.
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testsuite");

/// The suite directory `dir` (`core`, `component-model`, …); a missing one
/// fails the test.
pub fn suite_dir(dir: &str) -> PathBuf {
    find(Path::new(ROOT), dir).unwrap_or_else(|e| panic!("{e}"))
}

/// The `.wast` files of suite directory `dir`, sorted; a missing directory,
/// or one without scripts, fails the test.
pub fn wast_files(dir: &str) -> Vec<PathBuf> {
    let dir = suite_dir(dir);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("listing the conformance suite {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    assert!(!files.is_empty(), "no .wast scripts in {}", dir.display());
    files.sort();
    files
}

/// `root/dir`, or why it cannot be used.
fn find(root: &Path, dir: &str) -> Result<PathBuf, String> {
    let path = root.join(dir);
    match path.is_dir() {
        true => Ok(path),
        false => Err(format!(
            "the conformance suite `{dir}` is missing: expected it at {} \
             (../shared/testsuite beside the workspace)",
            path.display()
        )),
    }
}

#[test]
fn a_missing_suite_is_an_error_saying_where_it_was_expected() {
    let e = find(Path::new("/nonexistent/testsuite"), "core").unwrap_err();
    assert_eq!(
        e,
        "the conformance suite `core` is missing: expected it at \
         /nonexistent/testsuite/core (../shared/testsuite beside the workspace)"
    );
    assert!(find(Path::new(ROOT), "core").is_ok(), "{ROOT}");
}
