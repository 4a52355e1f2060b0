//! `wasi:random`: secure and insecure random bytes and the insecure seed, from
//! sources the builder can replace (a fixed sequence makes a test repeatable).

use crate::WasiCtx;
use rivet::Trap;

/// The most random bytes one call returns: a guest asking for more traps
/// instead of making the host allocate what it asked.
const MAX_RANDOM: u64 = 1 << 26;

/// A source of random bytes.
pub trait RandomSource: Send {
    /// Fills `buf`; an error traps the guest call that asked.
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<()>;
}

/// The operating system's secure generator.
#[derive(Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        getrandom::fill(buf).map_err(std::io::Error::other)
    }
}

impl WasiCtx {
    /// `random.get-random-bytes`.
    pub fn random_bytes(&mut self, len: u64) -> Result<Vec<u8>, Trap> {
        fill(&mut *self.random, len)
    }

    /// `random.get-random-u64`.
    pub fn random_u64(&mut self) -> Result<u64, Trap> {
        next_u64(&mut *self.random)
    }

    /// `insecure.get-insecure-random-bytes`.
    pub fn insecure_random_bytes(&mut self, len: u64) -> Result<Vec<u8>, Trap> {
        fill(&mut *self.insecure_random, len)
    }

    /// `insecure.get-insecure-random-u64`.
    pub fn insecure_random_u64(&mut self) -> Result<u64, Trap> {
        next_u64(&mut *self.insecure_random)
    }

    /// `insecure-seed.insecure-seed`: the same pair for the whole context.
    pub fn insecure_seed(&self) -> (u64, u64) {
        self.insecure_seed
    }
}

fn fill(source: &mut dyn RandomSource, len: u64) -> Result<Vec<u8>, Trap> {
    if len > MAX_RANDOM {
        return Err(Trap::host(format!(
            "{len} random bytes asked for; at most {MAX_RANDOM} per call"
        )));
    }
    let mut buf = vec![0; len as usize];
    source.fill(&mut buf).map_err(failed)?;
    Ok(buf)
}

pub(crate) fn next_u64(source: &mut dyn RandomSource) -> Result<u64, Trap> {
    let mut b = [0; 8];
    source.fill(&mut b).map_err(failed)?;
    Ok(u64::from_le_bytes(b))
}

#[cold]
fn failed(e: std::io::Error) -> Trap {
    Trap::host(format!("the random source failed: {e}"))
}
