//! Component value types resolved into a tree so the generators never chase
//! indices, with their Canonical ABI layout: sizes, alignments, discriminant
//! widths and flattening come from `rivet_descriptor::abi`, shared with the
//! runtime so that adapters and host agree byte for byte.

use crate::{Error, ErrorKind};
use rivet_descriptor::abi::{self, AbiType, Shape};
pub use rivet_descriptor::abi::{discriminant_size, field_offsets};
use rivet_descriptor::component::{Component, ValueType};
use rivet_descriptor::ValType as Flat;
use wasm_encoder::ValType;

/// Types nest at most this deep; deeper (or cyclic) plans are rejected rather
/// than overflowing the stack.
const MAX_DEPTH: usize = 100;

/// A component value type with its indices resolved. Tuples are records,
/// enums are variants without payloads, options and results are variants: the
/// Canonical ABI lays each out exactly like its general form.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(Box<Ty>),
    Record(Vec<Ty>),
    Variant(Vec<Option<Ty>>),
    Flags(u32),
    Own(u32),
    Borrow(u32),
}

impl Ty {
    /// Resolves type `index` of `plan`.
    pub fn resolve(plan: &Component, index: u32) -> Result<Ty, Error> {
        resolve_at(plan, index, 0)
    }

    /// Byte size in linear memory (`elem_size`).
    pub fn size(&self) -> u32 {
        abi::size(self)
    }

    /// Alignment in linear memory.
    pub fn align(&self) -> u32 {
        abi::alignment(self)
    }

    /// Offset of a variant's payload from its start.
    pub fn payload_offset(&self) -> u32 {
        match self.shape() {
            Shape::Variant(cases) => abi::payload_offset(&cases),
            _ => 0,
        }
    }

    /// The core values this type flattens to.
    pub fn flatten(&self) -> Vec<ValType> {
        abi::flatten(self).into_iter().map(core_type).collect()
    }

    /// Whether values of this type are moved between memories byte for byte:
    /// numbers and records of numbers (no validation, no pointers, no handles).
    pub fn is_plain(&self) -> bool {
        match self {
            Ty::S8 | Ty::U8 | Ty::S16 | Ty::U16 | Ty::S32 | Ty::U32 => true,
            Ty::S64 | Ty::U64 | Ty::F32 | Ty::F64 => true,
            Ty::Record(fields) => fields.iter().all(Ty::is_plain),
            _ => false,
        }
    }

    /// Whether values of this type may be moved byte for byte once each
    /// value is known to be in the form lowering would store (see
    /// `Fuser::check_stored_form`): no pointers or handles, and no variant
    /// payload, whose check would depend on the case. Plain types qualify
    /// with nothing to check; bools, chars, flags and enums need a look.
    pub fn is_checked_bytes(&self) -> bool {
        match self {
            Ty::Bool | Ty::Char | Ty::Flags(_) => true,
            Ty::Variant(cases) => cases.iter().all(Option::is_none),
            Ty::Record(fields) => fields.iter().all(Ty::is_checked_bytes),
            ty => ty.is_plain(),
        }
    }

    /// Narrows `allowed` (one entry per byte of the value, all bits set on
    /// entry) to the bits each byte may have set in the form lowering
    /// stores: bit 0 of a bool, the bits of flags that exist, the bits below
    /// an enum's case count when that is a power of two; a plain byte or
    /// padding may hold anything. False if some part needs more than a mask
    /// to check (a char, another enum, a payload, a pointer or a handle).
    pub fn stored_bits(&self, allowed: &mut [u8]) -> bool {
        match self {
            Ty::Bool => allowed[0] = 1,
            Ty::Flags(n) => {
                for (i, byte) in (0..).zip(allowed.iter_mut()) {
                    let known = n.saturating_sub(8 * i).min(8);
                    *byte = ((1u16 << known) - 1) as u8;
                }
            }
            Ty::Variant(cases)
                if cases.iter().all(Option::is_none) && cases.len().is_power_of_two() =>
            {
                let max = cases.len() as u64 - 1;
                let bytes = discriminant_size(cases.len()) as usize;
                for (i, byte) in allowed[..bytes].iter_mut().enumerate() {
                    *byte = (max >> (8 * i)) as u8;
                }
            }
            Ty::Record(fields) => {
                for (field, offset) in field_offsets(fields, 0) {
                    let at = offset as usize;
                    if !field.stored_bits(&mut allowed[at..at + field.size() as usize]) {
                        return false;
                    }
                }
            }
            ty => return ty.is_plain(),
        }
        true
    }

    /// Whether moving a value needs the destination's `realloc` (it holds a
    /// string or a list somewhere).
    pub fn needs_realloc(&self) -> bool {
        match self {
            Ty::String | Ty::List(_) => true,
            Ty::Record(fields) => fields.iter().any(Ty::needs_realloc),
            Ty::Variant(cases) => cases.iter().flatten().any(Ty::needs_realloc),
            _ => false,
        }
    }

    /// Whether a value holds a borrowed handle somewhere.
    pub fn has_borrow(&self) -> bool {
        match self {
            Ty::Borrow(_) => true,
            Ty::List(t) => t.has_borrow(),
            Ty::Record(fields) => fields.iter().any(Ty::has_borrow),
            Ty::Variant(cases) => cases.iter().flatten().any(Ty::has_borrow),
            _ => false,
        }
    }
}

/// The adapters' types as the shared layout code sees them.
impl<'a> AbiType for &'a Ty {
    fn shape(self) -> Shape<&'a Ty> {
        let scalar = |bytes, flat| Shape::Scalar { bytes, flat };
        match self {
            Ty::Bool | Ty::S8 | Ty::U8 => scalar(1, Flat::I32),
            Ty::S16 | Ty::U16 => scalar(2, Flat::I32),
            Ty::S32 | Ty::U32 | Ty::Char | Ty::Own(_) | Ty::Borrow(_) => scalar(4, Flat::I32),
            Ty::F32 => scalar(4, Flat::F32),
            Ty::S64 | Ty::U64 => scalar(8, Flat::I64),
            Ty::F64 => scalar(8, Flat::F64),
            Ty::String | Ty::List(_) => Shape::PointerLength,
            Ty::Record(fields) => Shape::Record(fields.iter().collect()),
            Ty::Variant(cases) => Shape::Variant(cases.iter().map(Option::as_ref).collect()),
            Ty::Flags(n) => Shape::Flags(*n as usize),
        }
    }
}

/// The wasm-encoder type of a flat core value (flattening only yields numbers).
fn core_type(t: Flat) -> ValType {
    match t {
        Flat::I64 => ValType::I64,
        Flat::F32 => ValType::F32,
        Flat::F64 => ValType::F64,
        _ => ValType::I32,
    }
}

fn resolve_at(plan: &Component, index: u32, depth: usize) -> Result<Ty, Error> {
    if depth > MAX_DEPTH {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("component type {index} nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    let ty = plan.types.get(index as usize).ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            format!("unknown component type {index}"),
        )
    })?;
    let sub = |i: u32| resolve_at(plan, i, depth + 1);
    let opt = |i: Option<u32>| i.map(sub).transpose();
    Ok(match ty {
        ValueType::Bool => Ty::Bool,
        ValueType::S8 => Ty::S8,
        ValueType::U8 => Ty::U8,
        ValueType::S16 => Ty::S16,
        ValueType::U16 => Ty::U16,
        ValueType::S32 => Ty::S32,
        ValueType::U32 => Ty::U32,
        ValueType::S64 => Ty::S64,
        ValueType::U64 => Ty::U64,
        ValueType::F32 => Ty::F32,
        ValueType::F64 => Ty::F64,
        ValueType::Char => Ty::Char,
        ValueType::String => Ty::String,
        ValueType::List(t) => Ty::List(Box::new(sub(*t)?)),
        // The Canonical ABI's `despecialize`: adapters move a map exactly as
        // the list of key-value tuples it is.
        ValueType::Map(k, v) => Ty::List(Box::new(Ty::Record(vec![sub(*k)?, sub(*v)?]))),
        ValueType::Record(fields) => Ty::Record(
            fields
                .iter()
                .map(|(_, t)| sub(*t))
                .collect::<Result<_, _>>()?,
        ),
        ValueType::Tuple(fields) => {
            Ty::Record(fields.iter().map(|t| sub(*t)).collect::<Result<_, _>>()?)
        }
        ValueType::Variant(cases) => Ty::Variant(
            cases
                .iter()
                .map(|(_, t)| opt(*t))
                .collect::<Result<_, _>>()?,
        ),
        ValueType::Enum(names) => Ty::Variant(vec![None; names.len()]),
        ValueType::Option(t) => Ty::Variant(vec![None, Some(sub(*t)?)]),
        ValueType::Result { ok, err } => Ty::Variant(vec![opt(*ok)?, opt(*err)?]),
        ValueType::Flags(names) => Ty::Flags(
            u32::try_from(names.len())
                .map_err(|_| Error::new(ErrorKind::Invalid, "too many flags"))?,
        ),
        ValueType::Own(r) => Ty::Own(*r),
        ValueType::Borrow(r) => Ty::Borrow(*r),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_layout_pads_fields() {
        let t = Ty::Record(vec![Ty::U8, Ty::U32, Ty::U16]);
        assert_eq!((t.size(), t.align()), (12, 4));
        assert_eq!(t.flatten(), vec![ValType::I32; 3]);
    }

    #[test]
    fn variant_joins_payload_slots() {
        let t = Ty::Variant(vec![Some(Ty::F32), Some(Ty::U64), None]);
        assert_eq!(t.flatten(), vec![ValType::I32, ValType::I64]);
        assert_eq!((t.payload_offset(), t.size(), t.align()), (8, 16, 8));
        let u = Ty::Variant(vec![Some(Ty::F32), Some(Ty::U32)]);
        assert_eq!(u.flatten(), vec![ValType::I32, ValType::I32]);
    }

    #[test]
    fn flags_sizes() {
        assert_eq!(Ty::Flags(8).size(), 1);
        assert_eq!(Ty::Flags(9).size(), 2);
        assert_eq!(Ty::Flags(33).size(), 8);
        assert_eq!(Ty::Flags(33).flatten().len(), 2);
    }

    #[test]
    fn stored_bits_mask_what_lowering_never_sets() {
        let bits = |t: &Ty| {
            let mut allowed = vec![0xff; t.size() as usize];
            t.stored_bits(&mut allowed).then_some(allowed)
        };
        let enum4 = Ty::Variant(vec![None; 4]);
        let t = Ty::Record(vec![Ty::U32, Ty::F32, Ty::Bool, enum4, Ty::Flags(11)]);
        assert_eq!(
            bits(&t).unwrap(),
            [255, 255, 255, 255, 255, 255, 255, 255, 1, 3, 255, 7]
        );
        assert_eq!(
            bits(&Ty::Flags(33)).unwrap(),
            [255, 255, 255, 255, 1, 0, 0, 0]
        );
        let enum512 = Ty::Variant(vec![None; 512]);
        assert_eq!(bits(&enum512).unwrap(), [255, 1]);
        assert_eq!(bits(&Ty::Record(vec![Ty::U8, Ty::Char])), None);
        assert_eq!(bits(&Ty::Variant(vec![None; 3])), None);
        assert_eq!(bits(&Ty::Variant(vec![None, Some(Ty::U8)])), None);
        assert_eq!(bits(&Ty::String), None);
    }

    #[test]
    fn map_resolves_to_a_list_of_pairs() {
        let plan = Component {
            types: vec![ValueType::U8, ValueType::U64, ValueType::Map(0, 1)].into(),
            ..Component::default()
        };
        let t = Ty::resolve(&plan, 2).unwrap();
        assert_eq!(t, Ty::List(Box::new(Ty::Record(vec![Ty::U8, Ty::U64]))));
        assert_eq!((t.size(), t.align()), (8, 4));
        let Ty::List(entry) = t else { unreachable!() };
        assert_eq!((entry.size(), entry.align()), (16, 8));
    }

    #[test]
    fn cyclic_types_are_an_error() {
        let plan = Component {
            types: vec![ValueType::List(0)].into(),
            ..Component::default()
        };
        assert!(Ty::resolve(&plan, 0).is_err());
        assert!(Ty::resolve(&plan, 7).is_err());
    }
}
