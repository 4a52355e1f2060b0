//! Running component cases in Wasmtime, the oracle: the same batch
//! composition, the same host `h` of every case, the same calls of `g`, into
//! the same outcome lines as Rivet's side
//! (`rivet_tests::differential::component::rivet_side`), through Wasmtime's
//! dynamic API.

use rivet_tests::differential::component::case::{batch_wasm, g_line, h_line, Case};
use rivet_tests::differential::component::val::Val as CaseVal;
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
        let args: Vec<Val> = case.args.iter().map(to_val).collect();
        let mut results = vec![Val::Bool(false); usize::from(case.func.result.is_some())];
        let called = func.call(&mut store, &args, &mut results);
        let h = store.data_mut()[i].take();
        runs.push(match called {
            Ok(()) => {
                live = Some((store, instance));
                match results.first().map(from_val).transpose() {
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
        let result = case.result.as_ref().map(to_val);
        linker.instance(&format!("host{i}"))?.func_new(
            "h",
            move |mut store, _ty, args, results| {
                let line = args.iter().map(from_val).collect::<Result<Vec<_>, _>>();
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

fn to_val(v: &CaseVal) -> Val {
    let boxed = |p: &Option<Box<CaseVal>>| p.as_deref().map(|v| Box::new(to_val(v)));
    match v {
        CaseVal::Bool(x) => Val::Bool(*x),
        CaseVal::S8(x) => Val::S8(*x),
        CaseVal::U8(x) => Val::U8(*x),
        CaseVal::S16(x) => Val::S16(*x),
        CaseVal::U16(x) => Val::U16(*x),
        CaseVal::S32(x) => Val::S32(*x),
        CaseVal::U32(x) => Val::U32(*x),
        CaseVal::S64(x) => Val::S64(*x),
        CaseVal::U64(x) => Val::U64(*x),
        CaseVal::F32(bits) => Val::Float32(f32::from_bits(*bits)),
        CaseVal::F64(bits) => Val::Float64(f64::from_bits(*bits)),
        CaseVal::Char(c) => Val::Char(*c),
        CaseVal::String(s) => Val::String(s.clone()),
        CaseVal::List(vs) => Val::List(vs.iter().map(to_val).collect()),
        CaseVal::Tuple(vs) => Val::Tuple(vs.iter().map(to_val).collect()),
        CaseVal::Record(fs) => {
            Val::Record(fs.iter().map(|(n, v)| (n.clone(), to_val(v))).collect())
        }
        CaseVal::Variant(case, p) => Val::Variant(case.clone(), boxed(p)),
        CaseVal::Enum(case) => Val::Enum(case.clone()),
        CaseVal::Option(p) => Val::Option(boxed(p)),
        CaseVal::Result(Ok(p)) => Val::Result(Ok(boxed(p))),
        CaseVal::Result(Err(p)) => Val::Result(Err(boxed(p))),
        CaseVal::Flags(names) => Val::Flags(names.clone()),
    }
}

/// Wasmtime's value as the outcome's; `Err` names a kind no case generates.
fn from_val(v: &Val) -> Result<CaseVal, String> {
    let boxed = |p: &Option<Box<Val>>| -> Result<Option<Box<CaseVal>>, String> {
        p.as_deref().map(|v| from_val(v).map(Box::new)).transpose()
    };
    let all = |vs: &[Val]| vs.iter().map(from_val).collect::<Result<Vec<_>, _>>();
    Ok(match v {
        Val::Bool(x) => CaseVal::Bool(*x),
        Val::S8(x) => CaseVal::S8(*x),
        Val::U8(x) => CaseVal::U8(*x),
        Val::S16(x) => CaseVal::S16(*x),
        Val::U16(x) => CaseVal::U16(*x),
        Val::S32(x) => CaseVal::S32(*x),
        Val::U32(x) => CaseVal::U32(*x),
        Val::S64(x) => CaseVal::S64(*x),
        Val::U64(x) => CaseVal::U64(*x),
        Val::Float32(x) => CaseVal::F32(x.to_bits()),
        Val::Float64(x) => CaseVal::F64(x.to_bits()),
        Val::Char(c) => CaseVal::Char(*c),
        Val::String(s) => CaseVal::String(s.clone()),
        Val::List(vs) => CaseVal::List(all(vs)?),
        Val::Tuple(vs) => CaseVal::Tuple(all(vs)?),
        Val::Record(fs) => CaseVal::Record(
            fs.iter()
                .map(|(n, v)| Ok((n.clone(), from_val(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Val::Variant(case, p) => CaseVal::Variant(case.clone(), boxed(p)?),
        Val::Enum(case) => CaseVal::Enum(case.clone()),
        Val::Option(p) => CaseVal::Option(boxed(p)?),
        Val::Result(Ok(p)) => CaseVal::Result(Ok(boxed(p)?)),
        Val::Result(Err(p)) => CaseVal::Result(Err(boxed(p)?)),
        Val::Flags(names) => CaseVal::Flags(names.clone()),
        other => return Err(format!("{other:?}")),
    })
}
