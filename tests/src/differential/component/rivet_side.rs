//! Running component cases in Rivet: a batch composed into one component,
//! compiled, linked and loaded through the real pipeline, instantiated with
//! the host's `h` of every case, and each case's `g` called once.

use super::case::{batch_wasm, g_line, h_received, Case};
use super::val::{Handles, Val};
use super::{run_in_turn, Run};
use crate::differential::each_if_refused;
use crate::differential::outcome::{Outcome, UNKNOWN_TRAP};
use crate::differential::rivet_side::{audit_memory, on_big_stack};
use crate::loader::compile_and_load_component;
use crate::pipeline::Mode;
use rivet::{ComponentImports, ResourceAny, Store, Value};
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
    each_if_refused(
        cases,
        compiled,
        |loaded| on_big_stack(|| run_loaded(cases, &loaded.component, mode)),
        |one| run_batch(one, mode),
        |message| Run::failed(Outcome::refused(message)),
    )
}

/// What each case's `h` received, as its outcome line.
type Received = Arc<Mutex<Vec<Option<String>>>>;

/// Instantiates the batch with every case's `h` and calls every case's `g`,
/// in turn ([`run_in_turn`]).
fn run_loaded(cases: &[&Case], component: &rivet::Component, mode: Mode) -> Vec<Run> {
    let received: Received = Arc::new(Mutex::new(vec![None; cases.len()]));
    let handles: Vec<Resource> = (0..cases.len())
        .map(|i| Resource(component.resource_type(&format!("host{i}#r"))))
        .collect();
    let imports = imports(cases, &handles, &received);
    let instantiate = || {
        let mut store = Store::new(mode.bounds());
        let instance = store
            .instantiate_component(component, &imports)
            .map_err(|e| e.to_string())?;
        Ok((store, instance))
    };
    run_in_turn(cases.len(), instantiate, |(store, instance), i| {
        let r = &handles[i];
        let args: Vec<Value> = cases[i].args.iter().map(|v| to_engine(v, r)).collect();
        let called = instance.call(store, &format!("api{i}#g"), &args);
        let h = received.lock().unwrap_or_else(|e| e.into_inner())[i].take();
        let (mut run, returned) = match called {
            Ok(v) => (
                Run::returned(h, v.as_ref().map(|v| from_engine(v, r)).transpose()),
                true,
            ),
            Err(trap) => {
                let message = format!("{:?}: {}", trap.kind, trap.message);
                let mut run = Run::called(h, g_line(Err(())), Some(message));
                // A trap Rivet cannot name came from an instruction it does
                // not know as a trap site: a line no engine's outcome has.
                if trap.message.starts_with(UNKNOWN_TRAP) {
                    run.outcome
                        .lines
                        .push(format!("trap not recognised: {}", trap.message));
                }
                (run, false)
            }
        };
        audit_memory(store, &mut run.outcome);
        (run, returned)
    })
}

/// Every case's `hosti#h`: it records its arguments and returns the case's
/// result; and its resource `hosti#r` where the case has handles (nothing
/// to free when the guest drops one: the host's representations are
/// plain numbers).
fn imports(cases: &[&Case], handles: &[Resource], received: &Received) -> ComponentImports {
    let mut imports = ComponentImports::new();
    for (i, case) in cases.iter().enumerate() {
        let r = handles[i];
        if r.0.is_some() {
            imports.resource(&format!("host{i}#r"), |_| Ok(()));
        }
        let result = case.result.as_ref().map(|v| to_engine(v, &r));
        let received = Arc::clone(received);
        imports.func(&format!("host{i}#h"), move |args| {
            let line = h_received(args.iter().map(|v| from_engine(v, &r)).collect());
            received.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(line);
            Ok(result.clone())
        });
    }
    imports
}

/// The case's resource type `hosti#r`, if its type has handles.
#[derive(Clone, Copy)]
struct Resource(Option<rivet::ResourceType>);

impl Handles<Value> for Resource {
    fn make(&self, own: bool, rep: u32) -> Value {
        let ty = self.0.expect("a case with handles has its resource type");
        let handle = ResourceAny::host(ty, rep);
        if own {
            Value::Own(handle)
        } else {
            Value::Borrow(handle)
        }
    }

    fn read(&self, v: &Value) -> Option<Result<Val, String>> {
        let (Value::Own(handle) | Value::Borrow(handle)) = v else {
            return None;
        };
        let Some(rep) = handle.host_rep().filter(|_| Some(handle.ty()) == self.0) else {
            return Some(Err(format!("{v:?} is no handle to the host's resource")));
        };
        Some(Ok(match v {
            Value::Own(_) => Val::Own(rep),
            _ => Val::Borrow(rep),
        }))
    }
}

crate::mirror_values!(Value, F32, F64);
