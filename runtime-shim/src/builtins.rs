//! Runtime functions compiled code calls through the builtins table.
//!
//! Each has exactly the signature documented on `rivet_descriptor::Builtin`. They
//! are `extern "C"` and must never unwind, so they use checked indexing only and
//! report anything out of range as a failing status.

use crate::instance::InstanceData;
use crate::prelude::*;
use crate::table::range;
use crate::vm::{VMStoreContext, ValRaw};
use rivet_descriptor::{Builtin, VmctxLayout};

/// Status returned when the operation must trap.
const TRAP: u32 = 1;
/// `memory.grow` / `table.grow` failure.
const GROW_FAILED: u32 = u32::MAX;

/// Function addresses, in `Builtin` order.
#[repr(transparent)]
pub(crate) struct BuiltinTable(pub [*const (); Builtin::COUNT]);

// SAFETY: immutable addresses of functions.
unsafe impl Sync for BuiltinTable {}

/// The builtins table, with the table builtins only if `tables` and the
/// exception builtin only if `exceptions` (null otherwise: the code of a
/// module without tables, element segments or tags has no instruction that
/// calls them, see [`rivet_descriptor::parts`]).
pub(crate) const fn table(tables: bool, exceptions: bool) -> BuiltinTable {
    /// `f` if `on`, else null (a function: closures cannot be called in
    /// constants).
    const fn when(on: bool, f: *const ()) -> *const () {
        if on {
            f
        } else {
            core::ptr::null()
        }
    }
    BuiltinTable([
        memory_grow as *const (),
        memory_init as *const (),
        data_drop as *const (),
        when(tables, table_grow as *const ()),
        when(tables, table_fill as *const ()),
        when(tables, table_copy as *const ()),
        when(tables, table_init as *const ()),
        when(tables, elem_drop as *const ()),
        when(exceptions, exn_new as *const ()),
        trap as *const (),
    ])
}

extern "C" {
    fn rivet_trap(kind: u32) -> !;
}

/// Jumps back to the host's entry with trap `kind` (see `rivet_trap`).
unsafe extern "C" fn trap(_vmctx: *mut u8, kind: u32) -> ! {
    rivet_trap(kind)
}

/// The instance record of `vmctx`.
///
/// Safety: `vmctx` is a live instance context built by this runtime.
unsafe fn instance<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
    &mut **vmctx
        .add(VmctxLayout::INSTANCE as usize)
        .cast::<*mut InstanceData>()
}

fn status(ok: bool) -> u32 {
    if ok {
        0
    } else {
        TRAP
    }
}

unsafe extern "C" fn memory_grow(vmctx: *mut u8, memory: u32, delta: u32) -> u32 {
    let inst = instance(vmctx);
    match inst.memory_data(memory) {
        Some(m) => (*m)
            .grow(delta as u64)
            .map_or(GROW_FAILED, |old| old as u32),
        None => GROW_FAILED,
    }
}

unsafe extern "C" fn memory_init(
    vmctx: *mut u8,
    memory: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    let inst = instance(vmctx);
    let (Some(m), Some(bytes)) = (inst.memory_data(memory), inst.data_segment(data)) else {
        return TRAP;
    };
    let mem = (*m).data_mut();
    let (Some(sr), Some(dr)) = (
        range(src as u64, len as u64, bytes.len() as u64),
        range(dst as u64, len as u64, mem.len() as u64),
    ) else {
        return TRAP;
    };
    mem[dr].copy_from_slice(&bytes[sr]);
    0
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    if let Some(seg) = instance(vmctx).data.get_mut(data as usize) {
        seg.1 = 0;
    }
}

unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, init: usize, delta: u32) -> u32 {
    match instance(vmctx).table_data(table) {
        Some(t) => (*t)
            .grow(delta as u64, init)
            .map_or(GROW_FAILED, |old| old as u32),
        None => GROW_FAILED,
    }
}

unsafe extern "C" fn table_fill(
    vmctx: *mut u8,
    table: u32,
    dst: u32,
    value: usize,
    len: u32,
) -> u32 {
    match instance(vmctx).table_data(table) {
        Some(t) => status((*t).fill(dst as u64, value, len as u64)),
        None => TRAP,
    }
}

unsafe extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    let inst = instance(vmctx);
    let (Some(d), Some(s)) = (inst.table_data(dst_table), inst.table_data(src_table)) else {
        return TRAP;
    };
    if core::ptr::eq(d, s) {
        return status((*d).copy_within(dst as u64, src as u64, len as u64));
    }
    match (*s).read(src as u64, len as u64) {
        Some(items) => status((*d).write(dst as u64, items)),
        None => TRAP,
    }
}

unsafe extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    let inst = instance(vmctx);
    let (Some(t), Some(items)) = (inst.table_data(table), inst.elements.get(elem as usize)) else {
        return TRAP;
    };
    match range(src as u64, len as u64, items.len() as u64) {
        Some(r) => status((*t).write(dst as u64, &items[r])),
        None => TRAP,
    }
}

unsafe extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    if let Some(items) = instance(vmctx).elements.get_mut(elem as usize) {
        *items = Vec::new();
    }
}

/// `(vmctx, tag, payload) -> exception`; the exception lives as long as the
/// store (see `VMStoreContext::exceptions`).
unsafe extern "C" fn exn_new(vmctx: *mut u8, tag: usize, payload: u32) -> *mut ValRaw {
    let store = *vmctx
        .add(VmctxLayout::STORE as usize)
        .cast::<*mut VMStoreContext>();
    (*store).new_exception(tag, payload as usize)
}
