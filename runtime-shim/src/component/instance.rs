//! Instantiating a component's plan and calling its exports from the host.

use super::abi::{self, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use super::convert::{bits_to_vals, vals_to_bits, Cx, Flat, Opts};
use super::intrinsics;
use super::resources::{Frame, HandleTable, Holder, InstanceState};
use super::types::{FuncType, ResourceType, Type};
use super::values::{self, ResourceAny, Value};
use super::{Component, ComponentImports, HostDtor, HostImport};
use crate::error::{Error, Trap};
use crate::store::StoreId;
use crate::{Extern, Func, Global, GlobalType, Instance, Store, Val, ValType};
use rivet_descriptor::component::{CanonOptions, Component as Plan, CoreDef, Step};
use std::cell::RefCell;
use std::rc::Rc;

/// Flag bits of a component instance (the `InstanceFlags` global).
pub(crate) const MAY_LEAVE: i32 = 1;
pub(crate) const MAY_ENTER: i32 = 2;
pub(crate) const POISONED: i32 = 4;

/// Handle tables of every component instance of one instantiation, and the
/// host's.
pub(crate) struct Tables {
    pub instances: Vec<InstanceState>,
    pub host: HandleTable,
}

/// The runtime state of one instantiated component.
pub(crate) struct ComponentState {
    pub component: Component,
    /// Index in the store's list of component states.
    pub index: usize,
    pub cores: RefCell<Vec<Instance>>,
    /// Per component instance.
    pub flags: Vec<Global>,
    pub tables: RefCell<Tables>,
    /// Per plan import.
    pub imports: Vec<HostImport>,
    /// Per plan resource: the host's destructor of a resource type the host
    /// defines (`None` for the component's own resources).
    pub host_dtors: Vec<Option<HostDtor>>,
}

/// An instantiated component.
#[derive(Clone, Copy, Debug)]
pub struct ComponentInstance {
    store: StoreId,
    index: usize,
}

impl Store {
    /// Instantiates: every import must be provided (else Error::Link naming it);
    /// runs the plan (core instances in order, adapters, intrinsics, resource
    /// tables, instance flags).
    pub fn instantiate_component(
        &mut self,
        c: &Component,
        imports: &ComponentImports,
    ) -> Result<ComponentInstance, Error> {
        let plan = &c.0.plan;
        unsupplied_modules(plan)?;
        let host_dtors = host_resources(plan, imports)?;
        let host =
            plan.imports
                .iter()
                .map(|i| {
                    imports.funcs.get(&i.name).cloned().ok_or_else(|| {
                        Error::Link(format!("missing component import `{}`", i.name))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
        let flag_ty = GlobalType {
            content: ValType::I32,
            mutable: true,
        };
        let flags = (0..plan.instances.len())
            .map(|_| Global::new(self, flag_ty, Val::I32(MAY_LEAVE | MAY_ENTER)))
            .collect::<Result<Vec<_>, _>>()?;
        let state = Rc::new(ComponentState {
            component: c.clone(),
            index: self.components.len(),
            cores: RefCell::new(Vec::new()),
            flags,
            tables: RefCell::new(Tables {
                instances: (0..plan.instances.len())
                    .map(|_| Default::default())
                    .collect(),
                host: HandleTable::default(),
            }),
            imports: host,
            host_dtors,
        });
        self.components.push(state.clone());
        for step in &plan.steps {
            let Step::Instantiate { module, args } = step;
            let module = &c.0.modules[*module as usize];
            let wanted = module.imports();
            if wanted.len() != args.len() {
                return Err(Error::Format(format!(
                    "component plan: {} arguments for {} imports",
                    args.len(),
                    wanted.len()
                )));
            }
            let externs = args
                .iter()
                .map(|a| intrinsics::resolve(self, &state, a))
                .collect::<Result<Vec<_>, _>>()?;
            let instance = self.instantiate(module, &externs)?;
            state.cores.borrow_mut().push(instance);
        }
        Ok(ComponentInstance {
            store: self.id(),
            index: state.index,
        })
    }

    pub(crate) fn component_state(&self, index: usize) -> Rc<ComponentState> {
        self.components[index].clone()
    }
}

impl ComponentState {
    pub fn resource_any(&self, index: u32, ty: ResourceType) -> ResourceAny {
        ResourceAny {
            owner: Some(self.index),
            index,
            ty,
        }
    }

    /// Checks that a host handle can be used as resource `r` here: a handle of
    /// a host-defined type carries its representation, any other must come
    /// from this instantiation's host table.
    pub fn check_owner(&self, h: ResourceAny) -> Result<(), Trap> {
        match (h.owner, self.imported(h.ty)) {
            (None, true) => Ok(()),
            (Some(o), false) if o == self.index => Ok(()),
            (None, false) => Err(Trap::host(format!(
                "resource `{}` is defined by the component, not the host: \
                 a handle to it cannot be made from a representation",
                self.resource_name(h.ty)
            ))),
            _ => Err(Trap::host(
                "resource handle belongs to another component instance",
            )),
        }
    }

    /// Whether the host defines resource `r` (the component imports it).
    pub fn imported(&self, r: ResourceType) -> bool {
        let resources = &self.component.0.plan.resources;
        resources.get(r.0 as usize).is_some_and(|d| d.imported)
    }

    fn resource_name(&self, r: ResourceType) -> &str {
        let resources = &self.component.0.plan.resources;
        resources.get(r.0 as usize).map_or("?", |d| &d.name)
    }

    /// Checks, before entering the guest, that every handle in a host value
    /// is live in this instantiation's host table: a stale handle is the
    /// host's error and must not poison the guest.
    pub fn check_host_handles(&self, v: &Value) -> Result<(), Trap> {
        match v {
            Value::Own(h) | Value::Borrow(h) => {
                self.check_owner(*h)?;
                if h.owner.is_none() {
                    return Ok(());
                }
                self.tables
                    .borrow()
                    .host
                    .get_typed(h.index, h.ty.0)
                    .map(|_| ())
            }
            Value::List(vs) | Value::Tuple(vs) => {
                vs.iter().try_for_each(|v| self.check_host_handles(v))
            }
            Value::Record(fs) => fs.iter().try_for_each(|(_, v)| self.check_host_handles(v)),
            Value::Map(es) => es.iter().try_for_each(|(k, v)| {
                self.check_host_handles(k)?;
                self.check_host_handles(v)
            }),
            Value::Variant(_, Some(p))
            | Value::Option(Some(p))
            | Value::Result(Ok(Some(p)) | Err(Some(p))) => self.check_host_handles(p),
            _ => Ok(()),
        }
    }

    /// Whether component instance `inst` defines resource `r` (never true of
    /// a host-defined resource, though the plan places it in the root).
    pub fn defines(&self, inst: u32, r: ResourceType) -> bool {
        let def = &self.component.0.plan.resources[r.0 as usize];
        !def.imported && def.instance == inst
    }

    /// Export `name` of core instance `instance`.
    pub fn core_export(&self, store: &Store, instance: u32, name: &str) -> Result<Extern, String> {
        let cores = self.cores.borrow();
        let inst = cores
            .get(instance as usize)
            .ok_or_else(|| format!("core instance {instance} does not exist yet"))?;
        inst.export(store, name)
            .ok_or_else(|| format!("core instance {instance} has no export `{name}`"))
    }

    /// The core function a plan definition names (exports only).
    pub fn func(&self, store: &Store, def: &CoreDef) -> Result<Func, Trap> {
        match def {
            CoreDef::Export { instance, name } => match self.core_export(store, *instance, name) {
                Ok(Extern::Func(f)) => Ok(f),
                Ok(_) => Err(Trap::host(format!(
                    "core export `{name}` is not a function"
                ))),
                Err(e) => Err(Trap::host(e)),
            },
            other => Err(Trap::host(format!(
                "not supported yet: {other:?} as a canonical function option"
            ))),
        }
    }

    pub fn opts(&self, store: &Store, o: &CanonOptions) -> Result<Opts, Trap> {
        let memory = match &o.memory {
            Some(CoreDef::Export { instance, name }) => {
                match self.core_export(store, *instance, name) {
                    Ok(Extern::Memory(m)) => Some(m),
                    Ok(_) => {
                        return Err(Trap::host(format!("core export `{name}` is not a memory")))
                    }
                    Err(e) => return Err(Trap::host(e)),
                }
            }
            Some(other) => return Err(Trap::host(format!("{other:?} is not a memory"))),
            None => None,
        };
        let realloc = o
            .realloc
            .as_ref()
            .map(|r| self.func(store, r))
            .transpose()?;
        Ok(Opts {
            memory,
            realloc,
            encoding: o.string_encoding,
        })
    }

    pub fn flags(&self, store: &Store, c: u32) -> i32 {
        match self.flags[c as usize].get(store) {
            Val::I32(v) => v,
            _ => 0,
        }
    }

    pub fn set_flags(&self, store: &mut Store, c: u32, v: i32) {
        // The global is a mutable i32 created by `instantiate_component`.
        let _ = self.flags[c as usize].set(store, Val::I32(v));
    }

    /// Checks that component instance `c` may be entered.
    pub fn check_enter(&self, store: &Store, c: u32) -> Result<(), Trap> {
        let f = self.flags(store, c);
        if f & POISONED != 0 || f & MAY_ENTER == 0 {
            return Err(Trap::host("cannot enter component instance"));
        }
        Ok(())
    }

    /// After a trap: every instance that was entered (may_enter clear) is
    /// poisoned; nothing else is restored.
    pub fn poison_entered(&self, store: &mut Store) {
        for c in 0..self.flags.len() as u32 {
            let f = self.flags(store, c);
            if f & MAY_ENTER == 0 {
                self.set_flags(store, c, f | POISONED);
            }
        }
    }

    /// Ends a call into `c`: borrows it received must all be dropped, and the
    /// handles lent for it are released.
    pub fn exit_call(&self, c: u32) -> Result<(), Trap> {
        let mut tables = self.tables.borrow_mut();
        let frame: Frame = tables.instances[c as usize]
            .frames
            .pop()
            .ok_or_else(|| Trap::host("call exit without a matching entry"))?;
        for (holder, index) in &frame.lenders {
            let table = match holder {
                Holder::Host => &mut tables.host,
                Holder::Instance(i) => &mut tables.instances[*i as usize].table,
            };
            if let Ok(h) = table.get_mut(*index) {
                h.lends = h.lends.saturating_sub(1);
            }
        }
        if frame.borrows != 0 {
            return Err(Trap::host(
                "borrow handles still remain at the end of the call",
            ));
        }
        Ok(())
    }
}

impl ComponentInstance {
    fn state(&self, store: &Store) -> Result<Rc<ComponentState>, Trap> {
        if self.store != store.id() {
            return Err(Trap::host(
                "component instance used with a store that does not own it",
            ));
        }
        Ok(store.component_state(self.index))
    }

    pub fn func_type(&self, store: &Store, export: &str) -> Option<FuncType> {
        let state = self.state(store).ok()?;
        let c = &state.component.0;
        let e = c.plan.exports.iter().find(|e| e.name == export)?;
        Some(c.export_type(e.lift).clone())
    }

    /// Calls an export with type-checked arguments; lowers them (calling the
    /// guest's realloc as needed), calls, lifts the result, runs post-return.
    /// A trap poisons every component instance that was entered.
    pub fn call(
        &self,
        store: &mut Store,
        export: &str,
        args: &[Value],
    ) -> Result<Option<Value>, Trap> {
        let state = self.state(store)?;
        let c = &state.component.0;
        let e = c
            .plan
            .exports
            .iter()
            .find(|e| e.name == export)
            .ok_or_else(|| Trap::host(format!("no exported function `{export}`")))?;
        let ty = c.export_type(e.lift);
        if args.len() != ty.params.len() {
            return Err(Trap::host(format!(
                "`{export}` expects {} arguments, got {}",
                ty.params.len(),
                args.len()
            )));
        }
        for (a, (_, t)) in args.iter().zip(&ty.params) {
            values::check(a, t)?;
            state.check_host_handles(a)?;
        }
        let lift = &c.plan.lifts[e.lift as usize];
        state.check_enter(store, lift.instance)?;
        let result = call_lift(store, &state, e.lift, args);
        if result.is_err() {
            state.poison_entered(store);
        }
        result
    }

    /// Drops a resource handle the host owns (runs the destructor: the guest's
    /// for a resource the component defines, the one given to
    /// [`ComponentImports::resource`] for a host-defined one).
    pub fn resource_drop(&self, store: &mut Store, handle: ResourceAny) -> Result<(), Trap> {
        let state = self.state(store)?;
        state.check_owner(handle)?;
        if handle.owner.is_none() {
            return intrinsics::run_dtor(store, &state, None, handle.ty.0, handle.index);
        }
        let h = {
            let mut tables = state.tables.borrow_mut();
            let h = tables.host.get_typed(handle.index, handle.ty.0)?;
            if !h.own {
                return Err(Trap::host("cannot drop a borrowed handle from the host"));
            }
            tables.host.take_own(handle.index, handle.ty.0)?
        };
        intrinsics::run_dtor(store, &state, None, handle.ty.0, h.rep)
    }
}

/// Enters the lift's instance, runs it, leaves it.
fn call_lift(
    store: &mut Store,
    state: &ComponentState,
    lift: u32,
    args: &[Value],
) -> Result<Option<Value>, Trap> {
    let c = &state.component.0;
    let lift = &c.plan.lifts[lift as usize];
    let ty = &c.funcs[lift.ty as usize];
    let inst = lift.instance;
    let func = state.func(store, &lift.func)?;
    let post_return = lift
        .options
        .post_return
        .as_ref()
        .map(|p| state.func(store, p))
        .transpose()?;
    let opts = state.opts(store, &lift.options)?;
    let flags = state.flags(store, inst);
    state.set_flags(store, inst, flags & !MAY_ENTER);
    state.tables.borrow_mut().instances[inst as usize]
        .frames
        .push(Frame::default());
    let mut cx = Cx {
        store,
        state,
        opts,
        instance: inst,
        temps: Vec::new(),
    };
    let core_args = lower_params(&mut cx, ty, args)?;
    let core_results = func.call(cx.store, &core_args)?;
    let result = lift_result(&mut cx, ty, &core_results)?;
    state.exit_call(inst)?;
    if let Some(post) = post_return {
        let f = state.flags(store, inst);
        state.set_flags(store, inst, f & !MAY_LEAVE);
        post.call(store, &core_results)?;
        let f = state.flags(store, inst);
        state.set_flags(store, inst, f | MAY_LEAVE);
    }
    let f = state.flags(store, inst);
    state.set_flags(store, inst, f | MAY_ENTER);
    Ok(result)
}

/// Lowers the host's arguments: flat, or spilled through the guest's realloc
/// (with may_leave clear, as the guest's code runs on the callee's behalf).
fn lower_params(cx: &mut Cx, ty: &FuncType, args: &[Value]) -> Result<Vec<Val>, Trap> {
    let inst = cx.instance;
    let f = cx.state.flags(cx.store, inst);
    cx.state.set_flags(cx.store, inst, f & !MAY_LEAVE);
    let params: Vec<&Type> = ty.params.iter().map(|(_, t)| t).collect();
    let flat_types: Vec<ValType> = params.iter().flat_map(|t| abi::flatten(*t)).collect();
    let lowered = if flat_types.len() > MAX_FLAT_PARAMS {
        let tuple = Type::Tuple(params.iter().map(|t| (*t).clone()).collect());
        cx.realloc(abi::alignment(&tuple), abi::size(&tuple))
            .and_then(|ptr| {
                cx.store(&Value::Tuple(args.to_vec()), &tuple, ptr)?;
                Ok(vec![Val::I32(ptr as i32)])
            })
    } else {
        let mut bits = Vec::with_capacity(flat_types.len());
        args.iter()
            .zip(&params)
            .try_for_each(|(a, t)| cx.lower_flat(a, t, &mut bits))
            .map(|()| bits_to_vals(&bits, &flat_types))
    };
    let f = cx.state.flags(cx.store, inst);
    cx.state.set_flags(cx.store, inst, f | MAY_LEAVE);
    lowered
}

/// Lifts the callee's result: flat, or read through the returned pointer.
fn lift_result(cx: &mut Cx, ty: &FuncType, core: &[Val]) -> Result<Option<Value>, Trap> {
    let Some(t) = &ty.result else {
        return Ok(None);
    };
    let bits = vals_to_bits(core);
    if abi::flatten(t).len() > MAX_FLAT_RESULTS {
        let ptr = *bits
            .first()
            .ok_or_else(|| Trap::host("lifted function returned no pointer"))?;
        return cx.load_spilled(t, ptr as u32).map(Some);
    }
    cx.lift_flat(t, &mut Flat::new(&bits)).map(Some)
}

/// Refuses a plan that imports core modules: without a compiler at run time
/// the host cannot supply one.
fn unsupplied_modules(plan: &Plan) -> Result<(), Error> {
    match plan.module_imports.first() {
        Some(name) => Err(Error::Link(format!(
            "missing component import `{name}`: not supported: importing a core module \
             (Rivet compiles ahead of time; embed the module in the component instead)"
        ))),
        None => Ok(()),
    }
}

/// The host's destructor for every resource type the root imports, per plan
/// resource; a missing one is a link error naming it.
fn host_resources(plan: &Plan, imports: &ComponentImports) -> Result<Vec<Option<HostDtor>>, Error> {
    plan.resources
        .iter()
        .map(|r| {
            if !r.imported {
                return Ok(None);
            }
            imports
                .resources
                .get(&r.name)
                .cloned()
                .map(Some)
                .ok_or_else(|| {
                    Error::Link(format!(
                        "missing component import `{}`: a resource type the host defines",
                        r.name
                    ))
                })
        })
        .collect()
}
