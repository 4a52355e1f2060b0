//! Canonical ABI layout arithmetic (`CanonicalABI.md`: "Alignment", "Element
//! Size", "Flattening"), in one place for the compiler's adapters and the
//! runtime's host-side lifting and lowering, which must agree byte for byte.
//!
//! Each side keeps its own tree of the plan's value types, resolved with its
//! own checks and carrying what only it needs (the adapters distinguish signed
//! from unsigned, the runtime keeps names); both describe a type to this module
//! through [`AbiType`], the despecialized shape the Canonical ABI actually lays
//! out, and this module does all the sizing, alignment, padding and flattening.

use crate::component::{CallLayout, Component, ComponentFuncType, Spill, TypeRef, ValueType};
use crate::ValType;
use alloc::vec;
use alloc::vec::Vec;

/// Most flat values passed as parameters before they are spilled to memory.
pub const MAX_FLAT_PARAMS: usize = 16;
/// Most flat values returned before results go through memory.
pub const MAX_FLAT_RESULTS: usize = 1;

/// What the Canonical ABI sees of a type after `despecialize`: tuples are
/// records, enums, options and results are variants, strings, lists and maps
/// are a pointer and a length.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape<T> {
    /// A number, `bool`, `char` or handle: this many bytes, aligned to its
    /// size, flattening to one core value of type `flat`.
    Scalar { bytes: u32, flat: ValType },
    /// `(pointer, length)`: 8 bytes, 4-aligned, two `i32`s.
    PointerLength,
    /// Fields in order.
    Record(Vec<T>),
    /// Cases in order, each with its optional payload.
    Variant(Vec<Option<T>>),
    /// Flags with this many labels.
    Flags(usize),
}

/// A type tree the layout can be computed over: usually a reference into a
/// resolved tree (children are references too).
pub trait AbiType: Copy {
    fn shape(self) -> Shape<Self>;
}

/// The plan's types, read in place.
impl<'a> AbiType for TypeRef<'a> {
    fn shape(self) -> Shape<TypeRef<'a>> {
        let scalar = |bytes, flat| Shape::Scalar { bytes, flat };
        let at = |t: &u32| self.at(*t);
        match self.value() {
            ValueType::Bool | ValueType::S8 | ValueType::U8 => scalar(1, ValType::I32),
            ValueType::S16 | ValueType::U16 => scalar(2, ValType::I32),
            ValueType::S32
            | ValueType::U32
            | ValueType::Char
            | ValueType::Own(_)
            | ValueType::Borrow(_) => scalar(4, ValType::I32),
            ValueType::F32 => scalar(4, ValType::F32),
            ValueType::S64 | ValueType::U64 => scalar(8, ValType::I64),
            ValueType::F64 => scalar(8, ValType::F64),
            ValueType::String | ValueType::List(_) | ValueType::Map(..) => Shape::PointerLength,
            ValueType::Flags(names) => Shape::Flags(names.len()),
            ValueType::Record(fs) => Shape::Record(fs.iter().map(|(_, t)| at(t)).collect()),
            ValueType::Tuple(ts) => Shape::Record(ts.iter().map(at).collect()),
            ValueType::Variant(cs) => {
                Shape::Variant(cs.iter().map(|(_, t)| t.as_ref().map(at)).collect())
            }
            ValueType::Enum(names) => Shape::Variant(vec![None; names.len()]),
            ValueType::Option(t) => Shape::Variant(vec![None, Some(at(t))]),
            ValueType::Result { ok, err } => {
                Shape::Variant(vec![ok.as_ref().map(at), err.as_ref().map(at)])
            }
        }
    }
}

/// How the host calls a function of type `func` lifted from core wasm.
pub fn call_layout(plan: &Component, func: &ComponentFuncType) -> CallLayout {
    let params = || func.params.iter().map(|(_, t)| TypeRef::new(plan, *t));
    let result = func.result.map(|t| TypeRef::new(plan, t));
    let flat_params: usize = params().map(|t| flatten(t).len()).sum();
    let spill = (flat_params > MAX_FLAT_PARAMS).then(|| {
        let (align, size) = record_layout(params());
        let offsets = field_offsets(params(), 0).map(|(_, at)| at).collect();
        Spill {
            align,
            size,
            offsets,
        }
    });
    let flat_result = result.map_or(Vec::new(), flatten);
    let spill_result = result
        .filter(|_| flat_result.len() > MAX_FLAT_RESULTS)
        .map(|t| (alignment(t), size(t)));
    let wide_result =
        spill_result.is_none() && matches!(flat_result.first(), Some(ValType::I64 | ValType::F64));
    let any = |pred: &dyn Fn(&ValueType) -> bool| params().any(|p| p.contains(pred));
    CallLayout {
        reallocs: spill.is_some()
            || any(&|t| {
                matches!(
                    t,
                    ValueType::String | ValueType::List(_) | ValueType::Map(..)
                )
            }),
        lends: any(&|t| matches!(t, ValueType::Borrow(_))),
        spill,
        spill_result,
        wide_result,
    }
}

/// `ptr` rounded up to a multiple of `align` (a power of two).
pub fn align_to(ptr: u32, align: u32) -> u32 {
    ptr.div_ceil(align) * align
}

/// Each field of a record (in order) with its address, the record laid out
/// at `base`.
pub fn field_offsets<T: AbiType>(
    fields: impl IntoIterator<Item = T>,
    base: u32,
) -> impl Iterator<Item = (T, u32)> {
    let mut at = base;
    fields.into_iter().map(move |t| {
        let here = align_to(at, alignment(t));
        at = here + size(t);
        (t, here)
    })
}

/// Alignment and size of a record with these fields (in order): also of a
/// function's parameters when they are passed in memory, without building
/// their tuple type.
pub fn record_layout<T: AbiType>(fields: impl IntoIterator<Item = T>) -> (u32, u32) {
    let (align, end) = fields.into_iter().fold((1, 0), |(align, at), f| {
        let a = alignment(f);
        (align.max(a), align_to(at, a) + size(f))
    });
    (align, align_to(end, align))
}

/// Byte width of the discriminant of a variant with `cases` cases.
pub fn discriminant_size(cases: usize) -> u32 {
    match cases {
        0..=0x100 => 1,
        0x101..=0x10000 => 2,
        _ => 4,
    }
}

/// Bytes of `n` flags in memory.
pub fn flags_size(n: usize) -> u32 {
    match n {
        0 => 0,
        1..=8 => 1,
        9..=16 => 2,
        _ => 4 * n.div_ceil(32) as u32,
    }
}

/// Alignment in linear memory.
pub fn alignment<T: AbiType>(t: T) -> u32 {
    match t.shape() {
        Shape::Scalar { bytes, .. } => bytes,
        Shape::PointerLength => 4,
        Shape::Record(fields) => record_layout(fields).0,
        Shape::Variant(cases) => discriminant_size(cases.len()).max(max_case_alignment(&cases)),
        Shape::Flags(n) => flags_size(n).clamp(1, 4),
    }
}

/// Byte size in linear memory (`elem_size`).
pub fn size<T: AbiType>(t: T) -> u32 {
    match t.shape() {
        Shape::Scalar { bytes, .. } => bytes,
        Shape::PointerLength => 8,
        Shape::Record(fields) => record_layout(fields).1,
        Shape::Variant(cases) => {
            let payload = cases.iter().flatten().map(|&c| size(c)).max().unwrap_or(0);
            align_to(payload_offset(&cases) + payload, alignment(t))
        }
        Shape::Flags(n) => flags_size(n),
    }
}

/// Offset of a variant's payload from its start.
pub fn payload_offset<T: AbiType>(cases: &[Option<T>]) -> u32 {
    align_to(discriminant_size(cases.len()), max_case_alignment(cases))
}

fn max_case_alignment<T: AbiType>(cases: &[Option<T>]) -> u32 {
    cases
        .iter()
        .flatten()
        .map(|&c| alignment(c))
        .max()
        .unwrap_or(1)
}

/// The core values a type flattens to.
pub fn flatten<T: AbiType>(t: T) -> Vec<ValType> {
    let mut out = Vec::new();
    flatten_into(t, &mut out);
    out
}

fn flatten_into<T: AbiType>(t: T, out: &mut Vec<ValType>) {
    match t.shape() {
        Shape::Scalar { flat, .. } => out.push(flat),
        Shape::PointerLength => out.extend([ValType::I32, ValType::I32]),
        Shape::Record(fields) => fields.into_iter().for_each(|f| flatten_into(f, out)),
        Shape::Variant(cases) => {
            out.push(ValType::I32);
            out.extend(variant_payload(&cases));
        }
        Shape::Flags(n) => out.extend(core::iter::repeat_n(ValType::I32, n.div_ceil(32))),
    }
}

/// The flat payload slots of a variant: its cases' flattenings, slot by slot
/// [`join`]ed.
fn variant_payload<T: AbiType>(cases: &[Option<T>]) -> Vec<ValType> {
    let mut joined: Vec<ValType> = Vec::new();
    for &case in cases.iter().flatten() {
        for (i, t) in flatten(case).into_iter().enumerate() {
            match joined.get_mut(i) {
                Some(slot) => *slot = join(*slot, t),
                None => joined.push(t),
            }
        }
    }
    joined
}

/// The core type two variant cases share a flat slot as.
pub fn join(a: ValType, b: ValType) -> ValType {
    match (a, b) {
        _ if a == b => a,
        (ValType::I32, ValType::F32) | (ValType::F32, ValType::I32) => ValType::I32,
        _ => ValType::I64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// A minimal type tree for the tests.
    enum T {
        U8,
        U16,
        U32,
        U64,
        F32,
        Str,
        Rec(Vec<T>),
        Var(Vec<Option<T>>),
        Flags(usize),
    }

    impl<'a> AbiType for &'a T {
        fn shape(self) -> Shape<&'a T> {
            let scalar = |bytes, flat| Shape::Scalar { bytes, flat };
            match self {
                T::U8 => scalar(1, ValType::I32),
                T::U16 => scalar(2, ValType::I32),
                T::U32 => scalar(4, ValType::I32),
                T::U64 => scalar(8, ValType::I64),
                T::F32 => scalar(4, ValType::F32),
                T::Str => Shape::PointerLength,
                T::Rec(fs) => Shape::Record(fs.iter().collect()),
                T::Var(cs) => Shape::Variant(cs.iter().map(Option::as_ref).collect()),
                T::Flags(n) => Shape::Flags(*n),
            }
        }
    }

    #[test]
    fn records_pad_fields_and_round_up() {
        let r = T::Rec(vec![T::U8, T::U64, T::U16]);
        assert_eq!((size(&r), alignment(&r)), (24, 8));
        assert_eq!(flatten(&r), vec![ValType::I32, ValType::I64, ValType::I32]);
    }

    #[test]
    fn variants_join_payload_slots() {
        let v = T::Var(vec![Some(T::F32), Some(T::U64), None]);
        assert_eq!((size(&v), alignment(&v)), (16, 8));
        assert_eq!(flatten(&v), vec![ValType::I32, ValType::I64]);
        let T::Var(cases) = &v else { unreachable!() };
        let cases: Vec<Option<&T>> = cases.iter().map(Option::as_ref).collect();
        assert_eq!(payload_offset(&cases), 8);
        let same = T::Var(vec![Some(T::F32), Some(T::U32)]);
        assert_eq!(flatten(&same), vec![ValType::I32, ValType::I32]);
        assert_eq!(join(ValType::F32, ValType::F64), ValType::I64);
    }

    #[test]
    fn discriminants_and_flags_grow_with_their_counts() {
        let none = |n: usize| T::Var((0..n).map(|_| None).collect());
        assert_eq!(size(&none(256)), 1);
        assert_eq!((size(&none(257)), alignment(&none(257))), (2, 2));
        assert_eq!(discriminant_size(70000), 4);
        assert_eq!(size(&T::Flags(9)), 2);
        let wide = T::Flags(40);
        assert_eq!(
            (size(&wide), alignment(&wide), flatten(&wide).len()),
            (8, 4, 2)
        );
        assert_eq!((size(&T::Flags(0)), alignment(&T::Flags(0))), (0, 1));
    }

    #[test]
    fn pointer_pairs() {
        let s = T::Rec(vec![T::U8, T::Str]);
        assert_eq!((size(&s), alignment(&s)), (12, 4));
        assert_eq!(flatten(&s), vec![ValType::I32; 3]);
    }

    #[test]
    fn call_layouts_follow_the_flattening() {
        let plan = Component {
            types: vec![
                ValueType::U8,
                ValueType::String,
                ValueType::U64,
                ValueType::Borrow(0),
                ValueType::Tuple(vec![1, 2].into()),
            ]
            .into(),
            ..Component::default()
        };
        let func = |params: &[u32], result| ComponentFuncType {
            params: params.iter().map(|t| (crate::Text::from(""), *t)).collect(),
            result,
        };
        // Flat: a string parameter reallocates, a u64 result is wide.
        let l = call_layout(&plan, &func(&[0, 1], Some(2)));
        assert_eq!(l.spill, None);
        assert_eq!((l.spill_result, l.wide_result), (None, true));
        assert!(l.reallocs && !l.lends);
        // Seventeen flat values spill: a u8 then eight strings.
        let many: Vec<u32> = [0].into_iter().chain([1; 8]).collect();
        let l = call_layout(&plan, &func(&many, Some(4)));
        let spill = l.spill.unwrap();
        assert_eq!((spill.align, spill.size), (4, 68));
        assert_eq!(spill.offsets[..3], [0, 4, 12]);
        assert_eq!(l.spill_result, Some((8, 16)));
        assert!(!l.wide_result && l.reallocs);
        let l = call_layout(&plan, &func(&[3], Some(0)));
        assert!(l.lends && !l.reallocs && !l.wide_result);
    }
}
