//! Checking a trap against the message a script expects.
//!
//! The spec's messages are not normative and the suite's wording drifts between
//! versions, so the text check is lenient (either text may contain the other); the
//! trap *kind* must still agree whenever the expected text names exactly one kind.

use rivet::{Trap, TrapKind};

/// Whether one message contains the other.
fn related(a: &str, b: &str) -> bool {
    !a.is_empty() && !b.is_empty() && (a.contains(b) || b.contains(a))
}

/// The single trap kind whose spec message relates to `expected`, if exactly one does.
pub fn kind_named_by(expected: &str) -> Option<TrapKind> {
    let mut kinds = TrapKind::ALL
        .into_iter()
        .filter(|k| *k != TrapKind::Host && related(expected, k.message()));
    match (kinds.next(), kinds.next()) {
        (Some(kind), None) => Some(kind),
        _ => None,
    }
}

/// A message without the `wasm trap: ` prefix some component tests put in front
/// of the spec's text.
fn normalise(message: &str) -> &str {
    message.strip_prefix(WASM_TRAP_PREFIX).unwrap_or(message)
}

const WASM_TRAP_PREFIX: &str = "wasm trap: ";

/// Checks `trap` against the expected message; `Err` explains the mismatch.
pub fn check_trap(trap: &Trap, expected: &str) -> Result<(), String> {
    let expected = normalise(expected);
    let actual = normalise(&trap.message);
    let text_ok = related(expected, actual) || related(expected, trap.kind.message());
    let kind_ok = kind_named_by(expected).is_none_or(|k| k == trap.kind);
    if text_ok && kind_ok {
        Ok(())
    } else {
        Err(format!(
            "expected trap \"{expected}\", got {:?} trap \"{}\"",
            trap.kind, trap.message
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trap(kind: TrapKind) -> Trap {
        Trap {
            kind,
            message: kind.message().into(),
        }
    }

    #[test]
    fn exact_and_partial_messages_match() {
        assert!(check_trap(&trap(TrapKind::Unreachable), "unreachable").is_ok());
        assert!(check_trap(&trap(TrapKind::Unreachable), "unreachable executed").is_ok());
        assert!(check_trap(&trap(TrapKind::IntegerOverflow), "integer overflow").is_ok());
        assert!(check_trap(&trap(TrapKind::StackOverflow), "call stack exhausted").is_ok());
    }

    #[test]
    fn other_kinds_are_rejected() {
        let err = check_trap(&trap(TrapKind::IntegerDivideByZero), "integer overflow").unwrap_err();
        assert!(err.contains("IntegerDivideByZero"), "{err}");
        assert!(check_trap(&trap(TrapKind::UndefinedElement), "uninitialized element").is_err());
        assert!(check_trap(
            &trap(TrapKind::TableOutOfBounds),
            "out of bounds memory access"
        )
        .is_err());
    }

    #[test]
    fn kind_mismatch_is_reported_even_when_text_relates() {
        // Our message mentions the expected text, but the kind is another one.
        let odd = Trap {
            kind: TrapKind::MemoryOutOfBounds,
            message: "unreachable".into(),
        };
        assert!(check_trap(&odd, "unreachable").is_err());
    }

    #[test]
    fn host_messages_compare_as_text() {
        let host = Trap {
            kind: TrapKind::Host,
            message: "my host failure".into(),
        };
        assert!(check_trap(&host, "host failure").is_ok());
        assert!(check_trap(&host, "unreachable").is_err());
    }

    #[test]
    fn wasm_trap_prefix_is_ignored() {
        let poisoned = Trap {
            kind: TrapKind::Host,
            message: "cannot enter component instance".into(),
        };
        assert!(check_trap(&poisoned, "wasm trap: cannot enter component instance").is_ok());
        let prefixed = Trap {
            kind: TrapKind::Host,
            message: "wasm trap: unaligned pointer".into(),
        };
        assert!(check_trap(&prefixed, "unaligned pointer").is_ok());
        assert!(check_trap(&prefixed, "wasm trap: invalid utf-8").is_err());
        assert!(check_trap(&trap(TrapKind::Unreachable), "wasm trap: unreachable").is_ok());
    }

    #[test]
    fn component_messages_match_by_containment_either_way() {
        let t = Trap {
            kind: TrapKind::Host,
            message: "unknown handle index 1".into(),
        };
        assert!(check_trap(&t, "unknown handle index").is_ok());
        assert!(check_trap(&t, "unknown handle index 2").is_err());
        let short = Trap {
            kind: TrapKind::Host,
            message: "invalid utf-8".into(),
        };
        assert!(check_trap(&short, "invalid utf-8 in string").is_ok());
    }

    #[test]
    fn ambiguous_text_names_no_kind() {
        assert_eq!(kind_named_by("out of bounds"), None);
        assert_eq!(
            kind_named_by("undefined element"),
            Some(TrapKind::UndefinedElement)
        );
    }
}
