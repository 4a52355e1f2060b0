//! Workload 5: compute kernels from the `kernels` crate, natively and in the
//! `kernels-guest` component under Rivet and Wasmtime. Rivet's judged rows
//! run the component compiled with the C backend; the same rows with
//! Cranelift alone follow, unjudged.

use super::rivet_side::{self as rv, Kernels, KernelsCranelift};
use super::sample::{alternate, Batch};
use super::wasmtime_side::{self as wt, Loaded};
use super::{Row, Unit};
use std::hint::black_box;

const LEN: u32 = 1 << 20;
const SEED: u32 = 0x5eed;

pub fn run() -> Result<Vec<Row>, String> {
    Ok(vec![
        kernel("SHA-256 of 1 MiB (Rust guest)", Kernel::Sha256, true)?,
        kernel(
            "JSON-like tokenizer over 1 MiB (Rust guest)",
            Kernel::Tokenize,
            true,
        )?,
        kernel(
            "JSON-like document of 1 MiB written with core::fmt (Rust guest)",
            Kernel::Generate,
            true,
        )?,
        kernel("SHA-256, Cranelift only (unjudged)", Kernel::Sha256, false)?,
        kernel(
            "tokenizer, Cranelift only (unjudged)",
            Kernel::Tokenize,
            false,
        )?,
        kernel(
            "document, Cranelift only (unjudged)",
            Kernel::Generate,
            false,
        )?,
    ])
}

/// The batch timing Rivet's instance of component type `$ty`, checking each
/// result against `$expected`.
macro_rules! rivet_batch {
    ($ty:ty, $kernel:expr, $expected:expr) => {{
        let (kernel, expected) = ($kernel, $expected);
        let mut store = rv::store();
        let k = <$ty>::instantiate(&mut store, ()).map_err(rv::err)?;
        if kernel == Kernel::Tokenize {
            k.generate(&mut store, LEN, SEED).map_err(rv::err)?;
        }
        let batch: Batch = Box::new(move |n| {
            for _ in 0..n {
                let got = match kernel {
                    Kernel::Sha256 => k.sha256(&mut store, LEN, SEED).map_err(rv::err)?,
                    Kernel::Tokenize => le(k.tokenize(&mut store).map_err(rv::err)?),
                    Kernel::Generate => le(k.generate(&mut store, LEN, SEED).map_err(rv::err)?),
                };
                same(&got, &expected, "Rivet")?;
            }
            Ok(())
        });
        batch
    }};
}

/// A kernel, named by its export.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kernel {
    Sha256,
    /// The tokenizer over a document generated before timing starts: byte-wise
    /// dispatch through a jump table.
    Tokenize,
    /// The document's generation: `core::fmt` work, calls through trait objects.
    Generate,
}

impl Kernel {
    /// The kernel's result run natively, as bytes; `document` is the
    /// tokenizer's input.
    fn native(self, document: &str) -> Vec<u8> {
        match self {
            Kernel::Sha256 => kernels::sha256_workload(LEN as usize, SEED).to_vec(),
            Kernel::Tokenize => le(kernels::token_count(document)),
            Kernel::Generate => le(kernels::document(LEN as usize, SEED).len() as u32),
        }
    }
}

/// Every contender must produce what native code produces, then is timed. For
/// the tokenizer, each contender first generates its document (untimed).
/// `judged`: Rivet runs the C backend's build and the row counts towards the
/// targets; otherwise Cranelift's build, for comparison.
fn kernel(workload: &'static str, kernel: Kernel, judged: bool) -> Result<Row, String> {
    let document = kernels::document(LEN as usize, SEED);
    let expected = kernel.native(&document);
    // Computed once: recomputing it inside a batch would time native code too.
    let rivet = if judged {
        rivet_batch!(Kernels, kernel, expected.clone())
    } else {
        rivet_batch!(KernelsCranelift, kernel, expected.clone())
    };
    let mut batches: Vec<Batch> = vec![
        Box::new(move |n| {
            for _ in 0..n {
                black_box(kernel.native(&document));
            }
            Ok(())
        }),
        rivet,
    ];
    for engine in wt::engines()? {
        let mut loaded = Loaded::new(&engine, wt::KERNELS)?;
        let sha = loaded.func::<(u32, u32), (Vec<u8>,)>("sha256")?;
        let generate = loaded.func::<(u32, u32), (u32,)>("generate")?;
        let tokenize = loaded.func::<(), (u32,)>("tokenize")?;
        if kernel == Kernel::Tokenize {
            generate
                .call(&mut loaded.store, (LEN, SEED))
                .map_err(wt::err)?;
        }
        let expected = expected.clone();
        batches.push(Box::new(move |n| {
            for _ in 0..n {
                let store = &mut loaded.store;
                let got = match kernel {
                    Kernel::Sha256 => sha.call(store, (LEN, SEED)).map_err(wt::err)?.0,
                    Kernel::Tokenize => le(tokenize.call(store, ()).map_err(wt::err)?.0),
                    Kernel::Generate => le(generate.call(store, (LEN, SEED)).map_err(wt::err)?.0),
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
        target: if judged {
            "≥ 1.0, ≤ 1.5 × native".to_string()
        } else {
            "–".to_string()
        },
        met: wasmtime
            .map(|w| w >= rivet && rivet <= 1.5 * native)
            .filter(|_| judged),
    })
}

/// A count result as bytes, to compare like SHA-256's digest.
fn le(n: u32) -> Vec<u8> {
    n.to_le_bytes().to_vec()
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
