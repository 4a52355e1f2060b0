//! Rust names for component names: kebab-case becomes snake_case or
//! CamelCase, keywords get a trailing `_`, and function names drop the
//! interface path where that stays unambiguous.

use proc_macro2::{Ident, Span};
use std::collections::HashMap;

/// Lowercase words of a component name (split at anything not alphanumeric).
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// `get-stdout` → `get_stdout`.
pub fn snake(s: &str) -> String {
    let joined = words(s).join("_");
    if joined.is_empty() || joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// `output-stream` → `OutputStream`.
pub fn camel(s: &str) -> String {
    let joined: String = words(s)
        .iter()
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect();
    if joined.is_empty() || joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("T{joined}")
    } else {
        joined
    }
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "Self",
];

/// An identifier for an already snake/camel-cased name; keywords get a `_`
/// suffix rather than `r#` because `self`, `crate`, … cannot be raw.
pub fn ident(s: &str) -> Ident {
    if KEYWORDS.contains(&s) {
        Ident::new(&format!("{s}_"), Span::call_site())
    } else {
        Ident::new(s, Span::call_site())
    }
}

/// The function part of an import/export name as snake_case; resource
/// functions read as `counter_new` (constructor) and `counter_get`
/// (`[method]counter.get`, `[static]counter.get`).
pub fn func_part(f: &str) -> String {
    if let Some(r) = f.strip_prefix("[constructor]") {
        return snake(&format!("{r}-new"));
    }
    let rest = f
        .strip_prefix("[method]")
        .or_else(|| f.strip_prefix("[static]"))
        .unwrap_or(f);
    snake(rest)
}

/// Short (`stdout_get_stdout`) and full (`wasi_cli_stdout_get_stdout`) method
/// names of `wasi:cli/stdout@0.2.0#get-stdout`; a top-level `f` is just `f`.
fn candidates(name: &str) -> (String, String) {
    let Some((iface, f)) = name.split_once('#') else {
        let f = func_part(name);
        return (f.clone(), f);
    };
    let iface = iface.split('@').next().unwrap_or(iface);
    let last = iface.rsplit([':', '/']).next().unwrap_or(iface);
    let f = func_part(f);
    (
        format!("{}_{f}", snake(last)),
        format!("{}_{f}", snake(iface)),
    )
}

/// Method names for a list of function names: the short form unless two
/// functions share it, then the full form; `reserved` names (the struct's own
/// methods) are avoided with a trailing `_`. Errors on names that still clash.
pub fn method_names(names: &[&str], reserved: &[&str]) -> Result<Vec<String>, String> {
    let cands: Vec<_> = names.iter().map(|n| candidates(n)).collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (short, _) in &cands {
        *count.entry(short).or_default() += 1;
    }
    let chosen: Vec<String> = cands
        .iter()
        .map(|(short, full)| {
            let n = if count[short.as_str()] > 1 {
                full
            } else {
                short
            };
            if reserved.contains(&n.as_str()) {
                format!("{n}_")
            } else {
                n.clone()
            }
        })
        .collect();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (c, n) in chosen.iter().zip(names) {
        if let Some(other) = seen.insert(c, n) {
            return Err(format!(
                "functions `{other}` and `{n}` both map to the Rust name `{c}`"
            ));
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_and_keywords() {
        assert_eq!(snake("get-stdout"), "get_stdout");
        assert_eq!(camel("output-stream"), "OutputStream");
        assert_eq!(snake("1st"), "_1st");
        assert_eq!(camel("2d"), "T2d");
        assert_eq!(ident("type").to_string(), "type_");
        assert_eq!(ident("self").to_string(), "self_");
        assert_eq!(ident("greet").to_string(), "greet");
    }

    #[test]
    fn method_names_shorten_unless_ambiguous() {
        let names = method_names(
            &[
                "wasi:cli/stdout@0.2.0#get-stdout",
                "a:x/log#write",
                "b:y/log#write",
                "greet",
                "my:pkg/api#[constructor]counter",
                "my:pkg/api#[method]counter.get",
                "instantiate",
            ],
            &["instantiate"],
        )
        .unwrap();
        assert_eq!(
            names,
            [
                "stdout_get_stdout",
                "a_x_log_write",
                "b_y_log_write",
                "greet",
                "api_counter_new",
                "api_counter_get",
                "instantiate_"
            ]
        );
        let err = method_names(&["get-x", "get_x"], &[]).unwrap_err();
        assert!(err.contains("`get-x` and `get_x`"), "{err}");
    }
}
