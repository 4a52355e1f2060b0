//! The typed host functions of the WASI imports checked against their WIT
//! types when a component is instantiated: records, variants, enums, flags,
//! options, tuples and handles of `wasi:filesystem` match; a WASI import of
//! another type is refused, naming it.

mod common;

use rivet::{BoundsMode, ComponentImports, Error, Store};
use rivet_wasi::WasiCtx;

#[test]
fn filesystem_functions_match_their_wit_types() {
    let component = common::compile(include_bytes!("guests/fs_types.wat"));
    let imports = component.imports();
    assert_eq!(imports.len(), 17, "every lowered import is planned");
    assert!(imports
        .iter()
        .any(|(n, _)| n == "wasi:filesystem/types@0.2.0#[method]descriptor.open-at"));
    // Instantiating checks every registered Rust type against its import.
    let _ = common::instantiate(&component, WasiCtx::default());
}

/// `wall-clock.now` declared to return a `u64` instead of a `datetime`.
const WRONG_NOW: &str = r#"(component
  (import "wasi:clocks/wall-clock@0.2.0" (instance $clock
    (export "now" (func (result u64)))))
  (core func (canon lower (func $clock "now"))))"#;

#[test]
fn a_wasi_import_of_another_type_is_refused_naming_it() {
    let component = common::compile(WRONG_NOW.as_bytes());
    let mut imports = ComponentImports::new();
    rivet_wasi::add_to_imports(&mut imports, &component, WasiCtx::default()).expect("registered");
    let e = Store::new(BoundsMode::Guard).instantiate_component(&component, &imports);
    match e {
        Err(Error::Link(m)) => {
            assert!(m.contains("wasi:clocks/wall-clock@0.2.0#now"), "{m}");
            assert!(m.contains("`u64`") && m.contains("Datetime"), "{m}");
        }
        other => panic!("expected a link error, got {:?}", other.map(|_| ())),
    }
}
