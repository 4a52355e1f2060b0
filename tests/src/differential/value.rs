//! Values as both engines see them: each engine converts its own values to
//! these, and an outcome records them as text (`i32:5`, `f32:0x7fc00000`), so
//! that two engines, or an engine and a recording, compare line by line.

use std::fmt;

/// The kind of a reference type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    Func,
    Extern,
    Exn,
}

impl RefKind {
    fn name(self) -> &'static str {
        match self {
            RefKind::Func => "funcref",
            RefKind::Extern => "externref",
            RefKind::Exn => "exnref",
        }
    }
}

/// The type of a parameter, as far as generating an argument needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref(RefKind),
}

/// A value; floats as their bits, so NaN payloads compare too. A reference is
/// only null or not: its identity means nothing across engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    Null(RefKind),
    NonNull(RefKind),
}

impl Value {
    /// A reference of `kind`, null or not: how an engine's reference value is
    /// recorded.
    pub fn reference(kind: RefKind, null: bool) -> Value {
        if null {
            Value::Null(kind)
        } else {
            Value::NonNull(kind)
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(bits) => write!(f, "f32:{bits:#010x}"),
            Value::F64(bits) => write!(f, "f64:{bits:#018x}"),
            Value::V128(bits) => write!(f, "v128:{bits:#034x}"),
            Value::Null(kind) => write!(f, "{}:null", kind.name()),
            Value::NonNull(kind) => write!(f, "{}:ref", kind.name()),
        }
    }
}

/// Whether a value as written by [`Value`]'s `Display` is a float NaN (of any
/// payload): the one difference canonicalisation may leave (see `compare`).
pub fn is_nan_text(text: &str) -> bool {
    let parse = |hex: &str| u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok();
    if let Some(bits) = text.strip_prefix("f32:").and_then(parse) {
        f32::from_bits(bits as u32).is_nan()
    } else if let Some(bits) = text.strip_prefix("f64:").and_then(parse) {
        f64::from_bits(bits).is_nan()
    } else {
        false
    }
}

/// FNV-1a over `bytes`: a stable digest of an exported memory (or a table's
/// null map) for the outcome, where the bytes themselves would be too long.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_typed_bits() {
        assert_eq!(Value::I32(-1).to_string(), "i32:-1");
        assert_eq!(Value::F32(0x7fc0_0000).to_string(), "f32:0x7fc00000");
        assert_eq!(Value::Null(RefKind::Exn).to_string(), "exnref:null");
        assert!(is_nan_text(&Value::F64(0x7ff8_0000_0000_0001).to_string()));
        assert!(!is_nan_text(&Value::F32(0x7f80_0000).to_string()));
        assert!(!is_nan_text("i32:2143289344"));
    }

    #[test]
    fn fnv_is_the_published_function() {
        assert_eq!(fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
