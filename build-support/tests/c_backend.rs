//! The C backend: which functions it takes, where their code goes, and what it
//! refuses. (Its behaviour is judged by the spec suites, which the conformance
//! gate runs in a C-backend mode too.)

use object::{Object, ObjectSection, ObjectSymbol, SymbolSection};
use rivet_build::{compile_module, BoundsMode, ErrorKind, Options};

/// A numeric function (0), a vector function (1), a function calling 0 (2),
/// and one calling 1 (3: it passes a vector).
const MIXED: &str = r#"
    (module
      (memory 1)
      (func (param i32) (result i32) local.get 0 i32.load offset=4)
      (func (param v128) (result v128) local.get 0 i32x4.abs)
      (func (export "run") (param i32) (result i32)
        local.get 0 call 0 i32.const 1 i32.add)
      (func (export "root") (result i32)
        v128.const i32x4 1 2 3 4 call 1 i32x4.extract_lane 0))
"#;

fn c_options() -> Options {
    Options {
        c_backend: true,
        ..Options::default()
    }
}

/// The section defining symbol `name` in `object`, if it is defined.
fn section_of(object: &[u8], name: &str) -> Option<String> {
    let file = object::File::parse(object).unwrap();
    let symbol = file
        .symbols()
        .find(|s| s.name().is_ok_and(|n| n.starts_with(name)))
        .unwrap_or_else(|| panic!("no symbol {name}"));
    let SymbolSection::Section(index) = symbol.section() else {
        return None;
    };
    let section = file.section_by_index(index).unwrap();
    Some(section.name().unwrap().to_string())
}

#[test]
fn numeric_functions_go_to_c_and_the_rest_stay_with_cranelift() {
    let wasm = wat::parse_str(MIXED).unwrap();
    let object = compile_module(&wasm, &c_options()).unwrap();
    let c_section = "rivet_c_rivet_unit";
    assert_eq!(
        section_of(&object, "rivet_rivet_unit_f0").as_deref(),
        Some(c_section)
    );
    assert_eq!(
        section_of(&object, "rivet_rivet_unit_f2").as_deref(),
        Some(c_section)
    );
    for f in ["rivet_rivet_unit_f1", "rivet_rivet_unit_f3"] {
        assert_eq!(section_of(&object, f).as_deref(), Some(".text"), "{f}");
    }
    // The descriptor refers to the section's bounds, which the final link
    // defines.
    let file = object::File::parse(&*object).unwrap();
    for bound in ["__start_rivet_c_rivet_unit", "__stop_rivet_c_rivet_unit"] {
        let symbol = file.symbols().find(|s| s.name() == Ok(bound)).unwrap();
        assert!(symbol.is_undefined(), "{bound}");
    }
}

#[test]
fn without_the_backend_everything_is_cranelift_code() {
    let wasm = wat::parse_str(MIXED).unwrap();
    let object = compile_module(&wasm, &Options::default()).unwrap();
    for f in ["rivet_f0", "rivet_f1", "rivet_f2", "rivet_f3"] {
        assert_eq!(section_of(&object, f).as_deref(), Some(".text"), "{f}");
    }
    let file = object::File::parse(&*object).unwrap();
    assert!(file.section_by_name("rivet_c_rivet_unit").is_none());
}

#[test]
fn a_module_with_nothing_for_c_needs_no_c_compiler() {
    let wasm =
        wat::parse_str("(module (func (export \"f\") (param v128) (result v128) local.get 0))")
            .unwrap();
    let object = compile_module(&wasm, &c_options()).unwrap();
    let file = object::File::parse(&*object).unwrap();
    assert!(file.section_by_name("rivet_c_rivet_unit").is_none());
    assert!(!file
        .symbols()
        .any(|s| s.name() == Ok("__start_rivet_c_rivet_unit")));
}

#[test]
fn unsupported_settings_are_named() {
    let wasm = wat::parse_str(MIXED).unwrap();
    let explicit = Options {
        bounds: BoundsMode::Explicit,
        ..c_options()
    };
    let err = compile_module(&wasm, &explicit).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let err = err.to_string();
    assert!(
        err.contains("not supported yet: the C backend with explicit bounds checks"),
        "{err}"
    );
    let arm = Options {
        target: Some("aarch64-unknown-linux-gnu".into()),
        ..c_options()
    };
    let err = compile_module(&wasm, &arm).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let err = err.to_string();
    assert!(
        err.contains("not supported yet: the C backend for target aarch64"),
        "{err}"
    );
}

/// Whether `object` refers to `name` without defining it.
fn calls_out_to(object: &[u8], name: &str) -> bool {
    let file = object::File::parse(object).unwrap();
    let undefined = file
        .symbols()
        .any(|s| s.is_undefined() && s.name() == Ok(name));
    undefined
}

/// Compiling for a named target, the C compiler gets the target's CPU
/// features (cargo's `CARGO_CFG_TARGET_FEATURE`): with SSE4.1, `f32.nearest`
/// is an instruction; without, a call to the C library's `nearbyintf`.
#[test]
fn target_features_reach_the_c_compiler() {
    let wasm = wat::parse_str(
        r#"(module (func (export "round") (param f32) (result f32)
             local.get 0 f32.nearest))"#,
    )
    .unwrap();
    let compile = |features: &[&str]| {
        let options = Options {
            target: Some("x86_64-unknown-linux-gnu".into()),
            target_features: features.iter().map(|f| f.to_string()).collect(),
            ..c_options()
        };
        compile_module(&wasm, &options).unwrap()
    };
    assert!(calls_out_to(
        &compile(&["fxsr", "sse", "sse2"]),
        "nearbyintf"
    ));
    let with_sse41 = compile(&["fxsr", "sse", "sse2", "sse3", "ssse3", "sse4.1"]);
    assert!(!calls_out_to(&with_sse41, "nearbyintf"));
    assert_eq!(
        section_of(&with_sse41, "rivet_rivet_unit_f0").as_deref(),
        Some("rivet_c_rivet_unit")
    );
}
