//! The recorded Wasmtime outcomes of a fixed-seed batch, which the CI smoke
//! compares Rivet with so that CI never builds Wasmtime.
//!
//! Format: a `#` comment header, then per case a line `case SEED MODULE-FNV`
//! followed by its outcome's lines, each indented by two spaces. The module's
//! hash makes a changed generator fail loudly rather than compare Rivet's run
//! of one module with Wasmtime's run of another.

use super::outcome::Outcome;
use super::value::fnv1a;
use std::fmt::Write;

/// The command that rewrites the recording, for error messages.
pub const RECORD_COMMAND: &str =
    "cargo run --release -p rivet-difftest -- record > tests/differential/wasmtime.txt";

/// The command that rewrites the recording of component cases.
pub const RECORD_COMPONENTS_COMMAND: &str = "cargo run --release -p rivet-difftest -- \
     record --components > tests/differential/wasmtime-components.txt";

/// One recorded case.
#[derive(Debug, PartialEq, Eq)]
pub struct Recorded {
    pub seed: u64,
    /// FNV-1a of the module's bytes.
    pub module_hash: u64,
    pub outcome: Outcome,
}

impl Recorded {
    pub fn new(seed: u64, wasm: &[u8], outcome: Outcome) -> Recorded {
        Recorded {
            seed,
            module_hash: module_hash(wasm),
            outcome,
        }
    }

    /// Checks that `wasm`, regenerated from the seed, is the module recorded.
    pub fn check_module(&self, wasm: &[u8]) -> Result<(), String> {
        self.check_hash(module_hash(wasm), RECORD_COMMAND)
    }

    /// Checks that the case regenerated from the seed has the digest
    /// recorded; `command` re-records.
    pub fn check_hash(&self, hash: u64, command: &str) -> Result<(), String> {
        if hash == self.module_hash {
            Ok(())
        } else {
            Err(format!(
                "seed {}: the generator now makes another case (fnv {hash:016x}, recorded \
                 {:016x}); re-record with `{command}`",
                self.seed, self.module_hash
            ))
        }
    }
}

pub fn module_hash(wasm: &[u8]) -> u64 {
    fnv1a(wasm.iter().copied())
}

/// The text of a recording: `header` (each line becomes a comment), then the cases.
pub fn write(header: &str, cases: &[Recorded]) -> String {
    let mut text = String::new();
    for line in header.lines() {
        let _ = writeln!(text, "# {line}");
    }
    for case in cases {
        let _ = writeln!(text, "case {} {:016x}", case.seed, case.module_hash);
        for line in &case.outcome.lines {
            let _ = writeln!(text, "  {line}");
        }
    }
    text
}

/// Reads the recording at `path`, which must hold a case: what the CI
/// smoke tests compare with.
pub fn read(path: &str) -> Result<Vec<Recorded>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    let cases = parse(&text).map_err(|e| format!("{path}: {e}"))?;
    match cases.is_empty() {
        true => Err(format!("{path} records no case")),
        false => Ok(cases),
    }
}

/// Reads a recording; an error names the line that is wrong.
pub fn parse(text: &str) -> Result<Vec<Recorded>, String> {
    let mut cases: Vec<Recorded> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let wrong = |what: &str| format!("recording line {}: {what}: `{line}`", i + 1);
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(outcome_line) = line.strip_prefix("  ") {
            let case = cases
                .last_mut()
                .ok_or_else(|| wrong("outcome line before any case"))?;
            case.outcome.lines.push(outcome_line.to_string());
            continue;
        }
        let fields: Vec<&str> = line.split(' ').collect();
        let ["case", seed, hash] = fields[..] else {
            return Err(wrong("expected `case SEED HASH`"));
        };
        cases.push(Recorded {
            seed: seed.parse().map_err(|_| wrong("bad seed"))?,
            module_hash: u64::from_str_radix(hash, 16).map_err(|_| wrong("bad module hash"))?,
            outcome: Outcome::default(),
        });
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_reads_back_as_written() {
        let outcome = Outcome {
            lines: vec!["instantiate: ok".into(), "call f: i32:1".into()],
        };
        let cases = vec![Recorded::new(5, b"\0asm", outcome)];
        let text = write("made by a test\nsecond line", &cases);
        assert!(
            text.starts_with("# made by a test\n# second line\ncase 5 "),
            "{text}"
        );
        assert_eq!(parse(&text).unwrap(), cases);
        assert!(cases[0].check_module(b"\0asm").is_ok());
        let err = cases[0].check_module(b"\0asn").unwrap_err();
        assert!(
            err.contains("re-record") && err.contains(RECORD_COMMAND),
            "{err}"
        );
    }

    #[test]
    fn malformed_recordings_name_the_line() {
        let err = parse("  call f: i32:1\n").unwrap_err();
        assert!(
            err.contains("line 1") && err.contains("before any case"),
            "{err}"
        );
        let err = parse("case x 00\n").unwrap_err();
        assert!(err.contains("bad seed"), "{err}");
        let err = parse("cases 1 2 3\n").unwrap_err();
        assert!(err.contains("expected `case SEED HASH`"), "{err}");
    }
}
