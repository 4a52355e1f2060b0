//! Canonical ABI layout: sizes, alignments, flattening and variant shapes of
//! component types (CanonicalABI.md "Alignment", "Element Size", "Flattening").

use super::types::Type;
use rivet_descriptor::ValType;

/// Most flat values passed as parameters before they are spilled to memory.
pub(crate) const MAX_FLAT_PARAMS: usize = 16;
/// Most flat values returned before results go through memory.
pub(crate) const MAX_FLAT_RESULTS: usize = 1;

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

pub(crate) fn align_to(ptr: u32, align: u32) -> u32 {
    ptr.div_ceil(align) * align
}

/// Byte size of the discriminant of a variant with `n` cases.
pub(crate) fn discriminant_size(n: usize) -> u32 {
    match n {
        0..=0x100 => 1,
        0x101..=0x10000 => 2,
        _ => 4,
    }
}

/// Bytes of the flags representation in memory.
pub(crate) fn flags_size(n: usize) -> u32 {
    match n {
        0 => 0,
        1..=8 => 1,
        9..=16 => 2,
        _ => 4 * n.div_ceil(32) as u32,
    }
}

pub(crate) fn alignment(t: &Type) -> u32 {
    match t {
        Type::Bool | Type::S8 | Type::U8 => 1,
        Type::S16 | Type::U16 => 2,
        Type::S32 | Type::U32 | Type::F32 | Type::Char | Type::Own(_) | Type::Borrow(_) => 4,
        Type::S64 | Type::U64 | Type::F64 => 8,
        Type::String | Type::List(_) | Type::Map(..) => 4,
        Type::Flags(names) => flags_size(names.len()).clamp(1, 4),
        Type::Record(_) | Type::Tuple(_) => fields(t)
            .unwrap_or_default()
            .into_iter()
            .map(alignment)
            .max()
            .unwrap_or(1),
        _ => {
            let cs = cases(t).unwrap_or_default();
            discriminant_size(cs.len()).max(max_case_alignment(&cs))
        }
    }
}

pub(crate) fn max_case_alignment(cs: &[Option<&Type>]) -> u32 {
    cs.iter().flatten().map(|t| alignment(t)).max().unwrap_or(1)
}

pub(crate) fn size(t: &Type) -> u32 {
    match t {
        Type::Bool | Type::S8 | Type::U8 => 1,
        Type::S16 | Type::U16 => 2,
        Type::S32 | Type::U32 | Type::F32 | Type::Char | Type::Own(_) | Type::Borrow(_) => 4,
        Type::S64 | Type::U64 | Type::F64 => 8,
        Type::String | Type::List(_) | Type::Map(..) => 8,
        Type::Flags(names) => flags_size(names.len()),
        Type::Record(_) | Type::Tuple(_) => {
            let mut s = 0;
            for f in fields(t).unwrap_or_default() {
                s = align_to(s, alignment(f)) + size(f);
            }
            align_to(s, alignment(t))
        }
        _ => {
            let cs = cases(t).unwrap_or_default();
            let mut s = discriminant_size(cs.len());
            s = align_to(s, max_case_alignment(&cs));
            s += cs.iter().flatten().map(|c| size(c)).max().unwrap_or(0);
            align_to(s, alignment(t))
        }
    }
}

/// Offset of the payload of a variant-like type from its start.
pub(crate) fn payload_offset(cs: &[Option<&Type>]) -> u32 {
    align_to(discriminant_size(cs.len()), max_case_alignment(cs))
}

/// The core value types `t` flattens to.
pub(crate) fn flatten(t: &Type) -> Vec<ValType> {
    let mut out = Vec::new();
    flatten_into(t, &mut out);
    out
}

fn flatten_into(t: &Type, out: &mut Vec<ValType>) {
    match t {
        Type::S64 | Type::U64 => out.push(ValType::I64),
        Type::F32 => out.push(ValType::F32),
        Type::F64 => out.push(ValType::F64),
        Type::String | Type::List(_) | Type::Map(..) => out.extend([ValType::I32, ValType::I32]),
        Type::Flags(names) => {
            out.extend(std::iter::repeat_n(ValType::I32, names.len().div_ceil(32)))
        }
        Type::Record(_) | Type::Tuple(_) => {
            for f in fields(t).unwrap_or_default() {
                flatten_into(f, out);
            }
        }
        Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result { .. } => {
            out.push(ValType::I32);
            out.extend(variant_payload(&cases(t).unwrap_or_default()));
        }
        _ => out.push(ValType::I32),
    }
}

/// The joined flat payload of a variant's cases.
fn variant_payload(cs: &[Option<&Type>]) -> Vec<ValType> {
    let mut joined: Vec<ValType> = Vec::new();
    for c in cs.iter().flatten() {
        for (i, ft) in flatten(c).into_iter().enumerate() {
            match joined.get_mut(i) {
                Some(have) => *have = join(*have, ft),
                None => joined.push(ft),
            }
        }
    }
    joined
}

fn join(a: ValType, b: ValType) -> ValType {
    match (a, b) {
        _ if a == b => a,
        (ValType::I32, ValType::F32) | (ValType::F32, ValType::I32) => ValType::I32,
        _ => ValType::I64,
    }
}

/// The core signature of a function with these parameter and result types,
/// lifted (`lower == false`) or lowered (`lower == true`): spilled parameters
/// become one pointer; spilled results a returned pointer (lift) or an extra
/// pointer parameter (lower).
pub(crate) fn core_signature(
    params: &[&Type],
    result: Option<&Type>,
    lower: bool,
) -> rivet_descriptor::FuncType {
    let mut flat_params: Vec<ValType> = params.iter().flat_map(|t| flatten(t)).collect();
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
        params: flat_params,
        results: flat_results,
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
