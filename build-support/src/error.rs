//! Build errors: what went wrong, where in which file, and why.

use std::fmt;
use std::path::PathBuf;
use wasmparser::Payload;

/// A build error. Displays as `file: at offset 0x1f: reason`, or
/// `file: at offset 0x1f in the 2nd nested component > its 1st core module:
/// reason` where the offset falls inside nested definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The input file, when known.
    pub file: Option<PathBuf>,
    /// Byte offset in the input, when known.
    pub offset: Option<usize>,
    /// The nested components and core modules the offset lies in, outermost
    /// first (see [`Error::within`]); empty at the top level.
    pub nesting: Vec<String>,
    /// What is wrong.
    pub message: String,
}

impl Error {
    /// An error at a known offset.
    pub fn at(offset: usize, message: impl Into<String>) -> Error {
        Error {
            file: None,
            offset: Some(offset),
            nesting: Vec::new(),
            message: message.into(),
        }
    }

    /// An error with no position (I/O, linking, configuration).
    pub fn msg(message: impl Into<String>) -> Error {
        Error {
            file: None,
            offset: None,
            nesting: Vec::new(),
            message: message.into(),
        }
    }

    /// A construct Rivet does not support yet, at `offset`.
    pub fn unsupported(offset: usize, what: impl fmt::Display) -> Error {
        Error::at(offset, format!("not supported yet: {what}"))
    }

    /// Records which nested definitions of `wasm` (the input the offset is
    /// in) contain the offset, so that an error deep in a composed component
    /// says where to look, not just a byte offset.
    pub fn within(mut self, wasm: &[u8]) -> Error {
        if let Some(offset) = self.offset {
            self.nesting = nesting(wasm, offset);
        }
        self
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
            write!(f, "at offset {offset:#x}")?;
            if !self.nesting.is_empty() {
                write!(f, " in {}", self.nesting.join(" > "))?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

/// The nested definitions containing `offset`, outermost first, as ordinals
/// among the component and core module sections of their parent
/// (`the 2nd nested component`, `its 1st core module`). Unparsable bytes end
/// the walk: what was found before them stands.
fn nesting(wasm: &[u8], offset: usize) -> Vec<String> {
    let mut path = Vec::new();
    // Per open definition: how many nested modules and components it has had.
    let mut open: Vec<(usize, usize)> = vec![(0, 0)];
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let (range, module) = match payload {
            Ok(Payload::ModuleSection {
                unchecked_range, ..
            }) => (unchecked_range, true),
            Ok(Payload::ComponentSection {
                unchecked_range, ..
            }) => (unchecked_range, false),
            Ok(Payload::End(_)) => {
                open.pop();
                continue;
            }
            Ok(_) => continue,
            Err(_) => break,
        };
        let depth = open.len();
        let Some(counts) = open.last_mut() else { break };
        let n = if module { &mut counts.0 } else { &mut counts.1 };
        *n += 1;
        let n = *n;
        let inside = (range.start as usize..range.end as usize).contains(&offset);
        // Only where every enclosing definition contains the offset too.
        if inside && path.len() + 1 == depth {
            let owner = if path.is_empty() { "the" } else { "its" };
            let kind = if module {
                "core module"
            } else {
                "nested component"
            };
            path.push(format!("{owner} {} {kind}", ordinal(n)));
        }
        open.push((0, 0));
    }
    path
}

/// `1st`, `2nd`, `3rd`, `4th`, … `11th`, `21st`.
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_nested_definitions_around_their_offset() {
        let wasm = wat::parse_str(
            r#"(component
                 (component (core module))
                 (component
                   (core module (func))
                   (core module (func (result i32) i64.const 0))))"#,
        )
        .unwrap();
        let e = crate::validate_component(&wasm, &crate::Options::default()).unwrap_err();
        let e = e.within(&wasm).in_file("x.wasm");
        assert_eq!(
            e.nesting,
            ["the 2nd nested component", "its 2nd core module"]
        );
        let shown = e.to_string();
        assert!(
            shown.starts_with("x.wasm: at offset 0x")
                && shown
                    .contains(" in the 2nd nested component > its 2nd core module: type mismatch"),
            "{shown}"
        );
        // At the top level, and past the end, nothing is added.
        assert!(Error::at(3, "x").within(&wasm).nesting.is_empty());
        assert!(Error::at(wasm.len() + 9, "x")
            .within(&wasm)
            .nesting
            .is_empty());
        assert!(Error::msg("x").within(&wasm).nesting.is_empty());
        assert!(Error::at(9, "x")
            .within(b"\0asm\x0d\0\x01\0\x04")
            .nesting
            .is_empty());
    }

    #[test]
    fn ordinals_read_as_english() {
        let words: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            words,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }
}
