//! Instances per process and churn across threads (issue 21), on the echo
//! pair: the most live instances one process holds, the resident memory and
//! page tables each costs at 10,000, and how creating, calling and dropping
//! instances scales from one thread to two. Wasmtime's pooling allocator is
//! configured for the same number of instances.

use super::rivet_side::{self as rv, Pair, PairExplicit};
use super::wasmtime_side as wt;
use super::{Row, Unit};
use std::any::Any;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

/// How many live pairs the "most instances" rows try for (the target).
const MOST: usize = 100_000;

/// Live pairs the resident-memory rows measure at.
const MEASURED: usize = 10_000;

/// Rounds of each churn measurement: one and two threads alternate, so that
/// a change in the machine's load (a shared VM's neighbours) touches both
/// alike, and each figure is the median of the rounds.
const ROUNDS: usize = 5;

/// How long each round runs, per thread count.
const ROUND_TIME: Duration = Duration::from_millis(600);

/// One live echo pair with its store, called once; dropping it drops both.
type Live = Box<dyn Any + Send>;

/// Makes a live pair; shared by the churn threads.
type Make = Box<dyn Fn() -> Result<Live, String> + Sync>;

/// The rows of this workload. Rivet is measured first: Wasmtime's pools
/// reserve their address space for as long as their engine lives.
pub fn run() -> Result<Vec<Row>, String> {
    let guard = rivet_maker(rivet::BoundsMode::Guard);
    let explicit = rivet_maker(rivet::BoundsMode::Explicit);
    let mut rivet = Vec::new();
    for make in [&guard, &explicit] {
        rivet.push((most_live(make), cost_each(make)?));
    }
    // Before any Wasmtime engine exists, as for the counts: with its pools
    // alive (and after its instances), one thread's churn ran at half speed.
    let rivet_churn = rounds(|threads| churn(&guard, threads))?;
    let [.., ceiling] = rounds(compute)?;
    let most_wasmtime: Vec<Option<f64>> = wasmtime_makers(MOST)?.iter().map(most_live).collect();
    let wasmtime = wasmtime_makers(MEASURED)?;
    let cost_wasmtime = wasmtime
        .iter()
        .map(|m| Ok(cost_each(m)?.map(Cost::total)))
        .collect::<Result<Vec<_>, String>>()?;
    let mut rows = Vec::new();
    for (mode, (most, cost)) in ["guard", "explicit"].into_iter().zip(rivet) {
        let reached = most.map(|n| n >= MOST as f64);
        let most_text = format!("≥ {MOST}");
        rows.push(row(
            most_workload(mode),
            Unit::Count,
            most,
            &most_wasmtime,
            most_text,
            reached,
        ));
        // The bound is on resident memory; the row shows page tables too.
        let small = cost.map(|c| c.rss <= 22.0 * 1024.0);
        rows.push(row(
            cost_workload(mode),
            Unit::Bytes,
            cost.map(Cost::total),
            &cost_wasmtime,
            "RSS ≤ 22 KiB".to_string(),
            small,
        ));
    }
    rows.extend(churn_rows(rivet_churn, ceiling, &wasmtime)?);
    Ok(rows)
}

fn most_workload(mode: &str) -> &'static str {
    match mode {
        "guard" => "live echo pairs in one process, of 100,000 (Rivet guard mode)",
        _ => "live echo pairs in one process, of 100,000 (Rivet explicit mode)",
    }
}

fn cost_workload(mode: &str) -> &'static str {
    match mode {
        "guard" => "RSS + page tables per live echo pair at 10,000 (Rivet guard mode)",
        _ => "RSS + page tables per live echo pair at 10,000 (Rivet explicit mode)",
    }
}

/// A row of Rivet's value against Wasmtime's (default, then pooling).
fn row(
    workload: &'static str,
    unit: Unit,
    rivet: Option<f64>,
    wasmtime: &[Option<f64>],
    target: String,
    met: Option<bool>,
) -> Row {
    Row {
        workload,
        unit,
        rivet,
        wasmtime: wasmtime.first().copied().flatten(),
        pooling: wasmtime.get(1).copied().flatten(),
        native: None,
        target,
        met,
    }
}

/// Makes pairs in a Rivet store of `mode`.
fn rivet_maker(mode: rivet::BoundsMode) -> Make {
    Box::new(move || {
        let mut store = rivet::Store::new(mode);
        let (sum, live): (u32, Live) = match mode {
            rivet::BoundsMode::Guard => {
                let pair = Pair::instantiate(&mut store, ()).map_err(rv::err)?;
                let sum = pair.run(&mut store, 1, 16).map_err(rv::err)?;
                (sum, Box::new((store, pair)))
            }
            rivet::BoundsMode::Explicit => {
                let pair = PairExplicit::instantiate(&mut store, ()).map_err(rv::err)?;
                let sum = pair.run(&mut store, 1, 16).map_err(rv::err)?;
                (sum, Box::new((store, pair)))
            }
        };
        checked(sum, live)
    })
}

/// `live` when its call echoed the 16 bytes back.
fn checked(sum: u32, live: Live) -> Result<Live, String> {
    if sum != 16 {
        return Err(format!("the echo pair returned {sum} bytes of 16"));
    }
    Ok(live)
}

/// Makes pairs with Wasmtime's default configuration and with its pooling
/// allocator sized for `count` pairs (its defaults otherwise: 4 GiB
/// reservations, so the pool may not fit in the address space).
fn wasmtime_makers(count: usize) -> Result<Vec<Make>, String> {
    if wt::left_out() {
        return Ok(Vec::new());
    }
    let mut pool = PoolingAllocationConfig::default();
    let count = u32::try_from(count).map_err(|e| e.to_string())?;
    pool.total_component_instances(count)
        .total_core_instances(count * 6)
        .total_memories(count * 2)
        .total_tables(count);
    let mut pooling = Config::new();
    pooling.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let mut makers = vec![wasmtime_maker(&wt::default_engine()?)?];
    // A pool that cannot be reserved holds no instance: its cells stay empty.
    match Engine::new(&pooling) {
        Ok(engine) => makers.push(wasmtime_maker(&engine)?),
        Err(e) => eprintln!("Wasmtime's pool for {count} pairs: {e}"),
    }
    Ok(makers)
}

fn wasmtime_maker(engine: &Engine) -> Result<Make, String> {
    let component = Component::new(engine, wt::PAIR).map_err(wt::err)?;
    let pre: InstancePre<()> = Linker::new(engine)
        .instantiate_pre(&component)
        .map_err(wt::err)?;
    let engine = engine.clone();
    Ok(Box::new(move || {
        let mut store = Store::new(&engine, ());
        let instance = pre.instantiate(&mut store).map_err(wt::err)?;
        let run = instance
            .get_typed_func::<(u32, u32), (u32,)>(&mut store, "run")
            .map_err(wt::err)?;
        let (sum,) = run.call(&mut store, (1, 16)).map_err(wt::err)?;
        checked(sum, Box::new((store, instance)))
    }))
}

/// How many pairs `make` keeps alive at once, up to [`MOST`]; None when not
/// one.
fn most_live(make: &Make) -> Option<f64> {
    let mut live = Vec::with_capacity(MOST);
    while live.len() < MOST {
        match make() {
            Ok(pair) => live.push(pair),
            Err(e) => {
                eprintln!("stopped at {} live pairs: {e}", live.len());
                break;
            }
        }
    }
    (!live.is_empty()).then_some(live.len() as f64)
}

/// What each live pair costs, in bytes: resident memory and page tables.
#[derive(Clone, Copy)]
struct Cost {
    rss: f64,
    tables: f64,
}

impl Cost {
    fn total(self) -> f64 {
        self.rss + self.tables
    }
}

/// What each pair costs with [`MEASURED`] alive; None when `make` cannot hold
/// that many.
fn cost_each(make: &Make) -> Result<Option<Cost>, String> {
    // Freed heap from earlier contenders goes back first, so that none is
    // counted for a later one.
    // SAFETY: a plain call into the C library.
    unsafe { libc::malloc_trim(0) };
    let before = [status_kib("VmRSS:")?, status_kib("VmPTE:")?];
    let live: Result<Vec<Live>, String> = (0..MEASURED).map(|_| make()).collect();
    let Ok(live) = live else {
        return Ok(None);
    };
    let after = [status_kib("VmRSS:")?, status_kib("VmPTE:")?];
    drop(live);
    let each = |i: usize| (after[i] - before[i]) as f64 * 1024.0 / MEASURED as f64;
    Ok(Some(Cost {
        rss: each(0),
        tables: each(1),
    }))
}

/// Field `name` of /proc/self/status, in KiB.
fn status_kib(name: &str) -> Result<i64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let line = status
        .lines()
        .find(|l| l.starts_with(name))
        .ok_or_else(|| format!("no {name} in /proc/self/status"))?;
    let kib = line[name.len()..].trim().trim_end_matches("kB").trim();
    kib.parse().map_err(|e| format!("{name} {kib:?}: {e}"))
}

/// Create + call + drop per pair, wall time, on one thread and on two, and
/// the ratio of work done: Rivet's ([`rounds`] of its default bounds mode,
/// measured first), then each Wasmtime contender's. The ratio row's native
/// column, `ceiling`, is the same ratio for plain computation: how well the
/// machine itself scaled to two threads.
fn churn_rows(rivet: [f64; 3], ceiling: f64, wasmtime: &[Make]) -> Result<Vec<Row>, String> {
    let mut per_op = [vec![Some(rivet[0])], vec![Some(rivet[1])]];
    let mut ratio = vec![Some(rivet[2])];
    for make in wasmtime {
        let [one, two, scaling] = rounds(|threads| churn(make, threads))?;
        per_op[0].push(Some(one));
        per_op[1].push(Some(two));
        ratio.push(Some(scaling));
    }
    let mut scaling = row(
        "create + call + drop: work on two threads / on one",
        Unit::Count,
        ratio[0],
        &ratio[1..],
        "≥ 1.6".to_string(),
        ratio[0].map(|r| r >= 1.6),
    );
    scaling.native = Some(ceiling);
    Ok(vec![
        time_row(
            "create + call + drop an echo pair, one thread (wall)",
            &per_op[0],
        ),
        time_row(
            "create + call + drop an echo pair, two threads (wall, per pair)",
            &per_op[1],
        ),
        scaling,
    ])
}

/// [`ROUNDS`] rounds of `measure` (nanoseconds per unit of work on the given
/// number of threads) on one thread then two: the medians of the one-thread
/// figure, the two-thread figure, and their ratio.
fn rounds(mut measure: impl FnMut(usize) -> Result<f64, String>) -> Result<[f64; 3], String> {
    let mut figures = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        let (one, two) = (measure(1)?, measure(2)?);
        for (list, value) in figures.iter_mut().zip([one, two, one / two]) {
            list.push(value);
        }
    }
    Ok(figures.map(|mut list| {
        list.sort_by(f64::total_cmp);
        list[list.len() / 2]
    }))
}

/// A row of wall times per pair: Rivet, then Wasmtime's contenders.
fn time_row(workload: &'static str, m: &[Option<f64>]) -> Row {
    row(workload, Unit::Nanos, m[0], &m[1..], "–".to_string(), None)
}

/// Wall nanoseconds per pair created, called and dropped on `threads`
/// threads together for [`ROUND_TIME`].
fn churn(make: &Make, threads: usize) -> Result<f64, String> {
    on_threads(threads, |deadline| {
        let mut n = 0;
        while Instant::now() < deadline {
            drop(make()?);
            n += 1;
        }
        Ok(n)
    })
}

/// Wall nanoseconds per unit of plain computation (a thousand steps of a
/// multiplicative hash, nothing shared) on `threads` threads together.
fn compute(threads: usize) -> Result<f64, String> {
    on_threads(threads, |deadline| {
        let (mut n, mut x) = (0, 1u64);
        while Instant::now() < deadline {
            for _ in 0..1000 {
                x = std::hint::black_box(x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17));
            }
            n += 1;
        }
        Ok(n)
    })
}

/// Runs `work` on `threads` threads together until a deadline
/// [`ROUND_TIME`] away; each returns how many units it did. Wall
/// nanoseconds per unit done in all.
fn on_threads(
    threads: usize,
    work: impl Fn(Instant) -> Result<usize, String> + Sync,
) -> Result<f64, String> {
    let start = Instant::now();
    let deadline = start + ROUND_TIME;
    let done: Result<Vec<usize>, String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads).map(|_| s.spawn(|| work(deadline))).collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .map_err(|_| "a churn thread panicked".to_string())?
            })
            .collect()
    });
    let total: usize = done?.iter().sum();
    Ok(start.elapsed().as_secs_f64() * 1e9 / total.max(1) as f64)
}
