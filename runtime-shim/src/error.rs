//! Errors and traps reported to the host.

use crate::prelude::*;
use alloc::borrow::Cow;
use core::fmt;
use rivet_descriptor::TrapKind;

/// Why instantiation (or another store operation) failed.
#[derive(Debug)]
pub enum Error {
    /// Imports do not match (wast: assert_unlinkable).
    Link(String),
    /// A trap during instantiation (wast: assert_uninstantiable / assert_trap on a module).
    Trap(Trap),
    /// A descriptor that this runtime cannot use (bad magic, version, corrupt metadata).
    Format(String),
    /// Resource exhaustion (cannot reserve memory, …) or misuse (wrong store, …).
    Runtime(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Link(m) => write!(f, "link error: {m}"),
            Error::Trap(t) => write!(f, "trap: {t}"),
            Error::Format(m) => write!(f, "bad descriptor: {m}"),
            Error::Runtime(m) => write!(f, "runtime error: {m}"),
        }
    }
}

impl core::error::Error for Error {}

impl From<Trap> for Error {
    fn from(t: Trap) -> Error {
        Error::Trap(t)
    }
}

/// A trap: its kind and a readable message (for TrapKind::Host, the host's message).
///
/// The message is borrowed when it is fixed (every spec trap, and the host's
/// `&'static str`s), so raising one allocates nothing and hosts do not carry
/// a copy of the string-building code at each place that raises one.
#[derive(Debug, Clone)]
pub struct Trap {
    pub kind: TrapKind,
    pub message: Cow<'static, str>,
}

impl Trap {
    /// A trap with the spec message of its kind.
    pub fn new(kind: TrapKind) -> Trap {
        Trap {
            kind,
            message: Cow::Borrowed(kind.message()),
        }
    }

    /// A host-side trap with its own message: a `&'static str` or a `String`.
    pub fn host(message: impl Into<Cow<'static, str>>) -> Trap {
        Trap {
            kind: TrapKind::Host,
            message: message.into(),
        }
    }

    /// [`Trap::host`] with a fixed message, for the checks of the canonical
    /// ABI, which raise these at many places (most inlined into every typed
    /// call): cold, so that the optimiser keeps them off the paths taken.
    #[cold]
    pub(crate) fn fixed(message: &'static str) -> Trap {
        Trap::host(message)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for Trap {}
