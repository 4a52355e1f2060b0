//! Registering a typed host function, checking it against the import's
//! type when supplied, and the core function a guest calls it through.

use super::{for_arities, Check, Cx, Fields, Flat, FlatBuf, Lift, Lower, TypeRef};
use crate::component::abi::{self, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::component::convert::{bit_to_val, val_to_bit};
use crate::component::instance::{ComponentState, MAY_LEAVE};
use crate::component::{ComponentImports, HostFunc, HostImport};
use crate::error::{Error, Trap};
use crate::prelude::*;
use crate::{Func, Store, Val, ValType};
use alloc::rc::Rc;
use alloc::sync::Arc;
use core::any::type_name;
use core::marker::PhantomData;
use rivet_descriptor::abi::record_layout;
use rivet_descriptor::component::{Component as Plan, ComponentFuncType};

/// The parameters of a typed host function: a tuple of [`Lift`] types, one
/// per parameter of the import.
pub trait LiftParams: Sized {
    /// Each parameter's type check and Rust type name, in order.
    fn checks() -> Vec<(Check, &'static str)>;
    /// Lifts each parameter in turn from flat values.
    fn lift_each(cx: &mut Cx, fields: &mut Fields, flat: &mut Flat) -> Result<Self, Trap>;
    /// Loads each parameter in turn from the argument area in memory.
    fn load_each(cx: &mut Cx, fields: &mut Fields) -> Result<Self, Trap>;
}

/// A Rust function serving an import: `Fn(P1, P2, …) -> Result<R, Trap>`
/// with [`Lift`] parameters and a [`Lower`] result (`()` for none). An
/// `Err` is a trap of the guest's call.
pub trait HostFn<P, R>: Send + Sync + 'static {
    fn call(&self, params: P) -> Result<R, Trap>;
}

/// Parameter tuples and host functions of each arity.
macro_rules! arities {
    ($(($($a:ident),*);)*) => {$(
        impl<$($a: Lift),*> LiftParams for ($($a,)*) {
            fn checks() -> Vec<(Check, &'static str)> {
                vec![$(($a::typecheck, type_name::<$a>())),*]
            }
            #[allow(unused_variables)]
            fn lift_each(cx: &mut Cx, fields: &mut Fields, flat: &mut Flat) -> Result<Self, Trap> {
                Ok(($(fields.lift::<$a>(cx, flat)?,)*))
            }
            #[allow(unused_variables)]
            fn load_each(cx: &mut Cx, fields: &mut Fields) -> Result<Self, Trap> {
                Ok(($(fields.load::<$a>(cx)?,)*))
            }
        }
        impl<Host, R, $($a),*> HostFn<($($a,)*), R> for Host
        where
            Host: Fn($($a),*) -> Result<R, Trap> + Send + Sync + 'static,
        {
            #[allow(non_snake_case)]
            fn call(&self, ($($a,)*): ($($a,)*)) -> Result<R, Trap> {
                self($($a),*)
            }
        }
    )*};
}

arities! { (); }
for_arities!(arities);

impl ComponentImports {
    /// Provides import `name` with a typed host function: its arguments are
    /// lifted straight into the Rust parameter types and its result lowered
    /// straight from the Rust result type, without dynamic values. The
    /// types are checked against the import's type when a component is
    /// instantiated with these imports: a mismatch is an [`Error::Link`]
    /// naming the import and both types.
    ///
    /// ```
    /// use rivet::{ComponentImports, Trap};
    ///
    /// let mut imports = ComponentImports::new();
    /// imports.func_typed("log", |level: u8, msg: String| -> Result<(), Trap> {
    ///     eprintln!("[{level}] {msg}");
    ///     Ok(())
    /// });
    /// ```
    pub fn func_typed<P, R>(&mut self, name: &str, f: impl HostFn<P, R>) -> &mut Self
    where
        P: LiftParams + 'static,
        R: Lower + 'static,
    {
        let typed: HostImport = Arc::new(Typed {
            f,
            _types: PhantomData::<fn(P) -> R>,
        });
        let funcs = self.funcs.get_or_insert_with(Default::default);
        funcs.insert(name.to_string(), typed);
        // A host that also supplies dynamic functions lowers both kinds
        // through `host_lower`; one that supplies only typed functions does
        // not link the dynamic values' code.
        self.lower.get_or_insert(lower);
        self.supply = Some(crate::component::instance::supply);
        self
    }
}

/// A typed host function with its parameter and result types erased, as
/// the instantiation keeps it.
pub(crate) trait TypedImport {
    /// Checks the registered types against the import's type `func`.
    fn typecheck(&self, plan: &Plan, name: &str, func: &ComponentFuncType) -> Result<(), Error>;
    /// Lifts the arguments from the core `args`, calls, lowers the result.
    fn call(&self, cx: &mut Cx, call: &Call, args: &[u64], results: &mut [Val])
        -> Result<(), Trap>;
}

struct Typed<P, R, F> {
    f: F,
    _types: PhantomData<fn(P) -> R>,
}

impl<P: LiftParams, R: Lower, F: HostFn<P, R>> HostFunc for Typed<P, R, F> {
    fn typed(&self) -> Option<&dyn TypedImport> {
        Some(self)
    }
}

impl<P: LiftParams, R: Lower, F: HostFn<P, R>> TypedImport for Typed<P, R, F> {
    fn typecheck(&self, plan: &Plan, name: &str, func: &ComponentFuncType) -> Result<(), Error> {
        let result = (
            R::typecheck_opt as fn(Option<TypeRef>) -> bool,
            type_name::<R>(),
        );
        check_types(plan, func, &P::checks(), result)
            .map_err(|what| Error::Link(format!("host import `{name}`: {what}")))
    }

    fn call(
        &self,
        cx: &mut Cx,
        call: &Call,
        args: &[u64],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        let params = call.lift_params::<P>(cx, args)?;
        let outcome = self.f.call(params);
        cx.drop_temps();
        call.lower_result(cx, &outcome?, args, results)
    }
}

/// Where the registered types differ from the import's type `func`.
fn check_types(
    plan: &Plan,
    func: &ComponentFuncType,
    params: &[(Check, &str)],
    (result_ok, result): (fn(Option<TypeRef>) -> bool, &str),
) -> Result<(), String> {
    if params.len() != func.params.len() {
        return Err(format!(
            "the component passes {} parameters, the host function takes {}",
            func.params.len(),
            params.len()
        ));
    }
    for ((name, t), (ok, rust)) in func.params.iter().zip(params) {
        let t = TypeRef::new(plan, *t);
        if !ok(t) {
            return Err(format!(
                "parameter `{name}` has component type `{t}`, the host function takes Rust type `{rust}`"
            ));
        }
    }
    let t = func.result.map(|t| TypeRef::new(plan, t));
    if !result_ok(t) {
        let want = t.map_or("no result".into(), |t| format!("result type `{t}`"));
        return Err(format!(
            "the component expects {want}, the host function returns Rust type `{result}`"
        ));
    }
    Ok(())
}

/// One host lower of a typed import: what its calls need of the plan.
pub(crate) struct Call {
    state: Rc<ComponentState>,
    /// The host lower's index in the plan.
    lower: u32,
    /// Whether the parameters are passed in memory.
    spill_params: bool,
    /// Whether the result is stored through a pointer argument.
    spill_result: bool,
    /// The core types of a flat result.
    flat_result: Vec<ValType>,
}

impl Call {
    fn func(&self) -> &ComponentFuncType {
        let plan = &self.state.component.0.plan;
        let import = plan.host_lowers[self.lower as usize].import;
        &plan.func_types[plan.imports[import as usize].ty as usize]
    }

    /// A guest's call: may_leave check, then the host function.
    fn run(
        &self,
        store: &mut Store,
        host: &dyn TypedImport,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        let st = &*self.state;
        let lower = &st.component.0.plan.host_lowers[self.lower as usize];
        if st.flags(lower.instance) & MAY_LEAVE == 0 {
            return Err(Trap::fixed("cannot leave component instance"));
        }
        let opts = st.opts(store, &lower.options)?;
        let mut cx = Cx {
            store,
            state: st,
            opts,
            instance: lower.instance,
            temps: Vec::new(),
        };
        // At most the flat parameters and a result pointer.
        let mut bits = [0u64; MAX_FLAT_PARAMS + 1];
        for (b, v) in bits.iter_mut().zip(args) {
            *b = val_to_bit(v);
        }
        host.call(&mut cx, self, &bits[..args.len().min(bits.len())], results)
    }

    fn lift_params<P: LiftParams>(&self, cx: &mut Cx, args: &[u64]) -> Result<P, Trap> {
        let plan = &self.state.component.0.plan;
        let params = &self.func().params;
        if !self.spill_params {
            let mut fields = Fields::params(plan, params, 0);
            return P::lift_each(cx, &mut fields, &mut Flat::new(args));
        }
        let ptr = args.first().copied().unwrap_or(0) as u32;
        let types = params.iter().map(|(_, t)| TypeRef::new(plan, *t));
        cx.check_spilled_layout(record_layout(types), ptr)?;
        P::load_each(cx, &mut Fields::params(plan, params, ptr))
    }

    fn lower_result<R: Lower>(
        &self,
        cx: &mut Cx,
        r: &R,
        args: &[u64],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        let plan = &self.state.component.0.plan;
        let Some(t) = self.func().result.map(|t| TypeRef::new(plan, t)) else {
            return Ok(());
        };
        if self.spill_result {
            // As the dynamic path: the whole range, before any store.
            let ptr = args.last().copied().unwrap_or(0) as u32;
            cx.check_spilled_layout((abi::alignment(t), abi::size(t)), ptr)?;
            return r.store(cx, t, ptr);
        }
        let mut out = FlatBuf::new();
        r.lower(cx, t, &mut out)?;
        let flat = out.values()?.iter().zip(&self.flat_result);
        for (slot, (&b, &ty)) in results.iter_mut().zip(flat) {
            *slot = bit_to_val(b, ty);
        }
        Ok(())
    }
}

/// The core function a typed host import is lowered into (the
/// [`crate::component::LowerHost`] of a host whose imports are all typed).
pub(crate) fn lower(store: &mut Store, state: &Rc<ComponentState>, i: u32) -> Result<Func, Error> {
    let plan = &state.component.0.plan;
    let lower = (plan.host_lowers.get(i as usize))
        .ok_or_else(|| Error::Format(format!("component plan: host lower {i} out of range")))?;
    let host = state.imports[lower.import as usize].clone();
    if host.typed().is_none() {
        return Err(Error::Format(
            "internal error: a dynamic host import lowered as a typed one".into(),
        ));
    }
    let func = &plan.func_types[plan.imports[lower.import as usize].ty as usize];
    let params: Vec<TypeRef> = (func.params.iter())
        .map(|(_, t)| TypeRef::new(plan, *t))
        .collect();
    let result = func.result.map(|t| TypeRef::new(plan, t));
    let flat_params: usize = params.iter().map(|t| abi::flatten(*t).len()).sum();
    let flat_result = result.map(abi::flatten).unwrap_or_default();
    let core = abi::core_signature(&params, result, true);
    let call = Call {
        state: state.clone(),
        lower: i,
        spill_params: flat_params > MAX_FLAT_PARAMS,
        spill_result: flat_result.len() > MAX_FLAT_RESULTS,
        flat_result,
    };
    // The closure holds the instantiation's state, an `Rc` that never leaves
    // the store (see the store's `Send`): `wrap_sig` has no `Send` bound.
    Ok(Func::wrap_sig(
        store,
        crate::signatures::intern(&core),
        move |s, args, results| {
            let typed = host.typed();
            let typed =
                typed.ok_or_else(|| Trap::fixed("internal error: not a typed host function"))?;
            call.run(s, typed, args, results)
        },
    ))
}
