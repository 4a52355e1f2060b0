//! Running component cases in Wasmtime, the oracle: the same batch
//! composition, the same host `h` of every case, the same calls of `g`, into
//! the same outcome lines as Rivet's side
//! (`rivet_tests::differential::component::rivet_side`), through Wasmtime's
//! dynamic API.

use rivet_tests::differential::component::case::{batch_wasm, g_line, h_received, Case};
use rivet_tests::differential::component::{run_in_turn, Run};
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

/// Calls every case's `g`, in turn ([`run_in_turn`]).
fn run_compiled(engine: &Engine, cases: &[&Case], component: &Component) -> Vec<Run> {
    let linker = match linker(engine, cases) {
        Ok(linker) => linker,
        Err(e) => return vec![Run::failed(Outcome::refused(&format!("{e:#}")))],
    };
    let instantiate = || {
        let mut store = Store::new(engine, vec![None; cases.len()]);
        let instance = linker
            .instantiate(&mut store, component)
            .map_err(|e| format!("{e:#}"))?;
        Ok((store, instance))
    };
    run_in_turn(cases.len(), instantiate, |(store, instance), i| {
        let api = instance.get_export_index(&mut *store, None, &format!("api{i}"));
        let g = instance.get_export_index(&mut *store, api.as_ref(), "g");
        let Some(func) = g.and_then(|g| instance.get_func(&mut *store, g)) else {
            return (
                Run::called(None, format!("g: no export api{i}.g"), None),
                true,
            );
        };
        let args: Vec<Val> = cases[i].args.iter().map(to_engine).collect();
        let mut results = vec![Val::Bool(false); usize::from(cases[i].func.result.is_some())];
        let called = func.call(&mut *store, &args, &mut results);
        let h = store.data_mut()[i].take();
        match called {
            Ok(()) => {
                let result = results.first().map(from_engine).transpose();
                (Run::returned(h, result), true)
            }
            Err(e) => (
                Run::called(h, g_line(Err(())), Some(format!("{e:#}"))),
                false,
            ),
        }
    })
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
                store.data_mut()[i] = Some(h_received(args.iter().map(from_engine).collect()));
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
