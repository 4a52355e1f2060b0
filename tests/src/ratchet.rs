//! The ratchet: suite files known to pass completely in every mode. A listed
//! file that stops passing is a regression; a passing unlisted file may be added.

use std::collections::BTreeSet;
use std::path::Path;

/// The comment the list file starts with.
const HEADER: &str = "\
# Spec files (relative to ../shared/testsuite) that pass in every mode (both bounds modes and the C backend) with
# no failure (directives skipped as component-model async are allowed).
# `cargo test -p rivet-tests` fails if any of them stops passing.
# RIVET_RATCHET_UPDATE=1 adds newly passing files; files are never removed automatically.
";

/// Reads the listed names: one per line; blank lines and `#` comments ignored.
pub fn parse(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The file's contents for `names` (sorted, with the header).
pub fn render(names: &BTreeSet<String>) -> String {
    let mut out = HEADER.to_string();
    for name in names {
        out.push_str(name);
        out.push('\n');
    }
    out
}

/// Reads the ratchet file; a missing file is an empty list.
pub fn read(path: &Path) -> std::io::Result<BTreeSet<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(e),
    }
}

/// How a run compares with the list.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Listed files that failed or did not run at all.
    pub regressions: Vec<String>,
    /// Unlisted files that passed completely.
    pub newly_passing: Vec<String>,
}

/// Compares `results` (file name, passed completely) with the `listed` names.
pub fn compare(listed: &BTreeSet<String>, results: &[(String, bool)]) -> Comparison {
    let mut comparison = Comparison::default();
    for name in listed {
        if !results.iter().any(|(n, passed)| n == name && *passed) {
            comparison.regressions.push(name.clone());
        }
    }
    for (name, passed) in results {
        if *passed && !listed.contains(name) {
            comparison.newly_passing.push(name.clone());
        }
    }
    comparison
}

/// Adds `newly_passing` to the list at `path` (never removes anything).
pub fn add(path: &Path, newly_passing: &[String]) -> std::io::Result<()> {
    let mut names = read(path)?;
    names.extend(newly_passing.iter().cloned());
    std::fs::write(path, render(&names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parse_skips_comments_and_blanks() {
        let text = "# header\n\ncore/i32.wast\n  core/i64.wast  \n# core/f32.wast\n";
        assert_eq!(parse(text), set(&["core/i32.wast", "core/i64.wast"]));
    }

    #[test]
    fn render_round_trips_sorted() {
        let names = set(&["core/b.wast", "core/a.wast"]);
        let text = render(&names);
        assert!(text.starts_with('#'));
        assert!(text.find("core/a.wast").unwrap() < text.find("core/b.wast").unwrap());
        assert_eq!(parse(&text), names);
    }

    #[test]
    fn compare_finds_regressions_and_new_passes() {
        let listed = set(&["core/a.wast", "core/b.wast", "core/gone.wast"]);
        let results = vec![
            ("core/a.wast".to_string(), true),
            ("core/b.wast".to_string(), false),
            ("core/c.wast".to_string(), true),
            ("core/d.wast".to_string(), false),
        ];
        let c = compare(&listed, &results);
        assert_eq!(c.regressions, vec!["core/b.wast", "core/gone.wast"]);
        assert_eq!(c.newly_passing, vec!["core/c.wast"]);
    }

    #[test]
    fn add_never_removes() {
        let path =
            std::env::temp_dir().join(format!("rivet-ratchet-test-{}.txt", std::process::id()));
        std::fs::write(&path, "core/a.wast\n").unwrap();
        add(&path, &["core/c.wast".to_string()]).unwrap();
        let names = read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(names, set(&["core/a.wast", "core/c.wast"]));
        assert!(read(&path).unwrap().is_empty());
    }
}
