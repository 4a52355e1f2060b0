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
//!
//! Name uniqueness: `Explainer.md` ("Name Uniqueness") canonicalizes names by
//! lowercasing them and stripping annotations, so `a1` and `a-1` are distinct;
//! wasmparser 0.263 also drops every hyphen and reports them as conflicting.
//! [`false_conflict`] recognises such a verdict and [`rename`] gives one of the
//! two names a fresh spelling of the same length (every occurrence, so
//! references stay consistent) in the bytes wasmparser validates; the decoder
//! keeps reading names from the original bytes and maps the validator's
//! spellings back ([`Renames`]).

use std::ops::Range;
use wasm_encoder::Encode;
use wasmparser::{BinaryReader, CanonicalFunction, Parser, Payload};

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

/// How many names one component may need renamed before Rivet gives up and
/// reports wasmparser's verdict.
const MAX_RENAMES: usize = 64;

/// Names given a fresh spelling for wasmparser: `(spelling, original)`.
#[derive(Default, Debug)]
pub struct Renames(Vec<(String, String)>);

impl Renames {
    /// The name a spelling the validator saw stands for.
    pub fn original<'n>(&'n self, name: &'n str) -> &'n str {
        self.0
            .iter()
            .find(|(spelling, _)| spelling == name)
            .map_or(name, |(_, original)| original.as_str())
    }

    /// `message` with every fresh spelling put back to the original name.
    pub fn restore(&self, message: &str) -> String {
        self.0
            .iter()
            .fold(message.to_string(), |m, (spelling, original)| {
                m.replace(&format!("`{spelling}`"), &format!("`{original}`"))
            })
    }

    /// Whether another rename may be tried.
    pub fn has_room(&self) -> bool {
        self.0.len() < MAX_RENAMES
    }
}

/// The name a wasmparser uniqueness error complains about, when the spec's
/// rule says it does not conflict with the previous one. Only plain kebab
/// labels (`a-1`, a field, a case) are considered; every other verdict stands.
pub fn false_conflict(message: &str) -> Option<String> {
    let (before, after) = message.split_once("` conflicts with previous ")?;
    let name = before.rsplit_once('`')?.1;
    let prev = after.split('`').nth(1)?;
    let plain = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (plain(name) && plain(prev) && !name.eq_ignore_ascii_case(prev)).then(|| name.to_string())
}

/// Gives `name` a fresh spelling of the same length everywhere in `wasm`
/// outside core modules, and records it. `None` when no occurrence was found
/// or no fresh spelling exists.
pub fn rename(wasm: &mut [u8], name: &str, renames: &mut Renames) -> Option<()> {
    // A name as the binary format stores it: LEB128 length, then the bytes.
    let mut needle = Vec::new();
    name.encode(&mut needle);
    let modules = module_ranges(wasm);
    let spelling = fresh_spelling(wasm, name.len(), renames)?;
    let mut found = false;
    let mut at = 0;
    while let Some(i) = find(&wasm[at..], &needle).map(|i| i + at) {
        at = i + needle.len();
        if modules.iter().any(|m| m.contains(&i)) {
            continue;
        }
        wasm[i + needle.len() - name.len()..at].copy_from_slice(spelling.as_bytes());
        found = true;
    }
    // A spelling of an earlier rename may need another: map it to the source.
    let original = renames.original(name).to_string();
    found.then(|| renames.0.push((spelling, original)))
}

/// A lowercase word of `len` letters that occurs nowhere in `wasm` and is not
/// a spelling already used.
fn fresh_spelling(wasm: &[u8], len: usize, renames: &Renames) -> Option<String> {
    (0u64..10_000).find_map(|n| {
        let mut word: Vec<u8> = (0..len).map(|_| b'q').collect();
        let mut k = n;
        for slot in word.iter_mut().rev() {
            *slot = b'a' + (k % 26) as u8;
            k /= 26;
            if k == 0 {
                break;
            }
        }
        let word = String::from_utf8(word).ok()?;
        let unused = find(wasm, word.as_bytes()).is_none();
        let new = renames.0.iter().all(|(s, _)| *s != word);
        (unused && new).then_some(word)
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Byte ranges of the core modules nested anywhere in the component: their
/// names are not component names and their code must stay as it is.
fn module_ranges(wasm: &[u8]) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(Payload::ModuleSection {
                unchecked_range, ..
            }) => ranges.push(unchecked_range.start as usize..unchecked_range.end as usize),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    ranges
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

    #[test]
    fn only_hyphen_differences_are_false_conflicts() {
        let msg = |a: &str, b: &str| {
            format!("import name `{a}` conflicts with previous name `{b}` (at offset 0x10)")
        };
        assert_eq!(false_conflict(&msg("a-1", "a1")).as_deref(), Some("a-1"));
        assert_eq!(
            false_conflict("record field name `x-y` conflicts with previous field name `xy`")
                .as_deref(),
            Some("x-y")
        );
        assert_eq!(false_conflict(&msg("A", "a")), None);
        assert_eq!(false_conflict(&msg("foo-BAR", "FOO-bar")), None);
        assert_eq!(false_conflict(&msg("[method]r.a-1", "[method]r.a1")), None);
        assert_eq!(false_conflict("type mismatch"), None);
    }

    #[test]
    fn renames_every_component_occurrence_outside_modules() {
        let module = b"\0asm\x01\0\0\0\0\x04\x03a-1";
        let mut wasm = b"\0asm\x0d\0\x01\0\0\x04\x03a-1".to_vec();
        wasm.extend([1, module.len() as u8]);
        wasm.extend(module);
        wasm.extend(b"\0\x04\x03a-1");
        let mut renames = Renames::default();
        rename(&mut wasm, "a-1", &mut renames).unwrap();
        let spelling = renames.0[0].0.clone();
        assert_eq!(spelling.len(), 3);
        assert!(spelling.bytes().all(|b| b.is_ascii_lowercase()));
        let text = String::from_utf8_lossy(&wasm);
        assert_eq!(text.matches(&spelling).count(), 2);
        assert_eq!(text.matches("a-1").count(), 1, "the module's bytes stay");
        assert_eq!(renames.original(&spelling), "a-1");
        assert_eq!(renames.original("other"), "other");
        assert_eq!(
            renames.restore(&format!("name `{spelling}` is bad")),
            "name `a-1` is bad"
        );
        assert!(rename(&mut wasm, "zz-9", &mut renames).is_none());
    }
}
