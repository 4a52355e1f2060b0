//! Binary rules of the component spec (`Binary.md`) that wasmparser 0.263
//! decides differently, checked on the raw bytes before it runs.
//!
//! `cancel?`: the spec encodes the `cancellable` immediate of
//! `waitable-set.wait`, `waitable-set.poll`, `thread.suspend`, `thread.yield`
//! and the `thread.*-then-*` builtins as `0x00 | 0x01`; wasmparser 0.263 only
//! reads `0x00` (it follows a later revision that dropped the flag) and keeps no
//! trace of the flag in what it returns, so the flag adds no validation rule
//! there. [`cancellable_immediates`] finds every `0x01` immediate so that the
//! decoder can have wasmparser validate the same component with the flag
//! cleared: the verdict on everything else is then wasmparser's.

use wasmparser::{BinaryReader, CanonicalFunction};

/// Section ids of the component binary format that matter here.
const COMPONENT_SECTION: u8 = 4;
const CANONICAL_SECTION: u8 = 8;
/// `\0asm` plus the component version and layer.
const PREAMBLE: usize = 8;

/// Canonical builtins whose first immediate is `cancel?` (`Binary.md`,
/// "Canonical Definitions").
fn has_cancel_immediate(opcode: u8) -> bool {
    matches!(opcode, 0x0c | 0x20 | 0x21 | 0x29 | 0x2a..=0x2d)
}

/// Offsets of every `cancel?` immediate that is `0x01` (`cancellable`), in the
/// canonical sections of the component and of its nested components. Bytes
/// that do not parse end the scan: wasmparser reports them afterwards.
pub fn cancellable_immediates(wasm: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    // Scanning stops at the first malformed byte; what was found before it
    // stands, and wasmparser reports the malformation itself.
    let _ = scan_component(wasm, 0, &mut found);
    found
}

/// Walks the sections of the component at `data` (which starts at `offset` in
/// the input).
fn scan_component(data: &[u8], offset: usize, found: &mut Vec<usize>) -> wasmparser::Result<()> {
    let Some(body) = data.get(PREAMBLE..) else {
        return Ok(());
    };
    let mut reader = BinaryReader::new(body, (offset + PREAMBLE) as u64);
    while !reader.eof() {
        let id = reader.read_u8()?;
        let size = reader.read_var_u32()? as usize;
        let start = reader.original_position() as usize;
        let contents = reader.read_bytes(size)?;
        match id {
            COMPONENT_SECTION => scan_component(contents, start, found)?,
            CANONICAL_SECTION => scan_canonicals(contents, start, found)?,
            _ => {}
        }
    }
    Ok(())
}

/// Records the `cancellable` immediates of one canonical section.
fn scan_canonicals(data: &[u8], offset: usize, found: &mut Vec<usize>) -> wasmparser::Result<()> {
    let mut reader = BinaryReader::new(data, offset as u64);
    for _ in 0..reader.read_var_u32()? {
        let opcode = data.get(reader.current_position()).copied();
        match opcode {
            Some(op) if has_cancel_immediate(op) => {
                reader.read_u8()?;
                let at = reader.original_position() as usize;
                if reader.read_u8()? == 0x01 {
                    found.push(at);
                }
                if matches!(op, 0x20 | 0x21) {
                    reader.read_var_u32()?; // the memory index
                }
            }
            _ => {
                reader.read::<CanonicalFunction>()?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component whose only section is a canonical section with `items`.
    fn component(items: &[&[u8]]) -> Vec<u8> {
        let mut section = vec![items.len() as u8];
        items.iter().for_each(|i| section.extend_from_slice(i));
        let mut wasm = b"\0asm\x0d\0\x01\0".to_vec();
        wasm.extend([CANONICAL_SECTION, section.len() as u8]);
        wasm.extend(section);
        wasm
    }

    #[test]
    fn finds_cancellable_immediates_only() {
        // waitable-set.new, waitable-set.poll cancellable (memory 0),
        // thread.yield, thread.suspend cancellable.
        let wasm = component(&[b"\x1f", b"\x21\x01\x00", b"\x0c\x00", b"\x29\x01"]);
        let start = PREAMBLE + 3;
        assert_eq!(cancellable_immediates(&wasm), vec![start + 2, start + 7]);
        assert!(cancellable_immediates(&component(&[b"\x20\x00\x00"])).is_empty());
    }

    #[test]
    fn looks_into_nested_components_and_stops_at_bad_bytes() {
        let inner = component(&[b"\x2a\x01"]);
        let mut wasm = b"\0asm\x0d\0\x01\0".to_vec();
        wasm.extend([COMPONENT_SECTION, inner.len() as u8]);
        wasm.extend(&inner);
        assert_eq!(
            cancellable_immediates(&wasm),
            vec![PREAMBLE + 2 + 8 + 3 + 1]
        );
        assert!(cancellable_immediates(&wasm[..wasm.len() - 1]).is_empty());
        assert!(cancellable_immediates(b"\0asm").is_empty());
    }
}
