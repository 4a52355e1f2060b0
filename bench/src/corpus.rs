//! The modules the compile-throughput benchmark compiles: every module of the core
//! spec suite, and one large generated module.

use rivet_tests::pipeline::Kind;
use rivet_tests::prepare::{expected_to_compile, prepare, Prepared};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use wast::parser::{self, ParseBuffer};

/// One module to compile, named after where it came from.
pub struct Input {
    pub name: String,
    pub wasm: Vec<u8>,
}

/// The core spec suite beside the workspace (`../shared/testsuite/core`), unless
/// `RIVET_TESTSUITE_CORE` names another directory.
pub fn spec_dir() -> PathBuf {
    std::env::var_os("RIVET_TESTSUITE_CORE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite/core"),
        PathBuf::from,
    )
}

/// Every distinct module the `.wast` files in `dir` expect to be valid, in file
/// order. Scripts that do not parse are skipped (their names are returned too).
pub fn spec_modules(dir: &Path) -> Result<(Vec<Input>, Vec<String>), String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .collect();
    files.sort();
    let mut seen = HashSet::new();
    let mut inputs = Vec::new();
    let mut unparsed = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        match script_modules(file) {
            Ok(modules) => {
                for (i, wasm) in modules.into_iter().enumerate() {
                    if seen.insert(wasm.clone()) {
                        let name = format!("{name}#{i}");
                        inputs.push(Input { name, wasm });
                    }
                }
            }
            Err(e) => unparsed.push(format!("{name}: {e}")),
        }
    }
    Ok((inputs, unparsed))
}

/// The binaries of the modules a script expects to compile.
fn script_modules(file: &Path) -> Result<Vec<Vec<u8>>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let buffer = ParseBuffer::new(&text).map_err(|e| e.to_string())?;
    let mut script = parser::parse::<wast::Wast<'_>>(&buffer).map_err(|e| e.to_string())?;
    let prepared = prepare(&mut script.directives);
    Ok(script
        .directives
        .iter()
        .zip(prepared)
        .filter(|(directive, _)| expected_to_compile(directive))
        .filter_map(|(_, p)| match p {
            Some(Prepared::Binary(Kind::Module, wasm)) => Some(wasm),
            _ => None,
        })
        .collect())
}

/// A generated module of `functions` functions (each a loop mixing i32/i64/f64
/// arithmetic, loads and stores, a branch, a direct call and an indirect call),
/// exporting `run`. About 220 bytes of wasm per function.
pub fn generated(functions: usize) -> Result<Input, String> {
    let mut text = String::from("(module\n  (type $sig (func (param i32 i32) (result i32)))\n");
    let _ = writeln!(text, "  (memory (export \"memory\") 1)");
    let _ = writeln!(text, "  (table {functions} funcref)");
    let _ = writeln!(
        text,
        "  (elem (i32.const 0) func {})",
        function_names(functions)
    );
    for i in 0..functions {
        generated_function(&mut text, i);
    }
    let last = functions.saturating_sub(1);
    let _ = writeln!(
        text,
        "  (func (export \"run\") (param i32) (result i32)\n    (call $f{last} (local.get 0) (i32.const 64))))"
    );
    let wasm = wat::parse_str(&text).map_err(|e| format!("generated module: {e}"))?;
    Ok(Input {
        name: format!("generated ({functions} functions)"),
        wasm,
    })
}

fn function_names(functions: usize) -> String {
    (0..functions)
        .map(|i| format!("$f{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Function `i`: loops `b` times over a body whose constants depend on `i`, then
/// calls function `i - 1` directly (or through the table when `i` is odd) with
/// `b / 2`, so call depth stays logarithmic in `b`.
fn generated_function(text: &mut String, i: usize) {
    let k = (i as u32).wrapping_mul(2_654_435_761) | 1;
    let offset = (i % 64) * 16;
    let _ = write!(
        text,
        r#"  (func $f{i} (type $sig) (local $i i32) (local $acc i32) (local $t i64) (local $x f64)
    (local.set $acc (local.get 0))
    (block $exit
      (loop $top
        (br_if $exit (i32.ge_u (local.get $i) (local.get 1)))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const {k}))
                                 (i32.xor (local.get $i) (i32.const {offset}))))
        (i32.store offset={offset} (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0x7ffc))
                   (local.get $acc))
        (local.set $acc (i32.add (local.get $acc)
                                 (i32.load offset={offset} (i32.and (local.get $acc) (i32.const 0x7ff0)))))
        (local.set $t (i64.mul (i64.extend_i32_u (local.get $acc)) (i64.const {k})))
        (local.set $acc (i32.wrap_i64 (i64.rotl (local.get $t) (i64.const {rot}))))
        (local.set $x (f64.add (f64.mul (local.get $x) (f64.const 0.5))
                               (f64.convert_i32_s (local.get $acc))))
        (if (i32.and (local.get $acc) (i32.const 1))
          (then (local.set $acc (i32.rotl (local.get $acc) (i32.const 5))))
          (else (local.set $acc (i32.sub (local.get $acc) (i32.trunc_sat_f64_s (local.get $x))))))
        (i64.store offset={offset} (i32.and (local.get $acc) (i32.const 0x7ff8)) (local.get $t))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
"#,
        rot = i % 63 + 1,
    );
    let call = match i {
        0 => "(local.get $acc)".to_string(),
        _ if i % 2 == 1 => format!(
            "(call_indirect (type $sig) (local.get $acc) (i32.shr_u (local.get 1) (i32.const 1)) (i32.const {}))",
            i - 1
        ),
        _ => format!(
            "(call $f{} (local.get $acc) (i32.shr_u (local.get 1) (i32.const 1)))",
            i - 1
        ),
    };
    let _ = writeln!(
        text,
        "    (if (result i32) (local.get 1) (then {call}) (else (local.get $acc))))"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_module_validates_and_grows_with_its_function_count() {
        let small = generated(10).unwrap();
        let large = generated(20).unwrap();
        rivet_build::validate_module(&small.wasm, &Default::default()).unwrap();
        assert!(large.wasm.len() > small.wasm.len() + 10 * 200);
    }

    #[test]
    fn spec_modules_are_distinct_binaries() {
        let dir = spec_dir();
        assert!(
            dir.is_dir(),
            "the spec suite is missing at {}",
            dir.display()
        );
        let (inputs, _) = spec_modules(&dir).unwrap();
        assert!(inputs.len() > 100, "only {} modules", inputs.len());
        let distinct: HashSet<&[u8]> = inputs.iter().map(|m| &m.wasm[..]).collect();
        assert_eq!(distinct.len(), inputs.len());
        assert!(inputs.iter().all(|m| m.wasm.starts_with(b"\0asm")));
    }
}
