//! Encoding every module of a script to binary before anything runs, so that the
//! binaries can be compiled ahead (and once for all bounds modes).

use crate::pipeline::Kind;
use wast::core::Module as CoreModule;
use wast::{QuoteWat, WastDirective, WastExecute, Wat};

/// A module or component of a script, ready for the pipeline.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// The binary encoding, and whether it is a module or a component.
    Binary(Kind, Vec<u8>),
    /// The text did not parse or encode (what `assert_malformed` expects of text).
    Rejected(String),
}

impl Prepared {
    /// The kind and binary, for what should be compiled ahead of need.
    pub fn binary(&self) -> Option<(Kind, &[u8])> {
        match self {
            Prepared::Binary(kind, b) => Some((*kind, b)),
            Prepared::Rejected(_) => None,
        }
    }
}

/// The module of each directive (`None` for directives without one), in order.
pub fn prepare(directives: &mut [WastDirective<'_>]) -> Vec<Option<Prepared>> {
    directives.iter_mut().map(prepare_directive).collect()
}

/// Whether the module of this directive is expected to compile, so is worth
/// compiling ahead: not the ones scripts expect to be rejected.
pub fn expected_to_compile(directive: &WastDirective<'_>) -> bool {
    !matches!(
        directive,
        WastDirective::AssertInvalid { .. } | WastDirective::AssertMalformed { .. }
    )
}

fn prepare_directive(directive: &mut WastDirective<'_>) -> Option<Prepared> {
    match directive {
        WastDirective::Module(module)
        | WastDirective::ModuleDefinition(module)
        | WastDirective::AssertMalformed { module, .. }
        | WastDirective::AssertInvalid { module, .. } => Some(encode_quote(module)),
        WastDirective::AssertUnlinkable { module, .. } => Some(encode_wat(module)),
        WastDirective::AssertTrap {
            exec: WastExecute::Wat(module),
            ..
        }
        | WastDirective::AssertReturn {
            exec: WastExecute::Wat(module),
            ..
        } => Some(encode_wat(module)),
        _ => None,
    }
}

fn encode_quote(module: &mut QuoteWat<'_>) -> Prepared {
    let kind = match module {
        QuoteWat::Wat(wat) => return encode_wat(wat),
        QuoteWat::QuoteModule(..) => Kind::Module,
        QuoteWat::QuoteComponent(..) => Kind::Component,
    };
    encoded(kind, module.encode())
}

fn encode_wat(wat: &mut Wat<'_>) -> Prepared {
    match wat {
        Wat::Module(module) => encode_module(module),
        Wat::Component(component) => encoded(Kind::Component, component.encode()),
    }
}

fn encode_module(module: &mut CoreModule<'_>) -> Prepared {
    encoded(Kind::Module, module.encode())
}

fn encoded(kind: Kind, result: Result<Vec<u8>, wast::Error>) -> Prepared {
    match result {
        Ok(bytes) => Prepared::Binary(kind, bytes),
        Err(e) => Prepared::Rejected(e.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wast::parser::{self, ParseBuffer};

    fn prepared(text: &str) -> Vec<Option<Prepared>> {
        let buf = ParseBuffer::new(text).unwrap();
        let mut wast = parser::parse::<wast::Wast<'_>>(&buf).unwrap();
        prepare(&mut wast.directives)
    }

    #[test]
    fn modules_encode_to_binary() {
        let p = prepared("(module (func (export \"f\"))) (invoke \"f\")");
        assert_eq!(p.len(), 2);
        let (kind, bin) = p[0].as_ref().unwrap().binary().unwrap();
        assert_eq!(kind, Kind::Module);
        assert_eq!(&bin[..4], b"\0asm");
        assert!(p[1].is_none());
    }

    #[test]
    fn binary_modules_keep_their_bytes() {
        let p = prepared(r#"(module binary "\00asm" "\01\00\00\00")"#);
        let expected = (Kind::Module, &b"\0asm\x01\0\0\0"[..]);
        assert_eq!(p[0].as_ref().unwrap().binary().unwrap(), expected);
    }

    #[test]
    fn malformed_quoted_text_is_rejected_with_a_reason() {
        let p =
            prepared(r#"(assert_malformed (module quote "(func (i32.const))x(") "unexpected")"#);
        match &p[0] {
            Some(Prepared::Rejected(reason)) => assert!(!reason.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn components_encode_as_components() {
        let text = r#"
            (component $c (core module))
            (component definition $d)
            (component binary "\00asm" "\0d\00\01\00")
            (assert_invalid (component (core module)) "x")
            (assert_malformed (component quote "(core") "x")
        "#;
        let p = prepared(text);
        for (i, prepared) in p.iter().take(4).enumerate() {
            let (kind, bin) = prepared.as_ref().unwrap().binary().unwrap();
            assert_eq!(kind, Kind::Component, "directive {i}");
            assert_eq!(&bin[4..8], b"\x0d\0\x01\0", "directive {i}");
        }
        assert!(matches!(p[4], Some(Prepared::Rejected(_))));
    }

    #[test]
    fn instantiation_traps_are_prepared() {
        let p = prepared(r#"(assert_trap (module (func unreachable) (start 0)) "unreachable")"#);
        assert!(p[0].as_ref().unwrap().binary().is_some());
    }
}
