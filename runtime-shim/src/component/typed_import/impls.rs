//! [`Lift`] and [`Lower`] of the Rust types the runtime maps itself:
//! numbers, `bool`, `char`, strings, lists, tuples, options, results,
//! handles, enum cases and flag bits.

use super::{
    for_arities, ComponentType, EnumCase, Fields, FlagBits, Lift, Lower, Payload, Rep, Variant,
};
use super::{Check, Cx, Flat, FlatBuf, ResourceAny, TypeRef, ValueType};
use crate::component::abi;
use crate::component::convert::{canon_f32, canon_f64, scalar_table, to_char};
use crate::component::types::ResourceType;
use crate::error::Trap;
use crate::prelude::*;

/// Scalars: `$variant` is the component type, `$bytes` its size in memory,
/// `$to` the flat bits of `$x` and `$from` the value of bits `$b`; `bytes`
/// marks `u8`, whose lists are copied in one piece.
macro_rules! scalars {
    ($($t:ty: $variant:ident, $bytes:expr, |$x:ident| $to:expr, |$b:ident| $from:expr $(, $list:ident)?;)*) => {$(
        impl ComponentType for $t {
            fn typecheck(ty: TypeRef) -> bool {
                matches!(ty.value(), ValueType::$variant)
            }
        }
        impl Lift for $t {
            #[inline]
            fn lift(_: &mut Cx, _: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
                let $b = flat.next()?;
                $from
            }
            #[inline]
            fn load(cx: &mut Cx, _: TypeRef, ptr: u32) -> Result<Self, Trap> {
                let $b = cx.load_int(ptr, $bytes)?;
                $from
            }
            $(byte_list!($list lift);)?
        }
        impl Lower for $t {
            #[inline]
            fn lower(&self, _: &mut Cx, _: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
                let $x = *self;
                out.push($to);
                Ok(())
            }
            #[inline]
            fn store(&self, cx: &mut Cx, _: TypeRef, ptr: u32) -> Result<(), Trap> {
                let $x = *self;
                cx.store_int(ptr, $bytes, $to)
            }
            $(byte_list!($list lower);)?
        }
    )*};
}

/// `list<u8>` as one copy each way.
macro_rules! byte_list {
    (bytes lift) => {
        fn load_list(cx: &mut Cx, _: TypeRef, ptr: u32, len: u32) -> Result<Vec<u8>, Trap> {
            cx.check_list(1, 1, ptr, len)?;
            Ok(cx.bytes(ptr, len)?.to_vec())
        }
    };
    (bytes lower) => {
        fn store_list(items: &[u8], cx: &mut Cx, _: TypeRef) -> Result<u32, Trap> {
            let ptr = cx.alloc_list(1, 1, items.len())?;
            cx.write(ptr, items)?;
            Ok(ptr)
        }
    };
}

scalar_table!(scalars);

impl ComponentType for String {
    fn typecheck(ty: TypeRef) -> bool {
        matches!(ty.value(), ValueType::String)
    }
}

impl Lift for String {
    fn lift(cx: &mut Cx, _: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        cx.lift_string(flat)
    }
    fn load(cx: &mut Cx, _: TypeRef, ptr: u32) -> Result<Self, Trap> {
        cx.load_string(ptr)
    }
}

impl Lower for String {
    fn lower(&self, cx: &mut Cx, _: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        cx.lower_string(self, out)
    }
    fn store(&self, cx: &mut Cx, _: TypeRef, ptr: u32) -> Result<(), Trap> {
        cx.store_string_at(self, ptr)
    }
}

/// The element type of list type `ty`.
fn element(ty: TypeRef) -> Result<TypeRef, Trap> {
    match ty.value() {
        ValueType::List(e) => Ok(ty.at(*e)),
        _ => Err(Trap::fixed(
            "type mismatch: a Rust `Vec` for a type that is not a list",
        )),
    }
}

impl<T: ComponentType> ComponentType for Vec<T> {
    fn typecheck(ty: TypeRef) -> bool {
        matches!(ty.value(), ValueType::List(e) if T::typecheck(ty.at(*e)))
    }
}

impl<T: Lift> Lift for Vec<T> {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        let (ptr, len) = (flat.next()? as u32, flat.next()? as u32);
        T::load_list(cx, element(ty)?, ptr, len)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        let (p, len) = (cx.load_int(ptr, 4)?, cx.load_int(ptr.wrapping_add(4), 4)?);
        T::load_list(cx, element(ty)?, p as u32, len as u32)
    }
}

impl<T: Lower> Lower for Vec<T> {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        let ptr = T::store_list(self, cx, element(ty)?)?;
        out.push(ptr.into());
        out.push(self.len() as u64);
        Ok(())
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let p = T::store_list(self, cx, element(ty)?)?;
        cx.store_int(ptr, 4, p.into())?;
        cx.store_int(ptr.wrapping_add(4), 4, self.len() as u64)
    }
}

/// Tuples, field by field through [`Fields`].
macro_rules! tuples {
    ($(($($a:ident),*);)*) => {$(
        impl<$($a: ComponentType),*> ComponentType for ($($a,)*) {
            fn typecheck(ty: TypeRef) -> bool {
                let checks: &[Check] = &[$($a::typecheck),*];
                match ty.value() {
                    ValueType::Tuple(ts) => {
                        ts.len() == checks.len()
                            && ts.iter().zip(checks).all(|(t, ok)| ok(ty.at(*t)))
                    }
                    _ => false,
                }
            }
        }
        impl<$($a: Lift),*> Lift for ($($a,)*) {
            fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
                let mut fields = Fields::new(ty, 0);
                Ok(($(fields.lift::<$a>(cx, flat)?,)*))
            }
            fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
                let mut fields = Fields::new(ty, ptr);
                Ok(($(fields.load::<$a>(cx)?,)*))
            }
        }
        #[allow(non_snake_case)]
        impl<$($a: Lower),*> Lower for ($($a,)*) {
            fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
                let ($($a,)*) = self;
                let mut fields = Fields::new(ty, 0);
                $(fields.lower(cx, $a, out)?;)*
                Ok(())
            }
            fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
                let ($($a,)*) = self;
                let mut fields = Fields::new(ty, ptr);
                $(fields.store(cx, $a)?;)*
                Ok(())
            }
        }
    )*};
}

for_arities!(tuples);

/// No value: the absent payload of a case (`result<_, E>`) and the result
/// of a function without one. It stands for no component type itself.
impl ComponentType for () {
    fn typecheck(_: TypeRef) -> bool {
        false
    }
    fn typecheck_opt(ty: Option<TypeRef>) -> bool {
        ty.is_none()
    }
}

impl Lift for () {
    fn lift(_: &mut Cx, _: TypeRef, _: &mut Flat) -> Result<Self, Trap> {
        Ok(())
    }
    fn load(_: &mut Cx, _: TypeRef, _: u32) -> Result<Self, Trap> {
        Ok(())
    }
    fn absent() -> Result<Self, Trap> {
        Ok(())
    }
}

impl Lower for () {
    fn lower(&self, _: &mut Cx, _: TypeRef, _: &mut FlatBuf) -> Result<(), Trap> {
        Ok(())
    }
    fn store(&self, _: &mut Cx, _: TypeRef, _: u32) -> Result<(), Trap> {
        Ok(())
    }
}

impl<T: ComponentType> ComponentType for Option<T> {
    fn typecheck(ty: TypeRef) -> bool {
        matches!(ty.value(), ValueType::Option(t) if T::typecheck(ty.at(*t)))
    }
}

fn option_from_case<T: Lift>(
    cx: &mut Cx,
    v: &Variant,
    index: u32,
    payload: Payload,
) -> Result<Option<T>, Trap> {
    match index {
        0 => Ok(None),
        _ => payload.get(cx, v.payload_type(1)).map(Some),
    }
}

impl<T: Lift> Lift for Option<T> {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        Variant::lift_case(cx, ty, flat, option_from_case)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        Variant::load_case(cx, ty, ptr, option_from_case)
    }
}

fn option_case<T: Lower>(o: &Option<T>) -> (u32, Option<&dyn Lower>) {
    match o {
        None => (0, None),
        Some(x) => (1, Some(x)),
    }
}

impl<T: Lower> Lower for Option<T> {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        let (index, payload) = option_case(self);
        Variant::new(ty).lower(cx, out, index, payload)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let (index, payload) = option_case(self);
        Variant::new(ty).store(cx, ptr, index, payload)
    }
}

impl<T: ComponentType, E: ComponentType> ComponentType for Result<T, E> {
    fn typecheck(ty: TypeRef) -> bool {
        match ty.value() {
            ValueType::Result { ok, err } => {
                T::typecheck_opt(ok.map(|t| ty.at(t))) && E::typecheck_opt(err.map(|t| ty.at(t)))
            }
            _ => false,
        }
    }
}

fn result_from_case<T: Lift, E: Lift>(
    cx: &mut Cx,
    v: &Variant,
    index: u32,
    payload: Payload,
) -> Result<Result<T, E>, Trap> {
    match index {
        0 => payload.get(cx, v.payload_type(0)).map(Ok),
        _ => payload.get(cx, v.payload_type(1)).map(Err),
    }
}

impl<T: Lift, E: Lift> Lift for Result<T, E> {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        Variant::lift_case(cx, ty, flat, result_from_case)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        Variant::load_case(cx, ty, ptr, result_from_case)
    }
}

fn result_case<T: Lower, E: Lower>(r: &Result<T, E>) -> (u32, Option<&dyn Lower>) {
    match r {
        Ok(x) => (0, Some(x)),
        Err(e) => (1, Some(e)),
    }
}

impl<T: Lower, E: Lower> Lower for Result<T, E> {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        let (index, payload) = result_case(self);
        Variant::new(ty).lower(cx, out, index, payload)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let (index, payload) = result_case(self);
        Variant::new(ty).store(cx, ptr, index, payload)
    }
}

/// The resource of handle type `ty` and whether the handle is owned.
fn handle_type(ty: TypeRef) -> Option<(ResourceType, bool)> {
    match ty.value() {
        ValueType::Own(r) => Some((ResourceType(*r), true)),
        ValueType::Borrow(r) => Some((ResourceType(*r), false)),
        _ => None,
    }
}

#[cold]
fn not_a_handle() -> Trap {
    Trap::fixed("type mismatch: a handle for a type that is not one")
}

/// Lifts guest handle `i` of type `ty` as `lift_own` or `lift_borrow` does.
fn lift_handle(cx: &mut Cx, ty: TypeRef, i: u32) -> Result<ResourceAny, Trap> {
    match handle_type(ty).ok_or_else(not_a_handle)? {
        (r, true) => cx.own_handle(r, i),
        (r, false) => cx.borrow_handle(r, i),
    }
}

/// Lowers the host's handle `make(resource)` into the guest as handle type
/// `ty`: the guest's handle index.
fn lower_handle(
    cx: &mut Cx,
    ty: TypeRef,
    make: impl FnOnce(ResourceType) -> ResourceAny,
) -> Result<u64, Trap> {
    let index = match handle_type(ty).ok_or_else(not_a_handle)? {
        (r, true) => cx.lower_own(make(r), r)?,
        (r, false) => cx.lower_borrow(make(r), r)?,
    };
    Ok(index.into())
}

/// Handles to a resource the host defines.
impl ComponentType for Rep {
    fn typecheck(ty: TypeRef) -> bool {
        let resources = &ty.plan.resources;
        handle_type(ty)
            .is_some_and(|(r, _)| resources.get(r.0 as usize).is_some_and(|d| d.imported))
    }
}

impl Rep {
    fn from_handle(cx: &mut Cx, ty: TypeRef, i: u32) -> Result<Rep, Trap> {
        let h = lift_handle(cx, ty, i)?;
        let rep = h.host_rep().ok_or_else(|| {
            Trap::fixed("type mismatch: a handle to a resource the host does not define")
        })?;
        Ok(Rep(rep))
    }
}

impl Lift for Rep {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        let i = flat.next()? as u32;
        Rep::from_handle(cx, ty, i)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        let i = cx.load_int(ptr, 4)? as u32;
        Rep::from_handle(cx, ty, i)
    }
}

impl Lower for Rep {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        out.push(lower_handle(cx, ty, |r| ResourceAny::host(r, self.0))?);
        Ok(())
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let index = lower_handle(cx, ty, |r| ResourceAny::host(r, self.0))?;
        cx.store_int(ptr, 4, index)
    }
}

/// Handles to any resource, as the dynamic API gives them.
impl ComponentType for ResourceAny {
    fn typecheck(ty: TypeRef) -> bool {
        handle_type(ty).is_some()
    }
}

impl Lift for ResourceAny {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        let i = flat.next()? as u32;
        lift_handle(cx, ty, i)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        let i = cx.load_int(ptr, 4)? as u32;
        lift_handle(cx, ty, i)
    }
}

impl Lower for ResourceAny {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        out.push(lower_handle(cx, ty, |_| *self)?);
        Ok(())
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let index = lower_handle(cx, ty, |_| *self)?;
        cx.store_int(ptr, 4, index)
    }
}

impl ComponentType for EnumCase {
    fn typecheck(ty: TypeRef) -> bool {
        matches!(ty.value(), ValueType::Enum(_))
    }
}

impl Lift for EnumCase {
    fn lift(_: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        Variant::new(ty).lift(flat).map(|(i, _)| EnumCase(i))
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        Variant::new(ty).load(cx, ptr).map(|(i, _)| EnumCase(i))
    }
}

impl Lower for EnumCase {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        Variant::new(ty).lower(cx, out, self.0, None)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        Variant::new(ty).store(cx, ptr, self.0, None)
    }
}

/// The number of labels of flags type `ty` (0 for another type).
fn labels(ty: TypeRef) -> usize {
    match ty.value() {
        ValueType::Flags(names) => names.len(),
        _ => 0,
    }
}

/// The bits of a flags type's labels (bits past them are not lifted or
/// lowered).
fn label_mask(ty: TypeRef) -> u32 {
    match labels(ty) {
        n @ 0..=31 => (1u32 << n) - 1,
        _ => u32::MAX,
    }
}

impl ComponentType for FlagBits {
    fn typecheck(ty: TypeRef) -> bool {
        matches!(ty.value(), ValueType::Flags(names) if (1..=32).contains(&names.len()))
    }
}

impl Lift for FlagBits {
    fn lift(_: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        Ok(FlagBits(flat.next()? as u32 & label_mask(ty)))
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        let bits = cx.load_int(ptr, abi::flags_size(labels(ty)))?;
        Ok(FlagBits(bits as u32 & label_mask(ty)))
    }
}

impl Lower for FlagBits {
    fn lower(&self, _: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        out.push((self.0 & label_mask(ty)).into());
        Ok(())
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let size = abi::flags_size(labels(ty));
        cx.store_int(ptr, size, (self.0 & label_mask(ty)).into())
    }
}
