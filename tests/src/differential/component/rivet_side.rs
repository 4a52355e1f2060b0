//! Running component cases in Rivet: a batch composed into one component,
//! compiled, linked and loaded through the real pipeline, instantiated with
//! the host's `h` of every case, and each case's `g` called once.

use super::case::{batch_wasm, g_line, h_line, Case};
use super::val::Val;
use super::Run;
use crate::differential::outcome::Outcome;
use crate::differential::rivet_side::on_big_stack;
use crate::loader::compile_and_load_component;
use crate::pipeline::Mode;
use rivet::{ComponentImports, Store, Value};
use std::sync::{Arc, Mutex};

/// The runs of `cases` in `mode`, in order. If Rivet refuses the batch, each
/// case is run alone so that the refusal lands on the case that caused it.
pub fn run_batch(cases: &[&Case], mode: Mode) -> Vec<Run> {
    let options = crate::pipeline::Target {
        mode,
        multi_memory: true,
    }
    .options();
    let compiled = batch_wasm(cases).and_then(|wasm| {
        std::panic::catch_unwind(|| compile_and_load_component(&wasm, &options))
            .unwrap_or_else(|p| Err(format!("panicked: {}", crate::panic_message(&*p))))
    });
    match compiled {
        Ok(loaded) => on_big_stack(|| run_loaded(cases, &loaded.component, mode)),
        Err(_) if cases.len() > 1 => cases
            .iter()
            .flat_map(|case| run_batch(std::slice::from_ref(case), mode))
            .collect(),
        Err(message) => vec![Run::failed(Outcome::refused(&message))],
    }
}

/// What each case's `h` received, as its outcome line.
type Received = Arc<Mutex<Vec<Option<String>>>>;

/// Instantiates the batch with every case's `h` and calls every case's `g`.
/// A trap locks the whole composition down (the spec's `may_enter` of the
/// root stays clear), so the case after one that trapped gets a fresh store
/// and instance.
fn run_loaded(cases: &[&Case], component: &rivet::Component, mode: Mode) -> Vec<Run> {
    let received: Received = Arc::new(Mutex::new(vec![None; cases.len()]));
    let imports = imports(cases, &received);
    let mut live = None;
    let mut runs = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let (mut store, instance) = match live.take() {
            Some(live) => live,
            None => {
                let mut store = Store::new(mode.bounds());
                match store.instantiate_component(component, &imports) {
                    Ok(instance) => (store, instance),
                    Err(e) => {
                        let mut outcome = Outcome::default();
                        outcome.lines.push(format!("instantiate: error ({e})"));
                        runs.push(Run::failed(outcome));
                        continue;
                    }
                }
            }
        };
        let args: Vec<Value> = case.args.iter().map(to_value).collect();
        let called = instance.call(&mut store, &format!("api{i}#g"), &args);
        let h = received.lock().unwrap_or_else(|e| e.into_inner())[i].take();
        runs.push(match called {
            Ok(v) => {
                live = Some((store, instance));
                match v.as_ref().map(from_value).transpose() {
                    Ok(v) => Run::called(h, g_line(Ok(v.as_ref())), None),
                    Err(e) => Run::called(h, format!("g: unexpected value {e}"), None),
                }
            }
            Err(trap) => {
                let message = format!("{:?}: {}", trap.kind, trap.message);
                Run::called(h, g_line(Err(())), Some(message))
            }
        });
    }
    runs
}

/// Every case's `hosti#h`: it records its arguments and returns the case's
/// result.
fn imports(cases: &[&Case], received: &Received) -> ComponentImports {
    let mut imports = ComponentImports::new();
    for (i, case) in cases.iter().enumerate() {
        let result = case.result.as_ref().map(to_value);
        let received = Arc::clone(received);
        imports.func(&format!("host{i}#h"), move |args| {
            let line = args.iter().map(from_value).collect::<Result<Vec<_>, _>>();
            let line = line.map_or_else(|e| format!("h: unexpected value {e}"), |a| h_line(&a));
            received.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(line);
            Ok(result.clone())
        });
    }
    imports
}

fn to_value(v: &Val) -> Value {
    let boxed = |p: &Option<Box<Val>>| p.as_deref().map(|v| Box::new(to_value(v)));
    match v {
        Val::Bool(x) => Value::Bool(*x),
        Val::S8(x) => Value::S8(*x),
        Val::U8(x) => Value::U8(*x),
        Val::S16(x) => Value::S16(*x),
        Val::U16(x) => Value::U16(*x),
        Val::S32(x) => Value::S32(*x),
        Val::U32(x) => Value::U32(*x),
        Val::S64(x) => Value::S64(*x),
        Val::U64(x) => Value::U64(*x),
        Val::F32(bits) => Value::F32(f32::from_bits(*bits)),
        Val::F64(bits) => Value::F64(f64::from_bits(*bits)),
        Val::Char(c) => Value::Char(*c),
        Val::String(s) => Value::String(s.clone()),
        Val::List(vs) => Value::List(vs.iter().map(to_value).collect()),
        Val::Tuple(vs) => Value::Tuple(vs.iter().map(to_value).collect()),
        Val::Record(fs) => {
            Value::Record(fs.iter().map(|(n, v)| (n.clone(), to_value(v))).collect())
        }
        Val::Variant(case, p) => Value::Variant(case.clone(), boxed(p)),
        Val::Enum(case) => Value::Enum(case.clone()),
        Val::Option(p) => Value::Option(boxed(p)),
        Val::Result(Ok(p)) => Value::Result(Ok(boxed(p))),
        Val::Result(Err(p)) => Value::Result(Err(boxed(p))),
        Val::Flags(names) => Value::Flags(names.clone()),
    }
}

/// Rivet's value as the outcome's; `Err` names a kind no case generates.
fn from_value(v: &Value) -> Result<Val, String> {
    let boxed = |p: &Option<Box<Value>>| -> Result<Option<Box<Val>>, String> {
        p.as_deref()
            .map(|v| from_value(v).map(Box::new))
            .transpose()
    };
    let all = |vs: &[Value]| vs.iter().map(from_value).collect::<Result<Vec<_>, _>>();
    Ok(match v {
        Value::Bool(x) => Val::Bool(*x),
        Value::S8(x) => Val::S8(*x),
        Value::U8(x) => Val::U8(*x),
        Value::S16(x) => Val::S16(*x),
        Value::U16(x) => Val::U16(*x),
        Value::S32(x) => Val::S32(*x),
        Value::U32(x) => Val::U32(*x),
        Value::S64(x) => Val::S64(*x),
        Value::U64(x) => Val::U64(*x),
        Value::F32(x) => Val::F32(x.to_bits()),
        Value::F64(x) => Val::F64(x.to_bits()),
        Value::Char(c) => Val::Char(*c),
        Value::String(s) => Val::String(s.clone()),
        Value::List(vs) => Val::List(all(vs)?),
        Value::Tuple(vs) => Val::Tuple(all(vs)?),
        Value::Record(fs) => Val::Record(
            fs.iter()
                .map(|(n, v)| Ok((n.clone(), from_value(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Value::Variant(case, p) => Val::Variant(case.clone(), boxed(p)?),
        Value::Enum(case) => Val::Enum(case.clone()),
        Value::Option(p) => Val::Option(boxed(p)?),
        Value::Result(Ok(p)) => Val::Result(Ok(boxed(p)?)),
        Value::Result(Err(p)) => Val::Result(Err(boxed(p)?)),
        Value::Flags(names) => Val::Flags(names.clone()),
        other => return Err(format!("{other:?}")),
    })
}
