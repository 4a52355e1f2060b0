//! Workloads 1-4: instantiation, host-to-guest calls, and calls between two
//! components through a fused adapter.

use super::rivet_side::{self as rv, Host, Pair, Records};
use super::sample::{alternate, Batch};
use super::wasmtime_side::{self as wt, Loaded};
use super::{Row, Unit};
use std::hint::black_box;
use wasmtime::component::{Component, Linker};
use wasmtime::Store;

const ROUNDS: usize = 11;

/// One workload of this file: its short name (for `--only`) and its runner.
type Workload = (&'static str, fn() -> Result<Row, String>);

/// The workloads whose short name `pick` accepts.
pub fn run(pick: &dyn Fn(&str) -> bool) -> Result<Vec<Row>, String> {
    let singles: [Workload; 6] = [
        ("instantiate", instantiate),
        ("add", add),
        ("echo", echo_64),
        ("echo16", echo_short),
        ("echo64k", echo_long),
        ("records", records),
    ];
    singles
        .iter()
        .filter(|(name, _)| pick(name))
        .map(|(_, f)| f())
        .collect()
}

/// A row from `[rivet, wasmtime, pooling]` medians, the target ratio over the
/// default configuration and, for instantiation, over pooling.
fn row(workload: &'static str, m: &[f64], target: f64, pooling_target: Option<f64>) -> Row {
    let (wasmtime, pooling) = (m.get(1).copied(), m.get(2).copied());
    let mut met = wasmtime.map(|w| w / m[0] >= target);
    let mut text = format!("≥ {target}");
    if let Some(p) = pooling_target {
        met = met.zip(pooling).map(|(met, pool)| met && pool / m[0] >= p);
        text = format!("≥ {target}, pooling ≥ {p}");
    }
    Row {
        workload,
        unit: Unit::Nanos,
        rivet: Some(m[0]),
        wasmtime,
        pooling,
        native: None,
        target: text,
        met,
    }
}

/// Workload 1: a fresh store and an instance of the two-component composition,
/// then dropping both. Wasmtime instantiates from an `InstancePre`, its fastest path.
fn instantiate() -> Result<Row, String> {
    let engines = wt::engines()?;
    let pres = engines
        .iter()
        .map(|e| {
            let c = Component::new(e, wt::PAIR).map_err(wt::err)?;
            Linker::<()>::new(e).instantiate_pre(&c).map_err(wt::err)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rivet: Batch = Box::new(|n| {
        for _ in 0..n {
            let mut store = rv::store();
            black_box(Pair::instantiate(&mut store, ()).map_err(rv::err)?);
        }
        Ok(())
    });
    let mut batches = vec![rivet];
    for (pre, engine) in pres.iter().zip(&engines) {
        batches.push(Box::new(move |n| {
            for _ in 0..n {
                let mut store = Store::new(engine, ());
                black_box(pre.instantiate(&mut store).map_err(wt::err)?);
            }
            Ok(())
        }));
    }
    let m = alternate(ROUNDS, 300, &mut batches)?;
    Ok(row(
        "instantiate two-component composition",
        &m,
        5.0,
        Some(1.5),
    ))
}

/// Workload 2: the host calls `add(u32, u32) -> u32`.
fn add() -> Result<Row, String> {
    let mut store = rv::store();
    let host = Host::instantiate(&mut store, ()).map_err(rv::err)?;
    if host.add(&mut store, 2, 3).map_err(rv::err)? != 5 {
        return Err("Rivet: add(2, 3) != 5".into());
    }
    let mut batches: Vec<Batch> = vec![Box::new(move |n| {
        for i in 0..n {
            black_box(host.add(&mut store, i, 7).map_err(rv::err)?);
        }
        Ok(())
    })];
    for engine in wt::engines()? {
        let mut loaded = Loaded::new(&engine, wt::HOST)?;
        let f = loaded.func::<(u32, u32), (u32,)>("add")?;
        if f.call(&mut loaded.store, (2, 3)).map_err(wt::err)? != (5,) {
            return Err("Wasmtime: add(2, 3) != 5".into());
        }
        batches.push(Box::new(move |n| {
            for i in 0..n {
                black_box(f.call(&mut loaded.store, (i, 7)).map_err(wt::err)?);
            }
            Ok(())
        }));
    }
    let m = alternate(ROUNDS, 20_000, &mut batches)?;
    Ok(row("host calls add(u32, u32) -> u32", &m, 3.0, None))
}

/// Workload 3: the host calls `echo(string) -> string` with 64 bytes.
fn echo_64() -> Result<Row, String> {
    let text = "0123456789abcdef".repeat(4);
    let mut store = rv::store();
    let host = Host::instantiate(&mut store, ()).map_err(rv::err)?;
    if host.echo(&mut store, &text).map_err(rv::err)? != text {
        return Err("Rivet: echo changed the string".into());
    }
    let t = text.as_str();
    let mut batches: Vec<Batch> = vec![Box::new(move |n| {
        for _ in 0..n {
            black_box(host.echo(&mut store, t).map_err(rv::err)?);
        }
        Ok(())
    })];
    for engine in wt::engines()? {
        let mut loaded = Loaded::new(&engine, wt::HOST)?;
        let f = loaded.func::<(&str,), (String,)>("echo")?;
        if f.call(&mut loaded.store, (t,)).map_err(wt::err)?.0 != text {
            return Err("Wasmtime: echo changed the string".into());
        }
        batches.push(Box::new(move |n| {
            for _ in 0..n {
                black_box(f.call(&mut loaded.store, (t,)).map_err(wt::err)?);
            }
            Ok(())
        }));
    }
    let m = alternate(ROUNDS, 20_000, &mut batches)?;
    Ok(row(
        "host calls echo(string) -> string, 64 B",
        &m,
        2.0,
        None,
    ))
}

/// Workload 4: one export call in which component A calls B's `echo` `inner`
/// times; the time is per inner call. Here strings of 16 B.
fn echo_short() -> Result<Row, String> {
    echo_loop("A→B echo(string), 16 B", 16, 1_000_000, 1.5)
}

/// Workload 4 with strings of 64 KiB, against the native baseline of copying
/// 2 × 64 KiB.
fn echo_long() -> Result<Row, String> {
    let mut long = echo_loop("A→B echo(string), 64 KiB", 65536, 20_000, 1.0)?;
    let memcpy = memcpy_baseline(65536)?;
    // The second condition: within 1.3x of the copies the ABI must do.
    let within = long.rivet.is_some_and(|r| r <= 1.3 * memcpy);
    long.native = Some(memcpy);
    long.target = format!("{}, ≤ 1.3 × native 2×64 KiB memcpy", long.target);
    long.met = long.met.map(|m| m && within);
    Ok(long)
}

fn echo_loop(workload: &'static str, len: u32, inner: u32, target: f64) -> Result<Row, String> {
    let mut store = rv::store();
    let pair = Pair::instantiate(&mut store, ()).map_err(rv::err)?;
    let mut batches: Vec<Batch> = vec![Box::new(move |n| {
        for _ in 0..n {
            let sum = pair.run(&mut store, inner, len).map_err(rv::err)?;
            check_sum(sum, inner, len)?;
        }
        Ok(())
    })];
    for engine in wt::engines()? {
        let mut loaded = Loaded::new(&engine, wt::PAIR)?;
        let f = loaded.func::<(u32, u32), (u32,)>("run")?;
        batches.push(Box::new(move |n| {
            for _ in 0..n {
                let (sum,) = f.call(&mut loaded.store, (inner, len)).map_err(wt::err)?;
                check_sum(sum, inner, len)?;
            }
            Ok(())
        }));
    }
    let m = alternate(5, 1, &mut batches)?;
    let per_inner: Vec<f64> = m.iter().map(|t| t / f64::from(inner)).collect();
    Ok(row(workload, &per_inner, target, None))
}

/// The guests return the sum of the lengths they got back: proof the calls happened.
fn check_sum(sum: u32, inner: u32, len: u32) -> Result<(), String> {
    if sum == inner.wrapping_mul(len) {
        Ok(())
    } else {
        Err(format!(
            "echo loop returned {sum}, expected {inner} × {len}"
        ))
    }
}

/// Copying `len` bytes twice (argument into B, result into A), natively.
///
/// The three buffers start on page boundaries, as the guests' strings do
/// relative to each other. Three separate heap blocks would lie 16 bytes
/// apart modulo 4 KiB, and some CPUs (AMD Zen 3 here) copy 15 times slower
/// with `rep movsb` at that distance, which made the baseline meaningless.
fn memcpy_baseline(len: usize) -> Result<f64, String> {
    const PAGE: usize = 4096;
    let stride = len.div_ceil(PAGE) * PAGE;
    let mut storage = vec![0u8; 3 * stride + PAGE];
    let start = storage.as_ptr().align_offset(PAGE);
    let (src, rest) = storage[start..].split_at_mut(stride);
    let (mid, dst) = rest.split_at_mut(stride);
    let (src, mid, dst) = (&mut src[..len], &mut mid[..len], &mut dst[..len]);
    src.fill(b'a');
    let mut batches: Vec<Batch> = vec![Box::new(|n| {
        for _ in 0..n {
            mid.copy_from_slice(black_box(&*src));
            dst.copy_from_slice(black_box(&*mid));
            black_box(&mut *dst);
        }
        Ok(())
    })];
    Ok(alternate(ROUNDS, 20_000, &mut batches)?[0])
}

/// Workload 4, records: A calls B's `echo(list<record>)` with 100 records.
fn records() -> Result<Row, String> {
    const INNER: u32 = 200_000;
    let mut store = rv::store();
    let recs = Records::instantiate(&mut store, ()).map_err(rv::err)?;
    let mut batches: Vec<Batch> = vec![Box::new(move |n| {
        for _ in 0..n {
            let sum = recs.run(&mut store, INNER).map_err(rv::err)?;
            check_sum(sum, INNER, 100)?;
        }
        Ok(())
    })];
    for engine in wt::engines()? {
        let mut loaded = Loaded::new(&engine, wt::RECORDS)?;
        let f = loaded.func::<(u32,), (u32,)>("run")?;
        batches.push(Box::new(move |n| {
            for _ in 0..n {
                let (sum,) = f.call(&mut loaded.store, (INNER,)).map_err(wt::err)?;
                check_sum(sum, INNER, 100)?;
            }
            Ok(())
        }));
    }
    let m = alternate(5, 1, &mut batches)?;
    let per_inner: Vec<f64> = m.iter().map(|t| t / f64::from(INNER)).collect();
    Ok(row(
        "A→B echo(list<record>), 100 records",
        &per_inner,
        1.2,
        None,
    ))
}
