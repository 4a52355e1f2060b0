//! Running script files: each on its own big-stack thread, several files at once.

use crate::panic_message;
use crate::pipeline::{Mode, Pipeline};
use crate::script::{run_text, Failure, Outcome};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Stack size of script threads: deep-recursion tests need far more than the
/// default 2 MiB before wasm's own stack limit trips.
pub const SCRIPT_STACK: usize = 32 << 20;

/// The result of running one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The file's name relative to the test suite root (e.g. `core/i32.wast`).
    pub name: String,
    /// What happened.
    pub outcome: Outcome,
}

impl FileReport {
    /// Whether every directive passed.
    pub fn passed(&self) -> bool {
        self.outcome.failures.is_empty()
    }
}

/// Runs one file in each of `modes` on a fresh thread with a [`SCRIPT_STACK`] stack.
pub fn run_file(path: &Path, modes: &[Mode], pipeline: &Pipeline) -> FileReport {
    let name = suite_name(path);
    let failed = |reason: String| Outcome {
        directives: 1,
        failures: vec![Failure {
            line: 0,
            mode: None,
            reason,
        }],
        skipped: Vec::new(),
        notes: Vec::new(),
    };
    let outcome = match std::fs::read_to_string(path) {
        Err(e) => failed(format!("reading {}: {e}", path.display())),
        Ok(text) => std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name(name.clone())
                .stack_size(SCRIPT_STACK)
                .spawn_scoped(scope, || {
                    run_text(&text, modes, multi_memory(path), pipeline)
                });
            match thread {
                Err(e) => failed(format!("spawning the script thread: {e}")),
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|p| failed(format!("runner panicked: {}", panic_message(&*p)))),
            }
        }),
    };
    FileReport { name, outcome }
}

/// Runs `paths` on `workers` threads, calling `done` as each file finishes, and
/// returns the reports in the order of `paths`.
pub fn run_files(
    paths: &[PathBuf],
    modes: &[Mode],
    pipeline: &Pipeline,
    workers: usize,
    done: impl Fn(&FileReport) + Sync,
) -> Vec<FileReport> {
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(vec![None; paths.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else { return };
                let report = run_file(path, modes, pipeline);
                done(&report);
                reports.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(report);
            });
        }
    });
    let reports = reports.into_inner().unwrap_or_else(|e| e.into_inner());
    reports.into_iter().flatten().collect()
}

/// Whether a script is run with multi-memory accepted: all but the WebAssembly
/// 2.0 suite (files in a `core` directory), whose directives expect a second
/// memory to be refused.
pub fn multi_memory(path: &Path) -> bool {
    let parent = path.parent().and_then(Path::file_name);
    parent.is_none_or(|dir| dir != "core")
}

/// The name of a suite file as the ratchet lists it: the part after a `testsuite`
/// directory if there is one, else the parent directory and the file name.
pub fn suite_name(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let start = match parts.iter().rposition(|p| p == "testsuite") {
        Some(i) => i + 1,
        None => parts.len().saturating_sub(2),
    };
    parts[start..].join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_names() {
        assert_eq!(
            suite_name(Path::new("../shared/testsuite/core/i32.wast")),
            "core/i32.wast"
        );
        assert_eq!(
            suite_name(Path::new("/x/testsuite/multi-memory/a.wast")),
            "multi-memory/a.wast"
        );
        assert_eq!(suite_name(Path::new("some/dir/t.wast")), "dir/t.wast");
        assert_eq!(suite_name(Path::new("t.wast")), "t.wast");
    }

    #[test]
    fn missing_files_fail_clearly() {
        let pipeline = Pipeline::new(0).unwrap();
        let report = run_file(Path::new("/nonexistent/x.wast"), &[Mode::Guard], &pipeline);
        assert!(!report.passed());
        assert!(report.outcome.failures[0].reason.contains("reading"));
    }

    #[test]
    fn files_run_in_parallel_and_report_in_order() {
        let dir = std::env::temp_dir().join(format!("rivet-runner-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths: Vec<PathBuf> = (0..4)
            .map(|i| {
                let p = dir.join(format!("f{i}.wast"));
                // File i has i+1 passing directives (malformed modules).
                let body = "(assert_malformed (module quote \"(\") \"x\")\n".repeat(i + 1);
                std::fs::write(&p, body).unwrap();
                p
            })
            .collect();
        let pipeline = Pipeline::new(0).unwrap();
        let seen = AtomicUsize::new(0);
        let reports = run_files(&paths, &[Mode::Guard], &pipeline, 2, |_| {
            seen.fetch_add(1, Ordering::Relaxed);
        });
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(seen.load(Ordering::Relaxed), 4);
        let counts: Vec<usize> = reports.iter().map(|r| r.outcome.directives).collect();
        assert_eq!(counts, vec![1, 2, 3, 4]);
        assert!(reports.iter().all(FileReport::passed));
    }
}
