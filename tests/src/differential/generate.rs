//! Generating a case from its seed: the module (wasm-smith over a seeded byte
//! stream, configured for exactly the core features Rivet compiles) and the
//! arguments every exported function is called with.
//!
//! Everything here is a pure function of the seed, so a seed printed by the
//! driver, or recorded for the CI smoke, reproduces its case exactly.

use super::value::{ParamType, Value};
use arbitrary::Unstructured;
use wasm_smith::{Config, Module};

/// Bytes of seeded randomness wasm-smith reads a module from: enough for a few
/// dozen functions of up to `max_instructions` each.
const DNA_BYTES: usize = 64 << 10;

/// Fuel of a module instance (`ensure_termination`): every function entry and
/// loop iteration costs one, bulk operations their length, so every run ends.
pub const FUEL: u32 = 10_000;

/// Largest memory: bounded so that hashing exported memories stays cheap and so
/// that no `memory.grow` within a maximum is ever refused for lack of resources.
const MAX_MEMORY_BYTES: u64 = 16 << 16;

/// SplitMix64: a tiny, well-mixed PRNG whose output for a seed never changes,
/// which is what reproducing a case from its seed (and the CI recording) needs.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// The wasm-smith configuration: WebAssembly 2.0 with SIMD, multi-memory,
/// exceptions (`try_table`/`exnref`) and extended constants, the features
/// docs/support.md lists; no imports, so both engines instantiate with nothing;
/// every item exported, so every function is called and every memory, table
/// and global compared; memories and tables bounded; NaNs canonicalised.
pub fn config() -> Config {
    Config {
        max_imports: 0,
        export_everything: true,
        canonicalize_nans: true,
        // wasm-smith stops adding items with even odds after each one: a floor
        // keeps most modules from being a function or two.
        min_funcs: 6,
        max_funcs: 24,
        max_instructions: 600,
        max_memories: 3,
        max_tables: 3,
        memory_max_size_required: true,
        max_memory32_bytes: MAX_MEMORY_BYTES,
        table_max_size_required: true,
        max_table_elements: 1_000,
        // Outside what Rivet compiles (docs/support.md): refused by its validator.
        gc_enabled: false,
        tail_call_enabled: false,
        threads_enabled: false,
        relaxed_simd_enabled: false,
        memory64_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        shared_everything_threads_enabled: false,
        ..Config::default()
    }
}

/// The module of case `seed`, fuel-bounded by [`FUEL`].
pub fn module(seed: u64) -> Result<Vec<u8>, String> {
    let mut dna = vec![0; DNA_BYTES];
    SplitMix64::new(seed).fill(&mut dna);
    let mut u = Unstructured::new(&dna);
    let mut module =
        Module::new(config(), &mut u).map_err(|e| format!("seed {seed}: wasm-smith: {e}"))?;
    module
        .ensure_termination(FUEL)
        .map_err(|e| format!("seed {seed}: ensure_termination: {e}"))?;
    Ok(module.to_bytes())
}

/// The arguments of the `call`-th call of case `seed`, one per parameter: edge
/// values (zero, ±1, extremes, NaN, infinities) half the time, random bits
/// otherwise. References are null: the host has no others to give.
pub fn arguments(seed: u64, call: usize, params: &[ParamType]) -> Vec<Value> {
    let mut rng = SplitMix64::new(seed ^ (call as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f));
    params.iter().map(|ty| argument(&mut rng, *ty)).collect()
}

fn argument(rng: &mut SplitMix64, ty: ParamType) -> Value {
    let edge = rng.next_u64() & 1 == 0;
    let pick = |rng: &mut SplitMix64, edges: &[u64]| {
        let bits = rng.next_u64();
        if edge {
            edges[(bits % edges.len() as u64) as usize]
        } else {
            bits
        }
    };
    match ty {
        ParamType::I32 => Value::I32(pick(rng, &[0, 1, u64::MAX, 0x7fff_ffff, 0x8000_0000]) as i32),
        ParamType::I64 => Value::I64(pick(rng, &[0, 1, u64::MAX, i64::MAX as u64, 1 << 63]) as i64),
        ParamType::F32 => Value::F32(pick(
            rng,
            &[
                0,
                0x8000_0000,
                0x3f80_0000,
                0x7f80_0000,
                0xff80_0000,
                0x7fc0_0000,
            ],
        ) as u32),
        ParamType::F64 => Value::F64(pick(
            rng,
            &[
                0,
                1 << 63,
                0x3ff0 << 48,
                0x7ff0 << 48,
                0xfff0 << 48,
                0x7ff8 << 48,
            ],
        )),
        ParamType::V128 => {
            Value::V128(u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()))
        }
        ParamType::Ref(kind) => Value::Null(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_gives_the_same_valid_module() {
        let first = module(7).unwrap();
        assert_eq!(first, module(7).unwrap());
        assert_ne!(first, module(8).unwrap());
        rivet_build::validate_module(&first, &Default::default()).unwrap();
    }

    #[test]
    fn arguments_follow_the_parameter_types() {
        let params = [
            ParamType::I32,
            ParamType::F64,
            ParamType::Ref(super::super::value::RefKind::Func),
        ];
        let args = arguments(3, 0, &params);
        assert!(
            matches!(args[..], [Value::I32(_), Value::F64(_), Value::Null(_)]),
            "{args:?}"
        );
        assert_eq!(args, arguments(3, 0, &params));
    }
}
