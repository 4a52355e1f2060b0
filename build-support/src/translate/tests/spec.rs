//! The main correctness gate: every valid module of the core, multi-memory
//! and SIMD spec suites translates and compiles, in both bounds modes.

use super::testsuite::wast_files;
use super::{compile_all, host_isa, module_env};
use cranelift_codegen::isa::OwnedTargetIsa;
use rivet_descriptor::BoundsMode;
use std::path::Path;
use wasmparser::{Validator, WasmFeatures};

/// Counts of the spec-suite run.
#[derive(Default, Debug)]
struct SuiteCounts {
    modules: usize,
    functions: usize,
    skipped: usize,
    failures: Vec<String>,
}

/// Translates and compiles one binary module of a script.
fn check_module(wasm: &[u8], isa: &OwnedTargetIsa, counts: &mut SuiteCounts, what: &str) {
    let features = WasmFeatures::WASM2 | WasmFeatures::MULTI_MEMORY;
    if Validator::new_with_features(features)
        .validate_all(wasm)
        .is_err()
    {
        counts.skipped += 1;
        return;
    }
    for bounds in [BoundsMode::Guard, BoundsMode::Explicit] {
        let env = match module_env(wasm, isa, bounds) {
            Ok(Some(env)) => env,
            Ok(None) => return counts.skipped += 1,
            Err(e) => return counts.failures.push(format!("{what}: {e}")),
        };
        match compile_all(&env) {
            Ok(n) => {
                counts.modules += 1;
                counts.functions += n;
            }
            Err(e) => counts.failures.push(format!("{what} ({bounds:?}): {e}")),
        }
    }
}

/// Every module of one `.wast` script.
fn check_script(path: &Path, isa: &OwnedTargetIsa, counts: &mut SuiteCounts) {
    use wast::{QuoteWat, WastDirective, WastExecute};
    let text = std::fs::read_to_string(path).unwrap();
    let mut lexer = wast::lexer::Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buf = wast::parser::ParseBuffer::new_with_lexer(lexer).unwrap();
    let script: wast::Wast = wast::parser::parse(&buf).unwrap();
    for (i, directive) in script.directives.into_iter().enumerate() {
        let mut module = match directive {
            WastDirective::Module(m) | WastDirective::ModuleDefinition(m) => m,
            WastDirective::AssertTrap {
                exec: WastExecute::Wat(w),
                ..
            }
            | WastDirective::AssertUnlinkable { module: w, .. } => QuoteWat::Wat(w),
            _ => continue,
        };
        let Ok(wasm) = module.encode() else {
            counts.skipped += 1;
            continue;
        };
        let what = format!("{} directive {i}", path.display());
        check_module(&wasm, isa, counts, &what);
    }
}

/// The main correctness gate: every function of every valid module of the
/// core, multi-memory and SIMD spec suites translates and compiles.
#[test]
fn spec_suite_modules_compile() {
    let isa = host_isa();
    let mut counts = SuiteCounts::default();
    for dir in ["core", "multi-memory", "simd"] {
        for path in wast_files(dir) {
            check_script(&path, &isa, &mut counts);
        }
    }
    eprintln!(
        "spec suite, both bounds modes: {} module compilations ({} functions), \
         {} skipped",
        counts.modules, counts.functions, counts.skipped
    );
    assert!(counts.failures.is_empty(), "{:#?}", counts.failures);
    assert!(counts.modules > 3500, "{counts:?}");
}
