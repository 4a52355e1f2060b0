//! Instantiating a component's plan and calling its exports from the host.

use super::abi::MAX_FLAT_PARAMS;
use super::convert::{Cx, Flat, FlatBuf, Opts};
use super::intrinsics;
use super::resources::{Frame, HandleTable, Holder, InstanceState};
use super::typed::{self, LiftResult, LowerArg, LowerArgs, Params};
use super::types::{FuncType, ResourceType};
use super::values::{ResourceAny, Value};
use super::{Component, ComponentImports, HostDtor, HostImport};
use crate::error::{Error, Trap};
use crate::func::RawTarget;
use crate::instance::Lending;
use crate::prelude::*;
use crate::store::StoreId;
use crate::vm::ValRaw;
use crate::{Extern, Func, Global, GlobalType, Instance, Store, ValType};
use alloc::rc::Rc;
use core::cell::{OnceCell, RefCell};
use rivet_descriptor::component::{
    CanonOptions, Component as Plan, CoreDef, Step, StringEncoding, TypeRef,
};

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
    /// The slot of each flags global, read and written directly on every
    /// call (the globals are the store's own, so the slots live as long as
    /// this state).
    flag_slots: Vec<*mut ValRaw>,
    /// Per plan export: its lift's core function and options, found on the
    /// first call (see [`ComponentState::export`]).
    exports: Vec<OnceCell<ResolvedExport>>,
    pub tables: RefCell<Tables>,
    /// Per plan import.
    pub imports: Vec<HostImport>,
    /// From [`ComponentImports`]: set when the host supplied import functions.
    pub lower: Option<super::LowerHost>,
    /// From [`ComponentImports`]: unset for bindings of a plan without intrinsics.
    pub intrinsics: Option<super::ResolveIntrinsic>,
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
        let Supplied {
            funcs: host,
            dtors: host_dtors,
        } = match imports.supply {
            Some(supply) => supply(plan, imports)?,
            None => nothing_supplied(plan)?,
        };
        let flag_ty = GlobalType {
            content: ValType::I32,
            mutable: true,
        };
        let mut flags = Vec::with_capacity(plan.instances.len());
        for _ in 0..plan.instances.len() {
            let raw = ValRaw::from_u32((MAY_LEAVE | MAY_ENTER) as u32);
            flags.push(Global::new_raw(self, flag_ty, raw));
        }
        let flag_slots = flags.iter().map(|g| self.global(*g).vm.ptr()).collect();
        let state = Rc::new(ComponentState {
            component: c.clone(),
            index: self.components.len(),
            cores: RefCell::new(Vec::with_capacity(plan.steps.len())),
            flags,
            flag_slots,
            exports: plan.exports.iter().map(|_| OnceCell::new()).collect(),
            tables: RefCell::new(Tables {
                instances: (0..plan.instances.len())
                    .map(|_| Default::default())
                    .collect(),
                host: HandleTable::default(),
            }),
            imports: host,
            lower: imports.lower,
            intrinsics: imports.intrinsics,
            host_dtors,
        });
        self.components.push(state.clone());
        let steps = plan.steps.len();
        self.refs().borrow_mut().reserve(steps, c.0.core_functions);
        // One argument list, reused by every step.
        let mut externs = Vec::new();
        for step in plan.steps.iter() {
            let Step::Instantiate { module, args } = step;
            let module = &c.0.modules[*module as usize];
            let wanted = module.import_count();
            if wanted != args.len() {
                return Err(Error::Format(format!(
                    "component plan: {} arguments for {wanted} imports",
                    args.len(),
                )));
            }
            externs.clear();
            if !args.is_empty() {
                let resolve = module.inner().parts.args()?;
                resolve(self, &state, args, &mut externs)?;
            }
            let instance = crate::instance::instantiate(self, module, &externs, plan_mismatch)?;
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

/// A call to an export number the component does not have.
#[cold]
#[inline(never)]
fn no_export(export: u32) -> Trap {
    Trap::host(format!("no export number {export}"))
}

/// A core import of a component's own instance that does not match what the
/// plan wires to it. The wiring comes from a validated component, so only
/// corrupt metadata or a compiler bug gets here: the message names the import
/// without describing the types, whose display code hosts then do not link.
fn plan_mismatch(
    _: &Store,
    _: &crate::module::ModuleInner,
    import: &rivet_descriptor::Import,
    _: &Extern,
    _: crate::instance::Mismatch,
) -> Error {
    Error::Format(format!(
        "component plan: core import {}::{} does not match what the plan wires to it",
        import.module, import.name
    ))
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
        self.option(store, def, "function", |e| match e {
            Extern::Func(f) => Some(f),
            _ => None,
        })
    }

    /// The core item a canonical function or option names, an export of one
    /// of the component's core instances, as `pick` takes it (`None`: not a
    /// `what`).
    fn option<T>(
        &self,
        store: &Store,
        def: &CoreDef,
        what: &str,
        pick: fn(Extern) -> Option<T>,
    ) -> Result<T, Trap> {
        match def {
            CoreDef::Export { instance, name } => {
                let item = self
                    .core_export(store, *instance, name)
                    .map_err(Trap::host)?;
                pick(item)
                    .ok_or_else(|| Trap::host(format!("core export `{name}` is not a {what}")))
            }
            // Not described: every host would link the plan's display code
            // for this one message.
            _ => Err(Trap::host(format!(
                "not supported yet: a canonical {what} that is not a core instance's export"
            ))),
        }
    }

    pub fn opts(&self, store: &Store, o: &CanonOptions) -> Result<Opts, Trap> {
        let memory = o
            .memory
            .as_ref()
            .map(|def| {
                self.option(store, def, "memory", |e| match e {
                    Extern::Memory(m) => Some(m),
                    _ => None,
                })
            })
            .transpose()?
            .map(|m| store.memory(m).vm());
        let realloc = o
            .realloc
            .as_ref()
            .map(|r| self.func(store, r)?.raw_target(store))
            .transpose()?;
        let transcoder = match o.string_encoding {
            StringEncoding::Utf8 => None,
            _ => Some(self.component.0.parts.transcoder()?),
        };
        Ok(Opts {
            memory,
            realloc,
            encoding: o.string_encoding,
            transcoder,
        })
    }

    #[inline]
    pub fn flags(&self, c: u32) -> i32 {
        // SAFETY: the slot of a global of this state's store, which owns this
        // state; no reference to the slot outlives this read.
        unsafe { (*self.flag_slots[c as usize]).u32() as i32 }
    }

    #[inline]
    fn set_flags(&self, c: u32, v: i32) {
        // SAFETY: as in `flags`; the global is a mutable i32.
        let slot = self.flag_slots[c as usize];
        unsafe { *slot = ValRaw::from_u32(v as u32) };
    }

    /// Sets (`on`) or clears flag bits `bits` of component instance `c`.
    #[inline]
    pub fn set_flag(&self, c: u32, bits: i32, on: bool) {
        let f = self.flags(c);
        self.set_flags(c, if on { f | bits } else { f & !bits });
    }

    /// Checks that component instance `c` may be entered from `caller`
    /// (`None`: the host): every instance of the spec's `entering_set`.
    #[inline]
    pub fn check_enter(&self, c: u32, caller: Option<u32>) -> Result<(), Trap> {
        for i in self.entering(c, caller) {
            let f = self.flags(i);
            if f & POISONED != 0 || f & MAY_ENTER == 0 {
                return Err(Trap::fixed("cannot enter component instance"));
            }
        }
        Ok(())
    }

    /// The spec's `entering_set`: entering `c` enters its ancestors too,
    /// less those the caller is already inside. A host call into a nested
    /// instance thus enters the root, so a trap there locks every instance
    /// of the composition down (CanonicalABI.md, `may_enter_from`).
    fn entering(&self, c: u32, caller: Option<u32>) -> impl Iterator<Item = u32> + '_ {
        self.self_and_ancestors(c)
            .filter(move |&i| caller.is_none_or(|k| self.self_and_ancestors(k).all(|j| j != i)))
    }

    fn self_and_ancestors(&self, c: u32) -> impl Iterator<Item = u32> + '_ {
        let instances = &self.component.0.plan.instances;
        core::iter::successors(Some(c), move |&i| {
            instances.get(i as usize).and_then(|d| d.parent)
        })
    }

    /// Marks a host call's entering set of `c` entered (or left).
    #[inline]
    fn set_entered(&self, c: u32, entered: bool) {
        for i in self.entering(c, None) {
            self.set_flag(i, MAY_ENTER, !entered);
        }
    }

    /// After a trap: every instance that was entered (may_enter clear) is
    /// poisoned; nothing else is restored.
    pub fn poison_entered(&self) {
        for c in 0..self.flags.len() as u32 {
            if self.flags(c) & MAY_ENTER == 0 {
                self.set_flag(c, POISONED, true);
            }
        }
    }

    /// Export number `export`'s lift, resolved once per instantiation: the
    /// core function, post-return and options are found by name only on the
    /// first call.
    #[inline]
    pub fn export(&self, store: &Store, export: u32) -> Result<&ResolvedExport, Trap> {
        let cell = self
            .exports
            .get(export as usize)
            .ok_or_else(|| no_export(export))?;
        if let Some(r) = cell.get() {
            return Ok(r);
        }
        let r = self.resolve(store, export)?;
        Ok(cell.get_or_init(|| r))
    }

    /// The first call's lookup, out of line: every later call skips it.
    #[cold]
    #[inline(never)]
    fn resolve(&self, store: &Store, export: u32) -> Result<ResolvedExport, Trap> {
        let c = &self.component.0;
        let e = &c.plan.exports[export as usize];
        let lift = &c.plan.lifts[e.lift as usize];
        let layout = &lift.layout;
        let target = |f: &CoreDef| self.func(store, f)?.raw_target(store);
        Ok(ResolvedExport {
            lift: e.lift,
            instance: lift.instance,
            func: target(&lift.func)?,
            post_return: lift.options.post_return.as_ref().map(target).transpose()?,
            opts: self.opts(store, &lift.options)?,
            spill: layout.spill.as_ref().map(|s| (s.align, s.size)),
            spill_result: layout.spill_result,
            result_mask: match layout.wide_result {
                true => u64::MAX,
                false => u32::MAX as u64,
            },
            reallocs: layout.reallocs,
            lends: match layout.lends {
                true => Some(c.parts.lending()?),
                false => None,
            },
        })
    }

    /// Starts a call into `c` that can lend it handles: a frame records them.
    pub fn enter_call(&self, c: u32) {
        self.tables.borrow_mut().instances[c as usize]
            .frames
            .push(Frame::default());
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
    #[inline]
    fn state(&self, store: &Store) -> Result<Rc<ComponentState>, Trap> {
        if self.store != store.id() {
            return Err(Trap::fixed(
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

    /// The number of export `name`, for [`ComponentInstance::call_typed`].
    pub fn export_index(&self, store: &Store, name: &str) -> Option<u32> {
        let state = self.state(store).ok()?;
        let exports = &state.component.0.plan.exports;
        exports
            .iter()
            .position(|e| e.name == name)
            .map(|i| i as u32)
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
        let index = self
            .export_index(store, export)
            .ok_or_else(|| Trap::host(format!("no exported function `{export}`")))?;
        let args: Vec<&dyn LowerArg> = args.iter().map(|a| a as &dyn LowerArg).collect();
        self.call_typed(store, index, args.as_slice())
    }

    /// Calls export number `export` (its place in the component's exports, see
    /// [`ComponentInstance::export_index`]) with arguments and a result of
    /// Rust types that lower and lift straight to and from the guest's flat
    /// values and memory, without building [`Value`]s:
    /// - the arguments are a tuple of up to 12 (`(2u32, "text")`, or `()`),
    ///   each a `bool`, an integer (`u8` … `u64`, `i8` … `i64`), `f32`,
    ///   `f64`, `char`, `&str` or a [`Value`] (which fits any type, and is
    ///   checked as in [`ComponentInstance::call`]);
    /// - the result is one of those scalar types, a `String`, a [`Value`],
    ///   an `Option<Value>` (`None` for an export without a result), or `()`
    ///   for an export without a result.
    ///
    /// Each argument is checked against its parameter's type before the
    /// guest is entered: a mismatch is the host's error, which does not poison
    /// the instance. E.g. `inst.call_typed::<u32>(&mut store, add, (2u32,
    /// 3u32))`. The export is resolved on its first call; otherwise as
    /// [`ComponentInstance::call`].
    pub fn call_typed<R: LiftResult>(
        &self,
        store: &mut Store,
        export: u32,
        args: impl LowerArgs,
    ) -> Result<R, Trap> {
        self.typed_call(store, export, args, false)
    }

    /// The typed call, with every type check or (`bound`) the ones left for
    /// the typed bindings.
    #[inline(always)]
    pub(crate) fn typed_call<R: LiftResult>(
        &self,
        store: &mut Store,
        export: u32,
        args: impl LowerArgs,
        bound: bool,
    ) -> Result<R, Trap> {
        let state = self.state(store)?;
        let r = state.export(store, export)?;
        let plan: &Plan = &state.component.0.plan;
        let lift = &plan.lifts[r.lift as usize];
        let ty = &plan.func_types[lift.ty as usize];
        let params = Params::new(plan, lift);
        let result = ty.result.map(|t| TypeRef::new(plan, t));
        let mut cx = Cx {
            store,
            state: &state,
            opts: r.opts,
            instance: r.instance,
            temps: Vec::new(),
        };
        if args.count() != params.len() {
            let name = &plan.exports[export as usize].name;
            return Err(typed::arity(name, params, args.count()));
        }
        args.check_each(&cx, params, bound)?;
        if !bound {
            R::check(result)?;
        }
        state.check_enter(r.instance, None)?;
        let result = call_lift(&mut cx, r, params, result, &args);
        if result.is_err() {
            state.poison_entered();
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

/// An export's lift with its core function and options looked up, and what
/// its type decides about every call: what a call needs besides the
/// arguments.
pub(crate) struct ResolvedExport {
    lift: u32,
    instance: u32,
    func: RawTarget,
    post_return: Option<RawTarget>,
    opts: Opts,
    /// Alignment and size of the parameter tuple when it is passed through
    /// memory (too many flat values).
    spill: Option<(u32, u32)>,
    /// Alignment and size of the result when it comes back through a
    /// returned pointer.
    spill_result: Option<(u32, u32)>,
    /// The bits of the core result that carry it (an `i32` or `f32` slot's
    /// upper bits are not the callee's).
    result_mask: u64,
    /// Whether lowering the parameters can run the guest's realloc (strings,
    /// lists, or parameters passed through memory), which must not leave.
    reallocs: bool,
    /// Whether the parameters can lend handles (borrows): only then does the
    /// call keep a frame recording them, to be checked and released on exit
    /// by this (a runtime part, so that hosts of components whose exports
    /// take no borrows do not link it).
    lends: Option<Lending>,
}

/// Enters the lift's instance, runs it, leaves it.
fn call_lift<R: LiftResult>(
    cx: &mut Cx,
    r: &ResolvedExport,
    params: Params,
    result: Option<TypeRef>,
    args: &impl LowerArgs,
) -> Result<R, Trap> {
    let (state, inst) = (cx.state, r.instance);
    state.set_entered(inst, true);
    if let Some(lending) = r.lends {
        (lending.enter)(state, inst);
    }
    let mut slots = [ValRaw::default(); MAX_FLAT_PARAMS];
    lower_params(cx, r, params, args, &mut slots)?;
    r.func.call(cx.store, &mut slots)?;
    let result = lift_result(cx, r, result, slots[0].u64() & r.result_mask)?;
    if let Some(lending) = r.lends {
        (lending.exit)(state, inst)?;
    }
    if let Some(post) = &r.post_return {
        state.set_flag(inst, MAY_LEAVE, false);
        post.call(cx.store, &mut slots)?;
        state.set_flag(inst, MAY_LEAVE, true);
    }
    state.set_entered(inst, false);
    Ok(result)
}

/// Lowers the host's arguments into `slots`: flat, or spilled through the
/// guest's realloc (with may_leave clear, as the guest's code runs on the
/// callee's behalf).
#[inline(always)]
fn lower_params(
    cx: &mut Cx,
    r: &ResolvedExport,
    params: Params,
    args: &impl LowerArgs,
    slots: &mut [ValRaw],
) -> Result<(), Trap> {
    let state = cx.state;
    if r.reallocs {
        state.set_flag(r.instance, MAY_LEAVE, false);
    }
    let lowered = match r.spill {
        Some((align, size)) => cx.realloc(align, size).and_then(|ptr| {
            slots[0] = ValRaw::from_u32(ptr);
            args.store_each(cx, params, ptr)
        }),
        None => {
            let mut flat = FlatBuf::new();
            args.lower_each(cx, params, &mut flat).and_then(|()| {
                for (slot, &bits) in slots.iter_mut().zip(flat.values()?) {
                    *slot = ValRaw::from_u64(bits);
                }
                Ok(())
            })
        }
    };
    if r.reallocs {
        state.set_flag(r.instance, MAY_LEAVE, true);
    }
    lowered
}

/// Lifts the callee's result from its core result `bits`: flat, or read
/// through the returned pointer.
#[inline(always)]
fn lift_result<R: LiftResult>(
    cx: &mut Cx,
    r: &ResolvedExport,
    result: Option<TypeRef>,
    bits: u64,
) -> Result<R, Trap> {
    match (result, r.spill_result) {
        (None, _) => R::none(),
        (Some(t), Some(layout)) => {
            cx.check_spilled_layout(layout, bits as u32)?;
            R::load(cx, t, bits as u32)
        }
        (Some(t), None) => R::lift(cx, t, &mut Flat::new(&[bits])),
    }
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

/// What the host supplies for a plan: per plan import its function, and per
/// plan resource the host's destructor of a resource type the root imports.
pub(crate) struct Supplied {
    funcs: Vec<HostImport>,
    dtors: Vec<Option<HostDtor>>,
}

/// Looks the plan's imports up by name in what the host supplied; a missing
/// one is a link error naming it. Reached only through
/// [`ComponentImports`]'s `supply`, set when the host supplies something.
pub(crate) fn supply(plan: &Plan, imports: &ComponentImports) -> Result<Supplied, Error> {
    let funcs = plan
        .imports
        .iter()
        .map(|i| -> Result<HostImport, Error> {
            let f = imports.funcs.as_ref().and_then(|m| m.get(&*i.name));
            let f = f.cloned().ok_or_else(|| missing_func(&i.name))?;
            if let Some(t) = f.typed() {
                let func = (plan.func_types.get(i.ty as usize)).ok_or_else(|| {
                    Error::Format(format!("component plan: import `{}` has no type", i.name))
                })?;
                t.typecheck(plan, &i.name, func)?;
            }
            Ok(f)
        })
        .collect::<Result<_, _>>()?;
    let dtors = plan
        .resources
        .iter()
        .map(|r| match r.imported {
            false => Ok(None),
            true => (imports.resources.as_ref())
                .and_then(|m| m.get(&*r.name))
                .cloned()
                .map(Some)
                .ok_or_else(|| missing_resource(&r.name)),
        })
        .collect::<Result<_, _>>()?;
    Ok(Supplied { funcs, dtors })
}

/// What a host that supplied nothing has for a plan: enough for a plan that
/// imports nothing, else a link error naming the first import.
fn nothing_supplied(plan: &Plan) -> Result<Supplied, Error> {
    if let Some(i) = plan.imports.first() {
        return Err(missing_func(&i.name));
    }
    if let Some(r) = plan.resources.iter().find(|r| r.imported) {
        return Err(missing_resource(&r.name));
    }
    Ok(Supplied {
        funcs: Vec::new(),
        dtors: plan.resources.iter().map(|_| None).collect(),
    })
}

#[cold]
fn missing_func(name: &str) -> Error {
    Error::Link(format!("missing component import `{name}`"))
}

#[cold]
fn missing_resource(name: &str) -> Error {
    Error::Link(format!(
        "missing component import `{name}`: a resource type the host defines"
    ))
}

/// [`ComponentInstance::call_typed`] for the typed bindings of
/// `rivet::component!`, which chose the argument and result types from the
/// component's plan at build time: the checks the build settled are left out
/// ([`LowerArg::check_bound`]), and with them the code that describes a
/// mismatch. Wrong types given here make wrong values, never unsafety: every
/// lift and store is bounds-checked.
pub fn call_binding<R: LiftResult>(
    instance: &ComponentInstance,
    store: &mut Store,
    export: u32,
    args: impl LowerArgs,
) -> Result<R, Trap> {
    instance.typed_call(store, export, args, true)
}
