//! The command line.

use rivet_tests::pipeline::Mode;
use std::time::Duration;

pub const USAGE: &str = "usage: rivet-difftest [--minutes N] [--count N] [--seed S] \
[--mode guard|explicit|c|all] [--batch N] [--components] [--verbose]\n       \
rivet-difftest record [--count N] [--seed S] [--components]";

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Generate, run and compare cases.
    Fuzz,
    /// Print Wasmtime's outcomes of a fixed-seed batch (the CI recording).
    Record,
}

#[derive(Debug)]
pub struct Args {
    pub command: Command,
    /// How long to run (fuzzing); unbounded when only a count is given.
    pub time: Duration,
    /// How many modules; unbounded when only a time is given.
    pub count: u64,
    /// The first case's seed.
    pub seed: u64,
    pub modes: Vec<Mode>,
    /// Modules compiled into one unit, or component cases composed into one
    /// component.
    pub batch: u64,
    /// Component cases (compositions with fused adapters) instead of core
    /// modules.
    pub components: bool,
    /// Print every case's verdict, not only divergences.
    pub verbose: bool,
}

/// Cases the recording holds unless `--count` says otherwise.
const RECORDED_CASES: u64 = 200;
/// Component cases the recording holds unless `--count` says otherwise.
const RECORDED_COMPONENT_CASES: u64 = 120;
/// Modules per compiled unit unless `--batch` says otherwise.
const DEFAULT_BATCH: u64 = 50;
/// Component cases per composition unless `--batch` says otherwise: fewer
/// than modules, as each case is two components and an adapter.
const DEFAULT_COMPONENT_BATCH: u64 = 20;

pub fn parse(mut words: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut command = Command::Fuzz;
    let (mut minutes, mut count, mut seed) = (None, None, None);
    let mut modes = Mode::ALL.to_vec();
    let (mut batch, mut verbose, mut components) = (None, false, false);
    while let Some(word) = words.next() {
        let mut value = || words.next().ok_or_else(|| format!("{word} needs a value"));
        match word.as_str() {
            "record" => command = Command::Record,
            "--minutes" => minutes = Some(number::<f64>(&word, &value()?)?),
            "--count" => count = Some(number(&word, &value()?)?),
            "--seed" => seed = Some(number(&word, &value()?)?),
            "--batch" => batch = Some(number::<u64>(&word, &value()?)?.max(1)),
            "--components" => components = true,
            "--mode" => modes = mode(&value()?)?,
            "--verbose" => verbose = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if minutes.is_some_and(|m: f64| !(m.is_finite() && m >= 0.0)) {
        return Err("--minutes must be a non-negative number".into());
    }
    let recording = command == Command::Record;
    let recorded = match components {
        true => RECORDED_COMPONENT_CASES,
        false => RECORDED_CASES,
    };
    Ok(Args {
        time: match (minutes, count) {
            (Some(m), _) => Duration::from_secs_f64(m * 60.0),
            (None, Some(_)) => Duration::MAX,
            (None, None) if recording => Duration::MAX,
            (None, None) => Duration::from_secs(60),
        },
        count: count.unwrap_or(if recording && minutes.is_none() {
            recorded
        } else {
            u64::MAX
        }),
        seed: seed.unwrap_or(if recording { 0 } else { clock_seed() }),
        command,
        modes,
        batch: batch.unwrap_or(match components {
            true => DEFAULT_COMPONENT_BATCH,
            false => DEFAULT_BATCH,
        }),
        components,
        verbose,
    })
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag}: `{text}` is not a valid number"))
}

fn mode(text: &str) -> Result<Vec<Mode>, String> {
    match text {
        "all" => Ok(Mode::ALL.to_vec()),
        name => Mode::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .map(|m| vec![m])
            .ok_or_else(|| format!("--mode: `{name}` is not guard, explicit, c or all")),
    }
}

/// A seed for a run that names none: printed at the start, so it reproduces.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Args, String> {
        parse(words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn one_case_is_reproduced_by_seed_and_count() {
        let args = parse_words(&["--seed", "42", "--count", "1", "--mode", "c"]).unwrap();
        assert_eq!((args.seed, args.count, args.time), (42, 1, Duration::MAX));
        assert_eq!(args.modes, vec![Mode::C]);
        assert_eq!(args.command, Command::Fuzz);
    }

    #[test]
    fn record_defaults_to_the_committed_batch() {
        let args = parse_words(&["record"]).unwrap();
        assert_eq!((args.seed, args.count), (0, RECORDED_CASES));
        let args = parse_words(&["record", "--components"]).unwrap();
        assert_eq!(
            (args.count, args.components),
            (RECORDED_COMPONENT_CASES, true)
        );
        assert_eq!(args.batch, DEFAULT_COMPONENT_BATCH);
    }

    #[test]
    fn bad_arguments_are_named() {
        let err = parse_words(&["--mode", "fast"]).unwrap_err();
        assert!(err.contains("fast"), "{err}");
        let err = parse_words(&["--count"]).unwrap_err();
        assert!(err.contains("--count needs a value"), "{err}");
        let err = parse_words(&["--minutes", "-1"]).unwrap_err();
        assert!(err.contains("non-negative"), "{err}");
        let err = parse_words(&["--frobnicate"]).unwrap_err();
        assert!(err.contains("--frobnicate"), "{err}");
    }
}
