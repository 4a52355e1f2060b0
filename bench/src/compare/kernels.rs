//! Workload 5: compute kernels from the `kernels` crate, natively and in the
//! `kernels-guest` component under Rivet and Wasmtime.

use super::rivet_side::{self as rv, Kernels};
use super::sample::{alternate, Batch};
use super::wasmtime_side::{self as wt, Loaded};
use super::{Row, Unit};
use std::hint::black_box;

const LEN: u32 = 1 << 20;
const SEED: u32 = 0x5eed;

pub fn run() -> Result<Vec<Row>, String> {
    Ok(vec![
        kernel("SHA-256 of 1 MiB (Rust guest)", "sha256")?,
        kernel("JSON-like tokenizer over 1 MiB (Rust guest)", "tokenize")?,
    ])
}

/// Every contender must produce what native code produces, then is timed.
fn kernel(workload: &'static str, export: &'static str) -> Result<Row, String> {
    let expected = native(export);
    let mut store = rv::store();
    let k = Kernels::instantiate(&mut store, ()).map_err(rv::err)?;
    // Computed once: recomputing it inside a batch would time native code too.
    let rivet_expected = expected.clone();
    let mut batches: Vec<Batch> = vec![
        Box::new(move |n| {
            for _ in 0..n {
                black_box(native(export));
            }
            Ok(())
        }),
        Box::new(move |n| {
            for _ in 0..n {
                let got = match export {
                    "sha256" => k.sha256(&mut store, LEN, SEED).map_err(rv::err)?,
                    _ => k
                        .tokenize(&mut store, LEN, SEED)
                        .map_err(rv::err)?
                        .to_le_bytes()
                        .to_vec(),
                };
                same(&got, &rivet_expected, "Rivet")?;
            }
            Ok(())
        }),
    ];
    for engine in wt::engines()? {
        let mut loaded = Loaded::new(&engine, wt::KERNELS)?;
        let sha = loaded.func::<(u32, u32), (Vec<u8>,)>("sha256")?;
        let tok = loaded.func::<(u32, u32), (u32,)>("tokenize")?;
        let expected = expected.clone();
        batches.push(Box::new(move |n| {
            for _ in 0..n {
                let got = match export {
                    "sha256" => sha.call(&mut loaded.store, (LEN, SEED)).map_err(wt::err)?.0,
                    _ => tok
                        .call(&mut loaded.store, (LEN, SEED))
                        .map_err(wt::err)?
                        .0
                        .to_le_bytes()
                        .to_vec(),
                };
                same(&got, &expected, "Wasmtime")?;
            }
            Ok(())
        }));
    }
    let m = alternate(9, 1, &mut batches)?;
    let (native, rivet) = (m[0], m[1]);
    let (wasmtime, pooling) = (m.get(2).copied(), m.get(3).copied());
    Ok(Row {
        workload,
        unit: Unit::Nanos,
        rivet: Some(rivet),
        wasmtime,
        pooling,
        native: Some(native),
        target: "≥ 1.0, ≤ 1.5 × native".to_string(),
        met: wasmtime.map(|w| w >= rivet && rivet <= 1.5 * native),
    })
}

/// The kernel's result run natively, as bytes.
fn native(export: &str) -> Vec<u8> {
    match export {
        "sha256" => kernels::sha256_workload(LEN as usize, SEED).to_vec(),
        _ => kernels::tokenize_workload(LEN as usize, SEED)
            .to_le_bytes()
            .to_vec(),
    }
}

fn same(got: &[u8], expected: &[u8], who: &str) -> Result<(), String> {
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "{who}: the kernel's result differs from native code's"
        ))
    }
}
