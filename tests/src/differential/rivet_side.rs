//! Running cases in Rivet: a batch of modules compiled into one unit through
//! the real pipeline (object, `cc -shared`, `dlopen`), then each module
//! instantiated in its own store and driven as [`super`] describes.

use super::each_if_refused;
use super::generate::arguments;
use super::outcome::{Instantiated, Outcome, TrapCode, UNKNOWN_TRAP};
use super::value::{ParamType, RefKind, Value};
use crate::loader::{compile_and_load_unit, LoadedUnit};
use crate::pipeline::Mode;
use crate::runner::SCRIPT_STACK;
use rivet::{Error, Extern, ExternType, Module, Store, TrapKind, Val, ValType};

/// The outcomes of `cases` (seed, module) in `mode`, in order. The batch is
/// compiled as one unit; if Rivet refuses it, each module is compiled alone so
/// the refusal lands on the module that caused it.
pub fn run_batch(cases: &[(u64, Vec<u8>)], mode: Mode) -> Vec<Outcome> {
    let options = crate::pipeline::Target {
        mode,
        multi_memory: true,
    }
    .options();
    let wasms: Vec<&[u8]> = cases.iter().map(|(_, wasm)| wasm.as_slice()).collect();
    let run = |unit: LoadedUnit| {
        let modules = cases.iter().zip(&unit.modules);
        modules
            .map(|((seed, _), module)| on_big_stack(|| run_module(*seed, module, mode)))
            .collect()
    };
    let compiled = compile_and_load_unit(&wasms, &options);
    each_if_refused(
        cases,
        compiled,
        run,
        |one| run_batch(one, mode),
        Outcome::refused,
    )
}

/// Runs `f` on a thread with the stack the spec runner gives scripts, so that
/// Rivet's own stack limit, not the thread's, is what deep recursion meets.
pub(crate) fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(SCRIPT_STACK)
            .spawn_scoped(scope, f)
            .expect("spawning a case thread")
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Instantiates `module`, calls every exported function, then reads every
/// exported global, memory and table.
fn run_module(seed: u64, module: &Module, mode: Mode) -> Outcome {
    let mut outcome = Outcome::default();
    let mut store = Store::new(mode.bounds());
    let instance = match store.instantiate(module, &[]) {
        Ok(instance) => instance,
        Err(error) => {
            outcome.instantiated(instantiation_failure(error));
            return outcome;
        }
    };
    outcome.instantiated(Instantiated::Ok);
    let exports = module.exports();
    for (call, (name, ty)) in exports.iter().enumerate() {
        let (ExternType::Func(ty), Some(Extern::Func(func))) = (ty, instance.export(&store, name))
        else {
            continue;
        };
        let params: Vec<ParamType> = ty.params.iter().map(|t| param_type(*t)).collect();
        let args: Vec<Val> = arguments(seed, call, &params)
            .into_iter()
            .map(to_val)
            .collect();
        let result = func
            .call(&mut store, &args)
            .map(|values| values.into_iter().map(from_val).collect())
            .map_err(|trap| trap_code(trap.kind, &trap.message));
        outcome.call(name, result);
    }
    for (name, _) in &exports {
        match instance.export(&store, name) {
            Some(Extern::Global(global)) => outcome.global(name, from_val(global.get(&store))),
            Some(Extern::Memory(memory)) => {
                outcome.memory(name, memory.ty(&store).minimum, memory.data(&store))
            }
            Some(Extern::Table(table)) => {
                let size = table.ty(&store).minimum;
                let nulls = (0..size).map(|i| table.get(&store, i).is_some_and(is_null));
                outcome.table(name, nulls.collect::<Vec<_>>().into_iter());
            }
            _ => {}
        }
    }
    audit_memory(&store, &mut outcome);
    outcome
}

/// Checks that nothing was written outside `store`'s memories
/// (docs/fuzzing.md); if something was, adds a line no engine's outcome has,
/// so the case diverges. Both fuzzers' Rivet sides run it after each case.
pub(crate) fn audit_memory(store: &Store, outcome: &mut Outcome) {
    if let Err(e) = rivet::__private::audit_memory(store) {
        outcome.lines.push(format!("memory: {e}"));
    }
}

fn instantiation_failure(error: Error) -> Instantiated {
    match error {
        Error::Trap(trap) => Instantiated::Trap(trap_code(trap.kind, &trap.message)),
        Error::Runtime(message) => Instantiated::Resources(message),
        other => Instantiated::Error(other.to_string()),
    }
}

fn trap_code(kind: TrapKind, message: &str) -> TrapCode {
    if message.starts_with(UNKNOWN_TRAP) {
        // Not a trap site Rivet knows: no engine's code matches it.
        return TrapCode::Other(message.to_string());
    }
    match kind {
        TrapKind::StackOverflow => TrapCode::StackOverflow,
        TrapKind::Unreachable => TrapCode::Unreachable,
        TrapKind::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds | TrapKind::UndefinedElement => TrapCode::TableOutOfBounds,
        TrapKind::UninitializedElement => TrapCode::IndirectCallToNull,
        TrapKind::BadSignature => TrapCode::BadSignature,
        TrapKind::IntegerDivideByZero => TrapCode::IntegerDivideByZero,
        TrapKind::IntegerOverflow => TrapCode::IntegerOverflow,
        TrapKind::BadConversionToInteger => TrapCode::BadConversionToInteger,
        TrapKind::NullReference => TrapCode::NullReference,
        TrapKind::UncaughtException => TrapCode::UncaughtException,
        TrapKind::Host => TrapCode::Other(format!("host: {message}")),
    }
}

fn param_type(ty: ValType) -> ParamType {
    match ty {
        ValType::I32 => ParamType::I32,
        ValType::I64 => ParamType::I64,
        ValType::F32 => ParamType::F32,
        ValType::F64 => ParamType::F64,
        ValType::V128 => ParamType::V128,
        ValType::FuncRef => ParamType::Ref(RefKind::Func),
        ValType::ExternRef => ParamType::Ref(RefKind::Extern),
        ValType::ExnRef => ParamType::Ref(RefKind::Exn),
    }
}

fn to_val(value: Value) -> Val {
    match value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(bits),
        Value::F64(bits) => Val::F64(bits),
        Value::V128(bits) => Val::V128(bits),
        Value::Null(RefKind::Func) => Val::FuncRef(None),
        Value::Null(RefKind::Extern) => Val::ExternRef(None),
        Value::Null(RefKind::Exn) => Val::ExnRef(None),
        Value::NonNull(kind) => unreachable!("the generator makes no {kind:?} references"),
    }
}

fn from_val(val: Val) -> Value {
    match val {
        Val::I32(v) => Value::I32(v),
        Val::I64(v) => Value::I64(v),
        Val::F32(bits) => Value::F32(bits),
        Val::F64(bits) => Value::F64(bits),
        Val::V128(bits) => Value::V128(bits),
        Val::FuncRef(f) => Value::reference(RefKind::Func, f.is_none()),
        Val::ExternRef(r) => Value::reference(RefKind::Extern, r.is_none()),
        Val::ExnRef(e) => Value::reference(RefKind::Exn, e.is_none()),
    }
}

fn is_null(val: Val) -> bool {
    matches!(from_val(val), Value::Null(_))
}
