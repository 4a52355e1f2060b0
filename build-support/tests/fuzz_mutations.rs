//! Mutation fuzzing of the decoder and compiler, runnable on stable Rust.
//!
//! Every module of the core spec suite (valid and invalid alike) seeds a loop that
//! applies a few random mutations — bit flips, byte insertions, deletions and
//! overwrites, truncation, LEB128 length changes — and runs `validate_module` and,
//! when that accepts, `compile_module`. The only assertions: nothing panics, and
//! every error has a message. Bad input must be an error, never a crash.
//!
//! The default budget is a few seconds with a fixed seed, so `cargo test` stays
//! quick and deterministic in what it tries; `RIVET_FUZZ_SECONDS` and
//! `RIVET_FUZZ_SEED` run it longer or elsewhere. Inputs that panic are written to
//! `$CARGO_TARGET_TMPDIR/fuzz-findings/`; the input being tried is always in
//! `fuzz-current.wasm` there, so one that aborts the process is not lost.

use rivet_build::{compile_module, validate_module, BoundsMode, Error, Options};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::os::unix::fs::FileExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, WastDirective, Wat};

mod testsuite;

const DEFAULT_SECONDS: u64 = 3;
const DEFAULT_SEED: u64 = 0x5eed_f00d;

/// Findings kept per distinct panic location (the rest are only counted).
const SAMPLES_PER_FINDING: usize = 3;

#[test]
fn mutated_spec_modules_never_panic() {
    let seeds = spec_modules();
    assert!(seeds.len() > 100, "only {} seed modules", seeds.len());
    // Mutants of valid modules reach the compiler far more often: prefer them.
    let (valid, invalid): (Vec<Vec<u8>>, Vec<Vec<u8>>) = seeds
        .into_iter()
        .partition(|m| validate_module(m, &Options::default()).is_ok());
    let budget = Duration::from_secs(env_number("RIVET_FUZZ_SECONDS").unwrap_or(DEFAULT_SECONDS));
    let seed = env_number("RIVET_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut fuzzer = Fuzzer::new(seed, out_dir.join("fuzz-findings"));
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(record_panic));
    let current = std::fs::File::create(out_dir.join("fuzz-current.wasm")).unwrap();
    let start = Instant::now();
    while start.elapsed() < budget {
        let pool = if fuzzer.rng.below(4) == 0 && !invalid.is_empty() {
            &invalid
        } else {
            &valid
        };
        let base = &pool[fuzzer.rng.below(pool.len())];
        let input = mutate(&mut fuzzer.rng, base);
        let _ = current.write_all_at(&input, 0);
        let _ = current.set_len(input.len() as u64);
        fuzzer.run(input);
    }
    panic::set_hook(previous_hook);
    eprintln!(
        "fuzz: seed {seed:#x}, {} seed modules, {} inputs in {:.1?} ({} valid), slowest {:.1?}",
        valid.len() + invalid.len(),
        fuzzer.runs,
        start.elapsed(),
        fuzzer.valid,
        fuzzer.slowest
    );

    assert!(fuzzer.runs > 0);
    assert!(fuzzer.findings.is_empty(), "{}", fuzzer.summary());
}

/// The loop's state: the generator, counters and what it found.
struct Fuzzer {
    rng: XorShift,
    dir: PathBuf,
    runs: u64,
    valid: u64,
    slowest: Duration,
    /// Problem (panic location or "empty message") -> saved inputs, and count.
    findings: BTreeMap<String, (Vec<String>, usize)>,
}

impl Fuzzer {
    fn new(seed: u64, dir: PathBuf) -> Fuzzer {
        Fuzzer {
            rng: XorShift::new(seed),
            dir,
            runs: 0,
            valid: 0,
            slowest: Duration::ZERO,
            findings: BTreeMap::new(),
        }
    }

    /// Validates and compiles `input` with randomly chosen options.
    fn run(&mut self, input: Vec<u8>) {
        let options = Options {
            bounds: if self.rng.below(2) == 0 {
                BoundsMode::Guard
            } else {
                BoundsMode::Explicit
            },
            multi_memory: self.rng.below(2) == 0,
            ..Options::default()
        };
        let start = Instant::now();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| check(&input, &options)));
        self.slowest = self.slowest.max(start.elapsed());
        self.runs += 1;
        match outcome {
            Ok((valid, error)) => {
                self.valid += u64::from(valid);
                if let Some(e) = error.filter(|e| e.message().is_empty()) {
                    self.found(format!("error without a message: {e:?}"), &input);
                }
            }
            Err(_) => {
                let what = LAST_PANIC.with(|p| p.borrow_mut().take());
                self.found(what.unwrap_or_else(|| "panic".to_string()), &input);
            }
        }
    }

    fn found(&mut self, what: String, input: &[u8]) {
        let location = what.lines().next().unwrap_or_default().to_string();
        let entry = self.findings.entry(location).or_default();
        entry.1 += 1;
        if entry.0.len() < SAMPLES_PER_FINDING {
            let _ = std::fs::create_dir_all(&self.dir);
            let path = self.dir.join(format!("finding-{}.wasm", self.runs));
            let _ = std::fs::write(&path, input);
            entry.0.push(format!("{}\n{what}", path.display()));
        }
    }

    fn summary(&self) -> String {
        let mut out = format!("{} distinct problems found:\n", self.findings.len());
        for (location, (samples, count)) in &self.findings {
            out.push_str(&format!("\n=== {location} ({count} inputs)\n"));
            for sample in samples {
                out.push_str(sample);
                out.push('\n');
            }
        }
        out
    }
}

/// Validates `input` and, when valid, compiles it: whether it was valid, and the
/// error either step returned.
fn check(input: &[u8], options: &Options) -> (bool, Option<Error>) {
    match validate_module(input, options) {
        Err(e) => (false, Some(e)),
        Ok(()) => (true, compile_module(input, options).err()),
    }
}

thread_local! {
    /// The message, location and backtrace of the last panic on this thread.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panic hook: records the panic for the loop instead of printing it.
fn record_panic(info: &panic::PanicHookInfo<'_>) {
    let location = info
        .location()
        .map_or_else(|| "unknown location".to_string(), |l| l.to_string());
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let backtrace = std::backtrace::Backtrace::force_capture();
    let text = format!("panic at {location}: {message}\n{backtrace}");
    LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
}

/// A mutated copy of `base`: one mutation half of the time (most inputs stay
/// close to valid and reach the compiler), else two to four stacked.
fn mutate(rng: &mut XorShift, base: &[u8]) -> Vec<u8> {
    let mut data = base.to_vec();
    let count = if rng.below(2) == 0 {
        1
    } else {
        2 + rng.below(3)
    };
    for _ in 0..count {
        match rng.below(7) {
            0 => flip_bit(rng, &mut data),
            1 => insert_byte(rng, &mut data),
            2 => delete_bytes(rng, &mut data),
            3 => overwrite_byte(rng, &mut data),
            4 => truncate(rng, &mut data),
            5 => change_section_size(rng, &mut data),
            _ => change_leb(rng, &mut data),
        }
    }
    data
}

fn flip_bit(rng: &mut XorShift, data: &mut [u8]) {
    if !data.is_empty() {
        let i = rng.below(data.len());
        data[i] ^= 1 << rng.below(8);
    }
}

fn insert_byte(rng: &mut XorShift, data: &mut Vec<u8>) {
    let i = rng.below(data.len() + 1);
    let byte = interesting_byte(rng);
    data.insert(i, byte);
}

fn delete_bytes(rng: &mut XorShift, data: &mut Vec<u8>) {
    if !data.is_empty() {
        let i = rng.below(data.len());
        let n = (1 + rng.below(4)).min(data.len() - i);
        data.drain(i..i + n);
    }
}

fn overwrite_byte(rng: &mut XorShift, data: &mut [u8]) {
    if !data.is_empty() {
        let i = rng.below(data.len());
        data[i] = interesting_byte(rng);
    }
}

fn truncate(rng: &mut XorShift, data: &mut Vec<u8>) {
    let len = rng.below(data.len() + 1);
    data.truncate(len);
}

/// Boundary values (LEB continuation bits, opcode prefixes, type codes) more often
/// than chance would pick them.
fn interesting_byte(rng: &mut XorShift) -> u8 {
    const INTERESTING: [u8; 10] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x0b, 0xfc, 0xfd, 0x70];
    if rng.below(2) == 0 {
        INTERESTING[rng.below(INTERESTING.len())]
    } else {
        rng.next() as u8
    }
}

/// Changes the size field of one section, the field the decoder trusts most.
fn change_section_size(rng: &mut XorShift, data: &mut Vec<u8>) {
    let sizes = section_size_offsets(data);
    if sizes.is_empty() {
        return change_leb(rng, data);
    }
    let at = sizes[rng.below(sizes.len())];
    rewrite_leb(rng, data, at);
}

/// Offsets of the size field of each section, walking the section headers.
fn section_size_offsets(data: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = 8;
    while pos < data.len() {
        let at = pos + 1;
        let Some((size, len)) = read_leb(data, at) else {
            break;
        };
        offsets.push(at);
        pos = at + len + size as usize;
    }
    offsets
}

/// Changes a LEB128 number at a random offset (any byte starts one).
fn change_leb(rng: &mut XorShift, data: &mut Vec<u8>) {
    if !data.is_empty() {
        let at = rng.below(data.len());
        rewrite_leb(rng, data, at);
    }
}

/// Re-encodes the LEB128 number at `at`: its value nudged or made extreme, or the
/// same value in a longer (padded) encoding.
fn rewrite_leb(rng: &mut XorShift, data: &mut Vec<u8>, at: usize) {
    let Some((value, len)) = read_leb(data, at) else {
        return;
    };
    let (value, padding) = match rng.below(6) {
        0 => (value.wrapping_add(1), 0),
        1 => (value.wrapping_sub(1), 0),
        2 => (value.wrapping_add(1 + rng.below(64) as u32), 0),
        3 => (u32::MAX >> rng.below(32), 0),
        4 => (0, 0),
        _ => (value, 1 + rng.below(4)),
    };
    let encoded = encode_leb(value, padding);
    data.splice(at..at + len, encoded);
}

/// Decodes an unsigned LEB128 at `at` (at most 5 bytes): value and length.
fn read_leb(data: &[u8], at: usize) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    for (i, byte) in data.get(at..)?.iter().take(5).enumerate() {
        value |= u32::from(byte & 0x7f)
            .checked_shl(7 * i as u32)
            .unwrap_or(0);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Encodes `value` as unsigned LEB128 with `padding` extra continuation bytes.
fn encode_leb(mut value: u32, padding: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    for _ in 0..padding {
        *out.last_mut().expect("at least one byte") |= 0x80;
        out.push(0);
    }
    out
}

/// Xorshift64*: tiny, seedable, good enough to pick mutations.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        // A zero state would stay zero forever.
        XorShift((seed ^ 0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `name` from the environment as a number (decimal or `0x` hex).
fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={text}: {e}")))
}

/// Every module of the core spec suite that encodes to binary, valid or not.
fn spec_modules() -> Vec<Vec<u8>> {
    let mut modules = Vec::new();
    for file in testsuite::wast_files("core") {
        let text = std::fs::read_to_string(&file).unwrap();
        let Ok(buffer) = ParseBuffer::new(&text) else {
            continue;
        };
        let Ok(mut script) = parser::parse::<wast::Wast<'_>>(&buffer) else {
            continue;
        };
        modules.extend(script.directives.iter_mut().filter_map(encode));
    }
    modules.sort();
    modules.dedup();
    modules
}

fn encode(directive: &mut WastDirective<'_>) -> Option<Vec<u8>> {
    match directive {
        WastDirective::Module(module)
        | WastDirective::ModuleDefinition(module)
        | WastDirective::AssertMalformed { module, .. }
        | WastDirective::AssertInvalid { module, .. } => match module {
            QuoteWat::Wat(Wat::Module(m)) => m.encode().ok(),
            QuoteWat::QuoteModule(..) => module.encode().ok(),
            _ => None,
        },
        WastDirective::AssertUnlinkable {
            module: Wat::Module(m),
            ..
        } => m.encode().ok(),
        _ => None,
    }
}

#[test]
fn leb_helpers_round_trip() {
    for value in [0, 1, 127, 128, 300, u32::MAX] {
        for padding in 0..3 {
            let bytes = encode_leb(value, padding);
            // Longer than 5 bytes is over-long for a u32 (a mutation worth trying).
            let expected = (bytes.len() <= 5).then_some((value, bytes.len()));
            assert_eq!(read_leb(&bytes, 0), expected);
        }
    }
    assert_eq!(encode_leb(1, 1), [0x81, 0x00]);
    assert_eq!(read_leb(&[0x80, 0x80], 0), None);
}

#[test]
fn section_sizes_are_found() {
    // Header, then a type section of 4 bytes and a custom section of 1.
    let module = b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x00\x01\x00";
    assert_eq!(section_size_offsets(module), [9, 15]);
}

#[test]
fn xorshift_is_deterministic_and_spread() {
    let (mut a, mut b) = (XorShift::new(7), XorShift::new(7));
    let draws: Vec<usize> = (0..1000).map(|_| a.below(10)).collect();
    assert!(draws.iter().all(|&d| d == b.below(10)));
    assert!((0..10).all(|d| draws.contains(&d)));
}
