//! A JSON-like tokenizer: the branchy, byte-at-a-time kind of code parsers are
//! made of, as a contrast to SHA-256's straight-line arithmetic.

use alloc::string::String;
use alloc::vec::Vec;

/// What the tokenizer found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tokens {
    /// Punctuation, strings, numbers and literals.
    pub count: u32,
    /// The deepest nesting of `[` and `{`.
    pub max_depth: u32,
}

/// Tokenizes `text`: `{ } [ ] : ,`, strings with escapes, numbers, `true`, `false`,
/// `null`. Brackets must balance and match. `None` for anything else.
pub fn tokenize(text: &str) -> Option<Tokens> {
    let bytes = text.as_bytes();
    let mut stack: Vec<u8> = Vec::new();
    let mut tokens = Tokens {
        count: 0,
        max_depth: 0,
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i = match b {
            b' ' | b'\n' | b'\t' | b'\r' => i + 1,
            b'{' | b'[' => {
                stack.push(b);
                tokens.max_depth = tokens.max_depth.max(stack.len() as u32);
                i + 1
            }
            b'}' | b']' => {
                let open = if b == b'}' { b'{' } else { b'[' };
                if stack.pop() != Some(open) {
                    return None;
                }
                i + 1
            }
            b':' | b',' => i + 1,
            b'"' => string_end(bytes, i + 1)?,
            b'-' | b'0'..=b'9' => number_end(bytes, i),
            b't' | b'f' | b'n' => literal_end(bytes, i)?,
            _ => return None,
        };
        if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
            tokens.count += 1;
        }
    }
    stack.is_empty().then_some(tokens)
}

/// The index after the closing quote of a string whose body starts at `i`.
fn string_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

fn number_end(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
        i += 1;
    }
    i
}

fn literal_end(bytes: &[u8], i: usize) -> Option<usize> {
    ["true", "false", "null"]
        .iter()
        .find(|lit| bytes[i..].starts_with(lit.as_bytes()))
        .map(|lit| i + lit.len())
}

/// A JSON-like document of at least `len` bytes: an array of small objects with
/// strings (some escaped), numbers, literals and nested arrays, varied by `seed`.
pub fn document(len: usize, seed: u32) -> String {
    use core::fmt::Write;
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut doc = String::with_capacity(len + 128);
    doc.push('[');
    let mut first = true;
    while doc.len() < len {
        if !first {
            doc.push(',');
        }
        first = false;
        let r = next();
        let _ = write!(
            doc,
            "{{\"id\": {}, \"name\": \"item \\\"{}\\\"\", \"score\": -{}.{}e3, \"ok\": {}, \
             \"tags\": [{}, null, [\"x\", {}]]}}",
            r % 100_000,
            r % 977,
            r % 61,
            r % 7,
            if r & 1 == 0 { "true" } else { "false" },
            r % 13,
            r >> 20
        );
    }
    doc.push(']');
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tokens_and_depth() {
        let t = tokenize(r#"{"a": [1, -2.5e3, "x\"y"], "b": null}"#).unwrap();
        // { "a" : [ 1 , -2.5e3 , "x\"y" ] , "b" : null }
        assert_eq!(t.count, 15);
        assert_eq!(t.max_depth, 2);
    }

    #[test]
    fn rejects_unbalanced_and_unknown_input() {
        assert_eq!(tokenize("[1, 2}"), None);
        assert_eq!(tokenize("[1"), None);
        assert_eq!(tokenize("\"open"), None);
        assert_eq!(tokenize("[nope]"), None);
    }

    #[test]
    fn generated_documents_tokenize() {
        let doc = document(10_000, 7);
        assert!(doc.len() >= 10_000);
        let t = tokenize(&doc).unwrap();
        assert!(t.count > 1000 && t.max_depth == 4, "{t:?}");
    }
}
