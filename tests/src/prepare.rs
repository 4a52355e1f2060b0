//! Encoding every module of a script to binary before anything runs, so that the
//! binaries can be compiled ahead (and once for all bounds modes).

use wast::core::Module as CoreModule;
use wast::{QuoteWat, WastDirective, WastExecute, Wat};

/// A module of a script, ready for the pipeline.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// The module's binary encoding.
    Binary(Vec<u8>),
    /// The text did not parse or encode (what `assert_malformed` expects of text).
    Rejected(String),
    /// Something Rivet's runner does not run yet (components).
    Unsupported(String),
}

impl Prepared {
    /// The binary, for modules that should be compiled ahead of need.
    pub fn binary(&self) -> Option<&[u8]> {
        match self {
            Prepared::Binary(b) => Some(b),
            _ => None,
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
    match module {
        QuoteWat::Wat(wat) => encode_wat(wat),
        QuoteWat::QuoteModule(..) => match module.encode() {
            Ok(bytes) => Prepared::Binary(bytes),
            Err(e) => Prepared::Rejected(e.message()),
        },
        QuoteWat::QuoteComponent(..) => components_unsupported(),
    }
}

fn encode_wat(wat: &mut Wat<'_>) -> Prepared {
    match wat {
        Wat::Module(module) => encode_module(module),
        Wat::Component(_) => components_unsupported(),
    }
}

fn encode_module(module: &mut CoreModule<'_>) -> Prepared {
    match module.encode() {
        Ok(bytes) => Prepared::Binary(bytes),
        Err(e) => Prepared::Rejected(e.message()),
    }
}

fn components_unsupported() -> Prepared {
    Prepared::Unsupported("not supported yet: components in the wast runner".to_string())
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
        let bin = p[0].as_ref().unwrap().binary().unwrap();
        assert_eq!(&bin[..4], b"\0asm");
        assert!(p[1].is_none());
    }

    #[test]
    fn binary_modules_keep_their_bytes() {
        let p = prepared(r#"(module binary "\00asm" "\01\00\00\00")"#);
        assert_eq!(p[0].as_ref().unwrap().binary().unwrap(), b"\0asm\x01\0\0\0");
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
    fn components_are_unsupported_not_skipped() {
        let p = prepared("(component)");
        assert!(matches!(p[0], Some(Prepared::Unsupported(_))));
    }

    #[test]
    fn instantiation_traps_are_prepared() {
        let p = prepared(r#"(assert_trap (module (func unreachable) (start 0)) "unreachable")"#);
        assert!(p[0].as_ref().unwrap().binary().is_some());
    }
}
