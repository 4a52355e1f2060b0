//! Exception tags and the host API.

use crate::store::{Store, StoreId};
use crate::vm::{VMTag, VmSlot};
use rivet_descriptor::FuncType;

/// A tag's storage: its `VMTag`, whose address is the tag's identity, in a
/// defining instance's vmctx or its own allocation for tags the host created.
pub(crate) struct TagData {
    pub vm: VmSlot<VMTag>,
    pub ty: FuncType,
}

/// An exception tag owned by a [`Store`]. Every instance of a module defining a
/// tag makes a new, distinct tag; a catch clause matches only throws of the
/// very same tag.
#[derive(Clone, Copy, Debug)]
pub struct Tag {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

impl Tag {
    /// A new tag whose exceptions carry values of `ty.params` (`ty.results`
    /// must be empty, as for wasm tags).
    pub fn new(store: &mut Store, ty: FuncType) -> Tag {
        let type_id = crate::signatures::intern(&ty).id;
        store.add_tag(TagData {
            vm: VmSlot::owned(VMTag { type_id, pad: 0 }),
            ty,
        })
    }

    /// The tag's function type (its parameters are the payload).
    pub fn ty(&self, store: &Store) -> FuncType {
        store.tag(*self).ty.clone()
    }

    /// The tag's identity, as compiled code compares it.
    pub(crate) fn vm(&self, store: &Store) -> *mut VMTag {
        store.tag(*self).vm.ptr()
    }
}
