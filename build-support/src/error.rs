//! Build errors: what went wrong, where in which file, and why.

use std::fmt;
use std::path::PathBuf;

/// A build error. Displays as `file: at offset 0x1f: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The input file, when known.
    pub file: Option<PathBuf>,
    /// Byte offset in the input, when known.
    pub offset: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl Error {
    /// An error at a known offset.
    pub fn at(offset: usize, message: impl Into<String>) -> Error {
        Error {
            file: None,
            offset: Some(offset),
            message: message.into(),
        }
    }

    /// An error with no position (I/O, linking, configuration).
    pub fn msg(message: impl Into<String>) -> Error {
        Error {
            file: None,
            offset: None,
            message: message.into(),
        }
    }

    /// A construct Rivet does not support yet, at `offset`.
    pub fn unsupported(offset: usize, what: impl fmt::Display) -> Error {
        Error::at(offset, format!("not supported yet: {what}"))
    }

    /// Attaches the input file's path.
    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Error {
        self.file = Some(file.into());
        self
    }
}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Error {
        Error::at(e.offset() as usize, e.message().to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        if let Some(offset) = self.offset {
            write!(f, "at offset {offset:#x}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
