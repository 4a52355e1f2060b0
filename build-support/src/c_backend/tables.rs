//! Tables whose contents are known at build time.
//!
//! A table the module defines, does not export, and never changes (no
//! `table.set/grow/fill/copy/init` anywhere in the module), filled only by
//! active segments at constant offsets with the module's own functions, holds
//! the same entries in every instance from instantiation on. Its
//! `call_indirect`s then read a static array of (code, type) instead of the
//! instance's table: no loads from the instance, and the type check compares
//! two build-time numbers. Compiled Rust makes every `dyn Trait` call this way
//! (`core::fmt` calls `write_str` and each argument's `fmt` through it).

use super::Symbols;
use crate::env::ModuleEnv;
use rivet_descriptor::{ConstExpr, ExternIndex, Module, SegmentMode};
use std::fmt::Write;
use wasmparser::Operator;

/// A table's entries: the defined index of each entry's function, if set.
pub type Entries = Vec<Option<u32>>;

/// By table index: the entries of each table known at build time.
pub fn frozen(env: &ModuleEnv, module: &Module) -> Vec<Option<Entries>> {
    let mut tables: Vec<Option<Entries>> = (0..env.tables.len() as u32)
        .map(|t| {
            let defined = t >= env.imported_tables;
            let exported = module
                .exports
                .iter()
                .any(|e| e.index == ExternIndex::Table(t));
            let size = env.tables[t as usize].minimum;
            (defined && !exported && size <= MAX_ENTRIES).then(|| vec![None; size as usize])
        })
        .collect();
    if tables.iter().all(Option::is_none) || mutates_tables(env) {
        return vec![None; tables.len()];
    }
    for segment in module.elements.iter() {
        let SegmentMode::Active { index, offset } = &segment.mode else {
            continue;
        };
        let Some(Some(entries)) = tables.get_mut(*index as usize) else {
            continue;
        };
        if !fill(entries, offset, &segment.items, env.imported_functions) {
            tables[*index as usize] = None;
        }
    }
    tables
}

/// Tables larger than this stay in the instance (a static copy would be
/// mostly empty slots).
const MAX_ENTRIES: u64 = 1 << 16;

/// Writes a segment's items into `entries`; false when they are not all
/// known functions of the module at a constant offset.
fn fill(entries: &mut Entries, offset: &ConstExpr, items: &[ConstExpr], imported: u32) -> bool {
    let ConstExpr::I32(start) = *offset else {
        return false;
    };
    for (i, item) in items.iter().enumerate() {
        let value = match *item {
            ConstExpr::RefFunc(f) if f >= imported => Some(f - imported),
            ConstExpr::RefNull => None,
            _ => return false,
        };
        // A segment past the end fails instantiation: nothing then runs.
        if let Some(slot) = entries.get_mut(start as u32 as usize + i) {
            *slot = value;
        }
    }
    true
}

/// Whether any function of the module changes a table.
fn mutates_tables(env: &ModuleEnv) -> bool {
    env.bodies.iter().any(|body| {
        let Ok(mut reader) = body.get_operators_reader() else {
            return true;
        };
        while !reader.eof() {
            match reader.read() {
                Ok(
                    Operator::TableSet { .. }
                    | Operator::TableGrow { .. }
                    | Operator::TableFill { .. }
                    | Operator::TableCopy { .. }
                    | Operator::TableInit { .. },
                ) => return true,
                Ok(_) => {}
                Err(_) => return true,
            }
        }
        false
    })
}

/// The C name of module `m`'s static copy of table `t`.
pub fn name(m: usize, t: u32) -> String {
    format!("table_{m}_{t}")
}

/// The static array for table `t` of module `m`: each entry's code and the
/// canonical index of its type.
pub fn define(m: usize, t: u32, entries: &Entries, env: &ModuleEnv, symbols: &Symbols) -> String {
    let mut out = format!(
        "static const struct entry {}[{}] = {{\n",
        name(m, t),
        entries.len().max(1)
    );
    for (i, entry) in entries.iter().enumerate() {
        if let Some(f) = entry {
            let ty = env.functions[(env.imported_functions + f) as usize];
            let symbol = &symbols.defined[*f as usize];
            let canon = canonical(env, ty);
            writeln!(out, "  [{i}] = {{ (void *){symbol}, {canon} }},").unwrap();
        }
    }
    out.push_str("};\n");
    out
}

/// The first type index of the module's type section equal to `ty`: two
/// functions have the same type exactly when these agree.
pub fn canonical(env: &ModuleEnv, ty: u32) -> usize {
    let wanted = &env.types[ty as usize];
    env.types
        .iter()
        .position(|t| t == wanted)
        .unwrap_or(ty as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, emit, BoundsMode};

    /// The frozen tables of a module given in text, as each entry's defined
    /// function index.
    fn frozen_in(wat: &str) -> Vec<Option<Entries>> {
        let wasm = wat::parse_str(wat).unwrap();
        let isa = emit::target_isa(None, &[]).unwrap();
        let decoded = decode::decode(&wasm, isa, BoundsMode::Guard, true).unwrap();
        frozen(&decoded.env, &decoded.module)
    }

    const FUNCS: &str = r#"
        (import "h" "f" (func $imp))
        (type $t (func))
        (func $a) (func $b)
    "#;

    #[test]
    fn a_private_table_filled_once_is_known() {
        let tables = frozen_in(&format!(
            "(module {FUNCS} (table 4 funcref) (elem (i32.const 1) func $a $b $a)
               (elem (i32.const 3) func $b))"
        ));
        assert_eq!(tables, vec![Some(vec![None, Some(0), Some(1), Some(1)])]);
    }

    #[test]
    fn tables_others_can_change_are_not() {
        let cases = [
            // Exported: the host or another module may write it.
            "(table (export \"t\") 2 funcref) (elem (i32.const 0) func $a)",
            // Changed by the module's own code.
            "(table 2 funcref) (func (table.set 0 (i32.const 0) (ref.null func)))",
            "(table 2 funcref) (func (drop (table.grow 0 (ref.null func) (i32.const 1))))",
            // Holding an imported function, whose instance varies.
            "(table 2 funcref) (elem (i32.const 0) func $imp)",
            // Imported.
            "(import \"h\" \"t\" (table 2 funcref))",
        ];
        for case in cases {
            // Imports come first in the text format.
            let (imports, rest) = case.split_at(if case.starts_with("(import") {
                case.len()
            } else {
                0
            });
            let tables = frozen_in(&format!("(module {imports} {FUNCS} {rest})"));
            assert_eq!(tables, vec![None], "{case}");
        }
    }

    #[test]
    fn equal_types_share_a_canonical_index() {
        let wasm = wat::parse_str(
            "(module (type (func)) (type (func (param i32))) (type (func (param i32))))",
        )
        .unwrap();
        let isa = emit::target_isa(None, &[]).unwrap();
        let decoded = decode::decode(&wasm, isa, BoundsMode::Guard, true).unwrap();
        let canon: Vec<usize> = (0..3).map(|t| canonical(&decoded.env, t)).collect();
        assert_eq!(canon, [0, 1, 1]);
    }
}
