//! Canonical ABI layout: sizes, alignments, flattening and variant shapes of
//! component types (CanonicalABI.md "Alignment", "Element Size", "Flattening").

use super::types::Type;
use crate::prelude::*;
use rivet_descriptor::ValType;

pub(crate) use rivet_descriptor::abi::AbiType;
use rivet_descriptor::abi::Shape;
pub(crate) use rivet_descriptor::abi::{
    align_to, alignment, discriminant_size, field_offsets, flags_size, flatten, payload_offset,
    size, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS,
};

/// The runtime's types as the shared layout code sees them (hidden: an
/// implementation detail, not something a host calls).
#[doc(hidden)]
impl<'a> AbiType for &'a Type {
    fn shape(self) -> Shape<&'a Type> {
        let scalar = |bytes, flat| Shape::Scalar { bytes, flat };
        match self {
            Type::Bool | Type::S8 | Type::U8 => scalar(1, ValType::I32),
            Type::S16 | Type::U16 => scalar(2, ValType::I32),
            Type::S32 | Type::U32 | Type::Char | Type::Own(_) | Type::Borrow(_) => {
                scalar(4, ValType::I32)
            }
            Type::F32 => scalar(4, ValType::F32),
            Type::S64 | Type::U64 => scalar(8, ValType::I64),
            Type::F64 => scalar(8, ValType::F64),
            Type::String | Type::List(_) | Type::Map(..) => Shape::PointerLength,
            Type::Flags(names) => Shape::Flags(names.len()),
            Type::Record(_) | Type::Tuple(_) => Shape::Record(fields(self).unwrap_or_default()),
            _ => Shape::Variant(cases(self).unwrap_or_default()),
        }
    }
}

/// The cases of a variant-like type (variant, enum, option, result), each with
/// its optional payload type.
pub(crate) fn cases(t: &Type) -> Option<Vec<Option<&Type>>> {
    Some(match t {
        Type::Variant(cs) => cs.iter().map(|(_, p)| p.as_ref()).collect(),
        Type::Enum(names) => vec![None; names.len()],
        Type::Option(p) => vec![None, Some(&**p)],
        Type::Result { ok, err } => vec![ok.as_deref(), err.as_deref()],
        _ => return None,
    })
}

/// Fields of a record-like type (record, tuple).
pub(crate) fn fields(t: &Type) -> Option<Vec<&Type>> {
    match t {
        Type::Record(fs) => Some(fs.iter().map(|(_, t)| t).collect()),
        Type::Tuple(ts) => Some(ts.iter().collect()),
        _ => None,
    }
}

/// The element type of a map's list: the tuple `(k, v)` (the Canonical ABI's
/// `despecialize`).
pub(crate) fn map_entry(k: &Type, v: &Type) -> Type {
    Type::Tuple(vec![k.clone(), v.clone()])
}

/// Offset of the value within a map entry.
pub(crate) fn map_value_offset(k: &Type, v: &Type) -> u32 {
    align_to(size(k), alignment(v))
}

/// The core signature of a function with these parameter and result types,
/// lifted (`lower == false`) or lowered (`lower == true`): spilled parameters
/// become one pointer; spilled results a returned pointer (lift) or an extra
/// pointer parameter (lower).
pub(crate) fn core_signature<T: AbiType>(
    params: &[T],
    result: Option<T>,
    lower: bool,
) -> rivet_descriptor::FuncType {
    let mut flat_params: Vec<ValType> = params.iter().flat_map(|t| flatten(*t)).collect();
    if flat_params.len() > MAX_FLAT_PARAMS {
        flat_params = vec![ValType::I32];
    }
    let mut flat_results = result.map(flatten).unwrap_or_default();
    if flat_results.len() > MAX_FLAT_RESULTS {
        if lower {
            flat_params.push(ValType::I32);
            flat_results = vec![];
        } else {
            flat_results = vec![ValType::I32];
        }
    }
    rivet_descriptor::FuncType {
        params: flat_params.into(),
        results: flat_results.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_follows_the_canonical_abi() {
        let rec = Type::Record(vec![
            ("a".into(), Type::U8),
            ("b".into(), Type::U64),
            ("c".into(), Type::U16),
        ]);
        assert_eq!((size(&rec), alignment(&rec)), (24, 8));
        let opt = Type::Option(Box::new(Type::U32));
        assert_eq!((size(&opt), alignment(&opt)), (8, 4));
        let e = Type::Enum((0..300).map(|i| i.to_string()).collect());
        assert_eq!((size(&e), alignment(&e)), (2, 2));
        let f = Type::Flags((0..40).map(|i| i.to_string()).collect());
        assert_eq!((size(&f), alignment(&f), flatten(&f).len()), (8, 4, 2));
        let r = Type::Result {
            ok: Some(Box::new(Type::F32)),
            err: Some(Box::new(Type::U64)),
        };
        assert_eq!(flatten(&r), vec![ValType::I32, ValType::I64]);
        let v = Type::Variant(vec![
            ("a".into(), Some(Type::F32)),
            ("b".into(), Some(Type::U32)),
        ]);
        assert_eq!(flatten(&v), vec![ValType::I32, ValType::I32]);
        assert_eq!(size(&Type::String), 8);
        let m = Type::Map(Box::new(Type::U8), Box::new(Type::U64));
        assert_eq!((size(&m), alignment(&m)), (8, 4));
        assert_eq!(flatten(&m), vec![ValType::I32, ValType::I32]);
        let entry = map_entry(&Type::U8, &Type::U64);
        assert_eq!((size(&entry), alignment(&entry)), (16, 8));
        assert_eq!(map_value_offset(&Type::U8, &Type::U64), 8);
        assert_eq!(map_value_offset(&Type::String, &Type::U8), 8);
    }

    #[test]
    fn signatures_spill_params_and_results() {
        let many: Vec<Type> = vec![Type::U32; 17];
        let refs: Vec<&Type> = many.iter().collect();
        let s = core_signature(&refs, Some(&Type::String), false);
        assert_eq!((s.params.len(), s.results.len()), (1, 1));
        let s = core_signature(&refs[..2], Some(&Type::String), true);
        assert_eq!((s.params.len(), s.results.len()), (3, 0));
    }
}
