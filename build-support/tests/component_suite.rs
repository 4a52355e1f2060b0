//! Runs `validate_component` over every component of the component model's
//! reference tests (all but `async/` and the files `nyi.txt` lists): it must never
//! panic, and it reports how many components validate and flatten, and why the
//! others are rejected, against what each directive expects. Those that flatten
//! are compiled too.

use rivet_build::{compile_component, is_component, validate_component, Error, ErrorKind, Options};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use wast::{QuoteWat, WastDirective, WastExecute};

mod testsuite;

/// What a directive expects of its component.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Expect {
    /// A component definition, an assert_trap or assert_unlinkable: valid.
    Valid,
    /// assert_invalid or assert_malformed.
    Invalid,
}

#[derive(Default)]
struct Tally {
    /// (expectation, outcome) → count.
    outcomes: BTreeMap<(Expect, String), usize>,
    panics: Vec<String>,
    /// Valid components Rivet rejects, with where, for the report.
    rejected_valid: Vec<String>,
    /// Invalid components Rivet accepts.
    accepted_invalid: Vec<String>,
}

/// The scripts of the checked directories, less those `nyi.txt` lists.
fn scripts() -> Vec<PathBuf> {
    let suite = testsuite::suite_dir("component-model");
    let nyi = suite.join("nyi.txt");
    let nyi =
        std::fs::read_to_string(&nyi).unwrap_or_else(|e| panic!("reading {}: {e}", nyi.display()));
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let skipped: Vec<PathBuf> = nyi
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| canonical(&suite.join(l.trim())))
        .collect();
    ["binary", "linking", "resources", "validation", "values"]
        .iter()
        .flat_map(|dir| testsuite::wast_files(&format!("component-model/{dir}")))
        .filter(|path| !skipped.contains(&canonical(path)))
        .collect()
}

/// The reason of a rejection, without offsets, for grouping: each
/// unsupported feature on its own, the other kinds by kind.
fn reason(e: &Error) -> String {
    match e.kind() {
        ErrorKind::Unsupported => format!("rejected: {}", e.message()),
        kind => format!("rejected: {kind}"),
    }
}

fn check_script(path: &Path, tally: &mut Tally) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lexer = wast::lexer::Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else {
        tally
            .panics
            .push(format!("{}: lexing failed", path.display()));
        return;
    };
    let script: wast::Wast = match wast::parser::parse(&buf) {
        Ok(script) => script,
        Err(e) => {
            tally
                .panics
                .push(format!("{}: parsing failed: {e}", path.display()));
            return;
        }
    };
    let options = Options::default();
    for (i, directive) in script.directives.into_iter().enumerate() {
        let (mut module, expect) = match directive {
            WastDirective::Module(m) | WastDirective::ModuleDefinition(m) => (m, Expect::Valid),
            WastDirective::AssertTrap {
                exec: WastExecute::Wat(w),
                ..
            }
            | WastDirective::AssertUnlinkable { module: w, .. } => {
                (QuoteWat::Wat(w), Expect::Valid)
            }
            WastDirective::AssertInvalid { module, .. }
            | WastDirective::AssertMalformed { module, .. } => (module, Expect::Invalid),
            _ => continue,
        };
        let what = format!("{}: directive {i}", path.display());
        let Ok(wasm) = module.encode() else {
            // Malformed text: the text parser already rejected it.
            *tally
                .outcomes
                .entry((expect, "text does not parse".to_string()))
                .or_default() += 1;
            continue;
        };
        if !is_component(&wasm) {
            continue;
        }
        let result = catch_unwind(AssertUnwindSafe(|| validate_component(&wasm, &options)));
        let outcome = match result {
            Err(_) => {
                tally.panics.push(what);
                continue;
            }
            Ok(Ok(())) => {
                if expect == Expect::Invalid {
                    tally.accepted_invalid.push(what);
                    continue;
                }
                compile(&wasm, &what, tally)
            }
            Ok(Err(e)) => {
                assert!(
                    e.offset().is_some() || e.kind() == ErrorKind::Unsupported,
                    "{what}: {e}"
                );
                if expect == Expect::Valid {
                    tally.rejected_valid.push(format!("{what}: {e}"));
                }
                reason(&e)
            }
        };
        *tally.outcomes.entry((expect, outcome)).or_default() += 1;
    }
}

/// Compiles a component that flattened: the outcome is "ok" when it compiles
/// to an object, else the reason it does not.
fn compile(wasm: &[u8], what: &str, tally: &mut Tally) -> String {
    let result = catch_unwind(AssertUnwindSafe(|| {
        compile_component(wasm, &Options::default())
    }));
    match result {
        Err(_) => {
            tally.panics.push(format!("{what}: compile"));
            "panic".to_string()
        }
        Ok(Ok(object)) => {
            assert!(!object.is_empty());
            "ok".to_string()
        }
        Ok(Err(e)) => {
            tally.rejected_valid.push(format!("{what}: compile: {e}"));
            format!("flattens, compile {}", reason(&e))
        }
    }
}

#[test]
fn reference_components_validate_without_panics() {
    let files = scripts();
    let mut tally = Tally::default();
    for file in &files {
        check_script(file, &mut tally);
    }
    eprintln!("{} scripts", files.len());
    for ((expect, outcome), count) in &tally.outcomes {
        eprintln!("{expect:?} -> {outcome}: {count}");
    }
    for line in &tally.rejected_valid {
        eprintln!("valid but rejected: {line}");
    }
    for line in &tally.accepted_invalid {
        eprintln!("invalid but accepted: {line}");
    }
    assert!(tally.panics.is_empty(), "panics: {:#?}", tally.panics);
    let ok = tally.outcomes.get(&(Expect::Valid, "ok".to_string()));
    assert!(ok.is_some_and(|n| *n > 0));
}
