//! Run time of the kernels in `bench/kernels/`, compiled by Rivet in both bounds
//! modes, against the same algorithms written in Rust and compiled natively.

use crate::report::Table;
use crate::timing::{median_elapsed, millis, time};
use rivet::{BoundsMode, Extern, Func, Store, Val};
use rivet_tests::loader::{compile_and_load, LoadedModule};
use std::hint::black_box;
use std::time::Duration;

/// Samples per implementation; implementations alternate within each round.
const ROUNDS: usize = 15;

/// A sample repeats the call until the native version would take this long, so
/// short kernels are not lost in timer and call overhead.
const SAMPLE: Duration = Duration::from_millis(20);

const FIB_N: i32 = 30;
const CHECKSUM_LEN: usize = 1 << 20;
const CHECKSUM_SEED: i32 = 0x1234_5678;

/// One way of running a kernel: returns the kernel's result.
struct Implementation {
    name: String,
    run: Box<dyn FnMut() -> Result<u64, String>>,
}

pub fn table() -> Result<Table, String> {
    let mut table = Table::new(
        "Kernel run time",
        &format!(
            "Median time per call over {ROUNDS} samples, implementations alternating in each \
             round (each sample repeats the call to last about {} ms natively). Ratio = \
             time / native Rust time (lower is better), from CPU time (this thread), the \
             stable number on this shared machine; wall-clock ratio beside it. Every \
             result is checked against the native one. Note: LLVM turns the second \
             recursive call of the native `fib` into a loop (accumulator recursion \
             elimination; checked in the disassembly), so native fib makes about half \
             the calls the wasm one does.",
            SAMPLE.as_millis()
        ),
        &[
            "kernel",
            "implementation",
            "CPU per call",
            "ratio vs native",
            "wall per call",
            "wall ratio",
        ],
    );
    let fib_wasm = wat::parse_file(kernel_path("fib.wat")).map_err(|e| e.to_string())?;
    let fib_native = Implementation {
        name: "native Rust".to_string(),
        run: Box::new(|| Ok(fib(black_box(FIB_N as u32)))),
    };
    let fib_args = [Val::I32(FIB_N)];
    measure(
        &mut table,
        &format!("fib({FIB_N})"),
        fib_native,
        wasm_implementations(&fib_wasm, "fib", &fib_args)?,
    )?;
    let checksum_wasm = wat::parse_file(kernel_path("checksum.wat")).map_err(|e| e.to_string())?;
    let mut buffer = vec![0u8; CHECKSUM_LEN];
    let checksum_native = Implementation {
        name: "native Rust".to_string(),
        run: Box::new(move || {
            Ok(checksum(
                black_box(&mut buffer),
                black_box(CHECKSUM_SEED as u32),
            ))
        }),
    };
    let checksum_args = [Val::I32(CHECKSUM_LEN as i32), Val::I32(CHECKSUM_SEED)];
    measure(
        &mut table,
        "checksum(1 MiB)",
        checksum_native,
        wasm_implementations(&checksum_wasm, "checksum", &checksum_args)?,
    )?;
    Ok(table)
}

fn kernel_path(name: &str) -> String {
    format!("{}/kernels/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Measures `native` and `others`, checks they all agree, and adds their rows.
fn measure(
    table: &mut Table,
    kernel: &str,
    native: Implementation,
    others: Vec<Implementation>,
) -> Result<(), String> {
    let mut all = vec![native];
    all.extend(others);
    let (expected, once) = time(|| (all[0].run)());
    let expected = expected?;
    for implementation in &mut all[1..] {
        check(kernel, implementation, expected)?;
    }
    let repeat = (SAMPLE.as_nanos() / once.wall.as_nanos().max(1)).clamp(1, 1_000_000) as u32;
    let mut samples = vec![Vec::new(); all.len()];
    for round in 0..ROUNDS {
        for k in 0..all.len() {
            // Rotate who goes first, so no implementation always follows the same one.
            let which = (round + k) % all.len();
            let implementation = &mut all[which];
            let (result, elapsed) = time(|| -> Result<(), String> {
                for _ in 0..repeat {
                    check(kernel, implementation, expected)?;
                }
                Ok(())
            });
            result?;
            samples[which].push(elapsed.per(repeat));
        }
    }
    let native = median_elapsed(&samples[0]);
    let ratio = |a: Duration, b: Duration| format!("{:.2}", a.as_secs_f64() / b.as_secs_f64());
    for (implementation, samples) in all.iter().zip(&samples) {
        let per_call = median_elapsed(samples);
        table.row(vec![
            kernel.to_string(),
            implementation.name.clone(),
            millis(per_call.cpu),
            ratio(per_call.cpu, native.cpu),
            millis(per_call.wall),
            ratio(per_call.wall, native.wall),
        ]);
    }
    Ok(())
}

/// Runs once and fails (which aborts the bench) on a result that differs from the
/// native one.
fn check(kernel: &str, implementation: &mut Implementation, expected: u64) -> Result<(), String> {
    let got = (implementation.run)()?;
    if got != expected {
        return Err(format!(
            "{kernel}: {} returned {got:#x}, native Rust {expected:#x}",
            implementation.name
        ));
    }
    Ok(())
}

/// The kernel's export `name`, compiled by Rivet in each bounds mode.
fn wasm_implementations(
    wasm: &[u8],
    name: &str,
    args: &[Val],
) -> Result<Vec<Implementation>, String> {
    [
        (BoundsMode::Guard, "Rivet, guard"),
        (BoundsMode::Explicit, "Rivet, explicit bounds"),
    ]
    .into_iter()
    .map(|(bounds, label)| {
        let mut kernel = WasmKernel::new(wasm, bounds, name)?;
        let args = args.to_vec();
        Ok(Implementation {
            name: label.to_string(),
            run: Box::new(move || kernel.call(black_box(&args))),
        })
    })
    .collect()
}

/// An instantiated kernel. Fields drop in order: the store before the library
/// holding the code it ran.
struct WasmKernel {
    store: Store,
    func: Func,
    _loaded: LoadedModule,
}

impl WasmKernel {
    fn new(wasm: &[u8], bounds: BoundsMode, export: &str) -> Result<WasmKernel, String> {
        let options = rivet_build::Options {
            bounds,
            ..Default::default()
        };
        let loaded = compile_and_load(wasm, &options)?;
        let mut store = Store::new(bounds);
        let instance = store
            .instantiate(&loaded.module, &[])
            .map_err(|e| format!("instantiating: {e}"))?;
        let Some(Extern::Func(func)) = instance.export(&store, export) else {
            return Err(format!("the kernel exports no function `{export}`"));
        };
        Ok(WasmKernel {
            store,
            func,
            _loaded: loaded,
        })
    }

    /// Calls the kernel, which returns one i64.
    fn call(&mut self, args: &[Val]) -> Result<u64, String> {
        match self.func.call(&mut self.store, args).as_deref() {
            Ok([Val::I64(value)]) => Ok(*value as u64),
            Ok(other) => Err(format!("unexpected results {other:?}")),
            Err(trap) => Err(format!("trapped: {trap}")),
        }
    }
}

/// `fib.wat` in Rust: the same doubly recursive definition.
fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1).wrapping_add(fib(n - 2))
    }
}

/// `checksum.wat` in Rust: fill `buffer` with a linear congruential sequence in
/// little-endian 32-bit words, then fold it 8 bytes at a time with FNV-1a style
/// mixing. `buffer.len()` must be a multiple of 8 (as the wasm caller's `len`).
fn checksum(buffer: &mut [u8], seed: u32) -> u64 {
    let mut x = seed;
    for word in buffer.chunks_exact_mut(4) {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        word.copy_from_slice(&x.to_le_bytes());
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for chunk in buffer.chunks_exact(8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of 8 bytes"));
        h = (h ^ word).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_fib() {
        assert_eq!(fib(0), 0);
        assert_eq!(fib(1), 1);
        assert_eq!(fib(20), 6765);
    }

    #[test]
    fn native_checksum_of_a_tiny_buffer() {
        let mut buffer = [0u8; 8];
        let h = checksum(&mut buffer, 0);
        let x0: u32 = 1_013_904_223;
        let x1 = x0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let word = u64::from(x0) | (u64::from(x1) << 32);
        assert_eq!(
            h,
            (0xcbf2_9ce4_8422_2325 ^ word).wrapping_mul(0x100_0000_01b3)
        );
    }

    #[test]
    fn rivet_kernels_agree_with_native() {
        let wasm = wat::parse_file(kernel_path("checksum.wat")).unwrap();
        let mut kernel = WasmKernel::new(&wasm, BoundsMode::Explicit, "checksum").unwrap();
        let got = kernel.call(&[Val::I32(4096), Val::I32(7)]).unwrap();
        assert_eq!(got, checksum(&mut [0u8; 4096], 7));
        let wasm = wat::parse_file(kernel_path("fib.wat")).unwrap();
        let mut kernel = WasmKernel::new(&wasm, BoundsMode::Guard, "fib").unwrap();
        assert_eq!(kernel.call(&[Val::I32(20)]).unwrap(), fib(20));
    }
}
