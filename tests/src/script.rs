//! Running a whole script: parse, encode its modules, compile them ahead, then run
//! every directive in each requested mode.

use crate::panic_message;
use crate::pipeline::{Mode, Pipeline, Target};
use crate::prepare::{expected_to_compile, prepare, Prepared};
use crate::session::{Note, Session};
use std::panic::{catch_unwind, AssertUnwindSafe};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{Wast, WastDirective};

/// A directive that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// 1-based line of the directive in the script.
    pub line: usize,
    /// The mode it failed in (`None`: before any mode ran, e.g. a parse error).
    pub mode: Option<Mode>,
    /// What went wrong.
    pub reason: String,
}

/// The result of running one script.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Directives run, counted once per mode.
    pub directives: usize,
    /// Directives that failed.
    pub failures: Vec<Failure>,
    /// Directives skipped (see [`SKIP_MARKER`]), with the reason.
    pub skipped: Vec<Failure>,
    /// Remarks on directives that passed (why a module was rejected, …).
    pub notes: Vec<Failure>,
}

impl Outcome {
    /// Records the result of one directive run at `line` in `mode`: a note, a
    /// skip (a failure that [`is_skip`]), or a failure.
    pub fn record(&mut self, line: usize, mode: Mode, result: Result<Note, String>) {
        let entry = |reason| Failure {
            line,
            mode: Some(mode),
            reason,
        };
        match result {
            Ok(None) => {}
            Ok(Some(note)) => self.notes.push(entry(note)),
            Err(reason) if is_skip(&reason) => self.skipped.push(entry(reason)),
            Err(reason) => self.failures.push(entry(reason)),
        }
    }

    /// Directives that passed: neither failed nor skipped.
    pub fn passed(&self) -> usize {
        self.directives
            .saturating_sub(self.failures.len() + self.skipped.len())
    }
}

/// The text of the build error for components that use component-model async,
/// which Rivet leaves out of scope. A directive that fails with it (its component
/// was refused, or it uses an instance of such a component) is skipped: neither
/// passed nor failed. No other failure is ever skipped.
pub const SKIP_MARKER: &str = "not supported: component-model async";

/// Whether a failure is one that counts as skipped.
pub fn is_skip(reason: &str) -> bool {
    reason.contains(SKIP_MARKER)
}

/// Runs the script `text` in each of `modes`, compiling through `pipeline`, with
/// multi-memory accepted or not.
pub fn run_text(text: &str, modes: &[Mode], multi_memory: bool, pipeline: &Pipeline) -> Outcome {
    // The text format allows any character in strings (names.wast tests bidi
    // controls in export names); the wast crate rejects them unless told not to.
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(buf) => buf,
        Err(e) => return parse_failure(text, &e),
    };
    let mut wast = match parser::parse::<Wast<'_>>(&buf) {
        Ok(wast) => wast,
        Err(e) => return parse_failure(text, &e),
    };
    let prepared = prepare(&mut wast.directives);
    let targets = modes.iter().map(|&mode| Target { mode, multi_memory });
    for target in targets.clone() {
        for (directive, module) in wast.directives.iter().zip(&prepared) {
            if let Some((kind, bytes)) = module.as_ref().and_then(Prepared::binary) {
                if expected_to_compile(directive) {
                    pipeline.prefetch(kind, bytes, target);
                }
            }
        }
    }
    let mut outcome = Outcome::default();
    for target in targets {
        run_mode(
            text,
            &wast.directives,
            &prepared,
            target,
            pipeline,
            &mut outcome,
        );
    }
    outcome
}

/// Runs every directive in one fresh store.
fn run_mode(
    text: &str,
    directives: &[WastDirective<'_>],
    prepared: &[Option<Prepared>],
    target: Target,
    pipeline: &Pipeline,
    outcome: &mut Outcome,
) {
    let mode = target.mode;
    outcome.directives += directives.len();
    let line = |d: &WastDirective<'_>| d.span().linecol_in(text).0 + 1;
    let mut session = match Session::new(target, pipeline) {
        Ok(session) => session,
        Err(reason) => {
            let failures = directives.iter().map(|d| Failure {
                line: line(d),
                mode: Some(mode),
                reason: reason.clone(),
            });
            outcome.failures.extend(failures);
            return;
        }
    };
    for (directive, module) in directives.iter().zip(prepared) {
        let result = catch_unwind(AssertUnwindSafe(|| session.run(directive, module.as_ref())))
            .unwrap_or_else(|p| Err(format!("panicked: {}", panic_message(&*p))));
        outcome.record(line(directive), mode, result);
    }
}

fn parse_failure(text: &str, e: &wast::Error) -> Outcome {
    let line = e.span().linecol_in(text).0 + 1;
    Outcome {
        directives: 1,
        failures: vec![Failure {
            line,
            mode: None,
            reason: format!("parse error: {}", e.message()),
        }],
        skipped: Vec::new(),
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_are_one_failure_with_a_line() {
        let pipeline = Pipeline::new(0).unwrap();
        let outcome = run_text("(module)\n\n(bogus)", &[Mode::Guard], true, &pipeline);
        assert_eq!(outcome.directives, 1);
        assert_eq!(outcome.failures.len(), 1);
        assert_eq!(outcome.failures[0].line, 3);
        assert!(outcome.failures[0].reason.starts_with("parse error"));
    }

    #[test]
    fn component_directives_without_a_compiler() {
        let pipeline = Pipeline::new(0).unwrap();
        let text = r#"
            (assert_malformed (component quote "(core module") "unexpected")
            (component instance $i $Missing)
            (assert_return (invoke $i "f") (str.const "x"))
            (assert_invalid (component binary "\00asm\0d\00\01\00\ff") "section")
        "#;
        let outcome = run_text(text, &[Mode::Guard], true, &pipeline);
        assert_eq!(outcome.directives, 4);
        assert!(outcome.skipped.is_empty());
        let failures: Vec<(usize, &str)> = outcome
            .failures
            .iter()
            .map(|f| (f.line, f.reason.as_str()))
            .collect();
        assert_eq!(
            failures,
            vec![
                (3, "no module or component definition $Missing"),
                (4, "no instance $i")
            ]
        );
        assert_eq!(outcome.notes.len(), 2);
        assert!(outcome.notes[0].reason.starts_with("text rejected"));
        assert!(outcome.notes[1]
            .reason
            .starts_with("rejected by validation"));
    }

    #[test]
    fn only_async_refusals_are_skipped() {
        let mut outcome = Outcome {
            directives: 5,
            ..Outcome::default()
        };
        let guard = Mode::Guard;
        outcome.record(1, guard, Ok(None));
        outcome.record(2, guard, Ok(Some("rejected by validation".into())));
        let refusal = format!("compile: at offset 0x2a: {SKIP_MARKER} (`async` lift)");
        outcome.record(3, guard, Err(refusal));
        outcome.record(4, guard, Err("not supported yet: something else".into()));
        outcome.record(5, guard, Err("not supported: component-model".into()));
        assert_eq!(outcome.notes.len(), 1);
        assert_eq!(outcome.skipped.len(), 1);
        assert_eq!(outcome.skipped[0].line, 3);
        let failed: Vec<usize> = outcome.failures.iter().map(|f| f.line).collect();
        assert_eq!(failed, vec![4, 5]);
        assert_eq!(outcome.passed(), 2);
    }

    #[test]
    fn directives_are_counted_per_mode() {
        let pipeline = Pipeline::new(0).unwrap();
        let text = "(assert_malformed (module quote \"(func\") \"unexpected end\")\n(thread $t)";
        let both = [Mode::Guard, Mode::Explicit];
        let outcome = run_text(text, &both, true, &pipeline);
        assert_eq!(outcome.directives, 4);
        // The malformed module passes (with a note); the thread is unsupported.
        assert_eq!(outcome.notes.len(), 2);
        assert_eq!(outcome.failures.len(), 2);
        assert!(outcome
            .failures
            .iter()
            .all(|f| f.line == 2 && f.reason.contains("not supported yet")));
    }
}
