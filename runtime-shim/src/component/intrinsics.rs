//! What the runtime supplies for a core import of a component's core instance:
//! core exports, host imports lowered into core functions, resource
//! intrinsics, and the intrinsics fused adapters use.

use super::abi::{self, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use super::convert::{bits_to_vals, vals_to_bits, Cx, Flat, FlatBuf};
use super::instance::{ComponentState, MAY_LEAVE};
use super::resources::{Handle, Holder};
use super::types::Type;
use super::values::{self, Value};
use crate::error::{Error, Trap};
use crate::prelude::*;
use crate::signatures::{self, Sig};
use crate::vm::ValRaw;
use crate::{Extern, Func, FuncType, Store, Val, ValType};
use alloc::rc::Rc;
use rivet_descriptor::component::{AbiTrap, CoreDef, Intrinsic};
use spin::Lazy;

/// Resolves the arguments of a plan step into `out`: a runtime part
/// ([`rivet_descriptor::parts::IMPORTS`]), so that a host whose components'
/// core modules import nothing links none of this.
pub(crate) fn resolve_args(
    store: &mut Store,
    state: &Rc<ComponentState>,
    args: &[CoreDef],
    out: &mut Vec<Extern>,
) -> Result<(), Error> {
    out.reserve(args.len());
    for a in args {
        out.push(resolve(store, state, a)?);
    }
    Ok(())
}

/// The extern a plan definition stands for.
fn resolve(store: &mut Store, state: &Rc<ComponentState>, def: &CoreDef) -> Result<Extern, Error> {
    Ok(match def {
        CoreDef::Export { instance, name } => state
            .core_export(store, *instance, name)
            .map_err(|e| Error::Format(format!("component plan: {e}")))?,
        CoreDef::HostLower(i) => {
            // Every plan import was supplied before any step runs, so a plan
            // with host lowers has a lowerer.
            let lower = state.lower.ok_or_else(|| {
                Error::Format(format!("component plan: host lower {i} without imports"))
            })?;
            Extern::Func(lower(store, state, *i)?)
        }
        def => {
            let resolve = state.intrinsics.ok_or_else(|| {
                Error::Format(format!(
                    "component plan: {def} without the intrinsics' code (the bindings \
                     were generated for another plan)"
                ))
            })?;
            resolve(store, state, def)?
        }
    })
}

/// The core item of a resource or adapter intrinsic.
pub(crate) fn resolve_intrinsic(
    store: &mut Store,
    state: &Rc<ComponentState>,
    def: &CoreDef,
) -> Result<Extern, Error> {
    Ok(match def {
        &CoreDef::ResourceNew { resource, instance } => {
            with_state(store, state, *I32_TO_I32, move |_, st, args| {
                let h = Handle::own(resource, arg(args, 0));
                let i = st.tables.borrow_mut().instances[instance as usize]
                    .table
                    .add(h)?;
                Ok(vec![Val::I32(i as i32)])
            })
        }
        &CoreDef::ResourceRep { resource, instance } => {
            with_state(store, state, *I32_TO_I32, move |_, st, args| {
                let tables = st.tables.borrow();
                let table = &tables.instances[instance as usize].table;
                Ok(vec![Val::I32(
                    table.get_typed(arg(args, 0), resource)?.rep as i32,
                )])
            })
        }
        &CoreDef::ResourceDrop { resource, instance } => {
            with_state(store, state, *I32_TO_NONE, move |s, st, args| {
                resource_drop(s, st, instance, resource, arg(args, 0))?;
                Ok(vec![])
            })
        }
        CoreDef::Intrinsic(i) => intrinsic(store, state, *i)?,
        CoreDef::Export { .. } | CoreDef::HostLower(_) => {
            return Err(Error::Format(format!(
                "component plan: {def} is not an intrinsic"
            )))
        }
    })
}

/// The core types of the intrinsics, interned once for the process.
static NONE_TO_NONE: Lazy<Sig> = Lazy::new(|| sig(&[], &[]));
static I32_TO_NONE: Lazy<Sig> = Lazy::new(|| sig(&[ValType::I32], &[]));
static I32_TO_I32: Lazy<Sig> = Lazy::new(|| sig(&[ValType::I32], &[ValType::I32]));

fn sig(params: &[ValType], results: &[ValType]) -> Sig {
    signatures::intern(&FuncType {
        params: params.to_vec().into(),
        results: results.to_vec().into(),
    })
}

fn arg(args: &[Val], i: usize) -> u32 {
    match args.get(i) {
        Some(Val::I32(v)) => *v as u32,
        _ => 0,
    }
}

/// A host function of `ty` sharing the instantiation's state.
fn with_state(
    store: &mut Store,
    state: &Rc<ComponentState>,
    sig: Sig,
    f: impl Fn(&mut Store, &ComponentState, &[Val]) -> Result<Vec<Val>, Trap> + 'static,
) -> Extern {
    let state = state.clone();
    Extern::Func(Func::wrap_sig(store, sig, move |s, args, results| {
        for (slot, v) in results.iter_mut().zip(f(s, &state, args)?) {
            *slot = v;
        }
        Ok(())
    }))
}

fn intrinsic(store: &mut Store, state: &Rc<ComponentState>, i: Intrinsic) -> Result<Extern, Error> {
    let check = |c: u32| {
        if (c as usize) < state.flags.len() {
            Ok(c)
        } else {
            Err(Error::Format(format!(
                "component plan: instance {c} out of range"
            )))
        }
    };
    Ok(match i {
        Intrinsic::InstanceFlags(c) => Extern::Global(state.flags[check(c)? as usize]),
        Intrinsic::TransferOwn { resource, from, to } => {
            let (from, to) = (check(from)?, check(to)?);
            with_state(store, state, *I32_TO_I32, move |_, st, args| {
                let mut tables = st.tables.borrow_mut();
                let h = tables.instances[from as usize]
                    .table
                    .take_own(arg(args, 0), resource)?;
                let i = tables.instances[to as usize].table.add(h)?;
                Ok(vec![Val::I32(i as i32)])
            })
        }
        Intrinsic::TransferBorrow { resource, from, to } => {
            let (from, to) = (check(from)?, check(to)?);
            with_state(store, state, *I32_TO_I32, move |_, st, args| {
                transfer_borrow(st, resource, from, to, arg(args, 0))
                    .map(|i| vec![Val::I32(i as i32)])
            })
        }
        Intrinsic::EnterCall(c) => {
            let c = check(c)?;
            with_state(store, state, *NONE_TO_NONE, move |_, st, _| {
                st.enter_call(c);
                Ok(vec![])
            })
        }
        Intrinsic::ExitCall(c) => {
            let c = check(c)?;
            with_state(store, state, *NONE_TO_NONE, move |_, st, _| {
                st.exit_call(c).map(|()| vec![])
            })
        }
        Intrinsic::Trap => with_state(store, state, *I32_TO_NONE, |_, _, args| {
            let code = arg(args, 0);
            Err(Trap::host(
                AbiTrap::from_code(code)
                    .map(AbiTrap::message)
                    .unwrap_or("unknown canonical ABI trap"),
            ))
        }),
    })
}

/// Lends handle `h` of `from` to `to` for `to`'s current call.
fn transfer_borrow(st: &ComponentState, r: u32, from: u32, to: u32, h: u32) -> Result<u32, Trap> {
    let defines = st.defines(to, super::types::ResourceType(r));
    let mut tables = st.tables.borrow_mut();
    let rep = tables.instances[from as usize].table.get_typed(h, r)?.rep;
    if tables.instances[to as usize].frames.is_empty() {
        return Err(Trap::host("borrow lent outside a call"));
    }
    tables.instances[from as usize].table.get_mut(h)?.lends += 1;
    let inst = &mut tables.instances[to as usize];
    let depth = inst.frames.len() - 1;
    let frame = &mut inst.frames[depth];
    frame.lenders.push((Holder::Instance(from), h));
    if defines {
        return Ok(rep);
    }
    frame.borrows += 1;
    inst.table.add(Handle {
        own: false,
        scope: Some(depth),
        ..Handle::own(r, rep)
    })
}

/// `canon resource.drop`: an own handle runs the destructor; a borrow ends.
fn resource_drop(
    store: &mut Store,
    st: &ComponentState,
    instance: u32,
    resource: u32,
    i: u32,
) -> Result<(), Trap> {
    let h = {
        let mut tables = st.tables.borrow_mut();
        let inst = &mut tables.instances[instance as usize];
        let h = inst.table.get_typed(i, resource)?;
        if h.own && h.lends != 0 {
            return Err(Trap::host("cannot remove owned resource while borrowed"));
        }
        let h = inst.table.remove(i)?;
        if let Some(frame) = h.scope.and_then(|d| inst.frames.get_mut(d)) {
            frame.borrows = frame.borrows.saturating_sub(1);
        }
        h
    };
    if h.own {
        run_dtor(store, st, Some(instance), resource, h.rep)?;
    }
    Ok(())
}

/// Runs the destructor of `resource` (if any) on `rep`, entering its defining
/// instance unless the caller is that instance.
pub(crate) fn run_dtor(
    store: &mut Store,
    st: &ComponentState,
    caller: Option<u32>,
    resource: u32,
    rep: u32,
) -> Result<(), Trap> {
    if let Some(host) = &st.host_dtors[resource as usize] {
        return host(rep);
    }
    let def = &st.component.0.plan.resources[resource as usize];
    let Some(dtor) = &def.dtor else {
        return Ok(());
    };
    if caller != Some(def.instance) {
        st.check_enter(def.instance, caller)?;
    }
    // Called on raw slots, not through `Func::call`, whose checks of dynamic
    // values every host would link: the validator checked the type, (i32).
    let f = st.func(store, dtor)?.raw_target(store)?;
    f.call(store, &mut [ValRaw::from_u32(rep)])
}

/// The core function a host import is lowered into.
pub(crate) fn host_lower(
    store: &mut Store,
    state: &Rc<ComponentState>,
    i: u32,
) -> Result<Func, Error> {
    let c = &state.component.0;
    let lower = c
        .plan
        .host_lowers
        .get(i as usize)
        .ok_or_else(|| Error::Format(format!("component plan: host lower {i} out of range")))?;
    let host = state.imports[lower.import as usize].clone();
    if host.typed().is_some() {
        return super::typed_import::lower(store, state, i);
    }
    let import = &c.plan.imports[lower.import as usize];
    let ty = c.func_type(import.ty).clone();
    let params: Vec<&Type> = ty.params.iter().map(|(_, t)| t).collect();
    let core = abi::core_signature(&params, ty.result.as_ref(), true);
    let (lower_index, name) = (i, import.name.clone());
    let state = state.clone();
    // The closure holds the instantiation's state, an `Rc` that never leaves
    // the store (see the store's `Send`): `wrap_sig` has no `Send` bound.
    Ok(Func::wrap_sig(
        store,
        crate::signatures::intern(&core),
        move |s, args, results| {
            let st = &*state;
            let lower = &st.component.0.plan.host_lowers[lower_index as usize];
            let host = (host.dynamic())
                .ok_or_else(|| Trap::fixed("internal error: not a dynamic host function"))?;
            call_host(
                s,
                st,
                lower.instance,
                &lower.options,
                &ty,
                &name,
                host,
                args,
                results,
            )
        },
    ))
}

/// A guest's call of a host import: may_leave check, lift the arguments,
/// call the host, lower the result.
#[allow(clippy::too_many_arguments)]
fn call_host(
    store: &mut Store,
    st: &ComponentState,
    caller: u32,
    options: &rivet_descriptor::component::CanonOptions,
    ty: &super::types::FuncType,
    name: &str,
    host: &super::HostImportFn,
    args: &[Val],
    results: &mut [Val],
) -> Result<(), Trap> {
    if st.flags(caller) & MAY_LEAVE == 0 {
        return Err(Trap::host("cannot leave component instance"));
    }
    let opts = st.opts(store, options)?;
    let mut cx = Cx {
        store,
        state: st,
        opts,
        instance: caller,
        temps: Vec::new(),
    };
    let params: Vec<&Type> = ty.params.iter().map(|(_, t)| t).collect();
    let flat_count: usize = params.iter().map(|t| abi::flatten(*t).len()).sum();
    let bits = vals_to_bits(args);
    let values = if flat_count > MAX_FLAT_PARAMS {
        let tuple = Type::Tuple(params.iter().map(|t| (*t).clone()).collect());
        match cx.load_spilled(&tuple, bits[0] as u32)? {
            Value::Tuple(vs) => vs,
            _ => Vec::new(),
        }
    } else {
        let mut vi = Flat::new(&bits);
        params
            .iter()
            .map(|t| cx.lift_flat(t, &mut vi))
            .collect::<Result<Vec<_>, _>>()?
    };
    let outcome = host(&values);
    cx.drop_temps();
    let result = outcome?;
    match (&ty.result, result) {
        (None, None) => Ok(()),
        (Some(t), Some(v)) => {
            values::check(&v, t)
                .map_err(|e| Trap::host(format!("host import `{name}` result: {e}")))?;
            let flat = abi::flatten(t);
            if flat.len() > MAX_FLAT_RESULTS {
                // The whole result's range is checked before anything is
                // stored (`lower_heap_values`), not only the bytes a value
                // of a short case would write.
                let ptr = *bits.last().unwrap_or(&0) as u32;
                cx.check_spilled_layout((abi::alignment(t), abi::size(t)), ptr)?;
                return cx.store(&v, t, ptr);
            }
            let mut out = FlatBuf::new();
            cx.lower_flat(&v, t, &mut out)?;
            for (slot, v) in results.iter_mut().zip(bits_to_vals(out.values()?, &flat)) {
                *slot = v;
            }
            Ok(())
        }
        _ => Err(Trap::host(format!(
            "host import `{name}` returned a result that does not match its type"
        ))),
    }
}
