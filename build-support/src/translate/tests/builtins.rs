//! Test versions of the runtime builtins, so that code using them can run:
//! they work on the [`Record`] the instance context's instance pointer points
//! at, and republish a memory's or table's base and length after growing it.

use super::run::Record;
use rivet_descriptor::{vm, Builtin, VmctxLayout, WASM_PAGE_SIZE};

/// Memories grow no further than this many pages here, to keep tests small.
const TEST_PAGE_LIMIT: u64 = 4096;

/// The builtins table.
pub(super) fn table() -> [usize; Builtin::COUNT] {
    let mut t = [0; Builtin::COUNT];
    t[Builtin::MemoryGrow as usize] = memory_grow as *const () as usize;
    t[Builtin::MemoryInit as usize] = memory_init as *const () as usize;
    t[Builtin::DataDrop as usize] = data_drop as *const () as usize;
    t[Builtin::TableGrow as usize] = table_grow as *const () as usize;
    t[Builtin::TableFill as usize] = table_fill as *const () as usize;
    t[Builtin::TableCopy as usize] = table_copy as *const () as usize;
    t[Builtin::TableInit as usize] = table_init as *const () as usize;
    t[Builtin::ElemDrop as usize] = elem_drop as *const () as usize;
    t
}

/// The record of the instance whose context is `vmctx`.
fn record<'a>(vmctx: *mut u8) -> &'a mut Record {
    // SAFETY: test contexts hold a live `Record` at the instance pointer.
    unsafe { &mut **(vmctx.add(VmctxLayout::INSTANCE as usize) as *mut *mut Record) }
}

/// Writes `value` at `address + offset`.
fn write<T>(address: usize, offset: u32, value: T) {
    // SAFETY: `address` is a live `VMMemory` or `VMTable` of a test
    // instance, and `offset` a field of it.
    unsafe { ((address + offset as usize) as *mut T).write_unaligned(value) }
}

/// Writes memory `m`'s base and length into its `VMMemory`.
pub(super) fn publish_memory(rec: &mut Record, m: u32) {
    let at = rec.memory_structs[m as usize];
    let memory = &mut rec.memories[m as usize];
    write(at, vm::MEMORY_BASE, memory.as_mut_ptr() as usize);
    write(at, vm::MEMORY_LENGTH, memory.len());
}

/// Writes table `t`'s base and length into its `VMTable`.
pub(super) fn publish_table(rec: &mut Record, t: u32) {
    let at = rec.table_structs[t as usize];
    let table = &mut rec.tables[t as usize];
    write(at, vm::TABLE_BASE, table.as_mut_ptr() as usize);
    write(at, vm::TABLE_LENGTH, table.len() as u32);
}

/// The range `start..start + len` if it lies within `0..size`.
fn range(start: u32, len: u32, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start as usize + len as usize;
    (end <= size).then_some(start as usize..end)
}

extern "C" fn memory_grow(vmctx: *mut u8, m: u32, delta: u32) -> u32 {
    let rec = record(vmctx);
    let old = rec.memories[m as usize].len() as u64 / WASM_PAGE_SIZE;
    let new = old + u64::from(delta);
    if new > rec.memory_maxima[m as usize].min(TEST_PAGE_LIMIT) {
        return u32::MAX;
    }
    rec.memories[m as usize].resize((new * WASM_PAGE_SIZE) as usize, 0);
    publish_memory(rec, m);
    old as u32
}

extern "C" fn memory_init(vmctx: *mut u8, m: u32, data: u32, dst: u32, src: u32, len: u32) -> u32 {
    let rec = record(vmctx);
    let Some(s) = range(src, len, rec.data[data as usize].len()) else {
        return 1;
    };
    let Some(d) = range(dst, len, rec.memories[m as usize].len()) else {
        return 1;
    };
    let bytes = rec.data[data as usize][s].to_vec();
    rec.memories[m as usize][d].copy_from_slice(&bytes);
    0
}

extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    record(vmctx).data[data as usize].clear();
}

extern "C" fn table_grow(vmctx: *mut u8, t: u32, init: usize, delta: u32) -> u32 {
    let rec = record(vmctx);
    let old = rec.tables[t as usize].len() as u64;
    let new = old + u64::from(delta);
    if new > rec.table_maxima[t as usize].min(u32::MAX.into()) || new > 1 << 20 {
        return u32::MAX;
    }
    rec.tables[t as usize].resize(new as usize, init);
    publish_table(rec, t);
    old as u32
}

extern "C" fn table_fill(vmctx: *mut u8, t: u32, dst: u32, value: usize, len: u32) -> u32 {
    let table = &mut record(vmctx).tables[t as usize];
    let Some(r) = range(dst, len, table.len()) else {
        return 1;
    };
    table[r].fill(value);
    0
}

extern "C" fn table_copy(vmctx: *mut u8, dt: u32, st: u32, dst: u32, src: u32, len: u32) -> u32 {
    let rec = record(vmctx);
    let Some(s) = range(src, len, rec.tables[st as usize].len()) else {
        return 1;
    };
    let Some(d) = range(dst, len, rec.tables[dt as usize].len()) else {
        return 1;
    };
    let items = rec.tables[st as usize][s].to_vec();
    rec.tables[dt as usize][d].copy_from_slice(&items);
    0
}

extern "C" fn table_init(vmctx: *mut u8, t: u32, elem: u32, dst: u32, src: u32, len: u32) -> u32 {
    let rec = record(vmctx);
    let Some(s) = range(src, len, rec.elements[elem as usize].len()) else {
        return 1;
    };
    let Some(d) = range(dst, len, rec.tables[t as usize].len()) else {
        return 1;
    };
    let items = rec.elements[elem as usize][s].to_vec();
    rec.tables[t as usize][d].copy_from_slice(&items);
    0
}

extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    record(vmctx).elements[elem as usize].clear();
}
