//! The `spectest` host module every spec script may import from.
//!
//! The definitions are data first ([`definitions`]) so their types can be checked
//! without a runtime, then turned into store items by [`instantiate`].

use rivet::{
    Extern, Func, FuncType, Global, GlobalType, Memory, MemoryType, Store, Table, TableType, Val,
    ValType,
};
use std::collections::HashMap;

/// The module name scripts import these items from.
pub const MODULE_NAME: &str = "spectest";

/// One item of the `spectest` module.
#[derive(Debug, Clone)]
pub enum Definition {
    /// A host function that does nothing (the spec's `print*` functions).
    Func(FuncType),
    /// An immutable global with its value.
    Global(GlobalType, Val),
    /// A funcref table, initially null.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
}

/// Every item of the `spectest` module, by name.
pub fn definitions() -> Vec<(&'static str, Definition)> {
    use ValType::{F32, F64, I32, I64};
    let func = |params: &[ValType]| {
        Definition::Func(FuncType {
            params: params.to_vec().into(),
            results: vec![].into(),
        })
    };
    let global = |content, init| {
        Definition::Global(
            GlobalType {
                content,
                mutable: false,
            },
            init,
        )
    };
    vec![
        ("print", func(&[])),
        ("print_i32", func(&[I32])),
        ("print_i64", func(&[I64])),
        ("print_f32", func(&[F32])),
        ("print_f64", func(&[F64])),
        ("print_i32_f32", func(&[I32, F32])),
        ("print_f64_f64", func(&[F64, F64])),
        ("global_i32", global(I32, Val::I32(666))),
        ("global_i64", global(I64, Val::I64(666))),
        ("global_f32", global(F32, Val::F32(666.6f32.to_bits()))),
        ("global_f64", global(F64, Val::F64(666.6f64.to_bits()))),
        (
            "table",
            Definition::Table(TableType {
                element: ValType::FuncRef,
                minimum: 10,
                maximum: Some(20),
            }),
        ),
        (
            "memory",
            Definition::Memory(MemoryType {
                minimum: 1,
                maximum: Some(2),
            }),
        ),
    ]
}

/// Creates every `spectest` item in `store`.
pub fn instantiate(store: &mut Store) -> Result<HashMap<String, Extern>, rivet::Error> {
    let mut items = HashMap::new();
    for (name, def) in definitions() {
        let item = match def {
            Definition::Func(ty) => Extern::Func(Func::wrap(store, ty, |_, _| Ok(()))),
            Definition::Global(ty, init) => Extern::Global(Global::new(store, ty, init)?),
            Definition::Table(ty) => Extern::Table(Table::new(store, ty, Val::FuncRef(None))?),
            Definition::Memory(ty) => Extern::Memory(Memory::new(store, ty)?),
        };
        items.insert(name.to_string(), item);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(name: &str) -> Definition {
        definitions()
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
    }

    #[test]
    fn print_functions_take_their_named_params_and_return_nothing() {
        match find("print_i32_f32") {
            Definition::Func(ty) => {
                assert_eq!(ty.params, vec![ValType::I32, ValType::F32]);
                assert!(ty.results.is_empty());
            }
            other => panic!("{other:?}"),
        }
        match find("print") {
            Definition::Func(ty) => assert!(ty.params.is_empty() && ty.results.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn globals_are_immutable_with_spec_values() {
        match find("global_i64") {
            Definition::Global(ty, Val::I64(666)) => {
                assert!(!ty.mutable && ty.content == ValType::I64)
            }
            other => panic!("{other:?}"),
        }
        match find("global_f32") {
            Definition::Global(ty, Val::F32(bits)) => {
                assert_eq!(ty.content, ValType::F32);
                assert_eq!(f32::from_bits(bits), 666.6);
            }
            other => panic!("{other:?}"),
        }
        match find("global_f64") {
            Definition::Global(_, Val::F64(bits)) => assert_eq!(f64::from_bits(bits), 666.6),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn table_and_memory_limits() {
        match find("table") {
            Definition::Table(t) => {
                assert_eq!(
                    (t.element, t.minimum, t.maximum),
                    (ValType::FuncRef, 10, Some(20))
                )
            }
            other => panic!("{other:?}"),
        }
        match find("memory") {
            Definition::Memory(m) => assert_eq!((m.minimum, m.maximum), (1, Some(2))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_are_unique() {
        let defs = definitions();
        let names: std::collections::HashSet<_> = defs.iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), defs.len());
        assert_eq!(defs.len(), 13);
    }
}
