//! Compute kernels for the benchmark, written once and built twice: natively into
//! `rivet-bench` (the baseline) and to wasm32 into the `kernels-guest` component, so
//! that native code, Rivet and Wasmtime run exactly the same source.
//!
//! Inputs are generated from a size and a seed inside whoever runs the kernel, so no
//! megabyte-sized argument has to cross the component boundary and the measured
//! time is compute, not copying.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

mod sha256;
mod tokenize;

pub use sha256::sha256;
pub use tokenize::{document, tokenize, Tokens};

/// `len` pseudo-random bytes from `seed` (xorshift32): cheap, deterministic input.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// SHA-256 of `len` bytes of [`pattern`]`(len, seed)`.
pub fn sha256_workload(len: usize, seed: u32) -> [u8; 32] {
    sha256(&pattern(len, seed))
}

/// How many tokens `doc` has (0 if the tokenizer rejects it, which it never does
/// for a [`document`]).
pub fn token_count(doc: &str) -> u32 {
    tokenize(doc).map_or(0, |t| t.count)
}
