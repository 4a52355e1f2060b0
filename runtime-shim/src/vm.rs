//! The `#[repr(C)]` structures compiled code reads and writes, laid out exactly as
//! `rivet_descriptor::VmctxLayout` and `rivet_descriptor::vm` describe them.

use crate::prelude::*;
use core::cell::UnsafeCell;

/// Shared by every instance of a store; compiled prologues compare the stack
/// pointer with `stack_limit`, exception-aware code tests `pending_exception`
/// after calls. Fields after those two are the runtime's own.
#[repr(C)]
pub(crate) struct VMStoreContext {
    pub stack_limit: usize,
    /// The exception being thrown (a `VMExn`), null when none.
    pub pending_exception: *mut ValRaw,
    /// Every exception created in the store, as `VMExn`s: a header slot (tag
    /// identity, payload length) then the payload. An `exnref` may live in
    /// locals, globals or tables, and nothing traces them, so they last as
    /// long as the store.
    pub exceptions: Vec<Box<[ValRaw]>>,
}

impl VMStoreContext {
    pub fn new() -> VMStoreContext {
        VMStoreContext {
            stack_limit: 0,
            pending_exception: core::ptr::null_mut(),
            exceptions: Vec::new(),
        }
    }

    /// A new exception of tag identity `tag` with `len` zeroed payload slots;
    /// returns its address.
    pub fn new_exception(&mut self, tag: usize, len: usize) -> *mut ValRaw {
        let mut exn = vec![ValRaw::default(); len + 1].into_boxed_slice();
        exn[0] = ValRaw::from_u128(tag as u128 | ((len as u128) << 64));
        let ptr = exn.as_mut_ptr();
        self.exceptions.push(exn);
        ptr
    }

    /// Takes the pending exception: true if there was one.
    pub fn take_pending_exception(&mut self) -> bool {
        !core::mem::replace(&mut self.pending_exception, core::ptr::null_mut()).is_null()
    }
}

/// A tag: only its address matters (a tag's identity); the field keeps the
/// allocation non-empty and records the tag's type for debugging.
#[repr(C)]
pub(crate) struct VMTag {
    pub type_id: u32,
    pub pad: u32,
}

/// How an instance reaches one of its imported functions.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct VMFuncImport {
    pub code: *const u8,
    pub vmctx: *mut u8,
}

/// A linear memory as compiled code sees it; `length` is in bytes.
#[repr(C)]
pub(crate) struct VMMemory {
    pub base: *mut u8,
    pub length: usize,
}

/// A table as compiled code sees it: pointer-sized elements, 0 = null.
#[repr(C)]
pub(crate) struct VMTable {
    pub base: *mut usize,
    pub length: u32,
    pub pad: u32,
}

/// A function reference: what `ref.func`, tables and `call_indirect` use.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct VMFuncRef {
    pub code: *const u8,
    pub vmctx: *mut u8,
    pub type_id: u32,
    pub pad: u32,
}

/// One 16-byte value slot (array trampolines, host calls, globals).
#[repr(C, align(16))]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct ValRaw(pub [u8; 16]);

impl ValRaw {
    pub fn from_u128(v: u128) -> ValRaw {
        ValRaw(v.to_le_bytes())
    }
    pub fn from_u64(v: u64) -> ValRaw {
        ValRaw::from_u128(v as u128)
    }
    pub fn from_u32(v: u32) -> ValRaw {
        ValRaw::from_u128(v as u128)
    }
    pub fn u128(&self) -> u128 {
        u128::from_le_bytes(self.0)
    }
    pub fn u64(&self) -> u64 {
        self.u128() as u64
    }
    pub fn u32(&self) -> u32 {
        self.u128() as u32
    }
}

/// Where a store item's VM struct lives: in a defining instance's vmctx (compiled
/// code may address it there directly), in its own allocation for items the
/// host created, or inside the item itself for items whose address is taken
/// only once they are stored in the store's arena, which never moves them.
pub(crate) enum VmSlot<T> {
    Owned(*mut T),
    InVmctx(*mut T),
    Inline(UnsafeCell<T>),
}

impl<T> VmSlot<T> {
    pub fn owned(value: T) -> VmSlot<T> {
        VmSlot::Owned(Box::into_raw(Box::new(value)))
    }

    pub fn ptr(&self) -> *mut T {
        match self {
            VmSlot::Owned(p) | VmSlot::InVmctx(p) => *p,
            VmSlot::Inline(cell) => cell.get(),
        }
    }
}

impl<T> Drop for VmSlot<T> {
    fn drop(&mut self) {
        if let VmSlot::Owned(p) = *self {
            // SAFETY: created by Box::into_raw in `owned`, freed once here.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, size_of};
    use rivet_descriptor::vm;

    #[test]
    fn sizes_match_the_descriptor_contract() {
        assert_eq!(size_of::<VMFuncImport>() as u32, vm::FUNC_IMPORT_SIZE);
        assert_eq!(size_of::<VMMemory>() as u32, vm::MEMORY_SIZE);
        assert_eq!(size_of::<VMTable>() as u32, vm::TABLE_SIZE);
        assert_eq!(size_of::<VMFuncRef>() as u32, vm::FUNCREF_SIZE);
        assert_eq!(size_of::<ValRaw>() as u32, vm::VAL_RAW_SIZE);
        assert_eq!(size_of::<VMTag>() as u32, vm::TAG_SIZE);
        assert_eq!(
            core::mem::offset_of!(VMStoreContext, pending_exception) as u32,
            vm::STORE_PENDING_EXCEPTION
        );
        assert_eq!(align_of::<ValRaw>(), 16);
        assert_eq!(
            core::mem::offset_of!(VMFuncRef, type_id) as u32,
            vm::FUNCREF_TYPE_ID
        );
        assert_eq!(
            core::mem::offset_of!(VMTable, length) as u32,
            vm::TABLE_LENGTH
        );
    }

    #[test]
    fn raw_slots_are_little_endian() {
        let r = ValRaw::from_u32(0x0102_0304);
        assert_eq!(&r.0[..4], &[4, 3, 2, 1]);
        assert_eq!(r.u64(), 0x0102_0304);
        assert_eq!(ValRaw::from_u128(u128::MAX).u32(), u32::MAX);
    }
}
