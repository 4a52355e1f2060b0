//! What running one case produced, as lines of text, and the comparison of two
//! outcomes with the differences that may legitimately occur classified.
//!
//! Text because the CI smoke compares Rivet with a recording of Wasmtime: the
//! recording is these lines, and a divergence prints the two lines that differ.

use super::value::{fnv1a, is_nan_text, Value};
use std::fmt;

/// How Rivet's runtime begins the message of a trap raised at no trap site
/// it knows (`runtime-shim/src/trap.rs`): its kind is a guess, so the
/// fuzzers fail such a case whatever the other engine did.
pub const UNKNOWN_TRAP: &str = "unknown trap";

/// A trap's kind in words both engines map their own kinds to. Rivet's
/// `TableOutOfBounds` and `UndefinedElement` are one kind here, since Wasmtime
/// reports both as an out-of-bounds table access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrapCode {
    StackOverflow,
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallToNull,
    BadSignature,
    IntegerDivideByZero,
    IntegerOverflow,
    BadConversionToInteger,
    NullReference,
    UncaughtException,
    /// A kind the other engine has no counterpart for, with its description.
    Other(String),
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            TrapCode::StackOverflow => STACK_OVERFLOW,
            TrapCode::Unreachable => "unreachable",
            TrapCode::MemoryOutOfBounds => "memory-out-of-bounds",
            TrapCode::TableOutOfBounds => "table-out-of-bounds",
            TrapCode::IndirectCallToNull => "indirect-call-to-null",
            TrapCode::BadSignature => "bad-signature",
            TrapCode::IntegerDivideByZero => "integer-divide-by-zero",
            TrapCode::IntegerOverflow => "integer-overflow",
            TrapCode::BadConversionToInteger => "bad-conversion-to-integer",
            TrapCode::NullReference => "null-reference",
            TrapCode::UncaughtException => "uncaught-exception",
            TrapCode::Other(what) => return write!(f, "other({})", one_line(what)),
        };
        f.write_str(name)
    }
}

const STACK_OVERFLOW: &str = "stack-overflow";

/// How instantiating a module went.
pub enum Instantiated {
    Ok,
    Trap(TrapCode),
    /// Refused for lack of resources (address space, memory): legitimately
    /// engine-dependent.
    Resources(String),
    /// Any other refusal: a divergence unless both engines refuse alike.
    Error(String),
}

/// The lines of one case's outcome (export names quoted and escaped, as
/// generated names may hold any character), in a fixed order: compilation or
/// instantiation, every exported function's call in export order, then every
/// exported global, memory and table in export order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub lines: Vec<String>,
}

impl Outcome {
    /// The outcome of a module the engine would not compile.
    pub fn refused(message: &str) -> Outcome {
        Outcome {
            lines: vec![format!("compile: refused ({})", one_line(message))],
        }
    }

    pub fn instantiated(&mut self, how: Instantiated) {
        self.lines.push(match how {
            Instantiated::Ok => "instantiate: ok".to_string(),
            Instantiated::Trap(code) => format!("instantiate: trap {code}"),
            Instantiated::Resources(m) => format!("instantiate: {RESOURCES} ({})", one_line(&m)),
            Instantiated::Error(m) => format!("instantiate: error ({})", one_line(&m)),
        });
    }

    pub fn call(&mut self, name: &str, result: Result<Vec<Value>, TrapCode>) {
        let text = match result {
            Ok(values) => values
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            Err(code) => format!("trap {code}"),
        };
        self.lines
            .push(format!("call {name:?}: {text}").trim_end().to_string());
    }

    pub fn global(&mut self, name: &str, value: Value) {
        self.lines.push(format!("global {name:?}: {value}"));
    }

    pub fn memory(&mut self, name: &str, pages: u64, bytes: &[u8]) {
        let hash = fnv1a(bytes.iter().copied());
        self.lines
            .push(format!("memory {name:?}: pages {pages} fnv {hash:016x}"));
    }

    /// A table: its size and which of its elements are null.
    pub fn table(&mut self, name: &str, nulls: impl ExactSizeIterator<Item = bool>) {
        let size = nulls.len();
        let hash = fnv1a(nulls.map(u8::from));
        self.lines
            .push(format!("table {name:?}: size {size} nulls {hash:016x}"));
    }
}

const RESOURCES: &str = "resources";

/// A difference the two engines may legitimately show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// One engine ran out of stack where the other did not, or both did
    /// (each at its own depth): the limits and frame sizes are each engine's
    /// own. What follows may differ too, so the comparison stops there.
    StackExhaustion,
    /// Both sides are NaN but of different payloads, where canonicalisation
    /// cannot reach (a NaN argument passed through unchanged is equal on both).
    NanPayload,
    /// An engine refused to instantiate for lack of resources.
    Resources,
    /// Wasmtime's outcome of a component case differs from the one the
    /// Canonical ABI prescribes, which Rivet is compared with instead (the
    /// spec wins; docs/fuzzing.md lists each such rule).
    WasmtimeNotSpec,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::StackExhaustion => "stack exhaustion",
            Class::NanPayload => "NaN payload",
            Class::Resources => "resources",
            Class::WasmtimeNotSpec => "Wasmtime differs from the spec",
        })
    }
}

/// The comparison of two outcomes.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Equal, except for the classified differences listed (with their lines).
    Agree(Vec<(Class, String)>),
    /// A real difference: which line, and what each side had.
    Diverge(String),
}

/// Compares `rivet`'s outcome with the `reference` (Wasmtime's, live or
/// recorded), line by line.
pub fn compare(reference: &Outcome, rivet: &Outcome) -> Verdict {
    let mut classified = Vec::new();
    for (i, (a, b)) in reference.lines.iter().zip(&rivet.lines).enumerate() {
        if a == b {
            if stack_overflowed(a) {
                // Both ran out of stack, each at its own depth: what the calls
                // did before (globals set, memory written) may differ from here.
                let shown = format!("line {}: both `{a}`", i + 1);
                classified.push((Class::StackExhaustion, shown));
                return Verdict::Agree(classified);
            }
            continue;
        }
        let shown = format!("line {}: wasmtime `{a}`, rivet `{b}`", i + 1);
        match classify(a, b) {
            Some(class @ (Class::StackExhaustion | Class::Resources)) => {
                classified.push((class, shown));
                return Verdict::Agree(classified);
            }
            Some(class) => classified.push((class, shown)),
            None => return Verdict::Diverge(shown),
        }
    }
    if reference.lines.len() != rivet.lines.len() {
        return Verdict::Diverge(format!(
            "wasmtime has {} lines, rivet {}",
            reference.lines.len(),
            rivet.lines.len()
        ));
    }
    Verdict::Agree(classified)
}

/// Whether `line` is a call that trapped for lack of stack.
fn stack_overflowed(line: &str) -> bool {
    line.ends_with(&format!("trap {STACK_OVERFLOW}"))
}

/// The class of the difference between two different lines, if it has one.
fn classify(a: &str, b: &str) -> Option<Class> {
    let refused = |line: &str| line.starts_with(&format!("instantiate: {RESOURCES}"));
    if stack_overflowed(a) || stack_overflowed(b) {
        Some(Class::StackExhaustion)
    } else if refused(a) || refused(b) {
        Some(Class::Resources)
    } else if nan_payloads_only(a, b) {
        Some(Class::NanPayload)
    } else {
        None
    }
}

/// Whether two lines differ only in values that are NaN on both sides.
fn nan_payloads_only(a: &str, b: &str) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (a.split(' ').collect(), b.split(' ').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || (is_nan_text(x) && is_nan_text(y)))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(lines: &[&str]) -> Outcome {
        Outcome {
            lines: lines.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn equal_outcomes_agree() {
        let a = outcome(&["instantiate: ok", "call f: i32:1"]);
        assert_eq!(compare(&a, &a.clone()), Verdict::Agree(vec![]));
    }

    #[test]
    fn a_different_result_diverges_with_both_lines() {
        let a = outcome(&["instantiate: ok", "call f: i32:1"]);
        let b = outcome(&["instantiate: ok", "call f: i32:2"]);
        let Verdict::Diverge(why) = compare(&a, &b) else {
            panic!("no divergence");
        };
        assert!(
            why.contains("line 2") && why.contains("i32:1") && why.contains("i32:2"),
            "{why}"
        );
    }

    #[test]
    fn nan_payloads_are_classified_and_the_rest_still_compared() {
        let a = outcome(&["call f: f32:0x7fc00000 i32:1", "global g: i32:0"]);
        let b = outcome(&["call f: f32:0x7fc00001 i32:1", "global g: i32:9"]);
        assert!(matches!(compare(&a, &b), Verdict::Diverge(why) if why.contains("line 2")));
        let b = outcome(&["call f: f32:0x7fc00001 i32:1", "global g: i32:0"]);
        let Verdict::Agree(classes) = compare(&a, &b) else {
            panic!("diverged");
        };
        assert_eq!(classes[0].0, Class::NanPayload);
    }

    /// `a` and `b` agree, the only difference classified as stack exhaustion.
    fn ends_in_stack_exhaustion(a: &[&str], b: &[&str]) {
        let Verdict::Agree(classes) = compare(&outcome(a), &outcome(b)) else {
            panic!("diverged");
        };
        assert_eq!(classes.len(), 1);
        assert_eq!(classes[0].0, Class::StackExhaustion);
    }

    #[test]
    fn stack_exhaustion_ends_the_comparison() {
        ends_in_stack_exhaustion(
            &["call f: trap stack-overflow", "global g: i32:0"],
            &["call f: i32:3", "global g: i32:7"],
        );
    }

    /// Found by the run from seed 12000000: both engines overflow, at depths
    /// of their own, and a global the recursion sets ends different.
    #[test]
    fn stack_exhaustion_on_both_sides_ends_the_comparison() {
        ends_in_stack_exhaustion(
            &["call f: trap stack-overflow", "global g: i64:0"],
            &["call f: trap stack-overflow", "global g: i64:5"],
        );
    }

    #[test]
    fn missing_lines_diverge() {
        let a = outcome(&["instantiate: ok", "call f: i32:1"]);
        let b = outcome(&["instantiate: ok"]);
        assert!(matches!(compare(&a, &b), Verdict::Diverge(_)));
    }

    #[test]
    fn lines_are_built_in_the_recorded_format() {
        let mut o = Outcome::default();
        o.instantiated(Instantiated::Ok);
        o.call("f", Ok(vec![]));
        o.call("g", Err(TrapCode::Other("out of\nfuel".into())));
        o.table("t", [true, false].into_iter());
        assert_eq!(o.lines[1], "call \"f\":");
        assert_eq!(o.lines[2], "call \"g\": trap other(out of fuel)");
        assert!(
            o.lines[3].starts_with("table \"t\": size 2 nulls "),
            "{}",
            o.lines[3]
        );
    }
}
