//! Rust names for component names: kebab-case becomes snake_case or
//! CamelCase, keywords get a trailing `_`, and interface names drop their
//! path where that stays unambiguous.

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

/// Method names for functions (the function part of their names, see
/// [`func_part`]); `reserved` names (the struct's own methods) are avoided
/// with a trailing `_`. Errors on names that still clash.
pub fn method_names(funcs: &[&str], reserved: &[&str]) -> Result<Vec<String>, String> {
    let chosen: Vec<String> = funcs
        .iter()
        .map(|f| {
            let n = func_part(f);
            if reserved.contains(&n.as_str()) {
                format!("{n}_")
            } else {
                n
            }
        })
        .collect();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (c, n) in chosen.iter().zip(funcs) {
        if let Some(other) = seen.insert(c, n) {
            return Err(format!(
                "functions `{other}` and `{n}` both map to the Rust name `{c}`"
            ));
        }
    }
    Ok(chosen)
}

/// Rust names for interfaces in the given case (`snake` or `camel`): after
/// the last path segment (`stdout` for `wasi:cli/stdout@0.2.0`), the whole
/// name when two interfaces share that segment.
pub fn interface_names(ifaces: &[&str], case: fn(&str) -> String) -> Vec<String> {
    let shorts: Vec<String> = ifaces
        .iter()
        .map(|i| {
            let i = i.split('@').next().unwrap_or(i);
            case(i.rsplit([':', '/', '#']).next().unwrap_or(i))
        })
        .collect();
    ifaces
        .iter()
        .zip(&shorts)
        .map(|(i, s)| {
            if shorts.iter().filter(|o| *o == s).count() == 1 {
                s.clone()
            } else {
                case(i)
            }
        })
        .collect()
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
    fn method_names_avoid_reserved_names_and_refuse_clashes() {
        let names = method_names(
            &[
                "greet",
                "[constructor]counter",
                "[method]counter.get",
                "instantiate",
            ],
            &["instantiate"],
        )
        .unwrap();
        assert_eq!(
            names,
            ["greet", "counter_new", "counter_get", "instantiate_"]
        );
        let err = method_names(&["get-x", "get_x"], &[]).unwrap_err();
        assert!(err.contains("`get-x` and `get_x`"), "{err}");
    }

    #[test]
    fn interface_names_shorten_unless_ambiguous() {
        let ifaces = ["wasi:cli/stdout@0.2.0", "a:x/log", "b:y/log", "inline"];
        assert_eq!(
            interface_names(&ifaces, snake),
            ["stdout", "a_x_log", "b_y_log", "inline"]
        );
        assert_eq!(
            interface_names(&ifaces, camel),
            ["Stdout", "AXLog", "BYLog", "Inline"]
        );
    }
}
