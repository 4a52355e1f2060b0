//! Wasm values as the host sees them.

use crate::func::Func;
use rivet_descriptor::ValType;

/// A wasm value. Floats are carried as bits so NaN payloads survive.
#[derive(Clone, Copy, Debug)]
pub enum Val {
    I32(i32),
    I64(i64),
    /// Bits of an f32.
    F32(u32),
    /// Bits of an f64.
    F64(u64),
    V128(u128),
    FuncRef(Option<Func>),
    /// An externref: the host's own number, or null.
    ExternRef(Option<u64>),
    /// An exnref: an exception wasm caught with `catch_ref`, or null.
    ExnRef(Option<Exn>),
}

/// An exception thrown in a [`crate::Store`], as the host sees an `exnref`:
/// opaque, valid only in its own store (where it lives as long as the store),
/// and made only by wasm, so the host cannot forge one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exn {
    pub(crate) store: crate::store::StoreId,
    pub(crate) addr: usize,
}

impl Val {
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::ExnRef(_) => ValType::ExnRef,
        }
    }

    /// The zero (or null) value of `ty`: what results are pre-filled with.
    pub fn zero(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::ExnRef => Val::ExnRef(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_values_have_their_type() {
        for ty in ValType::ALL {
            assert_eq!(Val::zero(ty).ty(), ty);
        }
    }
}
