//! The `heavy` mode, a file-system benchmark: 16 MiB written to `DIR/heavy.bin`
//! in 64 KiB chunks, read back in 64 KiB chunks and checked against what was
//! written, with an FNV-1a checksum of the bytes read so that a host's test can
//! tell the data survived the round trip. The file is removed at the end.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;

use crate::report::step;

const CHUNK: usize = 64 * 1024;
const CHUNKS: usize = 256;

pub fn run(dir: &str) {
    let path = Path::new(dir).join("heavy.bin");
    step(
        "write heavy.bin",
        write(&path).map(|n| format!("{n} bytes")),
    );
    step("read heavy.bin", read(&path));
    step("remove heavy.bin", fs::remove_file(&path));
}

/// Chunk `index`: bytes from a xorshift generator seeded by the index, so no
/// two chunks are alike and a misplaced chunk changes the checksum.
fn chunk(index: usize, buf: &mut [u8]) {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ index as u64;
    for word in buf.chunks_exact_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        word.copy_from_slice(&state.to_le_bytes());
    }
}

fn write(path: &Path) -> io::Result<usize> {
    let mut file = File::create(path)?;
    let mut buf = vec![0u8; CHUNK];
    for index in 0..CHUNKS {
        chunk(index, &mut buf);
        file.write_all(&buf)?;
    }
    file.flush()?;
    Ok(CHUNK * CHUNKS)
}

/// Reads the file back chunk by chunk: the byte count, whether every chunk
/// matched, and the checksum.
fn read(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let (mut got, mut want) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let (mut total, mut matched, mut hash) = (0usize, true, Fnv::new());
    for index in 0..CHUNKS {
        file.read_exact(&mut got)?;
        chunk(index, &mut want);
        matched &= got == want;
        hash.update(&got);
        total += got.len();
    }
    let at_end = file.read(&mut got)? == 0;
    Ok(format!(
        "{total} bytes, matches {matched}, then end {at_end}, fnv1a64 {:016x}",
        hash.0
    ))
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
