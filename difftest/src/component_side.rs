//! Running component cases in Wasmtime, the oracle: the same batch
//! composition, the same host `h` of every case, the same calls of `g`, into
//! the same outcome lines as Rivet's side
//! (`rivet_tests::differential::component::rivet_side`), through Wasmtime's
//! dynamic API.

use rivet_tests::differential::component::case::{batch_wasm, g_line, h_received, Case};
use rivet_tests::differential::component::val::{Handles, Val as V};
use rivet_tests::differential::component::{run_in_turn, Run};
use rivet_tests::differential::each_if_refused;
use rivet_tests::differential::outcome::Outcome;
use std::cell::RefCell;
use wasmtime::component::{Component, Linker, Resource, ResourceAny, ResourceType, Val};
use wasmtime::{AsContextMut, Engine, Store};

/// What each case's `h` received, as its outcome line: the store's data.
type Received = Vec<Option<String>>;

/// The runs of `cases` in Wasmtime, in order; a batch Wasmtime refuses is
/// run case by case, as Rivet's side does.
pub fn run_batch(engine: &Engine, cases: &[&Case]) -> Vec<Run> {
    let compiled = batch_wasm(cases)
        .and_then(|wasm| Component::new(engine, &wasm).map_err(|e| format!("{e:#}")));
    each_if_refused(
        cases,
        compiled,
        |component| run_compiled(engine, cases, &component),
        |one| run_batch(engine, one),
        |message| Run::failed(Outcome::refused(message)),
    )
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
        let args: Vec<Val> = {
            let r = InStore(RefCell::new(&mut *store));
            cases[i].args.iter().map(|v| to_engine(v, &r)).collect()
        };
        let mut results = vec![Val::Bool(false); usize::from(cases[i].func.result.is_some())];
        let called = func.call(&mut *store, &args, &mut results);
        let h = store.data_mut()[i].take();
        match called {
            Ok(()) => {
                let r = InStore(RefCell::new(&mut *store));
                let result = results.first().map(|v| from_engine(v, &r)).transpose();
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
/// returns the case's result (made anew at each call: a handle is made in
/// the store); and `hosti.r` where the case has handles (nothing to free
/// when the guest drops one: the representations are plain numbers).
fn linker(engine: &Engine, cases: &[&Case]) -> wasmtime::Result<Linker<Received>> {
    let mut linker = Linker::<Received>::new(engine);
    for (i, case) in cases.iter().enumerate() {
        let result = case.result.clone();
        let mut host = linker.instance(&format!("host{i}"))?;
        if case.func.has_handles() {
            host.resource("r", ResourceType::host::<HostR>(), |_, _| Ok(()))?;
        }
        host.func_new("h", move |mut store, _ty, args, results| {
            let line = {
                let r = InStore(RefCell::new(&mut store));
                if let (Some(slot), Some(v)) = (results.first_mut(), &result) {
                    *slot = to_engine(v, &r);
                }
                h_received(args.iter().map(|v| from_engine(v, &r)).collect())
            };
            store.data_mut()[i] = Some(line);
            Ok(())
        })?;
    }
    Ok(linker)
}

/// The host's resource type `r` of every case.
struct HostR;

/// Handles made and read in a store.
struct InStore<S>(RefCell<S>);

impl<S: AsContextMut> Handles<Val> for InStore<S> {
    /// A borrow is made as an owned handle too: Wasmtime makes borrows only
    /// inside a call, and lends an owned handle passed where a borrow is
    /// expected (borrows are only ever arguments of `g`).
    fn make(&self, _own: bool, rep: u32) -> Val {
        let resource = Resource::<HostR>::new_own(rep);
        let any = ResourceAny::try_from_resource(resource, &mut *self.0.borrow_mut());
        Val::Resource(any.expect("a host resource converts in its store"))
    }

    fn read(&self, v: &Val) -> Option<Result<V, String>> {
        let Val::Resource(any) = v else {
            return None;
        };
        let read = any.try_into_resource::<HostR>(&mut *self.0.borrow_mut());
        Some(match read {
            Ok(r) if r.owned() => Ok(V::Own(r.rep())),
            Ok(r) => Ok(V::Borrow(r.rep())),
            Err(e) => Err(format!("{any:?}: {e:#}")),
        })
    }
}

rivet_tests::mirror_values!(Val, Float32, Float64);
