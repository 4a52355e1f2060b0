//! Extended constant expressions end to end: global initializers and segment
//! offsets computed with `add`, `sub` and `mul` over imported globals, which
//! the runtime evaluates at instantiation, in every compile mode (both bounds
//! modes, and the C backend).

mod common;

use common::{call_i32, func};
use rivet::{BoundsMode, Error, Extern, Global, GlobalType, Module, Store, TrapKind, Val, ValType};
use rivet_build::Options;

/// Guard regions and explicit checks with Cranelift, and the C backend
/// (which needs guard regions).
fn every_mode() -> [Options; 3] {
    let with = |bounds, c_backend| Options {
        bounds,
        c_backend,
        ..Options::default()
    };
    [
        with(BoundsMode::Guard, false),
        with(BoundsMode::Explicit, false),
        with(BoundsMode::Guard, true),
    ]
}

/// Globals, a data segment and an element segment placed by arithmetic on
/// the imported `base` and `wide`, beside arithmetic the compiler folds.
const PLACED: &str = r#"(module
  (global (import "env" "base") i32)
  (global (import "env" "wide") i64)
  (type $r (func (result i32)))
  (memory 1)
  (table 8 funcref)
  (func $seven (result i32) (i32.const 7))
  (global (export "shifted") i32 (i32.add (global.get 0) (i32.const 4)))
  (global (export "tripled") i64 (i64.mul (global.get 1) (i64.const 3)))
  (global (export "wrapped") i32 (i32.mul (global.get 0) (i32.const 0x40000000)))
  (global (export "folded") i64 (i64.add (i64.const 0x7fffffffffffffff) (i64.const 1)))
  (data (i32.mul (global.get 0) (i32.const 2)) "hi")
  (elem (i32.sub (global.get 0) (i32.const 1)) $seven)
  (func (export "call") (param i32) (result i32) (call_indirect (type $r) (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load16_u (local.get 0))))"#;

/// An immutable imported global of `content` holding `value`.
fn constant(store: &mut Store, content: ValType, value: Val) -> Extern {
    let ty = GlobalType {
        content,
        mutable: false,
    };
    Extern::Global(Global::new(store, ty, value).unwrap())
}

/// The value of the exported global `name`.
fn global(store: &Store, instance: rivet::Instance, name: &str) -> Val {
    match instance.export(store, name) {
        Some(Extern::Global(g)) => g.get(store),
        other => panic!("export {name}: {other:?}"),
    }
}

/// Instantiates `module` with `base` and `wide` as its imports.
fn instantiate(
    store: &mut Store,
    module: &Module,
    base: i32,
    wide: i64,
) -> Result<rivet::Instance, Error> {
    let imports = [
        constant(store, ValType::I32, Val::I32(base)),
        constant(store, ValType::I64, Val::I64(wide)),
    ];
    store.instantiate(module, &imports)
}

#[test]
fn initializers_and_offsets_read_imported_globals() {
    for options in every_mode() {
        let mode = format!("{:?}, C backend {}", options.bounds, options.c_backend);
        let m = common::compile(&[PLACED], &options);
        let mut store = Store::new(options.bounds);
        // 0x5555_5555_5555_5556 * 3 = 2^64 + 2.
        let i = instantiate(&mut store, &m[0], 5, 0x5555_5555_5555_5556).unwrap();
        let globals = ["shifted", "tripled", "wrapped", "folded"].map(|g| global(&store, i, g));
        assert!(
            matches!(
                globals,
                [
                    Val::I32(9),
                    Val::I64(2),
                    Val::I32(0x4000_0000),
                    Val::I64(i64::MIN)
                ]
            ),
            "{mode}: {globals:?}"
        );
        // "hi" at 5 * 2, little-endian.
        let load = func(&store, i, "load");
        assert_eq!(
            call_i32(&mut store, load, &[Val::I32(10)]),
            Ok(0x6968),
            "{mode}"
        );
        assert_eq!(call_i32(&mut store, load, &[Val::I32(8)]), Ok(0), "{mode}");
        // $seven at 5 - 1; its neighbours stay null.
        let call = func(&store, i, "call");
        assert_eq!(call_i32(&mut store, call, &[Val::I32(4)]), Ok(7), "{mode}");
        let null = call_i32(&mut store, call, &[Val::I32(5)]);
        assert_eq!(null, Err(TrapKind::UninitializedElement), "{mode}");
    }
}

/// Only a data segment, at twice the imported `base`.
const DATA_AT_TWICE_BASE: &str = r#"(module
  (global (import "env" "base") i32)
  (memory 1)
  (data (i32.mul (global.get 0) (i32.const 2)) "hi"))"#;

#[test]
fn computed_offsets_out_of_bounds_fail_instantiation() {
    for options in every_mode() {
        let mode = format!("{:?}, C backend {}", options.bounds, options.c_backend);
        let m = common::compile(&[PLACED, DATA_AT_TWICE_BASE], &options);
        let mut store = Store::new(options.bounds);
        // The table has 8 slots: $seven fits at 7, not at 8.
        assert!(instantiate(&mut store, &m[0], 8, 0).is_ok(), "{mode}");
        let err = instantiate(&mut store, &m[0], 9, 0).unwrap_err();
        let table = matches!(&err, Error::Trap(t) if t.kind == TrapKind::TableOutOfBounds);
        assert!(table, "{mode}: {err}");
        // The memory has 65536 bytes: "hi" fits at 0xfffe, not at 0x10000.
        for (base, fits) in [(0x7fff, true), (0x8000, false)] {
            let imports = [constant(&mut store, ValType::I32, Val::I32(base))];
            let result = store.instantiate(&m[1], &imports);
            let trapped =
                matches!(&result, Err(Error::Trap(t)) if t.kind == TrapKind::MemoryOutOfBounds);
            assert_eq!(
                (result.is_ok(), trapped),
                (fits, !fits),
                "{mode}: base {base}"
            );
        }
    }
}
