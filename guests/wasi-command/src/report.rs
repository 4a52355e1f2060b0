//! How the modes print an outcome: one `what: result` line per operation, an
//! error as its kind and raw errno so that a host's refusal is visible and
//! comparable (the kind alone hides whether a host said "not permitted" or
//! "not found" in the same words).

use std::io;

/// `what: VALUE` for a success, `what: error KIND (errno N)` for a failure.
pub fn step(what: &str, outcome: io::Result<impl Shown>) {
    match outcome {
        Ok(value) => println!("{what}: {}", value.shown()),
        Err(e) => println!("{what}: error {}", error(&e)),
    }
}

/// How a step's successful result prints.
pub trait Shown {
    fn shown(self) -> String;
}

/// A step with no result (create, remove, rename) prints `ok`.
impl Shown for () {
    fn shown(self) -> String {
        "ok".into()
    }
}

impl Shown for String {
    fn shown(self) -> String {
        self
    }
}

/// An I/O error as std's `ErrorKind` and, when WASI gave one, its errno.
pub fn error(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(errno) => format!("{:?} (errno {errno})", e.kind()),
        None => format!("{:?}", e.kind()),
    }
}
