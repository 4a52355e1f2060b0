//! Store-wide bookkeeping that compiled code and host-function dispatch both need:
//! the function list, funcref ↔ `Func` mapping and
//! externref handles, and conversions between `Val` and raw slots.
//!
//! It lives behind a `RefCell` at a stable address so the host-function
//! dispatcher, which only receives its `VMHostFunc`, can reach it during a call.

use crate::error::Error;
use crate::func::{Func, FuncEntry, FuncKind};
use crate::module::Module;
use crate::prelude::*;
use crate::store::StoreId;
use crate::values::{Exn, Val};
use crate::vm::{VMFuncRef, ValRaw};
use crate::HashMap;
use rivet_descriptor::ValType;

pub(crate) struct Refs {
    store: StoreId,
    /// Every module instantiated in the store: their host trampolines let a
    /// host function that was never imported still get a funcref.
    modules: Vec<Module>,
    funcs: Vec<FuncEntry>,
    /// Funcref slots of imported functions, with the function each stands
    /// for (a defined function's own funcref is in its entry). Looked up only
    /// when the host reads a funcref value, so a list (no hashing on every
    /// instantiation) serves.
    aliases: Vec<(usize, usize)>,
    externs: Vec<u64>,
    extern_handles: HashMap<u64, usize>,
    /// Funcrefs made for host functions outside any instance; freed on drop.
    host_funcrefs: Vec<*mut VMFuncRef>,
}

impl Refs {
    pub fn new(store: StoreId) -> Refs {
        Refs {
            store,
            modules: Vec::new(),
            funcs: Vec::new(),
            aliases: Vec::new(),
            externs: Vec::new(),
            extern_handles: HashMap::default(),
            host_funcrefs: Vec::new(),
        }
    }

    /// Makes room for `modules` more modules and `funcs` more functions (with
    /// as many aliases), so that instantiating a whole component grows each
    /// list once instead of doubling it step by step.
    pub fn reserve(&mut self, modules: usize, funcs: usize) {
        self.modules.reserve(modules);
        self.funcs.reserve(funcs);
        self.aliases.reserve(funcs);
    }

    /// Records a module instantiated in the store.
    pub fn add_module(&mut self, module: &Module) {
        if !self.modules.iter().any(|m| m.same(module)) {
            self.modules.push(module.clone());
        }
    }

    /// A host trampoline for functions of type `id`, from any module
    /// instantiated in the store.
    fn host_trampoline(&self, id: u32) -> Option<*const u8> {
        self.modules.iter().find_map(|m| {
            let inner = m.inner();
            let index = inner.sigs.iter().position(|s| s.id == id)?;
            Some(inner.host_trampoline(index as u32))
        })
    }

    pub fn add_func(&mut self, entry: FuncEntry) -> Func {
        let index = self.funcs.len();
        self.funcs.push(entry);
        Func {
            store: self.store,
            index,
        }
    }

    /// Makes `funcref` (an instance's slot for an imported function) map back to `f`.
    pub fn alias_funcref(&mut self, funcref: *const VMFuncRef, f: Func) {
        self.aliases.push((funcref as usize, f.index));
    }

    pub fn func(&self, f: Func) -> &FuncEntry {
        if f.store != self.store {
            crate::store::wrong_store("Func")
        }
        &self.funcs[f.index]
    }

    /// The funcref that stands for `f` in tables, globals and arguments.
    pub fn funcref(&mut self, f: Func) -> Result<*const VMFuncRef, Error> {
        if f.store != self.store {
            return Err(Error::Runtime("funcref belongs to another store".into()));
        }
        let entry = &self.funcs[f.index];
        let record = match entry.kind {
            FuncKind::Wasm { funcref, .. } => return Ok(funcref),
            FuncKind::Host {
                funcref: Some(r), ..
            } => return Ok(r),
            FuncKind::Host { record, .. } => record,
        };
        let type_id = entry.sig.id;
        let Some(code) = self.host_trampoline(type_id) else {
            return Err(Error::Runtime(
                "not supported yet: a host function of a type no instantiated module uses, as a funcref"
                    .into(),
            ));
        };
        let r = Box::into_raw(Box::new(VMFuncRef {
            code,
            vmctx: record.cast(),
            type_id,
            pad: 0,
        }));
        self.host_funcrefs.push(r);
        if let FuncKind::Host { funcref, .. } = &mut self.funcs[f.index].kind {
            *funcref = Some(r);
        }
        Ok(r)
    }

    /// The function whose funcref is at address `raw`, if this store made one
    /// there.
    fn funcref_owner(&self, raw: usize) -> Option<usize> {
        let own = |e: &FuncEntry| match e.kind {
            FuncKind::Wasm { funcref, .. }
            | FuncKind::Host {
                funcref: Some(funcref),
                ..
            } => funcref as usize == raw,
            FuncKind::Host { funcref: None, .. } => false,
        };
        let alias = self.aliases.iter().find(|&&(at, _)| at == raw);
        alias
            .map(|&(_, f)| f)
            .or_else(|| self.funcs.iter().position(own))
    }

    /// The raw element for a reference value of type `ty`.
    pub fn ref_to_raw(&mut self, ty: ValType, v: Val) -> Result<usize, Error> {
        match (ty, v) {
            (ValType::FuncRef, Val::FuncRef(None)) | (ValType::ExternRef, Val::ExternRef(None)) => {
                Ok(0)
            }
            (ValType::FuncRef, Val::FuncRef(Some(f))) => Ok(self.funcref(f)? as usize),
            (ValType::ExternRef, Val::ExternRef(Some(n))) => Ok(self.extern_handle(n)),
            (ValType::ExnRef, Val::ExnRef(None)) => Ok(0),
            (ValType::ExnRef, Val::ExnRef(Some(e))) if e.store == self.store => Ok(e.addr),
            (ValType::ExnRef, Val::ExnRef(Some(_))) => {
                Err(Error::Runtime("exnref from another store".into()))
            }
            _ => Err(type_mismatch(ty, v)),
        }
    }

    fn extern_handle(&mut self, n: u64) -> usize {
        if let Some(&h) = self.extern_handles.get(&n) {
            return h;
        }
        self.externs.push(n);
        let h = self.externs.len();
        self.extern_handles.insert(n, h);
        h
    }

    /// The value of a raw reference element of type `ty`. An element that this
    /// store never handed out reads as null.
    pub fn raw_to_ref(&self, ty: ValType, raw: usize) -> Val {
        match ty {
            ValType::ExternRef => Val::ExternRef(
                raw.checked_sub(1)
                    .and_then(|i| self.externs.get(i))
                    .copied(),
            ),
            ValType::ExnRef => Val::ExnRef((raw != 0).then_some(Exn {
                store: self.store,
                addr: raw,
            })),
            _ => Val::FuncRef(self.funcref_owner(raw).map(|index| Func {
                store: self.store,
                index,
            })),
        }
    }

    /// Converts a value to its raw slot, checking its type.
    pub fn val_to_raw(&mut self, ty: ValType, v: Val) -> Result<ValRaw, Error> {
        Ok(match (ty, v) {
            (ValType::I32, Val::I32(x)) => ValRaw::from_u32(x as u32),
            (ValType::I64, Val::I64(x)) => ValRaw::from_u64(x as u64),
            (ValType::F32, Val::F32(x)) => ValRaw::from_u32(x),
            (ValType::F64, Val::F64(x)) => ValRaw::from_u64(x),
            (ValType::V128, Val::V128(x)) => ValRaw::from_u128(x),
            (ValType::FuncRef | ValType::ExternRef | ValType::ExnRef, _) => {
                ValRaw::from_u64(self.ref_to_raw(ty, v)? as u64)
            }
            _ => return Err(type_mismatch(ty, v)),
        })
    }

    pub fn raw_to_val(&self, ty: ValType, raw: ValRaw) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.u32() as i32),
            ValType::I64 => Val::I64(raw.u64() as i64),
            ValType::F32 => Val::F32(raw.u32()),
            ValType::F64 => Val::F64(raw.u64()),
            ValType::V128 => Val::V128(raw.u128()),
            ValType::FuncRef | ValType::ExternRef | ValType::ExnRef => {
                self.raw_to_ref(ty, raw.u64() as usize)
            }
        }
    }
}

impl Drop for Refs {
    fn drop(&mut self) {
        for &r in &self.host_funcrefs {
            // SAFETY: created by Box::into_raw in `funcref`, freed once.
            drop(unsafe { Box::from_raw(r) });
        }
    }
}

pub(crate) fn type_mismatch(ty: ValType, v: Val) -> Error {
    Error::Runtime(format!("type mismatch: expected {ty}, got {}", v.ty()))
}

/// Host functions reach the store's `Refs` through this pointer.
pub(crate) type RefsPtr = *const core::cell::RefCell<Refs>;
