//! Typed host imports: host functions registered with Rust types for their
//! parameters and result ([`ComponentImports::func_typed`]). Their arguments
//! are lifted straight from the guest's flat values and linear memory into
//! those types, and their result is lowered straight back (through the
//! guest's `realloc` for strings and lists), following the Canonical ABI as
//! the dynamic path does, with the same checks and trap messages, but
//! without building a [`crate::Value`] per call.
//!
//! A Rust type says which component types it stands for through
//! [`ComponentType`]; the import's type is checked against the registered
//! types when the host supplies the import, so a mismatch is an
//! instantiation error naming both and never reaches a call.
//!
//! The runtime implements [`Lift`] and [`Lower`] for numbers, `bool`,
//! `char`, `String`, `Vec<T>` (`Vec<u8>` copied in one piece), tuples,
//! `Option`, `Result`, `()` (no payload, no result) and handles ([`Rep`] for
//! resources the host defines, [`ResourceAny`] for any). A host's own
//! records, variants, enums and flags implement them with [`Fields`],
//! [`Variant`], [`EnumCase`] and [`FlagBits`], which do the layout.
//!
//! [`ComponentImports::func_typed`]: crate::ComponentImports::func_typed

mod call;
mod impls;

pub use super::convert::{Cx, Flat, FlatBuf};
pub use super::values::ResourceAny;
pub(crate) use call::{lower, TypedImport};
pub use call::{HostFn, LiftParams};
pub use rivet_descriptor::component::{TypeRef, ValueType};

use super::abi::{self, AbiType};
use crate::error::Trap;
use crate::prelude::*;
use rivet_descriptor::abi::Shape;
use rivet_descriptor::component::Component as Plan;
use rivet_descriptor::Text;

/// Calls macro `$m` with the tuple arities typed imports take, 1 to 8 (as
/// tuples, and as parameter lists).
macro_rules! for_arities {
    ($m:ident) => {
        $m! {
            (A);
            (A, B);
            (A, B, C);
            (A, B, C, D);
            (A, B, C, D, E);
            (A, B, C, D, E, F);
            (A, B, C, D, E, F, G);
            (A, B, C, D, E, F, G, H);
        }
    };
}
use for_arities;

/// A check of a component type: [`ComponentType::typecheck`] of some Rust
/// type, as lists of fields, cases and parameters hold them.
pub type Check = fn(TypeRef) -> bool;

/// A Rust type that stands for component types.
pub trait ComponentType {
    /// Whether a value of this Rust type can stand for component type `ty`.
    fn typecheck(ty: TypeRef) -> bool
    where
        Self: Sized;

    /// As [`ComponentType::typecheck`] where the type may be absent (a
    /// case's payload, a function's result): only `()` stands for none.
    fn typecheck_opt(ty: Option<TypeRef>) -> bool
    where
        Self: Sized,
    {
        ty.is_some_and(Self::typecheck)
    }
}

/// A Rust value lifted from the guest: an argument of a typed host import.
pub trait Lift: ComponentType + Sized {
    /// Lifts a value of type `ty` (checked when the import was supplied)
    /// from its flat values.
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap>;

    /// Loads a value of type `ty` stored at `ptr`, which the caller checked
    /// (the list, argument area or value containing it is aligned and in
    /// bounds).
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap>;

    /// The value of a case without a payload: only `()` has one.
    #[doc(hidden)]
    fn absent() -> Result<Self, Trap> {
        Err(Trap::fixed("type mismatch: a case without a payload"))
    }

    /// Loads `len` elements of type `elem` at `ptr` after checking their
    /// range: one by one, or (bytes) in one copy.
    #[doc(hidden)]
    fn load_list(cx: &mut Cx, elem: TypeRef, ptr: u32, len: u32) -> Result<Vec<Self>, Trap> {
        let size = abi::size(elem);
        cx.check_list(size, abi::alignment(elem), ptr, len)?;
        (0..len)
            .map(|i| Self::load(cx, elem, ptr.wrapping_add(i * size)))
            .collect()
    }
}

/// A Rust value lowered into the guest: the result of a typed host import.
pub trait Lower: ComponentType {
    /// Lowers the value, of type `ty` (checked when the import was
    /// supplied), to flat values.
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap>;

    /// Stores the value at `ptr` in guest memory.
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap>;

    /// Allocates a list of `items` of type `elem` in the guest and stores
    /// them: one by one, or (bytes) in one copy. Returns the list's address.
    #[doc(hidden)]
    fn store_list(items: &[Self], cx: &mut Cx, elem: TypeRef) -> Result<u32, Trap>
    where
        Self: Sized,
    {
        let size = abi::size(elem);
        let ptr = cx.alloc_list(size, abi::alignment(elem), items.len())?;
        for (i, item) in items.iter().enumerate() {
            item.store(cx, elem, ptr.wrapping_add(i as u32 * size))?;
        }
        Ok(ptr)
    }
}

/// The representation of a handle (`own` or `borrow`) to a resource the
/// host defines (see [`crate::ComponentImports::resource`]). Lifting an
/// `own` takes the handle out of the guest's table; lowering one into an
/// `own` gives the guest a new handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rep(pub u32);

/// The case of an `enum`, by index: what a host's own enum types convert
/// from and to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnumCase(pub u32);

impl EnumCase {
    /// Whether `ty` is an enum with exactly these cases, in order: what a
    /// host's enum type answers to [`ComponentType::typecheck`].
    pub fn typecheck_names(ty: TypeRef, names: &[&str]) -> bool {
        matches!(ty.value(), ValueType::Enum(ns) if same_names(ns.iter(), names))
    }
}

/// The flags of a `flags` type with at most 32 labels, label `i` as bit
/// `i`: what a host's own flags types convert from and to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlagBits(pub u32);

impl FlagBits {
    /// Whether `ty` is a flags type with exactly these labels, in order.
    pub fn typecheck_labels(ty: TypeRef, labels: &[&str]) -> bool {
        matches!(ty.value(), ValueType::Flags(ns) if same_names(ns.iter(), labels))
    }

    /// Whether label `i` is set.
    pub fn has(self, i: u32) -> bool {
        self.0 >> i & 1 == 1
    }
}

fn same_names<'a>(have: impl ExactSizeIterator<Item = &'a Text>, want: &[&str]) -> bool {
    have.len() == want.len() && have.zip(want).all(|(a, b)| a == b)
}

/// Whether `ty` is a record with exactly these fields (names, and checks of
/// their types), in order: what a host's record type answers to
/// [`ComponentType::typecheck`], e.g.
/// `typecheck_record(ty, &[("seconds", u64::typecheck), ("nanoseconds", u32::typecheck)])`.
pub fn typecheck_record(ty: TypeRef, fields: &[(&str, Check)]) -> bool {
    match ty.value() {
        ValueType::Record(fs) => {
            fs.len() == fields.len()
                && (fs.iter().zip(fields)).all(|((n, t), (want, ok))| n == want && ok(ty.at(*t)))
        }
        _ => false,
    }
}

/// Whether `ty` is a variant with exactly these cases (names, and checks of
/// their payload types, `None` for a case without one), in order.
pub fn typecheck_variant(ty: TypeRef, cases: &[(&str, Option<Check>)]) -> bool {
    let same = |(n, t): &(Text, Option<u32>), (want, ok): &(&str, Option<Check>)| {
        n == want
            && match (t, ok) {
                (None, None) => true,
                (Some(t), Some(ok)) => ok(ty.at(*t)),
                _ => false,
            }
    };
    match ty.value() {
        ValueType::Variant(cs) => {
            cs.len() == cases.len() && cs.iter().zip(cases).all(|(c, w)| same(c, w))
        }
        _ => false,
    }
}

/// How a Rust value is made from a lifted case of a [`Variant`]: from the
/// case's index and its payload.
pub type FromCase<T> = fn(&mut Cx, &Variant, u32, Payload) -> Result<T, Trap>;

/// The fields of a record or tuple (or a function's parameters) lifted or
/// lowered in order, each from or into its place: how [`Lift`] and
/// [`Lower`] of a host's record type are written.
pub struct Fields<'t> {
    plan: &'t Plan,
    types: FieldTypes<'t>,
    next: usize,
    /// In memory: where the next field may start (before its alignment).
    at: u32,
}

enum FieldTypes<'t> {
    Named(&'t [(Text, u32)]),
    Plain(&'t [u32]),
}

impl<'t> Fields<'t> {
    /// The fields of record or tuple `ty`, laid out from `ptr` in memory
    /// (for flat values `ptr` is not used).
    pub fn new(ty: TypeRef<'t>, ptr: u32) -> Fields<'t> {
        let types = match ty.value() {
            ValueType::Record(fs) => FieldTypes::Named(fs),
            ValueType::Tuple(ts) => FieldTypes::Plain(ts),
            // Refused when the import was supplied; a lift then finds no
            // field and traps.
            _ => FieldTypes::Plain(&[]),
        };
        Fields {
            plan: ty.plan,
            types,
            next: 0,
            at: ptr,
        }
    }

    /// A function's parameters, laid out from `ptr` when passed in memory.
    pub(crate) fn params(plan: &'t Plan, params: &'t [(Text, u32)], ptr: u32) -> Fields<'t> {
        Fields {
            plan,
            types: FieldTypes::Named(params),
            next: 0,
            at: ptr,
        }
    }

    fn next_type(&mut self) -> Result<TypeRef<'t>, Trap> {
        let index = match self.types {
            FieldTypes::Named(fs) => fs.get(self.next).map(|f| f.1),
            FieldTypes::Plain(ts) => ts.get(self.next).copied(),
        };
        self.next += 1;
        let index = index.ok_or_else(|| Trap::fixed("type mismatch: a field too many"))?;
        Ok(TypeRef::new(self.plan, index))
    }

    /// The next field's type and address in memory.
    fn place(&mut self) -> Result<(TypeRef<'t>, u32), Trap> {
        let t = self.next_type()?;
        let here = abi::align_to(self.at, abi::alignment(t));
        self.at = here.wrapping_add(abi::size(t));
        Ok((t, here))
    }

    /// Lifts the next field from flat values.
    pub fn lift<T: Lift>(&mut self, cx: &mut Cx, flat: &mut Flat) -> Result<T, Trap> {
        let t = self.next_type()?;
        T::lift(cx, t, flat)
    }

    /// Loads the next field from memory.
    pub fn load<T: Lift>(&mut self, cx: &mut Cx) -> Result<T, Trap> {
        let (t, at) = self.place()?;
        T::load(cx, t, at)
    }

    /// Lowers the next field to flat values.
    pub fn lower<T: Lower + ?Sized>(
        &mut self,
        cx: &mut Cx,
        v: &T,
        out: &mut FlatBuf,
    ) -> Result<(), Trap> {
        let t = self.next_type()?;
        v.lower(cx, t, out)
    }

    /// Stores the next field into memory.
    pub fn store<T: Lower + ?Sized>(&mut self, cx: &mut Cx, v: &T) -> Result<(), Trap> {
        let (t, at) = self.place()?;
        v.store(cx, t, at)
    }
}

/// A variant-like type (variant, enum, option, result) with its cases'
/// payload types: lifts and lowers a case and its payload, for a host's
/// variant types as for `Option` and `Result`.
pub struct Variant<'t> {
    ty: TypeRef<'t>,
    cases: Vec<Option<TypeRef<'t>>>,
}

/// Where a lifted case's payload is.
pub enum Payload<'v> {
    /// In these flat values (the variant's joined payload slots).
    Flat(Flat<'v>),
    /// In memory at this address.
    Memory(u32),
}

impl<'t> Variant<'t> {
    pub fn new(ty: TypeRef<'t>) -> Variant<'t> {
        let cases = match ty.shape() {
            Shape::Variant(cases) => cases,
            // Refused when the import was supplied; a lift then finds no
            // case and traps.
            _ => Vec::new(),
        };
        Variant { ty, cases }
    }

    /// The payload type of case `index` (`None`: the case has none).
    pub fn payload_type(&self, index: u32) -> Option<TypeRef<'t>> {
        self.cases.get(index as usize).copied().flatten()
    }

    fn case(&self, index: u64) -> Result<u32, Trap> {
        match index < self.cases.len() as u64 {
            true => Ok(index as u32),
            false => Err(Trap::fixed("invalid variant discriminant")),
        }
    }

    /// Lifts a value of variant-like type `ty` from flat values: `make`
    /// makes it from the case.
    pub fn lift_case<T>(
        cx: &mut Cx,
        ty: TypeRef,
        flat: &mut Flat,
        make: FromCase<T>,
    ) -> Result<T, Trap> {
        let v = Variant::new(ty);
        let (index, payload) = v.lift(flat)?;
        make(cx, &v, index, payload)
    }

    /// Loads a value of variant-like type `ty` from `ptr`: `make` makes it
    /// from the case.
    pub fn load_case<T>(cx: &mut Cx, ty: TypeRef, ptr: u32, make: FromCase<T>) -> Result<T, Trap> {
        let v = Variant::new(ty);
        let (index, payload) = v.load(cx, ptr)?;
        make(cx, &v, index, payload)
    }

    /// Lifts the case's index and its payload's slots from flat values.
    pub fn lift<'v>(&self, flat: &mut Flat<'v>) -> Result<(u32, Payload<'v>), Trap> {
        let index = flat.next()? as u32;
        let slots = flat.take(abi::flatten(self.ty).len().saturating_sub(1))?;
        Ok((self.case(index.into())?, Payload::Flat(slots)))
    }

    /// Loads the case's index from `ptr`; the payload is in memory after it.
    pub fn load(&self, cx: &Cx, ptr: u32) -> Result<(u32, Payload<'static>), Trap> {
        let index = cx.load_int(ptr, abi::discriminant_size(self.cases.len()))?;
        let payload = ptr.wrapping_add(abi::payload_offset(&self.cases));
        Ok((self.case(index)?, Payload::Memory(payload)))
    }

    /// Lowers case `index` with its payload (ignored for a case without one)
    /// to flat values, padded to the variant's width.
    pub fn lower(
        &self,
        cx: &mut Cx,
        out: &mut FlatBuf,
        index: u32,
        payload: Option<&dyn Lower>,
    ) -> Result<(), Trap> {
        let start = out.len();
        out.push(index.into());
        if let (Some(p), Some(t)) = (payload, self.payload_type(index)) {
            p.lower(cx, t, out)?;
        }
        out.resize(start + abi::flatten(self.ty).len());
        Ok(())
    }

    /// Stores case `index` with its payload at `ptr`.
    pub fn store(
        &self,
        cx: &mut Cx,
        ptr: u32,
        index: u32,
        payload: Option<&dyn Lower>,
    ) -> Result<(), Trap> {
        let size = abi::discriminant_size(self.cases.len());
        cx.store_int(ptr, size, index.into())?;
        match (payload, self.payload_type(index)) {
            (Some(p), Some(t)) => {
                p.store(cx, t, ptr.wrapping_add(abi::payload_offset(&self.cases)))
            }
            _ => Ok(()),
        }
    }
}

impl Payload<'_> {
    /// Lifts the payload as a `T` of type `ty`, the case's payload type
    /// (`None` for a case without one, which only `()` lifts from).
    pub fn get<T: Lift>(self, cx: &mut Cx, ty: Option<TypeRef>) -> Result<T, Trap> {
        match (ty, self) {
            (None, _) => T::absent(),
            (Some(t), Payload::Flat(mut flat)) => T::lift(cx, t, &mut flat),
            (Some(t), Payload::Memory(at)) => T::load(cx, t, at),
        }
    }
}
