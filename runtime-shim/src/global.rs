//! Globals and the host API.

use crate::error::Error;
use crate::store::{Store, StoreId};
use crate::values::Val;
use crate::vm::{ValRaw, VmSlot};
use core::cell::UnsafeCell;
use rivet_descriptor::GlobalType;

/// A global's storage: one raw slot, in a vmctx or its own allocation.
pub(crate) struct GlobalData {
    pub vm: VmSlot<ValRaw>,
    pub ty: GlobalType,
}

impl GlobalData {
    pub fn raw(&self) -> ValRaw {
        // SAFETY: the slot lives as long as `self`.
        unsafe { *self.vm.ptr() }
    }
}

/// A global owned by a [`Store`].
#[derive(Clone, Copy, Debug)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

impl Global {
    pub fn new(store: &mut Store, ty: GlobalType, init: Val) -> Result<Global, Error> {
        let raw = store.refs().borrow_mut().val_to_raw(ty.content, init)?;
        Ok(Global::new_raw(store, ty, raw))
    }

    /// A global holding `raw`, a value of `ty.content` (so not a reference the
    /// store would have to track): what the component runtime's flags are.
    pub(crate) fn new_raw(store: &mut Store, ty: GlobalType, raw: ValRaw) -> Global {
        // The slot's address is first taken once the global is in the
        // store's arena, where it stays.
        store.add_global(GlobalData {
            vm: VmSlot::Inline(UnsafeCell::new(raw)),
            ty,
        })
    }

    pub fn ty(&self, store: &Store) -> GlobalType {
        store.global(*self).ty
    }

    pub fn get(&self, store: &Store) -> Val {
        let g = store.global(*self);
        store.refs().borrow().raw_to_val(g.ty.content, g.raw())
    }

    /// Sets a mutable global; an immutable global or a value of another type is
    /// an error.
    pub fn set(&self, store: &mut Store, v: Val) -> Result<(), Error> {
        let ty = store.global(*self).ty;
        if !ty.mutable {
            return Err(Error::Runtime("cannot set an immutable global".into()));
        }
        let raw = store.refs().borrow_mut().val_to_raw(ty.content, v)?;
        // SAFETY: the slot lives as long as the store.
        unsafe { *store.global(*self).vm.ptr() = raw };
        Ok(())
    }
}
