//! Host types that lower and lift straight to and from a guest's flat values
//! and memory, for [`crate::ComponentInstance::call_typed`]: numbers, `char`,
//! `bool` and strings skip [`Value`] (no tree to build, check or free), and
//! `Value` itself fits every type, so the dynamic API and the typed bindings
//! share one call path.

use super::abi::MAX_FLAT_PARAMS;
use super::convert::{canon_f32, canon_f64, scalar_table, to_char, Cx, Flat, FlatBuf};
use super::values::{self, Value};
use crate::error::Trap;
use crate::prelude::*;
use rivet_descriptor::component::{Component as Plan, Lift, TypeRef, ValueType};
use rivet_descriptor::Text;

/// A host value passed as an argument of an export.
pub trait LowerArg {
    /// Checks, before the guest is entered, that the value fits `ty`: a
    /// mismatch is the host's error and does not poison the guest.
    fn check(&self, cx: &Cx, ty: TypeRef) -> Result<(), Trap>;
    /// What is left of [`LowerArg::check`] when the typed bindings make the
    /// call ([`super::instance::call_binding`]): they chose a
    /// number, `bool`, `char` or `&str` argument from the export's type at
    /// build time, so those override this with nothing; anything else (a
    /// [`Value`], whose shape and handles only the run knows) is checked in
    /// full.
    fn check_bound(&self, cx: &Cx, ty: TypeRef) -> Result<(), Trap> {
        self.check(cx, ty)
    }
    /// How many flat values this lowers to, when its Rust type alone decides
    /// it: a tuple of such arguments that adds up to no more than
    /// `MAX_FLAT_PARAMS` is never passed through memory, and its store path
    /// is left out of the host.
    fn flat_len(&self) -> Option<usize> {
        None
    }
    /// Lowers the value (already checked against `ty`) to flat values.
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap>;
    /// Stores the value into guest memory at `ptr` (arguments passed through
    /// memory when they have too many flat values).
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap>;
}

/// A host value an export's result is lifted into.
pub trait LiftResult: Sized {
    /// Checks, before the call, that the export's result type `ty` (`None`:
    /// no result) lifts into this type.
    fn check(ty: Option<TypeRef>) -> Result<(), Trap>;
    /// The value of an export without a result.
    fn none() -> Result<Self, Trap> {
        Err(Trap::host("the export returned no value"))
    }
    /// Lifts a result of type `ty` from its flat values.
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap>;
    /// Loads a result of type `ty` stored at `ptr` (aligned and in bounds).
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap>;
}

/// The parameters of an export, as the plan lists them: what
/// [`LowerArgs`] checks and lowers the arguments against.
#[derive(Clone, Copy)]
pub struct Params<'a> {
    plan: &'a Plan,
    list: &'a [(Text, u32)],
    /// Where each goes when they are passed in memory (empty otherwise).
    offsets: &'a [u32],
}

impl<'a> Params<'a> {
    /// The parameters of the function `lift` exports.
    #[inline]
    pub(crate) fn new(plan: &'a Plan, lift: &'a Lift) -> Params<'a> {
        let spill = lift.layout.spill.as_ref();
        Params {
            plan,
            list: &plan.func_types[lift.ty as usize].params,
            offsets: spill.map_or(&[], |s| &s.offsets),
        }
    }

    /// How many parameters there are.
    #[inline]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The type of parameter `i`.
    #[inline]
    pub fn get(&self, i: usize) -> TypeRef<'a> {
        TypeRef::new(self.plan, self.list[i].1)
    }

    /// The type of each parameter, in order.
    #[inline]
    pub fn types(self) -> impl Iterator<Item = TypeRef<'a>> {
        self.list
            .iter()
            .map(move |(_, t)| TypeRef::new(self.plan, *t))
    }
}

/// The arguments of an export call, lowered in order: a tuple of
/// [`LowerArg`]s (what the typed bindings pass: every check and lowering is
/// then compiled for the argument types, with no dynamic dispatch), or a slice
/// of `&dyn LowerArg` (any number, chosen at run time).
pub trait LowerArgs {
    /// How many arguments there are.
    fn count(&self) -> usize;
    /// Checks each argument against its parameter's type (`params` has one
    /// per argument): in full, or with `bound` what is left of it for the
    /// typed bindings ([`LowerArg::check_bound`]).
    fn check_each(&self, cx: &Cx, params: Params, bound: bool) -> Result<(), Trap>;
    /// Lowers each (checked) argument to flat values.
    fn lower_each(&self, cx: &mut Cx, params: Params, out: &mut FlatBuf) -> Result<(), Trap>;
    /// Stores each (checked) argument at its offset in the parameter tuple
    /// at `ptr` (arguments passed through memory).
    fn store_each(&self, cx: &mut Cx, params: Params, ptr: u32) -> Result<(), Trap>;
}

impl LowerArgs for &[&dyn LowerArg] {
    fn count(&self) -> usize {
        self.len()
    }
    fn check_each(&self, cx: &Cx, params: Params, bound: bool) -> Result<(), Trap> {
        self.iter()
            .zip(params.types())
            .try_for_each(|(a, t)| match bound {
                true => a.check_bound(cx, t),
                false => a.check(cx, t),
            })
    }
    fn lower_each(&self, cx: &mut Cx, params: Params, out: &mut FlatBuf) -> Result<(), Trap> {
        self.iter()
            .zip(params.types())
            .try_for_each(|(a, t)| a.lower(cx, t, out))
    }
    fn store_each(&self, cx: &mut Cx, params: Params, ptr: u32) -> Result<(), Trap> {
        store_all(self, cx, params, ptr)
    }
}

/// [`LowerArg::store`] alone, as a trait object of its own: the tuples'
/// spill path passes its arguments as `&dyn Spill`, whose table holds only
/// this, so that hosts do not link the checks' messages (and the type printer
/// they use) through a table of every `LowerArg` method.
trait Spill {
    fn spill(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap>;
}

impl<T: LowerArg + ?Sized> Spill for T {
    fn spill(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        self.store(cx, ty, ptr)
    }
}

/// Stores each argument at its offset in the parameter tuple at `ptr`.
fn store_all<A: Spill + ?Sized>(
    args: &[&A],
    cx: &mut Cx,
    params: Params,
    ptr: u32,
) -> Result<(), Trap> {
    let at = params.offsets.iter().map(|&at| ptr.saturating_add(at));
    params
        .types()
        .zip(at)
        .zip(args)
        .try_for_each(|((t, at), a)| a.spill(cx, t, at))
}

/// Tuples of up to 12 arguments (the typed bindings pass a slice beyond).
macro_rules! tuples {
    ($($n:literal: ($($a:ident . $i:tt),*);)*) => {$(
        impl<$($a: LowerArg),*> LowerArgs for ($($a,)*) {
            fn count(&self) -> usize {
                $n
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn check_each(&self, cx: &Cx, params: Params, bound: bool) -> Result<(), Trap> {
                $(match bound {
                    true => self.$i.check_bound(cx, params.get($i))?,
                    false => self.$i.check(cx, params.get($i))?,
                })*
                Ok(())
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn lower_each(&self, cx: &mut Cx, params: Params, out: &mut FlatBuf) -> Result<(), Trap> {
                $(self.$i.lower(cx, params.get($i), out)?;)*
                Ok(())
            }
            // Rare (only arguments with many flat values spill): shares the
            // slice's path, unless the argument types show that they never
            // spill (then the plan's spill is not theirs: a wrong-typed call).
            #[inline]
            #[allow(unused_mut)]
            fn store_each(&self, cx: &mut Cx, params: Params, ptr: u32) -> Result<(), Trap> {
                let mut flat = Some(0);
                $(flat = flat.zip(self.$i.flat_len()).map(|(n, k)| n + k);)*
                match flat {
                    Some(n) if n <= MAX_FLAT_PARAMS => Err(Trap::fixed(
                        "type mismatch: the arguments' types have too few flat values to be passed in memory",
                    )),
                    _ => store_all::<dyn Spill>(&[$(&self.$i),*], cx, params, ptr),
                }
            }
        }
    )*};
}

tuples! {
    0: ();
    1: (A.0);
    2: (A.0, B.1);
    3: (A.0, B.1, C.2);
    4: (A.0, B.1, C.2, D.3);
    5: (A.0, B.1, C.2, D.3, E.4);
    6: (A.0, B.1, C.2, D.3, E.4, F.5);
    7: (A.0, B.1, C.2, D.3, E.4, F.5, G.6);
    8: (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7);
    9: (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8);
    10: (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9);
    11: (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10);
    12: (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10, L.11);
}

/// A call to export `name` with the wrong number of arguments.
#[cold]
pub(crate) fn arity(name: &str, params: Params, given: usize) -> Trap {
    Trap::host(format!(
        "`{name}` expects {} arguments, got {given}",
        params.len()
    ))
}

#[cold]
fn mismatch(want: &str, ty: Option<TypeRef>) -> Trap {
    match ty {
        Some(ty) => Trap::host(format!(
            "type mismatch: a Rust `{want}` for component type `{ty}`"
        )),
        None => Trap::host(format!(
            "type mismatch: a Rust `{want}` where the function has no result"
        )),
    }
}

/// Scalars: `$variant` is the component type, `$bytes` its size in memory,
/// `$to` the flat bits of `$x` and `$from` the value of bits `$b`.
macro_rules! scalars {
    ($($t:ty: $variant:ident, $bytes:expr, |$x:ident| $to:expr, |$b:ident| $from:expr $(, $_list:ident)?;)*) => {$(
        impl LowerArg for $t {
            #[inline]
            fn check(&self, _: &Cx, ty: TypeRef) -> Result<(), Trap> {
                match ty.value() {
                    ValueType::$variant => Ok(()),
                    _ => Err(mismatch(stringify!($t), Some(ty))),
                }
            }
            #[inline]
            fn check_bound(&self, _: &Cx, _: TypeRef) -> Result<(), Trap> {
                Ok(())
            }
            #[inline]
            fn flat_len(&self) -> Option<usize> {
                Some(1)
            }
            #[inline]
            fn lower(&self, _: &mut Cx, _: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
                let $x = *self;
                out.push($to);
                Ok(())
            }
            fn store(&self, cx: &mut Cx, _: TypeRef, ptr: u32) -> Result<(), Trap> {
                let $x = *self;
                cx.store_int(ptr, $bytes, $to)
            }
        }
        impl LiftResult for $t {
            #[inline]
            fn check(ty: Option<TypeRef>) -> Result<(), Trap> {
                match ty.map(TypeRef::value) {
                    Some(ValueType::$variant) => Ok(()),
                    _ => Err(mismatch(stringify!($t), ty)),
                }
            }
            #[inline]
            fn lift(_: &mut Cx, _: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
                let $b = flat.next()?;
                $from
            }
            fn load(cx: &mut Cx, _: TypeRef, ptr: u32) -> Result<Self, Trap> {
                let $b = cx.load_int(ptr, $bytes)?;
                $from
            }
        }
    )*};
}

scalar_table!(scalars);

impl LowerArg for &str {
    #[inline]
    fn check(&self, _: &Cx, ty: TypeRef) -> Result<(), Trap> {
        match ty.value() {
            ValueType::String => Ok(()),
            _ => Err(mismatch("&str", Some(ty))),
        }
    }
    #[inline]
    fn check_bound(&self, _: &Cx, _: TypeRef) -> Result<(), Trap> {
        Ok(())
    }
    #[inline]
    fn flat_len(&self) -> Option<usize> {
        Some(2)
    }
    fn lower(&self, cx: &mut Cx, _: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        cx.lower_string(self, out)
    }
    fn store(&self, cx: &mut Cx, _: TypeRef, ptr: u32) -> Result<(), Trap> {
        cx.store_string_at(self, ptr)
    }
}

impl LiftResult for String {
    #[inline]
    fn check(ty: Option<TypeRef>) -> Result<(), Trap> {
        match ty.map(TypeRef::value) {
            Some(ValueType::String) => Ok(()),
            _ => Err(mismatch("String", ty)),
        }
    }
    fn lift(cx: &mut Cx, _: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        cx.lift_string(flat)
    }
    fn load(cx: &mut Cx, _: TypeRef, ptr: u32) -> Result<Self, Trap> {
        cx.load_string(ptr)
    }
}

/// Any value, checked against the type as the dynamic API checks it
/// (including that its resource handles are live in this instantiation).
impl LowerArg for Value {
    fn check(&self, cx: &Cx, ty: TypeRef) -> Result<(), Trap> {
        values::check(self, cx.tree(ty))?;
        cx.state.check_host_handles(self)
    }
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        let ty = cx.tree(ty);
        cx.lower_flat(self, ty, out)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let ty = cx.tree(ty);
        cx.store(self, ty, ptr)
    }
}

/// The result of an export that has one, of any type.
impl LiftResult for Value {
    fn check(ty: Option<TypeRef>) -> Result<(), Trap> {
        ty.map(|_| ()).ok_or_else(|| mismatch("Value", None))
    }
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        let ty = cx.tree(ty);
        cx.lift_flat(ty, flat)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        let ty = cx.tree(ty);
        cx.load(ty, ptr)
    }
}

/// The result of any export, `None` for one without a result (the dynamic API).
impl LiftResult for Option<Value> {
    fn check(_: Option<TypeRef>) -> Result<(), Trap> {
        Ok(())
    }
    fn none() -> Result<Self, Trap> {
        Ok(None)
    }
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        Value::lift(cx, ty, flat).map(Some)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        Value::load(cx, ty, ptr).map(Some)
    }
}

/// The result of an export without one.
impl LiftResult for () {
    fn check(ty: Option<TypeRef>) -> Result<(), Trap> {
        match ty {
            None => Ok(()),
            Some(_) => Err(mismatch("()", ty)),
        }
    }
    fn none() -> Result<Self, Trap> {
        Ok(())
    }
    // Reached only past a skipped check (`check` refuses a result first), so
    // the message does not print the type: hosts then do not link the printer.
    fn lift(_: &mut Cx, _: TypeRef, _: &mut Flat) -> Result<Self, Trap> {
        Err(unit_with_result())
    }
    fn load(_: &mut Cx, _: TypeRef, _: u32) -> Result<Self, Trap> {
        Err(unit_with_result())
    }
}

fn unit_with_result() -> Trap {
    Trap::fixed("type mismatch: a Rust `()` where the function has a result")
}
