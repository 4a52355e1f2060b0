//! Functions: host functions (records, dispatch from wasm) and calls from the host.

use crate::error::Trap;
use crate::prelude::*;
use crate::refs::{Refs, RefsPtr};
use crate::signatures::{self, Sig};
use crate::store::{ActivePtr, Store, StoreId};
use crate::trap;
use crate::values::Val;
use crate::vm::{VMFuncRef, ValRaw};
use rivet_descriptor::{FuncType, TrapKind};

/// A host closure that sees only its values.
type PlainFn = dyn Fn(&[Val], &mut [Val]) -> Result<(), Trap>;
/// A host closure that also gets the store.
type StoreFn = dyn Fn(&mut Store, &[Val], &mut [Val]) -> Result<(), Trap>;

/// A host closure as stored in its record.
pub(crate) enum HostFn {
    /// Sees only its values.
    Plain(Box<PlainFn>),
    /// Also gets the store, so it can read memories and call back into wasm.
    WithStore(Box<StoreFn>),
}

/// What a host trampoline receives as its `vmctx`: `dispatch` must stay first.
#[repr(C)]
pub(crate) struct VMHostFunc {
    dispatch: unsafe extern "C" fn(*mut VMHostFunc, *mut ValRaw) -> u32,
    /// How the host calls it on raw slots ([`RawTarget::call`]): through
    /// this pointer, so that only a host that makes host functions links the
    /// code that converts their values.
    invoke: unsafe fn(&VMHostFunc, Option<&mut Store>, *mut ValRaw) -> Result<(), Trap>,
    refs: RefsPtr,
    /// The store's record of which `&mut Store` is currently inside wasm.
    active: ActivePtr,
    ty: &'static FuncType,
    func: HostFn,
}

/// How a function runs.
pub(crate) enum FuncKind {
    /// Compiled code: called through the defining module's array trampoline.
    Wasm {
        funcref: *const VMFuncRef,
        array_trampoline: *const u8,
    },
    /// A host closure; `funcref` is made on demand when it enters a table or
    /// global without having been imported.
    Host {
        record: *mut VMHostFunc,
        funcref: Option<*const VMFuncRef>,
    },
}

pub(crate) struct FuncEntry {
    /// Its type and the type's id.
    pub sig: Sig,
    pub kind: FuncKind,
}

/// A function owned by a [`Store`]. Equal handles denote the same function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

impl Func {
    /// A host function. `f` reads params and writes results (`results.len()` = number
    /// of results, pre-filled with zero values of the right types); returning Err traps
    /// the calling wasm with TrapKind::Host and that Trap reaches the host caller.
    /// A panic in `f` is caught, never unwinds through wasm frames, and is resumed
    /// in the host after the outermost wasm call returns. `f` is `Send`, as the
    /// store that holds it is.
    pub fn wrap(
        store: &mut Store,
        ty: FuncType,
        f: impl Fn(&[Val], &mut [Val]) -> Result<(), Trap> + Send + 'static,
    ) -> Func {
        Func::add_host(store, signatures::intern(&ty), HostFn::Plain(Box::new(f)))
    }

    /// A host function that also receives the store, so it can read and write
    /// memories and call wasm functions (re-entering the instance that called
    /// it). Otherwise as [`Func::wrap`].
    pub fn wrap_with_store(
        store: &mut Store,
        ty: FuncType,
        f: impl Fn(&mut Store, &[Val], &mut [Val]) -> Result<(), Trap> + Send + 'static,
    ) -> Func {
        Func::wrap_sig(store, signatures::intern(&ty), f)
    }

    /// [`Func::wrap_with_store`] for a type already interned (the runtime's
    /// own functions, made on every instantiation).
    pub(crate) fn wrap_sig(
        store: &mut Store,
        sig: Sig,
        f: impl Fn(&mut Store, &[Val], &mut [Val]) -> Result<(), Trap> + 'static,
    ) -> Func {
        Func::add_host(store, sig, HostFn::WithStore(Box::new(f)))
    }

    fn add_host(store: &mut Store, sig: Sig, func: HostFn) -> Func {
        let record = VMHostFunc {
            dispatch,
            invoke: invoke_host_raw,
            refs: store.refs_ptr(),
            active: store.active_ptr(),
            ty: sig.ty,
            func,
        };
        let record = store.add_host_record(record);
        let mut refs = store.refs().borrow_mut();
        refs.add_func(FuncEntry {
            sig,
            kind: FuncKind::Host {
                record,
                funcref: None,
            },
        })
    }

    pub fn ty(&self, store: &Store) -> FuncType {
        let refs = store.refs().borrow();
        refs.func(*self).sig.ty.clone()
    }

    /// The process-wide id of the function's type (equal ids: equal types).
    pub(crate) fn type_id(&self, store: &Store) -> u32 {
        store.refs().borrow().func(*self).sig.id
    }

    /// Calls with type-checked arguments (mismatch -> Err(Trap) with a clear message,
    /// kind Host). A trap in wasm -> Err(Trap); the store stays usable.
    pub fn call(&self, store: &mut Store, args: &[Val]) -> Result<Vec<Val>, Trap> {
        if self.store != store.id() {
            return Err(Trap::host(
                "function called with a store that does not own it",
            ));
        }
        let (ty, target) = {
            let refs = store.refs().borrow();
            let entry = refs.func(*self);
            let target = match entry.kind {
                FuncKind::Wasm {
                    funcref,
                    array_trampoline,
                } => Target::Wasm(funcref, array_trampoline),
                FuncKind::Host { record, .. } => Target::Host(record),
            };
            (entry.sig.ty.clone(), target)
        };
        check_args(&ty, args)?;
        match target {
            // SAFETY: records live as long as the store.
            Target::Host(record) => invoke_host(unsafe { &*record }, Some(store), args),
            Target::Wasm(funcref, tramp) => call_wasm(store, &ty, funcref, tramp, args),
        }
    }

    /// How the component runtime calls this function with its arguments, then
    /// its results, in raw slots ([`RawTarget::call`]), looked up once per
    /// export or set of canonical options: it knows the core types from the
    /// component type it checked, and so skips `Val`s and per-call type checks.
    pub(crate) fn raw_target(&self, store: &Store) -> Result<RawTarget, Trap> {
        if self.store != store.id() {
            return Err(Trap::host(
                "function called with a store that does not own it",
            ));
        }
        let refs = store.refs().borrow();
        let entry = refs.func(*self);
        let ty = entry.sig.ty;
        let slots = ty.params.len().max(ty.results.len());
        Ok(match entry.kind {
            FuncKind::Wasm {
                funcref,
                array_trampoline,
            } => {
                // SAFETY: the funcref lives in a vmctx owned by the store.
                let (code, vmctx) = unsafe { ((*funcref).code, (*funcref).vmctx) };
                RawTarget::Wasm(WasmEntry {
                    store: self.store,
                    tramp: array_trampoline,
                    code,
                    vmctx,
                    slots,
                })
            }
            FuncKind::Host { record, .. } => RawTarget::Host {
                store: self.store,
                record,
                slots,
            },
        })
    }
}

/// What [`Func::raw_target`] finds.
#[derive(Clone, Copy)]
pub(crate) enum RawTarget {
    Wasm(WasmEntry),
    /// A host function's record and how many slots its type needs.
    Host {
        store: StoreId,
        record: *mut VMHostFunc,
        slots: usize,
    },
}

impl RawTarget {
    /// Runs the function on raw slots. The slots must hold numbers (no
    /// references) and be at least as many as the parameters and the results;
    /// fewer is an error, not a fault.
    #[inline]
    pub(crate) fn call(&self, store: &mut Store, values: &mut [ValRaw]) -> Result<(), Trap> {
        match *self {
            RawTarget::Wasm(entry) => entry.call(store, values),
            RawTarget::Host {
                store: owner,
                record,
                slots,
            } => {
                check_slots(owner, store, slots, values)?;
                // SAFETY: the record belongs to this store (checked), which
                // keeps it alive; `values` is large enough for its type.
                unsafe { ((*record).invoke)(&*record, Some(store), values.as_mut_ptr()) }
            }
        }
    }
}

/// Checks that a function of store `owner` needing `slots` value slots may be
/// called through `store` with `values`.
#[inline]
fn check_slots(owner: StoreId, store: &Store, slots: usize, values: &[ValRaw]) -> Result<(), Trap> {
    if owner != store.id() {
        return Err(Trap::host(
            "function called with a store that does not own it",
        ));
    }
    if values.len() < slots {
        return Err(Trap::host("too few value slots for the function's type"));
    }
    Ok(())
}

/// A compiled function's entry: its array trampoline, code and vmctx, which
/// stay put as long as its store, and how many value slots its type needs.
#[derive(Clone, Copy)]
pub(crate) struct WasmEntry {
    store: StoreId,
    tramp: *const u8,
    code: *const u8,
    vmctx: *mut u8,
    slots: usize,
}

impl WasmEntry {
    /// Runs the function on raw slots, as [`RawTarget::call`].
    fn call(&self, store: &mut Store, values: &mut [ValRaw]) -> Result<(), Trap> {
        check_slots(self.store, store, self.slots, values)?;
        // SAFETY: the code and vmctx belong to this store (checked above),
        // which keeps them alive, and `values` is large enough for the
        // parameters and results.
        unsafe { store.enter_wasm(self.tramp, self.code, self.vmctx, values.as_mut_ptr()) }
    }
}

enum Target {
    Wasm(*const VMFuncRef, *const u8),
    Host(*mut VMHostFunc),
}

fn check_args(ty: &FuncType, args: &[Val]) -> Result<(), Trap> {
    if args.len() != ty.params.len() {
        return Err(Trap::host(format!(
            "expected {} arguments, got {}",
            ty.params.len(),
            args.len()
        )));
    }
    for (i, (a, p)) in args.iter().zip(ty.params.iter()).enumerate() {
        if a.ty() != *p {
            return Err(Trap::host(format!(
                "argument {i}: expected {p}, got {}",
                a.ty()
            )));
        }
    }
    Ok(())
}

/// Runs compiled code through its array trampoline.
fn call_wasm(
    store: &mut Store,
    ty: &FuncType,
    funcref: *const VMFuncRef,
    tramp: *const u8,
    args: &[Val],
) -> Result<Vec<Val>, Trap> {
    let mut values = vec![ValRaw::default(); ty.params.len().max(ty.results.len())];
    {
        let mut refs = store.refs().borrow_mut();
        for ((slot, &p), &a) in values.iter_mut().zip(ty.params.iter()).zip(args) {
            *slot = refs
                .val_to_raw(p, a)
                .map_err(|e| Trap::host(format!("bad argument: {e}")))?;
        }
    }
    // SAFETY: the funcref lives in a vmctx (or record) owned by the store.
    let (code, vmctx) = unsafe { ((*funcref).code, (*funcref).vmctx) };
    // SAFETY: the trampoline matches the function's type and `values` is large
    // enough for its parameters and results.
    unsafe { store.enter_wasm(tramp, code, vmctx, values.as_mut_ptr())? };
    let refs = store.refs().borrow();
    Ok(ty
        .results
        .iter()
        .zip(values)
        .map(|(&r, raw)| refs.raw_to_val(r, raw))
        .collect())
}

/// Runs a host closure on already-checked arguments and checks its results.
/// `store` is the store the call came through (`None`: called from wasm
/// outside any call from the host, which cannot happen for a store's own code).
fn invoke_host(
    record: &VMHostFunc,
    store: Option<&mut Store>,
    args: &[Val],
) -> Result<Vec<Val>, Trap> {
    let mut results: Vec<Val> = record.ty.results.iter().map(|&t| Val::zero(t)).collect();
    match (&record.func, store) {
        (HostFn::Plain(f), _) => f(args, &mut results)?,
        (HostFn::WithStore(f), Some(store)) => f(store, args, &mut results)?,
        (HostFn::WithStore(_), None) => {
            return Err(Trap::host(
                "host function called outside a call into its store",
            ))
        }
    }
    for (i, (r, t)) in results.iter().zip(record.ty.results.iter()).enumerate() {
        if r.ty() != *t {
            return Err(Trap::host(format!(
                "host function result {i}: expected {t}, got {}",
                r.ty()
            )));
        }
    }
    Ok(results)
}

/// Called by a host trampoline (from wasm). Never unwinds: a trap or a panic is
/// parked in a thread-local and reported as a non-zero return, on which the
/// trampoline traps with `TrapKind::Host`.
#[cfg(feature = "std")]
unsafe extern "C" fn dispatch(record: *mut VMHostFunc, values: *mut ValRaw) -> u32 {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    // SAFETY: the trampoline passes its own record and an array large enough
    // for the parameters and results of the record's type.
    match catch_unwind(AssertUnwindSafe(|| unsafe {
        dispatch_inner(&*record, values)
    })) {
        Ok(result) => park_trap(result),
        Err(payload) => {
            trap::park_host_panic(payload);
            1
        }
    }
}

/// Without `std` there is no unwinding to stop: a panic aborts (`extern "C"`
/// does not unwind) before it could reach wasm frames.
#[cfg(not(feature = "std"))]
unsafe extern "C" fn dispatch(record: *mut VMHostFunc, values: *mut ValRaw) -> u32 {
    // SAFETY: as above.
    park_trap(unsafe { dispatch_inner(&*record, values) })
}

/// The dispatcher's return value for `result`, parking a trap.
fn park_trap(result: Result<(), Trap>) -> u32 {
    match result {
        Ok(()) => 0,
        Err(t) => {
            trap::park_host_trap(t);
            1
        }
    }
}

/// Slots are accessed unaligned: the contract does not promise trampolines a
/// 16-byte aligned spill area.
unsafe fn dispatch_inner(record: &VMHostFunc, values: *mut ValRaw) -> Result<(), Trap> {
    // SAFETY: `active` is set by `Store::enter_wasm` from the `&mut Store` that
    // is blocked in this very call into wasm, and cleared when it returns; that
    // borrow is not used until then, so handing it to the closure is exclusive.
    let store = (*record.active).get().as_mut();
    invoke_host_raw(record, store, values)
}

/// Runs a host closure on arguments in raw slots and writes its results back.
///
/// Safety: `values` holds as many slots as the record's type has parameters
/// and results.
unsafe fn invoke_host_raw(
    record: &VMHostFunc,
    store: Option<&mut Store>,
    values: *mut ValRaw,
) -> Result<(), Trap> {
    let ty = &record.ty;
    // SAFETY: the store (and its Refs) outlives every call into its instances.
    let refs: &core::cell::RefCell<Refs> = &*record.refs;
    let args: Vec<Val> = {
        let refs = refs.borrow();
        ty.params
            .iter()
            .enumerate()
            .map(|(i, &p)| refs.raw_to_val(p, values.add(i).read_unaligned()))
            .collect()
    };
    let results = invoke_host(record, store, &args)?;
    let mut refs = refs.borrow_mut();
    for (i, (&t, r)) in ty.results.iter().zip(results).enumerate() {
        let raw = refs.val_to_raw(t, r).map_err(|e| Trap {
            kind: TrapKind::Host,
            message: format!("host function result: {e}").into(),
        })?;
        values.add(i).write_unaligned(raw);
    }
    Ok(())
}
