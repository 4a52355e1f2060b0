//! The C backend: an opt-in second code generator ([`crate::Options::c_backend`])
//! that writes a unit's functions as C and has the system C compiler build
//! them, for code that runs long enough to repay an optimising compiler.
//!
//! Cranelift is a fast compiler with a simpler register allocator and no loop
//! optimisations; on compute kernels such as a tokenizer its code runs about
//! 2× native. GCC or Clang at `-O2` get much closer, at many times the compile
//! time, so the backend is off by default and every function it cannot
//! translate stays with Cranelift.
//!
//! Generated functions keep Rivet's calling convention — the platform's C
//! convention with the callee's `vmctx` first — so C and Cranelift functions
//! call each other directly and the descriptor's function table points at
//! either. Linear memory is accessed as Cranelift's code does in guard-region
//! mode (a fault in the reservation is the out-of-bounds trap); other traps
//! call the runtime's `rivet_trap`. All C functions are put in one section,
//! `rivet_c_<symbol>`, whose bounds the descriptor records so that the
//! runtime registers it as wasm code.
//!
//! What it takes: functions whose values are all numbers (`i32`, `i64`,
//! `f32`, `f64`), with at most one result, in units without exceptions,
//! compiled with guard regions for x86-64 Linux. Vectors, references, table
//! operators other than `call_indirect`, atomics and multiple results stay
//! with Cranelift.
//!
//! [`function`] translates one body; [`numeric`] writes the integer
//! operators and [`float`] the float ones; [`tables`] finds the tables whose contents are known at build
//! time. A unit becomes one C file, or several for a large unit, each with
//! the prelude (`prelude.h`) and a declaration of every function.

mod float;
mod function;
mod numeric;
mod tables;

use crate::env::ModuleEnv;
use rayon::prelude::*;
use rivet_descriptor::{Builtin, ValType, VmctxLayout};
use std::fmt::Write;

/// The value types the backend handles, plus the pointers its code uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ty {
    I32,
    I64,
    F32,
    F64,
    Ptr,
    /// A pointer to an entry of a table known at build time.
    Entry,
}

impl Ty {
    /// The C type holding a value.
    pub fn c(self) -> &'static str {
        match self {
            Ty::I32 => "u32",
            Ty::I64 => "u64",
            Ty::F32 => "f32",
            Ty::F64 => "f64",
            Ty::Ptr => "u8 *",
            Ty::Entry => "const struct entry *",
        }
    }

    /// The signed C type of the same width (for signed operators).
    fn signed(self) -> &'static str {
        match self {
            Ty::I32 => "s32",
            _ => "s64",
        }
    }

    fn bits(self) -> u32 {
        match self {
            Ty::I32 => 32,
            _ => 64,
        }
    }
}

/// The symbols a module's functions are declared under in the unit's object.
pub struct Symbols {
    /// By defined index.
    pub defined: Vec<String>,
    /// By imported function index: the unit function a direct import is
    /// wired to, if any.
    pub imports: Vec<Option<String>>,
}

/// One module of a unit, as the backend sees it.
pub struct Module<'a, 'e> {
    pub env: &'a ModuleEnv<'e>,
    /// Its exports and segments.
    pub module: &'a rivet_descriptor::Module,
    pub symbols: Symbols,
}

/// What the backend made of a unit.
pub struct Translated {
    /// The C files, none when no function was translated. A large unit is
    /// split into files of about [`FILE_BYTES`], which the C compiler builds
    /// in parallel and in less memory than one (GCC took 87 s and 950 MB for
    /// a 1.5 MB guest as one file).
    pub sources: Vec<String>,
    /// By module, then by defined index: whether the function is in C.
    pub chosen: Vec<Vec<bool>>,
}

/// Size of function text after which a new C file starts.
const FILE_BYTES: usize = 1024 * 1024;

impl Translated {
    /// Nothing in C: every function of modules with `counts` defined
    /// functions stays with Cranelift.
    pub fn none(counts: impl Iterator<Item = usize>) -> Translated {
        Translated {
            sources: Vec::new(),
            chosen: counts.map(|n| vec![false; n]).collect(),
        }
    }
}

/// The section, and with the `__start_`/`__stop_` prefixes the symbols the
/// linker defines at its bounds, of unit `symbol`'s C functions.
pub fn section(symbol: &str) -> String {
    format!("rivet_c_{symbol}")
}

/// Translates every function of `modules` the backend handles. With
/// `RIVET_C_REPORT` set in the environment, says on standard error which
/// functions stay with Cranelift and why.
pub fn translate_unit(modules: &[Module], symbol: &str) -> Translated {
    let report = std::env::var_os("RIVET_C_REPORT").is_some();
    // Exceptions need a test after every call, which the backend does not write.
    if modules.iter().any(|m| m.env.exceptions) {
        if report {
            eprintln!("rivet: the whole unit stays with Cranelift: it uses exceptions");
        }
        return Translated::none(modules.iter().map(|m| m.symbols.defined.len()));
    }
    let mut prototypes = String::new();
    let mut files = vec![String::new()];
    let mut chosen = Vec::with_capacity(modules.len());
    for (i, m) in modules.iter().enumerate() {
        let mut flags = Vec::with_capacity(m.symbols.defined.len());
        for (defined, name) in m.symbols.defined.iter().enumerate() {
            let index = m.env.imported_functions + defined as u32;
            let ty = &m.env.types[m.env.functions[index as usize] as usize];
            // A function C cannot call is declared for its address only.
            let proto = prototype(name, &ty.params, &ty.results)
                .unwrap_or_else(|| format!("HIDDEN void {name}(void)"));
            writeln!(prototypes, "{proto};").unwrap();
        }
        let frozen = tables::frozen(m.env, m.module);
        for (t, entries) in frozen.iter().enumerate() {
            if let Some(entries) = entries {
                let array = tables::define(i, t as u32, entries, m.env, &m.symbols);
                prototypes.push_str(&array);
            }
        }
        let cx = function::Context {
            symbols: &m.symbols,
            module: i,
            tables: &frozen,
        };
        // Each body on its own, on all cores; the files in function order.
        let texts: Vec<_> = (0..m.symbols.defined.len() as u32)
            .into_par_iter()
            .map(|defined| function::translate(m.env, defined, &cx))
            .collect();
        for (name, text) in m.symbols.defined.iter().zip(texts) {
            match text {
                Ok(text) => {
                    if files.last().is_some_and(|f| f.len() > FILE_BYTES) {
                        files.push(String::new());
                    }
                    files.last_mut().expect("one file at least").push_str(&text);
                    flags.push(true);
                }
                Err(reason) => {
                    if report {
                        eprintln!("rivet: {name} stays with Cranelift: {reason}");
                    }
                    flags.push(false);
                }
            }
        }
        chosen.push(flags);
    }
    let header = format!(
        "#define CODE __attribute__((section(\"{}\"), visibility(\"hidden\")))\n\
         #define HIDDEN __attribute__((visibility(\"hidden\")))\n\
         #define BUILTINS {}\n#define TRAP_BUILTIN {}\n{}\n{prototypes}\n",
        section(symbol),
        VmctxLayout::BUILTINS,
        Builtin::Trap as u32,
        include_str!("prelude.h"),
    );
    let sources = files
        .into_iter()
        .filter(|f| !f.is_empty())
        .map(|f| format!("{header}{f}"))
        .collect();
    Translated { sources, chosen }
}

/// The C declaration of a unit function the backend can call, if its type
/// is one it handles.
fn prototype(name: &str, params: &[ValType], results: &[ValType]) -> Option<String> {
    let c = |t: &ValType| match t {
        ValType::I32 => Some("u32"),
        ValType::I64 => Some("u64"),
        ValType::F32 => Some("f32"),
        ValType::F64 => Some("f64"),
        _ => None,
    };
    let result = match results {
        [] => "void",
        [t] => c(t)?,
        _ => return None,
    };
    let mut out = format!("HIDDEN {result} {name}(u8 *");
    for p in params {
        write!(out, ", {}", c(p)?).unwrap();
    }
    out.push(')');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, emit, BoundsMode};

    #[test]
    fn a_large_unit_is_split_into_several_files() {
        let body = format!(
            "local.get 0 {}",
            "i32.const 7 i32.mul i32.const 3 i32.add ".repeat(20)
        );
        let funcs: String = (0..600)
            .map(|_| format!("(func (param i32) (result i32) {body})"))
            .collect();
        let wasm = wat::parse_str(format!("(module {funcs})")).unwrap();
        let isa = emit::target_isa(None, &[]).unwrap();
        let decoded = decode::decode(&wasm, isa, BoundsMode::Guard, true).unwrap();
        let symbols = Symbols {
            defined: (0..600).map(|i| format!("f{i}")).collect(),
            imports: Vec::new(),
        };
        let module = Module {
            env: &decoded.env,
            module: &decoded.module,
            symbols,
        };
        let t = translate_unit(&[module], "unit");
        assert!(t.chosen[0].iter().all(|&c| c));
        assert!(t.sources.len() > 1, "{} file(s)", t.sources.len());
        // Each file declares every function and defines its share once.
        for f in ["f0", "f599"] {
            let definitions = t
                .sources
                .iter()
                .filter(|s| s.contains(&format!("CODE u32 {f}(")))
                .count();
            assert_eq!(definitions, 1, "{f}");
        }
        assert!(t
            .sources
            .iter()
            .all(|s| s.contains("HIDDEN u32 f599(u8 *, u32);")));
    }
}
