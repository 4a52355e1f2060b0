//! Process-wide ids of function types, which compiled code compares in
//! `call_indirect` and exception matching.
//!
//! A module's types get their ids once, when it is loaded, so that an
//! instantiation only copies them into the vmctx: interning per store cost
//! hashing and copying every type on every instantiation. Interned types live
//! as long as the process (there are only as many as distinct signatures
//! loaded or given to host functions).

use crate::prelude::*;
use crate::sync::Mutex;
use rivet_descriptor::FuncType;

/// An interned function type: its id and the type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sig {
    pub id: u32,
    pub ty: &'static FuncType,
}

/// Every interned type with its id, sorted by type. A sorted list rather than
/// a hash table: interning happens once per type of a loaded module, and the
/// list's binary search links far less code into every host.
static IDS: Mutex<Vec<(&'static FuncType, u32)>> = Mutex::new(Vec::new());

/// The id of `ty`, the same for equal types everywhere in the process.
pub(crate) fn intern(ty: &FuncType) -> Sig {
    let mut ids = IDS.lock();
    let at = match ids.binary_search_by(|&(t, _)| t.cmp(ty)) {
        Ok(i) => {
            let (ty, id) = ids[i];
            return Sig { id, ty };
        }
        Err(at) => at,
    };
    let ty: &'static FuncType = Box::leak(Box::new(ty.clone()));
    let id = ids.len() as u32;
    ids.insert(at, (ty, id));
    Sig { id, ty }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivet_descriptor::ValType;

    #[test]
    fn equal_types_share_an_id_and_different_ones_do_not() {
        let t = |params: &[ValType]| FuncType {
            params: params.to_vec().into(),
            results: vec![ValType::I32].into(),
        };
        let a = intern(&t(&[ValType::I64, ValType::F32]));
        let b = intern(&t(&[ValType::I64, ValType::F32]));
        let c = intern(&t(&[ValType::F32, ValType::I64]));
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_eq!(*c.ty, t(&[ValType::F32, ValType::I64]));
    }
}
