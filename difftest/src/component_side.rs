//! Running component cases in Wasmtime, the oracle: the same batch
//! composition, the same host `h` of every case, the same calls of `g`, into
//! the same outcome lines as Rivet's side
//! (`rivet_tests::differential::component::rivet_side`), through Wasmtime's
//! dynamic API.

use rivet_tests::differential::component::case::{batch_wasm, g_line, h_line, Case};
use rivet_tests::differential::component::Run;
use rivet_tests::differential::outcome::Outcome;
use wasmtime::component::{Component, Linker, Val};
use wasmtime::{Engine, Store};

/// What each case's `h` received, as its outcome line: the store's data.
type Received = Vec<Option<String>>;

/// The runs of `cases` in Wasmtime, in order; a batch Wasmtime refuses is
/// run case by case, as Rivet's side does.
pub fn run_batch(engine: &Engine, cases: &[&Case]) -> Vec<Run> {
    let compiled = batch_wasm(cases)
        .and_then(|wasm| Component::new(engine, &wasm).map_err(|e| format!("{e:#}")));
    match compiled {
        Ok(component) => run_compiled(engine, cases, &component),
        Err(_) if cases.len() > 1 => cases
            .iter()
            .flat_map(|case| run_batch(engine, std::slice::from_ref(case)))
            .collect(),
        Err(message) => vec![Run::failed(Outcome::refused(&message))],
    }
}

/// Calls every case's `g`; a fresh store and instance for the first case and
/// for each case after one that trapped (a trap locks the composition down).
fn run_compiled(engine: &Engine, cases: &[&Case], component: &Component) -> Vec<Run> {
    let linker = match linker(engine, cases) {
        Ok(linker) => linker,
        Err(e) => return vec![Run::failed(Outcome::refused(&format!("{e:#}")))],
    };
    let mut live = None;
    let mut runs = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let (mut store, instance) = match live.take() {
            Some(live) => live,
            None => {
                let mut store = Store::new(engine, vec![None; cases.len()]);
                match linker.instantiate(&mut store, component) {
                    Ok(instance) => (store, instance),
                    Err(e) => {
                        let mut outcome = Outcome::default();
                        outcome.lines.push(format!("instantiate: error ({e:#})"));
                        runs.push(Run::failed(outcome));
                        continue;
                    }
                }
            }
        };
        let api = instance.get_export_index(&mut store, None, &format!("api{i}"));
        let g = instance.get_export_index(&mut store, api.as_ref(), "g");
        let Some(func) = g.and_then(|g| instance.get_func(&mut store, g)) else {
            runs.push(Run::called(None, format!("g: no export api{i}.g"), None));
            live = Some((store, instance));
            continue;
        };
        let args: Vec<Val> = case.args.iter().map(to_engine).collect();
        let mut results = vec![Val::Bool(false); usize::from(case.func.result.is_some())];
        let called = func.call(&mut store, &args, &mut results);
        let h = store.data_mut()[i].take();
        runs.push(match called {
            Ok(()) => {
                live = Some((store, instance));
                match results.first().map(from_engine).transpose() {
                    Ok(v) => Run::called(h, g_line(Ok(v.as_ref())), None),
                    Err(e) => Run::called(h, format!("g: unexpected value {e}"), None),
                }
            }
            Err(e) => Run::called(h, g_line(Err(())), Some(format!("{e:#}"))),
        });
    }
    runs
}

/// A linker defining every case's `hosti.h`: it records its arguments and
/// returns the case's result.
fn linker(engine: &Engine, cases: &[&Case]) -> wasmtime::Result<Linker<Received>> {
    let mut linker = Linker::<Received>::new(engine);
    for (i, case) in cases.iter().enumerate() {
        let result = case.result.as_ref().map(to_engine);
        linker.instance(&format!("host{i}"))?.func_new(
            "h",
            move |mut store, _ty, args, results| {
                let line = args.iter().map(from_engine).collect::<Result<Vec<_>, _>>();
                let line = line.map_or_else(|e| format!("h: unexpected value {e}"), |a| h_line(&a));
                store.data_mut()[i] = Some(line);
                if let (Some(slot), Some(v)) = (results.first_mut(), &result) {
                    *slot = v.clone();
                }
                Ok(())
            },
        )?;
    }
    Ok(linker)
}

rivet_tests::mirror_values!(Val, Float32, Float64);
