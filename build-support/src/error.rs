//! Build errors: what kind of problem, where in which file, and why; and the
//! report a build script or the `rivet` command prints for one.

use std::fmt;
use std::path::{Path, PathBuf};
use wasmparser::Payload;

/// What kind of problem an [`Error`] is, for a caller that reacts to some of
/// them (its message says the rest). More kinds may be added.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input is not valid WebAssembly: malformed bytes, a module or
    /// component that fails validation, text that does not parse, or a core
    /// module where a component is expected.
    Invalid,
    /// The input or the options ask for something Rivet does not support
    /// yet (a feature, a target, a combination of options); the message
    /// names it.
    Unsupported,
    /// A plug's export and the import it is wired to (or two imports left to
    /// the host under one name) have different types.
    TypeMismatch,
    /// The plugs cannot be wired: two plugs export the same name, or no
    /// import uses a plug.
    Unresolved,
    /// A file cannot be read or written.
    Io,
    /// An external tool (the C compiler, the archiver, the linker) is
    /// missing or failed.
    Toolchain,
    /// The configuration is wrong: a component name, an option, a target, or
    /// an environment variable cargo sets for build scripts.
    Config,
    /// A bug in Rivet: it found its own output inconsistent.
    Internal,
}

impl ErrorKind {
    /// The line of a report that says what to do about an error of this kind;
    /// `feature` is the unsupported feature, for [`ErrorKind::Unsupported`].
    fn help(self, feature: &str) -> String {
        match self {
            ErrorKind::Invalid => "check that the file is a WebAssembly component or core \
                                   module, complete and valid"
                .into(),
            ErrorKind::Unsupported => {
                format!("Rivet does not support this yet ({feature}): build without it")
            }
            ErrorKind::TypeMismatch => "build the component and its plugs against the same \
                                        version of each interface they share"
                .into(),
            ErrorKind::Unresolved => "check that each plug exports names that the component \
                                      (or a later plug) imports, and that no two plugs export \
                                      the same name"
                .into(),
            ErrorKind::Io => "check that the path exists and is readable (paths given in \
                              build.rs are relative to the crate's directory)"
                .into(),
            ErrorKind::Toolchain => "check that a C compiler and an archiver are installed and \
                                     work (the CC and AR environment variables choose them)"
                .into(),
            ErrorKind::Config => "check the names and options given to rivet_build::Config in \
                                  build.rs (or to the rivet command)"
                .into(),
            ErrorKind::Internal => {
                "this is a bug in Rivet: please report it with the input file".into()
            }
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Invalid => "invalid input",
            ErrorKind::Unsupported => "not supported yet",
            ErrorKind::TypeMismatch => "type mismatch",
            ErrorKind::Unresolved => "unresolved plugs",
            ErrorKind::Io => "I/O error",
            ErrorKind::Toolchain => "toolchain failure",
            ErrorKind::Config => "bad configuration",
            ErrorKind::Internal => "internal error",
        })
    }
}

/// A build error: its [`ErrorKind`], the file, byte offset and nested
/// definition it concerns when known, and a message. Displays on one line as
/// `file: at offset 0x1f: reason`, or `file: at offset 0x1f in the 2nd nested
/// component > its 1st core module: reason` where the offset falls inside
/// nested definitions; [`Error::report`] is the longer form for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub(crate) kind: ErrorKind,
    /// The component being compiled, by the name the build gave it.
    pub(crate) component: Option<String>,
    pub(crate) file: Option<PathBuf>,
    pub(crate) offset: Option<usize>,
    /// The nested components and core modules the offset lies in, outermost
    /// first (see [`Error::within`]); empty at the top level.
    pub(crate) nesting: Vec<String>,
    pub(crate) message: String,
}

impl Error {
    /// An error of `kind`, with no position.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            component: None,
            file: None,
            offset: None,
            nesting: Vec::new(),
            message: message.into(),
        }
    }

    /// Invalid input at a known offset.
    pub(crate) fn at(offset: usize, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, message).at_offset(offset)
    }

    /// A construct Rivet does not support yet, at `offset`.
    pub(crate) fn unsupported(offset: usize, what: impl fmt::Display) -> Error {
        Error::new(ErrorKind::Unsupported, format!("not supported yet: {what}")).at_offset(offset)
    }

    /// The error, at `offset` of its input.
    pub(crate) fn at_offset(mut self, offset: usize) -> Error {
        self.offset = Some(offset);
        self
    }

    /// Records which nested definitions of `wasm` (the input the offset is
    /// in) contain the offset, so that an error deep in a composed component
    /// says where to look, not just a byte offset.
    pub(crate) fn within(mut self, wasm: &[u8]) -> Error {
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

    /// Attaches the name of the component being compiled, which the
    /// [`Error::report`] names first.
    pub fn named(mut self, component: impl Into<String>) -> Error {
        self.component = Some(component.into());
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Why, without the position: e.g. `unexpected end-of-file`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The input file, when known.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The byte offset in [`Error::file`] (or in the bytes given), when known.
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// The nested components and core modules the offset lies in, outermost
    /// first (`the 2nd nested component`, `its 1st core module`); empty at
    /// the top level.
    pub fn nesting(&self) -> &[String] {
        &self.nesting
    }

    /// The component being compiled, when known.
    pub fn component(&self) -> Option<&str> {
        self.component.as_deref()
    }

    /// The error as a report for a person, as `Config::compile` and `rivet
    /// compile` print it: a headline naming the component and the kind, then
    /// one labelled line each for the file, the nested definition, the
    /// offset (those known), the reason, and what to do:
    ///
    /// ```text
    /// error: rivet could not compile `hello` (invalid input)
    ///   file:   guest/hello.wasm
    ///   inside: the 1st core module
    ///   offset: 0x2f
    ///   reason: unexpected end-of-file
    ///   help:   check that the file is a WebAssembly component or core module, complete and valid
    /// ```
    pub fn report(&self) -> String {
        let mut out = match &self.component {
            Some(name) => format!("error: rivet could not compile `{name}` ({})\n", self.kind),
            None => format!("error: rivet: {}\n", self.kind),
        };
        let mut line = |label: &str, text: &str| {
            let text = text.replace('\n', "\n          ");
            out.push_str(&format!("  {label:<7} {text}\n"));
        };
        if let Some(file) = &self.file {
            line("file:", &file.display().to_string());
        }
        if !self.nesting.is_empty() {
            line("inside:", &self.nesting.join(" > "));
        }
        if let Some(offset) = self.offset {
            line("offset:", &format!("{offset:#x}"));
        }
        line("reason:", &self.message);
        line("help:", &self.kind.help(self.feature()));
        out
    }

    /// For an unsupported feature, the feature: the message without its
    /// `not supported yet: ` (or `not supported: `) prefix.
    fn feature(&self) -> &str {
        ["not supported yet: ", "not supported: "]
            .iter()
            .find_map(|prefix| self.message.strip_prefix(prefix))
            .unwrap_or(&self.message)
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
        assert!(Error::new(ErrorKind::Io, "x")
            .within(&wasm)
            .nesting
            .is_empty());
        assert!(Error::at(9, "x")
            .within(b"\0asm\x0d\0\x01\0\x04")
            .nesting
            .is_empty());
    }

    #[test]
    fn reports_say_what_is_unsupported_and_indent_long_reasons() {
        let e = Error::unsupported(0x2a, "component start functions")
            .in_file("app.wasm")
            .named("app");
        assert_eq!(
            e.report(),
            "error: rivet could not compile `app` (not supported yet)\n  \
             file:   app.wasm\n  \
             offset: 0x2a\n  \
             reason: not supported yet: component start functions\n  \
             help:   Rivet does not support this yet (component start functions): build \
             without it\n"
        );
        let e = Error::new(ErrorKind::Toolchain, "cc failed:\nline 1\nline 2");
        assert_eq!(
            e.report(),
            "error: rivet: toolchain failure\n  \
             reason: cc failed:\n          line 1\n          line 2\n  \
             help:   check that a C compiler and an archiver are installed and work (the CC \
             and AR environment variables choose them)\n"
        );
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
