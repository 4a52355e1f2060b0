//! The runner's output: one line per file, its failures, and a closing total.

use crate::runner::FileReport;
use crate::script::Failure;
use rivet::BoundsMode;
use std::fmt::Write;

/// Failures printed per file; the rest are counted only, so one broken feature
/// does not bury the summary.
pub const MAX_PRINTED_FAILURES: usize = 40;

/// Directive totals over several files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
}

impl Totals {
    /// Adds one file's counts.
    pub fn add(&mut self, report: &FileReport) {
        let failed = report.outcome.failures.len();
        self.failed += failed;
        self.passed += report.outcome.directives.saturating_sub(failed);
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// The report of one file: `PASS name (N directives)` or `FAIL name: X of N
/// failed` and the failures; with `verbose`, also the notes of passing directives.
pub fn format_file(report: &FileReport, verbose: bool) -> String {
    let outcome = &report.outcome;
    let mut out = String::new();
    if report.passed() {
        let _ = writeln!(
            out,
            "PASS {} ({} directives)",
            report.name, outcome.directives
        );
    } else {
        let _ = writeln!(
            out,
            "FAIL {}: {} of {} failed",
            report.name,
            outcome.failures.len(),
            outcome.directives
        );
        for failure in outcome.failures.iter().take(MAX_PRINTED_FAILURES) {
            let _ = writeln!(out, "  {}", format_failure(&report.name, failure));
        }
        if outcome.failures.len() > MAX_PRINTED_FAILURES {
            let more = outcome.failures.len() - MAX_PRINTED_FAILURES;
            let _ = writeln!(out, "  ... and {more} more failures");
        }
    }
    if verbose {
        for note in &outcome.notes {
            let _ = writeln!(out, "  note {}", format_failure(&report.name, note));
        }
    }
    out
}

/// `name:line [mode]: reason`.
pub fn format_failure(name: &str, failure: &Failure) -> String {
    let mode = match failure.mode {
        Some(BoundsMode::Guard) => " [guard]",
        Some(BoundsMode::Explicit) => " [explicit]",
        None => "",
    };
    format!("{name}:{}{mode}: {}", failure.line, failure.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Outcome;

    fn report(directives: usize, failures: usize) -> FileReport {
        let failure = |i| Failure {
            line: i + 1,
            mode: Some(BoundsMode::Explicit),
            reason: format!("r{i}"),
        };
        FileReport {
            name: "core/x.wast".into(),
            outcome: Outcome {
                directives,
                failures: (0..failures).map(failure).collect(),
                notes: vec![],
            },
        }
    }

    #[test]
    fn passing_file_line() {
        assert_eq!(
            format_file(&report(12, 0), false),
            "PASS core/x.wast (12 directives)\n"
        );
    }

    #[test]
    fn failing_file_lists_failures_with_lines() {
        let text = format_file(&report(10, 2), false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "FAIL core/x.wast: 2 of 10 failed");
        assert_eq!(lines[1], "  core/x.wast:1 [explicit]: r0");
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn long_failure_lists_are_cut() {
        let text = format_file(&report(100, 50), false);
        assert_eq!(text.lines().count(), 1 + MAX_PRINTED_FAILURES + 1);
        assert!(text.ends_with("... and 10 more failures\n"));
    }

    #[test]
    fn totals_count_directives() {
        let mut totals = Totals::default();
        totals.add(&report(10, 2));
        totals.add(&report(5, 0));
        assert_eq!(
            totals,
            Totals {
                passed: 13,
                failed: 2
            }
        );
        assert_eq!(totals.to_string(), "13 passed, 2 failed");
    }
}
