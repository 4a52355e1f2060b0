//! Which generated cases the corpus holds, what the spec says each must do,
//! and the batch component they make.

use rivet_tests::differential::component::case::{self, g_line, h_line, Case, INSTANTIATED};
use rivet_tests::differential::component::fault::Fault;
use rivet_tests::differential::component::ty::Ty;
use rivet_tests::differential::component::val::Val;
use std::collections::BTreeSet;

/// How many cases are taken first: the bindable ones of the seeds from
/// [`FIRST_SEED`] on.
const BASE_CASES: usize = 50;
/// The first seed tried.
const FIRST_SEED: u64 = 0;
/// Seeds past the base are tried up to here, each taken if it has one of
/// [`ALL_FEATURES`] the corpus still lacks.
const LAST_SEED: u64 = 20_000;

/// What the spec prescribes for a case, as the bindings show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect {
    /// Whether the host's `h` is reached (with exactly the case's arguments).
    pub h: bool,
    /// Whether `g` returns (exactly the case's result); else it traps.
    pub returns: bool,
}

/// One case of the corpus.
pub struct Entry {
    pub case: Case,
    pub expect: Expect,
}

/// The corpus: the first [`BASE_CASES`] bindable cases, then the seeds that
/// cover a feature the base lacks. Panics, naming them, if some feature is
/// still missing at [`LAST_SEED`].
pub fn select() -> Vec<Entry> {
    let mut corpus: Vec<Entry> = Vec::new();
    let mut covered = BTreeSet::new();
    for seed in FIRST_SEED..=LAST_SEED {
        if corpus.len() >= BASE_CASES && missing(&covered).is_empty() {
            break;
        }
        let case = case::generate(seed);
        let Some(expect) = bindable(&case) else {
            continue;
        };
        let features = features(&case, expect);
        if corpus.len() < BASE_CASES || !features.is_subset(&covered) {
            covered.extend(features);
            corpus.push(Entry { case, expect });
        }
    }
    let missing = missing(&covered);
    assert!(
        missing.is_empty(),
        "no bindable case among seeds {FIRST_SEED}..={LAST_SEED} has {missing:?}"
    );
    corpus
}

/// The features of [`ALL_FEATURES`] not in `covered`.
fn missing(covered: &BTreeSet<&str>) -> Vec<&'static str> {
    let missing = ALL_FEATURES.iter().filter(|f| !covered.contains(*f));
    missing.copied().collect()
}

/// Whether the corpus can hold `case`, and then what the spec prescribes.
///
/// Taken: cases whose every type the emitter writes as Rust ([`supported`]),
/// and whose outcome the generator knows (`Case::expected`) from faults
/// that break the components' own glue, so that the outcome does not depend
/// on what the host does besides answering `h`.
pub fn bindable(case: &Case) -> Option<Expect> {
    let func = &case.func;
    if !func.params.iter().chain(&func.result).all(supported) {
        return None;
    }
    if !case.fault.as_ref().is_none_or(glue_fault) {
        return None;
    }
    expect(case)
}

/// The types the emitter writes: every kind the generator draws, handles to
/// the host's resource included. The catch-all refuses a kind added to the
/// generator later, until the emitter learns it.
#[allow(unreachable_patterns)]
fn supported(t: &Ty) -> bool {
    match t {
        Ty::Bool
        | Ty::S8
        | Ty::U8
        | Ty::S16
        | Ty::U16
        | Ty::S32
        | Ty::U32
        | Ty::S64
        | Ty::U64
        | Ty::F32
        | Ty::F64
        | Ty::Char
        | Ty::String
        | Ty::Enum(_)
        | Ty::Flags(_)
        | Ty::Own
        | Ty::Borrow => true,
        Ty::List(t) | Ty::Option(t) => supported(t),
        Ty::Record(ts) | Ty::Tuple(ts) => ts.iter().all(supported),
        Ty::Variant(cs) => cs.iter().flatten().all(supported),
        Ty::Result(ok, err) => ok.iter().chain(err).all(|t| supported(t)),
        _ => false,
    }
}

/// Faults in the components' core glue, whose outcome is the components'
/// alone (a fault that has the host reenter, say, is not).
fn glue_fault(fault: &Fault) -> bool {
    matches!(
        fault,
        Fault::Realloc(..)
            | Fault::FlatParam(..)
            | Fault::SpilledParam(..)
            | Fault::ParamsPtr(..)
            | Fault::RetPtr(..)
            | Fault::ReturnPtr(..)
            | Fault::FlatResult(..)
            | Fault::ResultByte(..)
            | Fault::BadStringParam(..)
            | Fault::BadStringResult(..)
            | Fault::PostTrap(..)
            | Fault::PostClobber(..)
    )
}

/// The spec's outcome lines of `case` read as an [`Expect`]; `None` where
/// the generator does not know them. Lines of another shape than a case
/// can have are a panic: the generator changed what it prescribes.
fn expect(case: &Case) -> Option<Expect> {
    let lines = case.expected()?.lines;
    let (h, ok, trap) = (
        h_line(&case.args),
        g_line(Ok(case.result.as_ref())),
        g_line(Err(())),
    );
    Some(match &lines[..] {
        [i, reached, last] if i == INSTANTIATED && *reached == h && *last == ok => Expect {
            h: true,
            returns: true,
        },
        [i, reached, last] if i == INSTANTIATED && *reached == h && *last == trap => Expect {
            h: true,
            returns: false,
        },
        [i, last] if i == INSTANTIATED && *last == trap => Expect {
            h: false,
            returns: false,
        },
        _ => panic!("seed {}: unexpected spec outcome {lines:?}", case.seed),
    })
}

/// Everything the corpus must cover: each kind of type, the shapes of each
/// that the Canonical ABI lays out apart, and each outcome.
const ALL_FEATURES: &[&str] = &[
    "bool",
    "s8",
    "u8",
    "s16",
    "u16",
    "s32",
    "u32",
    "s64",
    "u64",
    "f32",
    "f64",
    "char",
    "string",
    "list",
    "record",
    "tuple",
    "variant",
    "variant case without payload",
    "enum",
    "flags in 1 byte",
    "flags in 2 bytes",
    "flags in 4 bytes",
    "option",
    "result",
    "result without ok payload",
    "result without err payload",
    "own handle in a parameter",
    "own handle in a parameter of g trapping before h",
    "own handle in the result",
    "borrow handle",
    "parameters in memory",
    "result in memory",
    "no result",
    "g returns",
    "g traps after h",
    "g traps before h",
];

/// The [`ALL_FEATURES`] `case` has.
fn features(case: &Case, expect: Expect) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for t in case.func.params.iter().chain(&case.func.result) {
        type_features(t, &mut out);
    }
    handle_features(case, expect, &mut out);
    if case.func.params_spill() {
        out.insert("parameters in memory");
    }
    if case.func.result_spills() {
        out.insert("result in memory");
    }
    if case.func.result.is_none() {
        out.insert("no result");
    }
    out.insert(match (expect.h, expect.returns) {
        (true, true) => "g returns",
        (true, false) => "g traps after h",
        _ => "g traps before h",
    });
    out
}

/// Adds the [`ALL_FEATURES`] of type `t` and of the types it is made of to
/// `out`. Handles have none: theirs are the values' ([`handle_features`]).
fn type_features(t: &Ty, out: &mut BTreeSet<&'static str>) {
    let mut parts: Vec<&Ty> = Vec::new();
    let kind = match t {
        Ty::Bool => "bool",
        Ty::S8 => "s8",
        Ty::U8 => "u8",
        Ty::S16 => "s16",
        Ty::U16 => "u16",
        Ty::S32 => "s32",
        Ty::U32 => "u32",
        Ty::S64 => "s64",
        Ty::U64 => "u64",
        Ty::F32 => "f32",
        Ty::F64 => "f64",
        Ty::Char => "char",
        Ty::String => "string",
        Ty::Enum(_) => "enum",
        Ty::Flags(n) if *n <= 8 => "flags in 1 byte",
        Ty::Flags(n) if *n <= 16 => "flags in 2 bytes",
        Ty::Flags(_) => "flags in 4 bytes",
        Ty::Own | Ty::Borrow => return,
        Ty::List(e) => {
            parts.push(e);
            "list"
        }
        Ty::Option(e) => {
            parts.push(e);
            "option"
        }
        Ty::Record(ts) => {
            parts.extend(ts);
            "record"
        }
        Ty::Tuple(ts) => {
            parts.extend(ts);
            "tuple"
        }
        Ty::Variant(cs) => {
            parts.extend(cs.iter().flatten());
            if cs.iter().any(Option::is_none) {
                out.insert("variant case without payload");
            }
            "variant"
        }
        Ty::Result(ok, err) => {
            parts.extend(ok.iter().chain(err).map(|t| &**t));
            if ok.is_none() {
                out.insert("result without ok payload");
            }
            if err.is_none() {
                out.insert("result without err payload");
            }
            "result"
        }
        #[allow(unreachable_patterns)]
        _ => unreachable!("{t:?} is not supported (see `bindable`)"),
    };
    out.insert(kind);
    parts.into_iter().for_each(|t| type_features(t, out));
}

/// Adds the handle features of [`ALL_FEATURES`] that `case`'s values have:
/// by value, not type, since a handle type may carry none (an empty list,
/// `none`), and a handle must cross for the bindings to make or read one.
/// Own handles are told apart by direction: the host gives those of the
/// arguments away, and receives those of the result; given to a guest that
/// traps before `h`, they stay in its tables, and no destructor may run.
fn handle_features(case: &Case, expect: Expect, out: &mut BTreeSet<&'static str>) {
    if case.args.iter().any(Val::holds_own) {
        out.insert("own handle in a parameter");
        if !expect.h {
            out.insert("own handle in a parameter of g trapping before h");
        }
    }
    if case.result.iter().any(Val::holds_own) {
        out.insert("own handle in the result");
    }
    if case.args.iter().any(Val::holds_borrow) {
        out.insert("borrow handle");
    }
}

/// The name the corpus gives type `tN` of case `index` (its position in the
/// batch): unique in the batch, so that the bindings name each Rust type
/// after it (`<Struct>Case3T0`) instead of numbering those whose names clash.
pub fn type_name(index: usize, n: usize) -> String {
    format!("case{index}-t{n}")
}

/// The batch component of the corpus, each case's named types renamed
/// by [`type_name`].
pub fn batch(corpus: &[Entry]) -> Vec<u8> {
    let cases: Vec<&Case> = corpus.iter().map(|e| &e.case).collect();
    let text = case::batch_text(&cases);
    let starts: Vec<usize> = (0..corpus.len())
        .map(|i| {
            let marker = format!("(import \"host{i}\" ");
            text.find(&marker)
                .unwrap_or_else(|| panic!("case {i} of the batch starts with `{marker}`"))
        })
        .collect();
    assert!(starts.is_sorted(), "the batch holds its cases in order");
    let mut renamed = text[..starts[0]].to_string();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        renamed.push_str(&rename_types(&text[start..end], i));
    }
    wat::parse_str(&renamed).unwrap_or_else(|e| panic!("the corpus's batch does not parse: {e}"))
}

/// `text` (one case's part of the batch) with every type name `"tN"`
/// (the only quoted names of a `t` and digits) renamed for case `index`.
fn rename_types(text: &str, index: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\"t") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && after[digits..].starts_with('"') {
            let n: usize = after[..digits].parse().expect("digits");
            out.push_str(&format!("\"{}\"", type_name(index, n)));
            rest = &after[digits + 1..];
        } else {
            out.push_str("\"t");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}
