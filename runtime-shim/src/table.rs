//! Tables of function references or externref handles, and the host API.

use crate::error::Error;
use crate::prelude::*;
use crate::store::{Store, StoreId};
use crate::values::Val;
use crate::vm::{VMTable, VmSlot};
use rivet_descriptor::TableType;

/// No table grows beyond this many elements, whatever its declared maximum: a
/// guard against a `table.grow` exhausting host memory.
const MAX_ELEMENTS: u64 = 10_000_000;

/// A table's storage: raw pointer-sized elements (0 = null). Growing may move
/// the elements; `VMTable` is updated in place so compiled code sees the change.
pub(crate) struct TableData {
    vm: VmSlot<VMTable>,
    elements: Vec<usize>,
    ty: TableType,
}

impl TableData {
    pub fn new(ty: TableType, init: usize, vm: VmSlot<VMTable>) -> Result<TableData, Error> {
        if ty.minimum > limit(&ty) {
            return Err(Error::Runtime(format!(
                "table minimum of {} elements exceeds its limit",
                ty.minimum
            )));
        }
        let mut t = TableData {
            vm,
            elements: vec![init; ty.minimum as usize],
            ty,
        };
        t.sync();
        Ok(t)
    }

    /// Publishes the element storage to compiled code.
    fn sync(&mut self) {
        // SAFETY: the slot lives as long as `self`.
        unsafe {
            (*self.vm.ptr()).base = self.elements.as_mut_ptr();
            (*self.vm.ptr()).length = self.elements.len() as u32;
        }
    }

    pub fn vm(&self) -> *mut VMTable {
        self.vm.ptr()
    }

    pub fn element_type(&self) -> rivet_descriptor::ValType {
        self.ty.element
    }

    pub fn ty(&self) -> TableType {
        TableType {
            minimum: self.elements.len() as u64,
            ..self.ty
        }
    }

    pub fn len(&self) -> u64 {
        self.elements.len() as u64
    }

    pub fn get(&self, index: u64) -> Option<usize> {
        self.elements.get(usize::try_from(index).ok()?).copied()
    }

    pub fn set(&mut self, index: u64, value: usize) -> bool {
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| self.elements.get_mut(i));
        match slot {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or None
    /// when the table cannot grow.
    pub fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let old = self.len();
        let new = old.checked_add(delta).filter(|&n| n <= limit(&self.ty))?;
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }

    /// Sets `len` elements from `dst` to `value`; false (nothing written) when
    /// the range is out of bounds.
    pub fn fill(&mut self, dst: u64, value: usize, len: u64) -> bool {
        match range(dst, len, self.len()) {
            Some(r) => {
                self.elements[r].fill(value);
                true
            }
            None => false,
        }
    }

    /// Copies `values` to `dst`; false (nothing written) when out of bounds.
    pub fn write(&mut self, dst: u64, values: &[usize]) -> bool {
        match range(dst, values.len() as u64, self.len()) {
            Some(r) => {
                self.elements[r].copy_from_slice(values);
                true
            }
            None => false,
        }
    }

    /// Elements `[src, src+len)`, or None when out of bounds.
    pub fn read(&self, src: u64, len: u64) -> Option<&[usize]> {
        range(src, len, self.len()).map(|r| &self.elements[r])
    }

    /// Copies within this table (overlap allowed); false when out of bounds.
    pub fn copy_within(&mut self, dst: u64, src: u64, len: u64) -> bool {
        match (range(dst, len, self.len()), range(src, len, self.len())) {
            (Some(d), Some(s)) => {
                self.elements.copy_within(s, d.start);
                true
            }
            _ => false,
        }
    }
}

fn limit(ty: &TableType) -> u64 {
    ty.maximum
        .unwrap_or(u32::MAX as u64)
        .min(u32::MAX as u64)
        .min(MAX_ELEMENTS)
}

/// `[start, start+len)` when it lies within `[0, size)`.
pub(crate) fn range(start: u64, len: u64, size: u64) -> Option<core::ops::Range<usize>> {
    let end = start.checked_add(len).filter(|&e| e <= size)?;
    Some(start as usize..end as usize)
}

/// A table owned by a [`Store`].
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

impl Table {
    /// A host-created table of `ty.minimum` elements, all `init`.
    pub fn new(store: &mut Store, ty: TableType, init: Val) -> Result<Table, Error> {
        let raw = store.ref_to_raw(ty.element, init)?;
        let data = TableData::new(ty, raw, VmSlot::owned(empty_vm()))?;
        Ok(store.add_table(data))
    }

    /// The table's type; `minimum` is the current size.
    pub fn ty(&self, store: &Store) -> TableType {
        store.table(*self).ty()
    }

    /// Element `index`, or None when out of bounds.
    pub fn get(&self, store: &Store, index: u64) -> Option<Val> {
        let t = store.table(*self);
        let raw = t.get(index)?;
        Some(store.raw_to_ref(t.element_type(), raw))
    }

    pub fn set(&self, store: &mut Store, index: u64, v: Val) -> Result<(), Error> {
        let element = store.table(*self).element_type();
        let raw = store.ref_to_raw(element, v)?;
        if store.table_mut(*self).set(index, raw) {
            Ok(())
        } else {
            Err(Error::Runtime(format!("table index {index} out of bounds")))
        }
    }

    /// Grows by `delta` elements set to `init`; returns the old size.
    pub fn grow(&self, store: &mut Store, delta: u64, init: Val) -> Result<u64, Error> {
        let element = store.table(*self).element_type();
        let raw = store.ref_to_raw(element, init)?;
        store
            .table_mut(*self)
            .grow(delta, raw)
            .ok_or_else(|| Error::Runtime(format!("table cannot grow by {delta} elements")))
    }
}

pub(crate) fn empty_vm() -> VMTable {
    VMTable {
        base: core::ptr::null_mut(),
        length: 0,
        pad: 0,
    }
}
