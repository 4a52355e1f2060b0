//! The runner's output: one line per file, its failures, and a closing total.

use crate::runner::FileReport;
use crate::script::Failure;
use std::fmt::Write;

/// Failures printed per file; the rest are counted only, so one broken feature
/// does not bury the summary.
pub const MAX_PRINTED_FAILURES: usize = 40;

/// Directive totals over several files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Totals {
    /// Adds one file's counts.
    pub fn add(&mut self, report: &FileReport) {
        self.failed += report.outcome.failures.len();
        self.skipped += report.outcome.skipped.len();
        self.passed += report.outcome.passed();
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// The report of one file: `PASS name (N directives, K skipped)` or `FAIL name: X
/// of N failed, K skipped` and the failures; with `verbose`, also the notes of
/// passing directives and the reasons of skipped ones.
pub fn format_file(report: &FileReport, verbose: bool) -> String {
    let outcome = &report.outcome;
    let mut out = String::new();
    let skipped = outcome.skipped.len();
    if report.passed() {
        let _ = writeln!(
            out,
            "PASS {} ({} directives, {skipped} skipped)",
            report.name, outcome.directives
        );
    } else {
        let _ = writeln!(
            out,
            "FAIL {}: {} of {} failed, {skipped} skipped",
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
        for skip in &outcome.skipped {
            let _ = writeln!(out, "  skipped {}", format_failure(&report.name, skip));
        }
    }
    out
}

/// `name:line [mode]: reason`.
pub fn format_failure(name: &str, failure: &Failure) -> String {
    let mode = failure
        .mode
        .map_or(String::new(), |m| format!(" [{}]", m.name()));
    format!("{name}:{}{mode}: {}", failure.line, failure.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Mode;
    use crate::script::Outcome;

    fn failure(i: usize) -> Failure {
        Failure {
            line: i + 1,
            mode: Some(Mode::Explicit),
            reason: format!("r{i}"),
        }
    }

    fn report(directives: usize, failures: usize) -> FileReport {
        skipping(directives, failures, 0)
    }

    fn skipping(directives: usize, failures: usize, skipped: usize) -> FileReport {
        FileReport {
            name: "core/x.wast".into(),
            outcome: Outcome {
                directives,
                failures: (0..failures).map(failure).collect(),
                skipped: (0..skipped).map(failure).collect(),
                notes: vec![],
            },
        }
    }

    #[test]
    fn passing_file_line() {
        assert_eq!(
            format_file(&report(12, 0), false),
            "PASS core/x.wast (12 directives, 0 skipped)\n"
        );
    }

    #[test]
    fn skipped_directives_are_counted_and_shown_when_verbose() {
        let file = skipping(12, 0, 3);
        assert!(file.passed());
        assert_eq!(
            format_file(&file, false),
            "PASS core/x.wast (12 directives, 3 skipped)\n"
        );
        let verbose = format_file(&file, true);
        assert_eq!(verbose.lines().count(), 4);
        assert!(verbose.contains("  skipped core/x.wast:3 [explicit]: r2"));
        let failing = format_file(&skipping(12, 1, 3), false);
        assert!(failing.starts_with("FAIL core/x.wast: 1 of 12 failed, 3 skipped\n"));
    }

    #[test]
    fn failing_file_lists_failures_with_lines() {
        let text = format_file(&report(10, 2), false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "FAIL core/x.wast: 2 of 10 failed, 0 skipped");
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
        assert_eq!(totals.to_string(), "0 passed, 0 failed, 0 skipped");
        totals.add(&report(10, 2));
        totals.add(&report(5, 0));
        totals.add(&skipping(6, 1, 4));
        assert_eq!(
            totals,
            Totals {
                passed: 14,
                failed: 3,
                skipped: 4
            }
        );
        assert_eq!(totals.to_string(), "14 passed, 3 failed, 4 skipped");
    }
}
