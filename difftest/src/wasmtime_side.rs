//! Running a case in Wasmtime, the oracle: the same calls, arguments and reads
//! as Rivet's side (`rivet_tests::differential::rivet_side`), into the same
//! outcome lines.

use rivet_tests::differential::generate::arguments;
use rivet_tests::differential::outcome::{Instantiated, Outcome, TrapCode};
use rivet_tests::differential::value::{ParamType, RefKind, Value};
use wasmtime::{Engine, Extern, HeapType, Instance, Module, Store, Trap, Val, ValType};

/// The engine: exactly the proposals Rivet compiles (docs/support.md) on, the
/// rest off (threads are: this build has no `threads` feature), so a module
/// one engine refuses is a finding, not noise.
pub fn engine() -> Result<Engine, String> {
    let mut config = wasmtime::Config::new();
    config
        .wasm_multi_memory(true)
        .wasm_simd(true)
        .wasm_relaxed_simd(false)
        .wasm_exceptions(true)
        .wasm_extended_const(true)
        .wasm_tail_call(false)
        .wasm_function_references(false)
        .wasm_gc(false)
        .wasm_wide_arithmetic(false)
        .wasm_memory64(false)
        // Rivet's default limit (`Store::set_max_wasm_stack`), so that deep
        // recursion runs out of stack at about the same depth in both.
        .max_wasm_stack(1 << 20);
    Engine::new(&config).map_err(|e| format!("configuring Wasmtime: {e}"))
}

/// The outcome of case `seed` (module `wasm`) in Wasmtime.
pub fn run(engine: &Engine, seed: u64, wasm: &[u8]) -> Outcome {
    let module = match Module::new(engine, wasm) {
        Ok(module) => module,
        Err(e) => return Outcome::refused(&format!("{e:#}")),
    };
    let mut store = Store::new(engine, ());
    let mut outcome = Outcome::default();
    let instance = match Instance::new(&mut store, &module, &[]) {
        Ok(instance) => instance,
        Err(error) => {
            outcome.instantiated(match trap_code(&error) {
                Some(code) => Instantiated::Trap(code),
                None => Instantiated::Error(format!("{error:#}")),
            });
            return outcome;
        }
    };
    outcome.instantiated(Instantiated::Ok);
    let names: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
    call_functions(&mut store, &instance, &names, seed, &mut outcome);
    read_state(&mut store, &instance, &names, &mut outcome);
    outcome
}

/// Calls every exported function, in export order.
fn call_functions(
    store: &mut Store<()>,
    instance: &Instance,
    names: &[String],
    seed: u64,
    outcome: &mut Outcome,
) {
    for (call, name) in names.iter().enumerate() {
        let Some(Extern::Func(func)) = instance.get_export(&mut *store, name) else {
            continue;
        };
        let ty = func.ty(&*store);
        let params: Vec<ParamType> = ty.params().map(|t| param_type(&t)).collect();
        let args: Vec<Val> = arguments(seed, call, &params)
            .into_iter()
            .map(to_val)
            .collect();
        let mut results = vec![Val::I32(0); ty.results().len()];
        let result = match func.call(&mut *store, &args, &mut results) {
            Ok(()) => Ok(results.iter().map(from_val).collect()),
            Err(error) => {
                Err(trap_code(&error).unwrap_or_else(|| TrapCode::Other(format!("{error:#}"))))
            }
        };
        // An uncaught exception stays pending in the store until taken.
        let _ = store.take_pending_exception();
        outcome.call(name, result);
    }
}

/// Reads every exported global, memory and table, in export order.
fn read_state(store: &mut Store<()>, instance: &Instance, names: &[String], outcome: &mut Outcome) {
    for name in names {
        match instance.get_export(&mut *store, name) {
            Some(Extern::Global(global)) => {
                outcome.global(name, from_val(&global.get(&mut *store)))
            }
            Some(Extern::Memory(memory)) => {
                outcome.memory(name, memory.size(&*store), memory.data(&*store))
            }
            Some(Extern::Table(table)) => {
                let size = table.size(&*store);
                let nulls: Vec<bool> = (0..size)
                    .map(|i| table.get(&mut *store, i).is_some_and(|r| r.is_null()))
                    .collect();
                outcome.table(name, nulls.into_iter());
            }
            _ => {}
        }
    }
}

/// The trap kind of a failed call or instantiation, if it is a trap.
fn trap_code(error: &wasmtime::Error) -> Option<TrapCode> {
    if error.is::<wasmtime::ThrownException>() {
        return Some(TrapCode::UncaughtException);
    }
    let trap = error.downcast_ref::<Trap>()?;
    Some(match trap {
        Trap::StackOverflow => TrapCode::StackOverflow,
        Trap::UnreachableCodeReached => TrapCode::Unreachable,
        Trap::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        Trap::TableOutOfBounds => TrapCode::TableOutOfBounds,
        Trap::IndirectCallToNull => TrapCode::IndirectCallToNull,
        Trap::BadSignature => TrapCode::BadSignature,
        Trap::IntegerDivisionByZero => TrapCode::IntegerDivideByZero,
        Trap::IntegerOverflow => TrapCode::IntegerOverflow,
        Trap::BadConversionToInteger => TrapCode::BadConversionToInteger,
        Trap::NullReference => TrapCode::NullReference,
        other => TrapCode::Other(other.to_string()),
    })
}

fn param_type(ty: &ValType) -> ParamType {
    match ty {
        ValType::I32 => ParamType::I32,
        ValType::I64 => ParamType::I64,
        ValType::F32 => ParamType::F32,
        ValType::F64 => ParamType::F64,
        ValType::V128 => ParamType::V128,
        ValType::Ref(r) => ParamType::Ref(ref_kind(r.heap_type())),
    }
}

fn ref_kind(heap: &HeapType) -> RefKind {
    match heap.top() {
        HeapType::Extern => RefKind::Extern,
        HeapType::Exn => RefKind::Exn,
        // Without GC and function references, the only other top is `func`.
        _ => RefKind::Func,
    }
}

fn to_val(value: Value) -> Val {
    match value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(bits),
        Value::F64(bits) => Val::F64(bits),
        Value::V128(bits) => Val::V128(bits.into()),
        Value::Null(RefKind::Func) => Val::FuncRef(None),
        Value::Null(RefKind::Extern) => Val::ExternRef(None),
        Value::Null(RefKind::Exn) => Val::ExnRef(None),
        Value::NonNull(kind) => unreachable!("the generator makes no {kind:?} references"),
    }
}

fn from_val(val: &Val) -> Value {
    match val {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(bits) => Value::F32(*bits),
        Val::F64(bits) => Value::F64(*bits),
        Val::V128(bits) => Value::V128(bits.as_u128()),
        Val::FuncRef(f) => Value::reference(RefKind::Func, f.is_none()),
        Val::ExternRef(r) => Value::reference(RefKind::Extern, r.is_none()),
        Val::ExnRef(e) => Value::reference(RefKind::Exn, e.is_none()),
        Val::AnyRef(_) | Val::ContRef(_) => {
            unreachable!("{val:?}: GC and stack switching are off in `engine()`")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivet_tests::differential::outcome::{compare, Verdict};
    use rivet_tests::differential::rivet_side::run_batch;
    use rivet_tests::pipeline::Mode;

    const MODULE: &str = r#"(module
        (memory (export "m") 1 2)
        (global (export "g") (mut i32) (i32.const 7))
        (table (export "t") 2 2 funcref)
        (func (export "div") (param i32 i32) (result i32)
          (global.set 0 (i32.const 9))
          (i32.store (i32.const 8) (local.get 0))
          (i32.div_s (local.get 0) (local.get 1)))
        (func (export "oob") (i32.store (i32.const 65535) (i32.const 1))))"#;

    #[test]
    fn both_engines_record_the_same_lines() {
        let wasm = wat::parse_str(MODULE).unwrap();
        let wasmtime = run(&engine().unwrap(), 3, &wasm);
        assert_eq!(wasmtime.lines[0], "instantiate: ok");
        assert!(
            wasmtime.lines[1].starts_with("call \"div\": "),
            "{:?}",
            wasmtime.lines
        );
        assert_eq!(wasmtime.lines[2], "call \"oob\": trap memory-out-of-bounds");
        assert!(wasmtime.lines.contains(&"global \"g\": i32:9".to_string()));
        assert!(wasmtime
            .lines
            .iter()
            .any(|l| l.starts_with("table \"t\": size 2 ")));
        for mode in Mode::ALL {
            let rivet = run_batch(&[(3, wasm.clone())], mode);
            assert_eq!(
                compare(&wasmtime, &rivet[0]),
                Verdict::Agree(vec![]),
                "{mode:?}"
            );
        }
    }

    #[test]
    fn a_module_wasmtime_refuses_is_recorded_as_refused() {
        let outcome = run(&engine().unwrap(), 0, b"\0asm\x01\0\0\0\x7f");
        assert_eq!(outcome.lines.len(), 1);
        assert!(
            outcome.lines[0].starts_with("compile: refused ("),
            "{:?}",
            outcome.lines
        );
    }
}
