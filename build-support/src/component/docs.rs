//! WIT documentation for the bindings: the `package-docs` custom section
//! wit-component writes (one version byte, 0 or 1, then JSON), matched to the
//! plan's functions, named types, resources and interfaces.
//!
//! The JSON describes one package: `docs`, optionally its name (`package`,
//! e.g. `my:pkg@1.0.0`), `interfaces` by name and `worlds` by name. An
//! interface has `docs`, `funcs` and `types`; a world has `docs`, `funcs`
//! (imported, or exported in the version 0 layout), `func_exports`, `types`,
//! and its inline interfaces in `interfaces` (imported) and
//! `interface_exports`. A function's entry is its docs as a string (version 0)
//! or an object with `docs`; a type's is an object with `docs`.
//!
//! Docs are a courtesy: a section Rivet cannot read is ignored, never an error.

use rivet_descriptor::component::Component as Plan;
use serde_json::Value;

/// The custom section's name.
pub const SECTION: &str = "package-docs";

/// The docs the plan's items have in `section`, as [`Plan::docs`] holds them:
/// for the exports, then the imports, the named types, the resources and the
/// interfaces; each item once.
pub fn collect(plan: &Plan, section: &[u8]) -> Vec<(String, String)> {
    let Some(package) = parse(section) else {
        return Vec::new();
    };
    let docs = Package { root: &package };
    let exports = plan.exports.iter().map(|e| (e.name.as_ref(), Kind::Export));
    let imports = plan.imports.iter().map(|i| (i.name.as_ref(), Kind::Import));
    let types = plan
        .type_names
        .iter()
        .map(|(_, n)| (n.as_ref(), Kind::Type));
    let resources = plan.resources.iter().map(|r| (r.name.as_ref(), Kind::Type));
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, text: Option<&str>| {
        if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.to_string(), text.to_string()));
            }
        }
    };
    let items: Vec<(&str, Kind)> = exports
        .chain(imports)
        .chain(types)
        .chain(resources)
        .collect();
    for (name, kind) in &items {
        add(name, docs.item(name, *kind));
    }
    for (name, kind) in &items {
        if let Some((iface, _)) = name.split_once('#') {
            let export = *kind == Kind::Export;
            add(iface, docs.interface(iface, export).and_then(text));
        }
    }
    out
}

/// The section's JSON, if it is in a version Rivet reads.
fn parse(section: &[u8]) -> Option<Value> {
    match section.split_first() {
        Some((0 | 1, json)) => serde_json::from_slice(json).ok(),
        _ => None,
    }
}

/// What a plan name stands for.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Export,
    Import,
    Type,
}

/// The parsed section.
struct Package<'v> {
    root: &'v Value,
}

impl<'v> Package<'v> {
    /// The docs of the function or type `name` (`iface#item` or a world-level
    /// `item`); nested instances (`a#b#f`) have none.
    fn item(&self, name: &str, kind: Kind) -> Option<&'v str> {
        let (scope, key, world) = match name.split_once('#') {
            Some((_, rest)) if rest.contains('#') => return None,
            Some((iface, item)) => (self.interface(iface, kind != Kind::Import)?, item, false),
            None => (self.world()?, name, true),
        };
        let entry = match kind {
            Kind::Type => scope.get("types")?.get(key),
            Kind::Export if world => scope
                .get("func_exports")
                .and_then(|f| f.get(key))
                .or_else(|| scope.get("funcs")?.get(key)),
            _ => scope.get("funcs")?.get(key),
        }?;
        // A version 0 function entry is the docs string itself.
        entry.as_str().or_else(|| text(entry))
    }

    /// The metadata of interface `iface` as the component names it: a
    /// package path (`my:pkg/api@1.0.0`), found among the package's
    /// interfaces when the package matches, or a world's inline interface
    /// (`api`), preferring the exported one for `export`.
    fn interface(&self, iface: &str, export: bool) -> Option<&'v Value> {
        let Some((package, path)) = iface.split_once('/') else {
            let world = self.world()?;
            let exported = export
                .then(|| world.get("interface_exports")?.get(iface))
                .flatten();
            return exported.or_else(|| world.get("interfaces")?.get(iface));
        };
        let (name, version) = match path.split_once('@') {
            Some((n, v)) => (n, Some(v)),
            None => (path, None),
        };
        if let Some(documented) = self.root.get("package").and_then(Value::as_str) {
            let (doc_package, doc_version) = match documented.split_once('@') {
                Some((p, v)) => (p, Some(v)),
                None => (documented, None),
            };
            if doc_package != package || doc_version != version {
                return None;
            }
        }
        self.root.get("interfaces")?.get(name)
    }

    /// The world the component was made for: a component does not record its
    /// world's name, so only a section documenting a single world tells.
    fn world(&self) -> Option<&'v Value> {
        let worlds = self.root.get("worlds")?.as_object()?;
        match worlds.len() {
            1 => worlds.values().next(),
            _ => None,
        }
    }
}

/// The `docs` string of a metadata object.
fn text(v: &Value) -> Option<&str> {
    v.get("docs")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivet_descriptor::component::{ComponentExport, ComponentImport, ResourceDef};

    fn plan() -> Plan {
        let export = |name: &'static str| ComponentExport {
            name: name.into(),
            lift: 0,
        };
        Plan {
            exports: vec![
                export("greet"),
                export("my:pkg/api@1.0.0#check"),
                export("my:pkg/api@1.0.0#[method]counter.get"),
                export("other:pkg/api#check"),
                export("inline#run"),
            ]
            .into(),
            imports: vec![ComponentImport {
                name: "log".into(),
                ty: 0,
            }]
            .into(),
            type_names: vec![(3, "my:pkg/api@1.0.0#point".into()), (4, "color".into())].into(),
            resources: vec![ResourceDef {
                instance: 0,
                imported: false,
                dtor: None,
                name: "my:pkg/api@1.0.0#counter".into(),
            }]
            .into(),
            ..Plan::default()
        }
    }

    fn section(version: u8, json: &str) -> Vec<u8> {
        let mut bytes = vec![version];
        bytes.extend_from_slice(json.as_bytes());
        bytes
    }

    const V1: &str = r#"{
        "package": "my:pkg@1.0.0",
        "interfaces": {
            "api": {
                "docs": "The API.",
                "funcs": {
                    "check": {"docs": "Checks a point."},
                    "[method]counter.get": {"docs": "The count.", "stability": {"stable": {"since": "1.0.0"}}}
                },
                "types": {
                    "point": {"docs": "A point.", "items": {"x": "Across."}},
                    "counter": {"docs": "Counts."}
                }
            }
        },
        "worlds": {
            "hello": {
                "docs": "The world.",
                "funcs": {"log": {"docs": "Logs a line."}},
                "func_exports": {"greet": {"docs": "Greets\nwarmly."}},
                "types": {"color": {"docs": "A color."}},
                "interface_exports": {"inline": {"funcs": {"run": {"docs": "Runs."}}}}
            }
        }
    }"#;

    fn get<'d>(docs: &'d [(String, String)], name: &str) -> Option<&'d str> {
        docs.iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_str())
    }

    #[test]
    fn docs_reach_functions_types_resources_and_interfaces() {
        let docs = collect(&plan(), &section(1, V1));
        assert_eq!(get(&docs, "greet"), Some("Greets\nwarmly."));
        assert_eq!(get(&docs, "log"), Some("Logs a line."));
        assert_eq!(
            get(&docs, "my:pkg/api@1.0.0#check"),
            Some("Checks a point.")
        );
        assert_eq!(
            get(&docs, "my:pkg/api@1.0.0#[method]counter.get"),
            Some("The count.")
        );
        assert_eq!(get(&docs, "my:pkg/api@1.0.0#point"), Some("A point."));
        assert_eq!(get(&docs, "my:pkg/api@1.0.0#counter"), Some("Counts."));
        assert_eq!(get(&docs, "color"), Some("A color."));
        assert_eq!(get(&docs, "my:pkg/api@1.0.0"), Some("The API."));
        assert_eq!(get(&docs, "inline#run"), Some("Runs."));
        // Another package's interface of the same name is not this one.
        assert_eq!(get(&docs, "other:pkg/api#check"), None);
        assert_eq!(get(&docs, "other:pkg/api"), None);
    }

    #[test]
    fn version_0_function_docs_are_strings() {
        let json = r#"{"interfaces": {"api": {"funcs": {"check": "Checks."}}},
                       "worlds": {"w": {"funcs": {"greet": "Hi."}}}}"#;
        let docs = collect(&plan(), &section(0, json));
        // Without a package name, interfaces match by name.
        assert_eq!(get(&docs, "my:pkg/api@1.0.0#check"), Some("Checks."));
        assert_eq!(get(&docs, "other:pkg/api#check"), Some("Checks."));
        assert_eq!(get(&docs, "greet"), Some("Hi."));
    }

    #[test]
    fn unreadable_sections_have_no_docs() {
        let cases = [
            Vec::new(),
            section(2, V1),
            section(1, "{not json"),
            section(1, "[1, 2]"),
            section(1, r#"{"interfaces": 3, "worlds": {"a": 1}}"#),
            section(1, r#"{"interfaces": {"api": {"funcs": {"check": 7}}}}"#),
            section(1, &"[".repeat(100_000)),
        ];
        for bytes in cases {
            assert!(collect(&plan(), &bytes).is_empty(), "{bytes:?}");
        }
    }

    #[test]
    fn several_worlds_leave_world_items_undocumented() {
        let json = r#"{"worlds": {"a": {"func_exports": {"greet": {"docs": "A."}}},
                                  "b": {"func_exports": {"greet": {"docs": "B."}}}}}"#;
        assert!(collect(&plan(), &section(1, json)).is_empty());
    }
}
