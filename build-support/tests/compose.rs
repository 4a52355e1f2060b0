//! Build-time composition: plugs satisfying a socket's imports, transitive
//! plugs, imports left to the host, and the errors a user acts on. The
//! composed components are compiled, loaded and called.

use rivet::{BoundsMode, Component, ComponentImports, Store, Value};
use rivet_build::__internal::{compose, decode_component, flatten, link_shared, Part};
use rivet_build::{compile_component, Error, ErrorKind, Options};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Exports the instance `math` with `double(x) = 2x`.
const DOUBLE: &str = r#"
(component
  (core module $m (func (export "double") (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 2))))
  (core instance $i (instantiate $m))
  (func $double (param "x" u32) (result u32) (canon lift (core func $i "double")))
  (instance $math (export "double" (func $double)))
  (export "math" (instance $math)))
"#;

/// Imports `math` (a plug) and `log` (the host); exports `bump(x) = double(x) + 10`
/// after logging `x`.
const BUMP: &str = r#"
(component
  (import "log" (func $log (param "x" u32)))
  (import "math" (instance $math (export "double" (func (param "x" u32) (result u32)))))
  (alias export $math "double" (func $double))
  (core func $log (canon lower (func $log)))
  (core func $double (canon lower (func $double)))
  (core module $m
    (import "host" "log" (func $log (param i32)))
    (import "host" "double" (func $double (param i32) (result i32)))
    (func (export "bump") (param i32) (result i32)
      (call $log (local.get 0))
      (i32.add (call $double (local.get 0)) (i32.const 10))))
  (core instance $host (export "log" (func $log)) (export "double" (func $double)))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func (export "bump") (param "x" u32) (result u32) (canon lift (core func $i "bump"))))
"#;

/// The socket: imports `math`, `bump` and `offset`; exports
/// `run(x) = bump(double(x)) + offset()`.
const SOCKET: &str = r#"
(component
  (import "math" (instance $math (export "double" (func (param "x" u32) (result u32)))))
  (import "bump" (func $bump (param "x" u32) (result u32)))
  (import "offset" (func $offset (result u32)))
  (alias export $math "double" (func $double))
  (core func $double (canon lower (func $double)))
  (core func $bump (canon lower (func $bump)))
  (core func $offset (canon lower (func $offset)))
  (core module $m
    (import "in" "double" (func $double (param i32) (result i32)))
    (import "in" "bump" (func $bump (param i32) (result i32)))
    (import "in" "offset" (func $offset (result i32)))
    (func (export "run") (param i32) (result i32)
      (i32.add (call $bump (call $double (local.get 0))) (call $offset))))
  (core instance $in (export "double" (func $double)) (export "bump" (func $bump))
    (export "offset" (func $offset)))
  (core instance $i (instantiate $m (with "in" (instance $in))))
  (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run"))))
"#;

/// Writes each `(file name, wat)` into a fresh directory; returns the paths.
fn files(test: &str, parts: &[(&str, &str)]) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("compose-{test}"));
    std::fs::create_dir_all(&dir).unwrap();
    parts
        .iter()
        .map(|(name, wat)| {
            let path = dir.join(name);
            std::fs::write(&path, wat).unwrap();
            path
        })
        .collect()
}

/// Composes the socket (the first file) with the plugs (the others).
fn compose_files(paths: &[PathBuf]) -> Result<Vec<u8>, Error> {
    let wasm: Vec<Vec<u8>> = paths.iter().map(|p| wat::parse_file(p).unwrap()).collect();
    let part = |i: usize| Part {
        path: &paths[i],
        wasm: &wasm[i],
    };
    let plugs: Vec<Part<'_>> = (1..paths.len()).map(part).collect();
    compose(part(0), &plugs).map(|c| c.wasm)
}

/// Compiles a component, links it into a shared library and loads it.
fn load(name: &str, wasm: &[u8]) -> (libloading::Library, Component) {
    let symbol = format!("rivet_component_compose_{name}");
    let options = Options {
        symbol: symbol.clone(),
        bounds: BoundsMode::Guard,
        ..Options::default()
    };
    let object = compile_component(wasm, &options).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let obj = dir.join(format!("compose_{name}.o"));
    let so = dir.join(format!("libcompose_{name}.so"));
    std::fs::write(&obj, object).unwrap();
    link_shared(&[obj], &so).unwrap();
    unsafe {
        let lib = libloading::Library::new(&so).unwrap();
        let desc = *lib
            .get::<*const rivet_descriptor::RawDescriptor>(symbol.as_bytes())
            .unwrap();
        let component = Component::from_descriptor(desc).unwrap();
        (lib, component)
    }
}

#[test]
fn plugs_satisfy_imports_transitively_and_the_rest_stays_with_the_host() {
    let paths = files(
        "chain",
        &[
            ("socket.wat", SOCKET),
            ("double.wat", DOUBLE),
            ("bump.wat", BUMP),
        ],
    );
    let wasm = compose_files(&paths).unwrap();
    let flat = flatten(&decode_component(&wasm, true).unwrap()).unwrap();
    let imports: Vec<&str> = flat.plan.imports.iter().map(|i| i.name.as_ref()).collect();
    assert_eq!(imports, ["log", "offset"]);
    let exports: Vec<&str> = flat.plan.exports.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(exports, ["run"]);
    // Three guest modules, and a fused adapter for each call into another
    // component (`double` from `bump` and from the socket, `bump` from the
    // socket), grouped into one adapter module per point in the instantiation
    // order where their callees exist: after `double`, and after `bump`.
    let adapters = flat.modules.iter().filter(|m| m.adapter).count();
    assert_eq!((flat.modules.len() - adapters, adapters), (3, 2));

    let (_lib, component) = load("chain", &wasm);
    let logged = Arc::new(Mutex::new(Vec::new()));
    let mut imports = ComponentImports::new();
    let log = logged.clone();
    imports.func("log", move |args| {
        log.lock().unwrap().push(args[0].clone());
        Ok(None)
    });
    imports.func("offset", |_| Ok(Some(Value::U32(5))));
    let mut store = Store::new(BoundsMode::Guard);
    let instance = store.instantiate_component(&component, &imports).unwrap();
    // run(3) = bump(double(3)) + 5 = (2 * 6 + 10) + 5, logging 6.
    let result = instance.call(&mut store, "run", &[Value::U32(3)]).unwrap();
    assert_eq!(result, Some(Value::U32(27)));
    assert_eq!(*logged.lock().unwrap(), [Value::U32(6)]);
}

#[test]
fn a_plug_may_import_from_an_earlier_plug_only() {
    // `bump` needs `math`, which the later plug `double` exports: left to the host.
    let paths = files(
        "order",
        &[
            ("socket.wat", SOCKET),
            ("bump.wat", BUMP),
            ("double.wat", DOUBLE),
        ],
    );
    let wasm = compose_files(&paths).unwrap();
    let flat = flatten(&decode_component(&wasm, true).unwrap()).unwrap();
    let imports: Vec<&str> = flat.plan.imports.iter().map(|i| i.name.as_ref()).collect();
    assert_eq!(imports, ["log", "math#double", "offset"]);
}

#[test]
fn a_type_mismatch_names_both_files_the_import_and_both_types() {
    let wrong = DOUBLE
        .replace(
            r#"(param "x" u32) (result u32)"#,
            r#"(param "x" s64) (result u32)"#,
        )
        .replace(
            "(param i32) (result i32)\n    (i32.mul (local.get 0) (i32.const 2))",
            "(param i64) (result i32)\n    (i32.wrap_i64 (local.get 0))",
        );
    let paths = files(
        "mismatch",
        &[
            ("socket.wat", SOCKET),
            ("wrong.wat", &wrong),
            ("bump.wat", BUMP),
        ],
    );
    let e = compose_files(&paths).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{e}");
    let e = e.to_string();
    // `bump.wat`, plugged after `wrong.wat`, is the first to import `math`.
    for needle in [
        "bump.wat` imports `math`",
        "wrong.wat",
        "`math#double`",
        "double: func(x: u32) -> u32",
        "double: func(x: s64) -> u32",
    ] {
        assert!(e.contains(needle), "`{needle}` missing from: {e}");
    }
}

/// Exports the instance `math` with `twice`, `thrice` and `half`, the
/// second with a parameter of another type than `MATH_USER` imports.
const MATH: &str = r#"
(component
  (core module $m
    (func (export "twice") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
    (func (export "thrice") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
    (func (export "half") (param i32) (result i32) (i32.shr_u (local.get 0) (i32.const 1))))
  (core instance $i (instantiate $m))
  (func $twice (param "x" u32) (result u32) (canon lift (core func $i "twice")))
  (func $thrice (param "x" u64) (result u32) (canon lift (core func $i "thrice")))
  (func $half (param "x" u32) (result u32) (canon lift (core func $i "half")))
  (instance $math (export "twice" (func $twice)) (export "thrice" (func $thrice))
    (export "half" (func $half)))
  (export "math" (instance $math)))
"#;

/// Imports the instance `math` with `twice`, `thrice` and `half`, each
/// `func(x: u32) -> u32`.
const MATH_USER: &str = r#"
(component
  (type $f (func (param "x" u32) (result u32)))
  (import "math" (instance
    (export "twice" (func (type $f)))
    (export "thrice" (func (type $f)))
    (export "half" (func (type $f))))))
"#;

#[test]
fn a_type_mismatch_names_the_first_function_that_differs_before_the_whole_types() {
    let paths = files("first", &[("user.wat", MATH_USER), ("math.wat", MATH)]);
    let e = compose_files(&paths).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{e}");
    let (user, math) = (paths[0].display(), paths[1].display());
    let (want, have) = (
        format!("imported by `{user}`"),
        format!("exported by `{math}`"),
    );
    let width = want.len().max(have.len());
    let expected = format!(
        "`{user}` imports `math` with another type than the plug `{math}` exports; \
         the first item that differs is `math#thrice`:\n    \
         {want:<width$}  func(x: u32) -> u32\n    \
         {have:<width$}  func(x: u64) -> u32\n\
         rebuild one of them against the same interface, or do not plug `{math}`\n\
         `{user}` imports `math` as\n    \
         instance {{\n      \
           twice: func(x: u32) -> u32\n      \
           thrice: func(x: u32) -> u32\n      \
           half: func(x: u32) -> u32\n    \
         }}\n\
         but the plug `{math}` exports it as\n    \
         instance {{\n      \
           twice: func(x: u32) -> u32\n      \
           thrice: func(x: u64) -> u32\n      \
           half: func(x: u32) -> u32\n    \
         }}"
    );
    assert_eq!(e.message(), expected);
}

#[test]
fn a_missing_function_is_the_difference() {
    // `thrice` agrees with the import here; `half` is not exported.
    let lacking = MATH
        .replace(r#"(export "half" (func $half))"#, "")
        .replace(
            "(param i64) (result i32) (i32.wrap_i64 (local.get 0))",
            "(param i32) (result i32) (local.get 0)",
        )
        .replace(r#"(param "x" u64)"#, r#"(param "x" u32)"#);
    let paths = files(
        "missing",
        &[("user.wat", MATH_USER), ("math.wat", &lacking)],
    );
    let e = compose_files(&paths).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{e}");
    let message = e.message();
    assert!(
        message.contains("the first item that differs is `math#half`:"),
        "{e}"
    );
    let missing = format!("exported by `{}`  (missing)\n", paths[1].display());
    assert!(message.contains(&missing), "{e}");
}

#[test]
fn an_import_shared_with_the_host_must_agree_in_type() {
    // The socket imports `log` without a parameter, the plug `bump` with one.
    let socket = SOCKET.replace(
        r#"(import "offset" (func $offset (result u32)))"#,
        r#"(import "offset" (func $offset (result u32)))
  (import "log" (func $log))"#,
    );
    let paths = files(
        "shared",
        &[
            ("socket.wat", &socket),
            ("double.wat", DOUBLE),
            ("bump.wat", BUMP),
        ],
    );
    let e = compose_files(&paths).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{e}");
    let e = e.to_string();
    for needle in [
        "both import `log` with different types",
        "the first item that differs is `log`",
        "bump.wat` imports `log` as\n    func(x: u32)\n",
        "socket.wat` imports it as\n    func()",
        "shared",
    ] {
        assert!(e.contains(needle), "`{needle}` missing from: {e}");
    }
}

#[test]
fn a_plug_nothing_imports_is_an_error() {
    let paths = files(
        "unused",
        &[
            ("socket.wat", SOCKET),
            ("double.wat", DOUBLE),
            ("bump.wat", DOUBLE.replace("\"math\"", "\"maths\"").as_str()),
        ],
    );
    let e = compose_files(&paths).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unresolved, "{e}");
    let e = e.to_string();
    assert!(e.contains("bump.wat` is not used"), "{e}");
    assert!(e.contains("`maths`"), "{e}");
    assert!(e.contains("`offset`"), "{e}");
}

#[test]
fn two_plugs_exporting_one_name_is_an_error() {
    let paths = files(
        "twice",
        &[("socket.wat", SOCKET), ("a.wat", DOUBLE), ("b.wat", DOUBLE)],
    );
    let e = compose_files(&paths).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unresolved, "{e}");
    let e = e.to_string();
    assert!(
        e.contains("a.wat` and `") && e.contains("b.wat` both export `math`"),
        "{e}"
    );
}

#[test]
fn an_invalid_input_is_reported_in_its_own_file() {
    let paths = files(
        "invalid",
        &[
            ("socket.wat", SOCKET),
            ("bad.wat", "(component (export \"x\" (func 0)))"),
        ],
    );
    let e = compose_files(&paths).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
    assert_eq!(e.file(), Some(paths[1].as_path()));
    assert!(e.offset().is_some(), "{e}");
}

#[test]
fn unwired_imports_keep_their_named_types() {
    // An instance import with a record, left to the host, and a top-level
    // type import equal to the record. (Resources the host supplies are not
    // supported by the runtime yet, so none is imported here.)
    let socket = r#"
    (component
      (import "api" (instance $api
        (type $point (record (field "x" u32) (field "y" u32)))
        (export "point" (type $p (eq $point)))
        (export "make" (func (param "x" u32) (result $p)))))
      (alias export $api "point" (type $point))
      (import "point" (type $pt (eq $point)))
      (import "show" (func $show (param "p" $pt) (result (list $pt))))
      (core module $m (func (export "f") (result i32) i32.const 1))
      (core instance $i (instantiate $m))
      (func (export "f") (result u32) (canon lift (core func $i "f"))))
    "#;
    let paths = files("types", &[("socket.wat", socket)]);
    let wasm = compose_files(&paths).unwrap();
    let flat = flatten(&decode_component(&wasm, true).unwrap()).unwrap();
    let imports: Vec<&str> = flat.plan.imports.iter().map(|i| i.name.as_ref()).collect();
    assert_eq!(imports, ["api#make", "show"]);
    let (_lib, component) = load("types", &wasm);
    let mut store = Store::new(BoundsMode::Guard);
    let mut imports = ComponentImports::new();
    imports.func("api#make", |_| unreachable!("not called"));
    imports.func("show", |_| unreachable!("not called"));
    let instance = store.instantiate_component(&component, &imports);
    let instance = instance.unwrap();
    assert_eq!(
        instance.call(&mut store, "f", &[]).unwrap(),
        Some(Value::U32(1))
    );
}

#[test]
fn a_plug_may_export_a_resource_the_socket_uses() {
    let counter = r#"
    (component
      (core module $m
        (func (export "dtor") (param i32))
        ;; A borrow of its own resource reaches the implementation as the rep.
        (func (export "get") (param i32) (result i32) local.get 0))
      (core instance $i (instantiate $m))
      (type $c (resource (rep i32) (dtor (core func $i "dtor"))))
      (core func $new (canon resource.new $c))
      (core module $n
        (import "r" "new" (func $new (param i32) (result i32)))
        (func (export "make") (param i32) (result i32) (call $new (local.get 0))))
      (core instance $r (export "new" (func $new)))
      (core instance $j (instantiate $n (with "r" (instance $r))))
      (func $make (param "n" u32) (result (own $c)) (canon lift (core func $j "make")))
      (func $get (param "c" (borrow $c)) (result u32) (canon lift (core func $i "get")))
      (instance $api (export "counter" (type $c)) (export "make" (func $make))
        (export "get" (func $get)))
      (export "api" (instance $api)))
    "#;
    let socket = r#"
    (component
      (import "api" (instance $api
        (export "counter" (type $c (sub resource)))
        (export "make" (func (param "n" u32) (result (own $c))))
        (export "get" (func (param "c" (borrow $c)) (result u32)))))
      (alias export $api "counter" (type $c))
      (alias export $api "make" (func $make))
      (alias export $api "get" (func $get))
      (core func $make (canon lower (func $make)))
      (core func $get (canon lower (func $get)))
      (core func $drop (canon resource.drop $c))
      (core module $m
        (import "api" "make" (func $make (param i32) (result i32)))
        (import "api" "get" (func $get (param i32) (result i32)))
        (import "api" "drop" (func $drop (param i32)))
        (func (export "roundtrip") (param i32) (result i32)
          (local $h i32) (local $v i32)
          (local.set $h (call $make (local.get 0)))
          (local.set $v (call $get (local.get $h)))
          (call $drop (local.get $h))
          (local.get $v)))
      (core instance $in (export "make" (func $make)) (export "get" (func $get))
        (export "drop" (func $drop)))
      (core instance $i (instantiate $m (with "api" (instance $in))))
      (func (export "roundtrip") (param "n" u32) (result u32)
        (canon lift (core func $i "roundtrip"))))
    "#;
    let paths = files(
        "resource",
        &[("socket.wat", socket), ("counter.wat", counter)],
    );
    let wasm = compose_files(&paths).unwrap();
    let (_lib, component) = load("resource", &wasm);
    let mut store = Store::new(BoundsMode::Guard);
    let instance = store
        .instantiate_component(&component, &ComponentImports::new())
        .unwrap();
    let result = instance.call(&mut store, "roundtrip", &[Value::U32(41)]);
    assert_eq!(result.unwrap(), Some(Value::U32(41)));
}
