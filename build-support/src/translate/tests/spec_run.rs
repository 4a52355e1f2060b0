//! Runs the spec suite's `assert_return`s natively, for the modules the test
//! instance can build without a runtime (no imports), with the test
//! builtins. Globals, segments and the start function are set up here. Calls go through one catch-all native signature: on
//! x86-64 System V, integer and float arguments take separate register
//! sequences, so passing every integer as `i64` and every float as `f64` bits
//! lines up with any wasm signature of up to five integer and eight float
//! parameters; the result is read from `rax` or `xmm0`. Traps would end the
//! process, so `assert_trap` and friends are left to the full runner.

use super::run::{Imports, Instance};
use super::testsuite::wast_files;
use rivet_descriptor::BoundsMode;
use std::collections::HashMap;
use std::path::Path;
use wasmparser::{ExternalKind, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastRet};

/// The catch-all native signature, with the result in `rax` (`R = i64`) or
/// `xmm0` (`R = f64`).
type Native<R> =
    extern "C" fn(*mut u8, i64, i64, i64, i64, i64, f64, f64, f64, f64, f64, f64, f64, f64) -> R;

/// A module under test: its instance and its exported functions.
struct Current {
    inst: Instance,
    exports: Exports,
}

/// Outcome counts.
#[derive(Default, Debug)]
struct Counts {
    passed: usize,
    skipped: usize,
    failures: Vec<String>,
}

/// The exports of a module, by name: defined index and type.
type Exports = HashMap<String, (u32, wasmparser::FuncType)>;

/// What the test instance of `wasm` imports, and its exported functions; or
/// `None` when the module needs more than the test instance provides (imports
/// other than `spectest`'s) or uses SIMD, whose vectors the catch-all native
/// signature cannot pass (the full runner and [`super::simd_run`] cover SIMD).
fn plan(wasm: &[u8]) -> Option<(Exports, Imports)> {
    let features = (WasmFeatures::WASM2 | WasmFeatures::MULTI_MEMORY) - WasmFeatures::SIMD;
    Validator::new_with_features(features)
        .validate_all(wasm)
        .ok()?;
    let mut types = vec![];
    let mut functions = vec![];
    let mut imports = Imports::default();
    let mut exports = HashMap::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::ImportSection(r) => {
                for import in r.into_imports() {
                    if let TypeRef::Func(t) = spectest_import(&import.ok()?, &mut imports)? {
                        functions.push(t);
                    }
                }
            }
            Payload::TypeSection(r) => {
                for t in r.into_iter_err_on_gc_types() {
                    types.push(t.ok()?);
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    functions.push(f.ok()?);
                }
            }
            Payload::ExportSection(r) => {
                let imported = functions.len() - count_defined(wasm)?;
                for e in r {
                    let e = e.ok()?;
                    let Some(defined) = (e.index as usize).checked_sub(imported) else {
                        continue;
                    };
                    if e.kind == ExternalKind::Func {
                        let ty = types[functions[e.index as usize] as usize].clone();
                        exports.insert(e.name.to_string(), (defined as u32, ty));
                    }
                }
            }
            _ => {}
        }
    }
    Some((exports, imports))
}

/// Number of defined functions of a module.
fn count_defined(wasm: &[u8]) -> Option<usize> {
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::FunctionSection(r) = payload.ok()? {
            return Some(r.count() as usize);
        }
    }
    Some(0)
}

/// Records what one import of the `spectest` module provides (the values and
/// sizes the spec interpreter's `spectest` module has); `None` for any other
/// import.
fn spectest_import(import: &wasmparser::Import, imports: &mut Imports) -> Option<TypeRef> {
    if import.module != "spectest" {
        return None;
    }
    match (import.name, import.ty) {
        (name, TypeRef::Func(_)) if name.starts_with("print") => {}
        ("global_i32", TypeRef::Global(_)) => imports.globals.push(666),
        ("global_i64", TypeRef::Global(_)) => imports.globals.push(666),
        ("global_f32", TypeRef::Global(_)) => imports.globals.push(666.6f32.to_bits().into()),
        ("global_f64", TypeRef::Global(_)) => imports.globals.push(666.6f64.to_bits()),
        ("memory", TypeRef::Memory(_)) => imports.memories.push((1, Some(2))),
        ("table", TypeRef::Table(_)) => imports.tables.push((10, Some(20))),
        _ => return None,
    }
    Some(import.ty)
}

/// The value of global `g` of an instance, as slot bits.
fn global_value(inst: &Instance, g: u32) -> u64 {
    let slot = inst.read_i64(inst.layout.global_pointer(g)) as usize;
    // SAFETY: global pointers of a test instance point at live slots.
    unsafe { (slot as *const u64).read_unaligned() }
}

/// The value of a constant expression, as the bits of its slot.
fn const_value(inst: &Instance, expr: &wasmparser::ConstExpr) -> Option<u64> {
    use wasmparser::Operator::*;
    let mut reader = expr.get_operators_reader();
    Some(match reader.read().ok()? {
        I32Const { value } => u64::from(value as u32),
        I64Const { value } => value as u64,
        F32Const { value } => u64::from(value.bits()),
        F64Const { value } => value.bits(),
        RefNull { .. } => 0,
        RefFunc { function_index } => inst.address(inst.layout.funcref(function_index)) as u64,
        GlobalGet { global_index } => global_value(inst, global_index),
        _ => return None,
    })
}

/// Sets the globals, copies active data and element segments, and runs the
/// start function; `None` when a segment does not fit (the module would fail
/// to instantiate).
fn initialize(inst: &mut Instance, wasm: &[u8]) -> Option<()> {
    let mut start = None;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::GlobalSection(r) => {
                for (i, g) in r.into_iter().enumerate() {
                    let value = const_value(inst, &g.ok()?.init_expr)?;
                    inst.write(inst.layout.defined_global(i as u32), value);
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    copy_data(inst, d.ok()?)?;
                }
            }
            Payload::ElementSection(r) => {
                for e in r {
                    copy_elements(inst, e.ok()?)?;
                }
            }
            Payload::StartSection { func, .. } => start = Some(func),
            _ => {}
        }
    }
    // An imported start function is a no-op here.
    if let Some(f) = start.and_then(|f| f.checked_sub(inst.layout.imported_functions)) {
        call(inst, f, &[], &[], false);
    }
    Some(())
}

/// Copies an active data segment into its memory (it is dropped then);
/// keeps a passive one for `memory.init`.
fn copy_data(inst: &mut Instance, data: wasmparser::Data) -> Option<()> {
    match data.kind {
        wasmparser::DataKind::Passive => inst.record.data.push(data.data.to_vec()),
        wasmparser::DataKind::Active {
            memory_index,
            offset_expr,
        } => {
            let offset = const_value(inst, &offset_expr)? as u32;
            let rec = &mut inst.record;
            let memory = &mut rec.memories[memory_index as usize];
            let end = offset as usize + data.data.len();
            memory
                .get_mut(offset as usize..end)?
                .copy_from_slice(data.data);
            rec.data.push(vec![]);
        }
    }
    Some(())
}

/// Copies an active element segment into its table (it is dropped then, as
/// declared ones are); keeps a passive one for `table.init`.
fn copy_elements(inst: &mut Instance, element: wasmparser::Element) -> Option<()> {
    let mut items = vec![];
    match element.items {
        wasmparser::ElementItems::Functions(r) => {
            for f in r {
                items.push(inst.address(inst.layout.funcref(f.ok()?)));
            }
        }
        wasmparser::ElementItems::Expressions(_, r) => {
            for e in r {
                items.push(const_value(inst, &e.ok()?)? as usize);
            }
        }
    }
    match element.kind {
        wasmparser::ElementKind::Passive => inst.record.elements.push(items),
        wasmparser::ElementKind::Declared => inst.record.elements.push(vec![]),
        wasmparser::ElementKind::Active {
            table_index,
            offset_expr,
        } => {
            let offset = const_value(inst, &offset_expr)? as u32 as usize;
            let table = &mut inst.record.tables[table_index.unwrap_or(0) as usize];
            table
                .get_mut(offset..offset + items.len())?
                .copy_from_slice(&items);
            inst.record.elements.push(vec![]);
        }
    }
    Some(())
}

/// The non-null handle standing for the script's `ref.extern n`.
fn extern_handle(n: u32) -> i64 {
    i64::from(n) + 1
}

/// Integer and float register arguments of an invocation, if they fit.
fn arguments(args: &[WastArg]) -> Option<(Vec<i64>, Vec<f64>)> {
    let (mut ints, mut floats) = (vec![], vec![]);
    for arg in args {
        match arg {
            WastArg::Core(WastArgCore::I32(x)) => ints.push(i64::from(*x)),
            WastArg::Core(WastArgCore::I64(x)) => ints.push(*x),
            WastArg::Core(WastArgCore::F32(x)) => floats.push(f64::from_bits(u64::from(x.bits))),
            WastArg::Core(WastArgCore::F64(x)) => floats.push(f64::from_bits(x.bits)),
            WastArg::Core(WastArgCore::RefNull(_)) => ints.push(0),
            WastArg::Core(WastArgCore::RefExtern(n)) => ints.push(extern_handle(*n)),
            _ => return None,
        }
    }
    (ints.len() <= 5 && floats.len() <= 8).then_some((ints, floats))
}

/// Calls defined function `index` with the arguments; the raw bits of its
/// result (if any).
fn call(inst: &Instance, index: u32, ints: &[i64], floats: &[f64], float_result: bool) -> u64 {
    let mut i = [0i64; 5];
    i[..ints.len()].copy_from_slice(ints);
    let mut f = [0f64; 8];
    f[..floats.len()].copy_from_slice(floats);
    let (code, vmctx) = (inst.code(index), inst.vmctx());
    if float_result {
        native::<f64>(code)(
            vmctx, i[0], i[1], i[2], i[3], i[4], f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
        )
        .to_bits()
    } else {
        native::<i64>(code)(
            vmctx, i[0], i[1], i[2], i[3], i[4], f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
        ) as u64
    }
}

/// A compiled function's address as the catch-all signature.
fn native<R>(code: usize) -> Native<R> {
    // SAFETY: `code` is a compiled wasm function; see the module
    // documentation for why any of its signatures is reached this way.
    unsafe { std::mem::transmute::<usize, Native<R>>(code) }
}

/// Whether a result matches the expected one (wasm NaN patterns included).
fn matches(expected: &WastRetCore, bits: u64) -> bool {
    let nan32 = |p: &NanPattern<wast::token::F32>, bits: u32| match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    };
    let nan64 = |p: &NanPattern<wast::token::F64>, bits: u64| match p {
        NanPattern::CanonicalNan => bits & (u64::MAX >> 1) == 0x7ff8 << 48,
        NanPattern::ArithmeticNan => bits & (0x7ff8 << 48) == 0x7ff8 << 48,
        NanPattern::Value(v) => v.bits == bits,
    };
    match expected {
        WastRetCore::I32(x) => bits as u32 == *x as u32,
        WastRetCore::I64(x) => bits == *x as u64,
        WastRetCore::F32(p) => nan32(p, bits as u32),
        WastRetCore::F64(p) => nan64(p, bits),
        WastRetCore::RefNull(_) => bits == 0,
        WastRetCore::RefExtern(Some(n)) => bits == extern_handle(*n) as u64,
        WastRetCore::RefExtern(None) | WastRetCore::RefFunc(None) => bits != 0,
        _ => false,
    }
}

/// Runs one `assert_return` against the current module.
fn assert_return(
    current: &Current,
    invoke: &wast::WastInvoke,
    results: &[WastRet],
    counts: &mut Counts,
) {
    let Some((index, ty)) = current.exports.get(invoke.name) else {
        return counts.skipped += 1;
    };
    let (Some((ints, floats)), [] | [WastRet::Core(_)]) = (arguments(&invoke.args), results) else {
        return counts.skipped += 1;
    };
    let float_result = matches!(ty.results(), [ValType::F32 | ValType::F64]);
    let bits = call(&current.inst, *index, &ints, &floats, float_result);
    match results {
        [WastRet::Core(expected)] if !matches(expected, bits) => counts.failures.push(format!(
            "{}: got {bits:#x}, expected {expected:?}",
            invoke.name
        )),
        _ => counts.passed += 1,
    }
}

/// Runs the assertions of one script.
fn run_script(path: &Path, bounds: BoundsMode, counts: &mut Counts) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lexer = wast::lexer::Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buf = wast::parser::ParseBuffer::new_with_lexer(lexer).unwrap();
    let script: wast::Wast = wast::parser::parse(&buf).unwrap();
    let mut current: Option<Current> = None;
    for directive in script.directives {
        match directive {
            WastDirective::Module(QuoteWat::Wat(mut w)) => {
                current = w.encode().ok().and_then(|wasm| {
                    let (exports, imports) = plan(&wasm)?;
                    let wasm = Box::leak(wasm.into_boxed_slice());
                    let builtins = super::builtins::table();
                    let mut inst = Instance::from_wasm(wasm, builtins, bounds, &imports);
                    initialize(&mut inst, wasm)?;
                    Some(Current { inst, exports })
                });
            }
            WastDirective::AssertReturn {
                exec: WastExecute::Invoke(invoke),
                results,
                ..
            } => match &current {
                Some(c) if invoke.module.is_none() => assert_return(c, &invoke, &results, counts),
                _ => counts.skipped += 1,
            },
            // Invocations for their effects on the module's state.
            WastDirective::Invoke(invoke) => {
                if let Some(c) = current.as_ref().filter(|_| invoke.module.is_none()) {
                    assert_return(c, &invoke, &[], counts);
                }
            }
            _ => {}
        }
    }
}

/// Every `assert_return` of the core and multi-memory suites that the test
/// instance can run returns the expected value, in both bounds modes.
#[test]
fn spec_suite_assertions_return_expected_values() {
    let mut counts = Counts::default();
    for dir in ["core", "multi-memory"] {
        for path in wast_files(dir) {
            for bounds in [BoundsMode::Guard, BoundsMode::Explicit] {
                run_script(&path, bounds, &mut counts);
            }
        }
    }
    eprintln!(
        "spec assertions run natively: {} passed, {} skipped",
        counts.passed, counts.skipped
    );
    assert!(counts.failures.is_empty(), "{:#?}", counts.failures);
    assert!(counts.passed > 40000, "{counts:?}");
}
