//! The translator's tests: translate modules and compile every function with
//! Cranelift's verifier on, for the host ([`spec`] does so for the spec
//! suites), and run some of them natively ([`run`]).

mod builtins;
mod run;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod simd_run;
mod spec;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod spec_run;
/// The conformance suites' location, shared with the integration tests.
#[path = "../../../tests/testsuite/mod.rs"]
mod testsuite;
mod traps;

use super::translate_function;
use crate::env::{val_type, ModuleEnv};
use crate::{Error, ErrorKind};
use cranelift_codegen::ir::{Function, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use rivet_descriptor::{
    BoundsMode, FuncType, GlobalType, MemoryType, ModuleCounts, TableType, VmctxLayout,
};
use wasmparser::{Parser, Payload, TypeRef, Validator};

/// The host ISA with the IR verifier enabled, with the implicit return area
/// the native convention uses for more results than fit registers, and
/// position-independent so that [`run`] can link code into a shared library.
fn host_isa() -> OwnedTargetIsa {
    let mut flags = settings::builder();
    flags.set("is_pic", "true").unwrap();
    flags.set("enable_verifier", "true").unwrap();
    flags.set("enable_multi_ret_implicit_sret", "true").unwrap();
    let isa = cranelift_native::builder().unwrap();
    isa.finish(settings::Flags::new(flags)).unwrap()
}

/// Rivet's type of a wasmparser table type.
fn table_type(t: &wasmparser::TableType) -> TableType {
    TableType {
        element: val_type(wasmparser::ValType::Ref(t.element_type)),
        minimum: t.initial,
        maximum: t.maximum,
    }
}

/// Rivet's type of a wasmparser memory type; 64-bit and shared memories are
/// for the decoder to reject, so tests skip modules with them.
fn memory_type(m: &wasmparser::MemoryType) -> Option<MemoryType> {
    (!m.memory64 && !m.shared).then_some(MemoryType {
        minimum: m.initial,
        maximum: m.maximum,
    })
}

fn global_type(g: &wasmparser::GlobalType) -> GlobalType {
    GlobalType {
        content: val_type(g.content_type),
        mutable: g.mutable,
    }
}

/// A minimal decoder for tests: the parts of a module the translator reads.
/// `Ok(None)` for modules with memories Rivet does not support.
fn module_env<'a>(
    wasm: &'a [u8],
    isa: &OwnedTargetIsa,
    bounds: BoundsMode,
) -> Result<Option<ModuleEnv<'a>>, Error> {
    let mut env = ModuleEnv {
        isa: isa.clone(),
        bounds,
        types: vec![],
        functions: vec![],
        imported_functions: 0,
        tables: vec![],
        imported_tables: 0,
        memories: vec![],
        imported_memories: 0,
        globals: vec![],
        imported_globals: 0,
        tags: vec![],
        exceptions: false,
        exception_boundary: false,
        layout: VmctxLayout::new(&ModuleCounts::default()),
        bodies: vec![],
        names: Default::default(),
        callee_names: vec![],
        direct_imports: vec![],
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    let ty = ty?;
                    let params = ty.params().iter().map(|t| val_type(*t)).collect();
                    let results = ty.results().iter().map(|t| val_type(*t)).collect();
                    env.types.push(FuncType { params, results });
                }
            }
            Payload::ImportSection(r) => {
                for import in r.into_imports() {
                    match import?.ty {
                        TypeRef::Func(t) => {
                            env.functions.push(t);
                            env.imported_functions += 1;
                        }
                        TypeRef::Table(t) => {
                            env.tables.push(table_type(&t));
                            env.imported_tables += 1;
                        }
                        TypeRef::Memory(m) => {
                            let Some(m) = memory_type(&m) else {
                                return Ok(None);
                            };
                            env.memories.push(m);
                            env.imported_memories += 1;
                        }
                        TypeRef::Global(g) => {
                            env.globals.push(global_type(&g));
                            env.imported_globals += 1;
                        }
                        _ => return Ok(None),
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    env.functions.push(t?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    env.tables.push(table_type(&t?.ty));
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let Some(m) = memory_type(&m?) else {
                        return Ok(None);
                    };
                    env.memories.push(m);
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    env.globals.push(global_type(&g?.ty));
                }
            }
            Payload::CodeSectionEntry(body) => env.bodies.push(body),
            _ => {}
        }
    }
    env.callee_names = (0..env.bodies.len() as u32).collect();
    env.layout = VmctxLayout::new(&ModuleCounts {
        types: env.types.len() as u32,
        imported_functions: env.imported_functions,
        memories: env.memories.len() as u32,
        tables: env.tables.len() as u32,
        globals: env.globals.len() as u32,
        defined_memories: env.memories.len() as u32 - env.imported_memories,
        defined_tables: env.tables.len() as u32 - env.imported_tables,
        defined_globals: env.globals.len() as u32 - env.imported_globals,
        functions: env.functions.len() as u32,
        ..ModuleCounts::default()
    });
    Ok(Some(env))
}

/// Translates defined function `i` of `env` into a fresh function.
fn translate(env: &ModuleEnv, i: u32, ctx: &mut FunctionBuilderContext) -> Result<Function, Error> {
    let ty = env.functions[(env.imported_functions + i) as usize];
    let mut func = Function::with_name_signature(UserFuncName::user(0, i), env.wasm_signature(ty));
    translate_function(env, i, &mut func, ctx)?;
    Ok(func)
}

/// Translates and compiles every function of `env`; the number compiled.
fn compile_all(env: &ModuleEnv) -> Result<usize, Error> {
    let mut builder_ctx = FunctionBuilderContext::new();
    for i in 0..env.bodies.len() as u32 {
        let func = translate(env, i, &mut builder_ctx)?;
        let mut ctx = Context::for_function(func);
        ctx.compile(&*env.isa, &mut Default::default())
            .map_err(|e| Error::new(ErrorKind::Internal, format!("function {i}: {:?}", e.inner)))?;
    }
    Ok(env.bodies.len())
}

/// Compiles a WAT module in both bounds modes; the number of functions.
fn compile_wat(wat: &str) -> Result<usize, Error> {
    let wasm = wat::parse_str(wat).unwrap();
    Validator::new().validate_all(&wasm).unwrap();
    let isa = host_isa();
    let mut n = 0;
    for bounds in [BoundsMode::Guard, BoundsMode::Explicit] {
        let env = module_env(&wasm, &isa, bounds)?.expect("supported memories");
        n = compile_all(&env)?;
    }
    Ok(n)
}

/// The CLIF text of function 0 of a WAT module.
fn clif_of(wat: &str, bounds: BoundsMode) -> String {
    let wasm = wat::parse_str(wat).unwrap();
    let isa = host_isa();
    let env = module_env(&wasm, &isa, bounds).unwrap().unwrap();
    let func = translate(&env, 0, &mut FunctionBuilderContext::new()).unwrap();
    func.display().to_string()
}

#[test]
fn control_flow_with_multi_value_blocks() {
    let n = compile_wat(
        r#"(module
          (func (param i32 i64) (result i64 i32)
            local.get 1 local.get 0
            block (param i64 i32) (result i64 i32)
              local.get 0 br_if 0
              drop i32.const 7
            end)
          (func (param i32) (result i32)
            (local f64 i64)
            local.get 0
            loop (param i32) (result i32)
              i32.const 1 i32.sub local.tee 0
              local.get 0 br_if 0
            end)
          (func (param i32) (result i32 i32)
            i32.const 1 i32.const 2 local.get 0
            if (param i32 i32) (result i32 i32) i32.add i32.const 3 else end)
          (func (param i32) (result i32)
            block (result i32) block (result i32)
              i32.const 5 local.get 0 br_table 0 1 0
            end end)
          (func (result i32)
            unreachable block (result i32) unreachable i32.add end br 0
            if (result i32) i32.const 1 else i32.const 2 end)
          (func (param i32) (result i32)
            local.get 0 if (result i32) i32.const 1 return else i32.const 2 br 0 end)
          (func (param i32 i32 i32) (result i32)
            local.get 0 local.get 1 local.get 2 select)
          (func (param f64 f64 i32) (result f64)
            local.get 0 local.get 1 local.get 2 select (result f64)))"#,
    );
    assert_eq!(n.unwrap(), 8);
}

#[test]
fn every_numeric_operator_compiles() {
    let mut body = String::new();
    for ty in ["i32", "i64"] {
        for op in [
            "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl",
            "shr_s", "shr_u", "rotl", "rotr", "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s",
            "le_u", "ge_s", "ge_u",
        ] {
            body += &format!("({ty}.const 1) ({ty}.const 2) ({ty}.{op}) drop\n");
        }
        for op in ["clz", "ctz", "popcnt", "eqz", "extend8_s", "extend16_s"] {
            body += &format!("({ty}.const 3) ({ty}.{op}) drop\n");
        }
        for f in ["f32", "f64"] {
            for op in ["trunc", "trunc_sat"] {
                for s in ["s", "u"] {
                    body += &format!("({f}.const 1.5) ({ty}.{op}_{f}_{s}) drop\n");
                    body += &format!("({ty}.const 9) ({f}.convert_{ty}_{s}) drop\n");
                }
            }
        }
    }
    for ty in ["f32", "f64"] {
        for op in [
            "add", "sub", "mul", "div", "min", "max", "copysign", "eq", "ne", "lt",
        ] {
            body += &format!("({ty}.const 1) ({ty}.const nan) ({ty}.{op}) drop\n");
        }
        for op in ["gt", "le", "ge"] {
            body += &format!("({ty}.const 1) ({ty}.const -0) ({ty}.{op}) drop\n");
        }
        for op in ["abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest"] {
            body += &format!("({ty}.const 2.5) ({ty}.{op}) drop\n");
        }
    }
    body += "(i64.const 1) (i32.wrap_i64) (i64.extend_i32_s) (i32.wrap_i64) (i64.extend_i32_u)
        (i64.extend32_s) (f64.reinterpret_i64) (f32.demote_f64) (i32.reinterpret_f32)
        (f32.reinterpret_i32) (f64.promote_f32) (i64.reinterpret_f64) drop";
    let n = compile_wat(&format!("(module (func {body}))"));
    assert_eq!(n.unwrap(), 1);
}

#[test]
fn memories_globals_tables_and_calls() {
    let n = compile_wat(
        r#"(module
          (import "m" "f" (func $imp (param i32) (result i32)))
          (import "m" "mem" (memory 1))
          (import "m" "g" (global $g (mut i64)))
          (import "m" "t" (table 1 funcref))
          (memory $m1 1 2)
          (table $t2 3 externref)
          (global $h (mut f32) (f32.const 1))
          (type $sig (func (param i32) (result i32)))
          (data $d "hello")
          (elem $e func $imp $f)
          (func $f (param i32) (result i32)
            (i32.load offset=4 (local.get 0))
            (i64.load32_u $m1 offset=0xffff_fff0 (local.get 0))
            (i32.wrap_i64) (i32.add)
            (i32.store8 (local.get 0) (i32.const 255))
            (f64.store $m1 (i32.const 8) (f64.const 1))
            (global.set $g (i64.add (global.get $g) (i64.const 1)))
            (global.set $h (global.get $h))
            (drop (memory.grow $m1 (i32.const 1)))
            (drop (memory.size))
            (memory.fill (i32.const 0) (i32.const 0) (i32.const 4))
            (memory.copy 0 $m1 (i32.const 0) (i32.const 0) (i32.const 4))
            (memory.init $d (i32.const 0) (i32.const 0) (i32.const 4))
            (data.drop $d)
            (call $imp) (call $f)
            (call_indirect (type $sig) (i32.const 0)))
          (func (param externref) (result i32)
            (table.set $t2 (i32.const 0) (local.get 0))
            (drop (table.get $t2 (i32.const 0)))
            (drop (table.grow $t2 (ref.null extern) (i32.const 1)))
            (table.fill $t2 (i32.const 0) (local.get 0) (i32.const 1))
            (table.copy 0 0 (i32.const 0) (i32.const 0) (i32.const 1))
            (table.init 0 $e (i32.const 0) (i32.const 0) (i32.const 1))
            (elem.drop $e)
            (drop (ref.is_null (ref.func $f)))
            (table.size $t2)))"#,
    );
    assert_eq!(n.unwrap(), 2);
}

#[test]
fn stack_limit_is_loaded_through_the_store() {
    let clif = clif_of("(module (func))", BoundsMode::Guard);
    assert!(clif.contains("stack_limit"), "{clif}");
    assert!(clif.contains("vmctx"), "{clif}");
}

#[test]
fn bounds_checks_follow_the_mode() {
    let wat = "(module (memory 1) (func (param i32) (result i32) (i32.load (local.get 0))))";
    let guard = clif_of(wat, BoundsMode::Guard);
    let explicit = clif_of(wat, BoundsMode::Explicit);
    assert!(!guard.contains("trapnz"), "{guard}");
    assert!(explicit.contains("trapnz"), "{explicit}");
    assert!(explicit.contains("icmp ugt"), "{explicit}");
    // An access is checked in guard mode exactly when it may end past the
    // guard after the 4 GiB: its offset plus size exceeds `GUARD_BYTES`.
    let load_at = |offset: u64| {
        let wat = format!(
            "(module (memory 1) (func (param i32) (result i32)
                (i32.load offset={offset} (local.get 0))))"
        );
        clif_of(&wat, BoundsMode::Guard).contains("trapnz")
    };
    assert!(!load_at(rivet_descriptor::GUARD_BYTES - 4));
    assert!(load_at(rivet_descriptor::GUARD_BYTES - 3));
    assert!(load_at(0x7fff_fffe));
}

#[test]
fn direct_calls_use_the_emitters_names() {
    let clif = clif_of("(module (func $a (call $b)) (func $b))", BoundsMode::Guard);
    assert!(clif.contains("u0:1"), "{clif}");
    assert!(clif.contains("colocated"), "{clif}");
}

/// `v128` values stay `I8X16` across locals and blocks; operators see their
/// lane type through bitcasts.
#[test]
fn simd_values_are_i8x16_between_operators() {
    let clif = clif_of(
        "(module (func (param v128) (result i32) (local v128)
           (local.set 1 (i32x4.add (local.get 0) (local.get 0)))
           (block (result v128) (local.get 1))
           (i32x4.extract_lane 3)))",
        BoundsMode::Guard,
    );
    assert!(clif.contains("i8x16"), "{clif}");
    assert!(clif.contains("iadd"), "{clif}");
    assert!(clif.contains("bitcast.i32x4"), "{clif}");
    assert!(clif.contains("extractlane"), "{clif}");
}

/// Number of conditional branches in function 0 of `env`.
fn conditional_branches(env: &ModuleEnv) -> usize {
    use cranelift_codegen::ir::Opcode;
    let f = translate(env, 0, &mut FunctionBuilderContext::new()).unwrap();
    f.layout
        .blocks()
        .flat_map(|b| f.layout.block_insts(b))
        .filter(|i| f.dfg.insts[*i].opcode() == Opcode::Brif)
        .count()
}

#[test]
fn only_exception_aware_code_tests_for_an_exception_after_calls() {
    let wasm = wat::parse_str("(module (func (call 1) (call 1)) (func))").unwrap();
    let isa = host_isa();
    let mut env = module_env(&wasm, &isa, BoundsMode::Guard).unwrap().unwrap();
    assert_eq!(conditional_branches(&env), 0);
    env.exceptions = true;
    assert_eq!(conditional_branches(&env), 2);
}

#[test]
fn every_catch_kind_compiles_under_the_verifier() {
    let wat = r#"(module
      (type $tt (func (param i32 i64)))
      (tag $t (type $tt))
      (func $f (param i32) (result i32)
        (block $ref (result i32 i64 exnref)
          (block $all (result exnref)
            (block $none
              (block $one (result i32 i64)
                (try_table (catch $t $one) (catch_ref $t $ref) (catch_all $none)
                           (catch_all_ref $all)
                  (local.get 0)
                  (try_table (param i32) (catch $t $one)
                    (if (then (throw $t (i32.const 1) (i64.const 2)))))
                  (call $f (local.get 0))
                  (drop))
                (return (i32.const 0)))
              (drop)
              (return))
            (return (i32.const 2)))
          (throw_ref))
        (throw_ref)))"#;
    let wasm = wat::parse_str(wat).unwrap();
    let features = crate::decode::features(true);
    Validator::new_with_features(features)
        .validate_all(&wasm)
        .unwrap();
    let isa = host_isa();
    for bounds in [BoundsMode::Guard, BoundsMode::Explicit] {
        let mut env = module_env(&wasm, &isa, bounds).unwrap().unwrap();
        env.tags = vec![0];
        env.exceptions = true;
        assert_eq!(compile_all(&env).unwrap(), 1);
    }
}
