//! End-to-end tests of the emitted object: compile modules without defined
//! functions, link them into a shared library, load it and read the descriptor
//! back; call through the generated trampolines.

use rivet_build::__internal::{archive, link_shared};
use rivet_build::{compile_module, ErrorKind, Options};
use rivet_descriptor::{
    ConstExpr, ExternIndex, FuncType, ImportType, RawDescriptor, SegmentMode, Unit, ValType,
    FORMAT_VERSION, MAGIC,
};
use std::path::PathBuf;

/// A loaded compiled unit; the library stays loaded while this lives.
struct Loaded {
    _lib: libloading::Library,
    desc: &'static RawDescriptor,
}

impl Loaded {
    fn unit(&self) -> Unit {
        let meta =
            unsafe { std::slice::from_raw_parts(self.desc.metadata, self.desc.metadata_len) };
        Unit::decode(meta).unwrap()
    }

    fn trampoline(&self, index: u32) -> *const u8 {
        assert!((index as usize) < self.desc.trampoline_count);
        unsafe { *self.desc.trampolines.add(index as usize) }
    }
}

/// Compiles `wat`, links it into `<name>.so` and loads it.
fn load(name: &str, wat: &str) -> Loaded {
    let wasm = wat::parse_str(wat).unwrap();
    let options = Options {
        symbol: format!("rivet_test_{name}"),
        ..Options::default()
    };
    let object = compile_module(&wasm, &options).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let obj_path = dir.join(format!("{name}.o"));
    let so_path = dir.join(format!("lib{name}.so"));
    std::fs::write(&obj_path, object).unwrap();
    link_shared(&[obj_path], &so_path).unwrap();
    unsafe {
        let lib = libloading::Library::new(&so_path).unwrap();
        let desc: *const RawDescriptor = *lib
            .get::<*const RawDescriptor>(options.symbol.as_bytes())
            .unwrap();
        Loaded {
            _lib: lib,
            desc: &*desc,
        }
    }
}

const EVERYTHING_BUT_CODE: &str = r#"
(module
  (type $t (func (param i32 i64) (result f32)))
  (type $init (func))
  (type $t2 (func (param i32 i64) (result f32)))
  (import "env" "f" (func $f (type $t)))
  (import "env" "init" (func $init (type $init)))
  (import "env" "mem" (memory 1 2))
  (import "env" "g" (global $g i32))
  (import "env" "tab" (table 1 externref))
  (memory $m2 3)
  (table $funcs 4 10 funcref)
  (global $h (mut i64) (i64.const 42))
  (global $k f32 (f32.const 1.5))
  (global $copy i32 (global.get $g))
  (export "f" (func $f))
  (export "m2" (memory $m2))
  (export "h" (global $h))
  (export "funcs" (table $funcs))
  (start $init)
  (data (memory 0) (i32.const 8) "hello")
  (data "passive!")
  (data (memory 1) (global.get $g) "")
  (elem (table $funcs) (i32.const 0) func $f $f)
  (elem funcref (ref.null func) (ref.func $init))
  (elem declare func $f)
)
"#;

#[test]
fn descriptor_carries_module_metadata() {
    let loaded = load("metadata", EVERYTHING_BUT_CODE);
    let desc = loaded.desc;
    assert_eq!(desc.magic, MAGIC);
    assert_eq!(desc.version, FORMAT_VERSION);
    assert_eq!(desc.function_count, 0);

    let unit = loaded.unit();
    assert_eq!(unit.modules.len(), 1);
    let m = &unit.modules[0];
    let sig = FuncType {
        params: vec![ValType::I32, ValType::I64].into(),
        results: vec![ValType::F32].into(),
    };
    assert_eq!(m.types[0], sig);
    assert_eq!(m.types[2], sig);
    let names: Vec<_> = m.imports.iter().map(|i| (&*i.module, &*i.name)).collect();
    assert_eq!(
        names,
        [
            ("env", "f"),
            ("env", "init"),
            ("env", "mem"),
            ("env", "g"),
            ("env", "tab")
        ]
    );
    assert_eq!(m.imports[0].ty, ImportType::Func(0));
    assert_eq!(m.functions, vec![0, 1]);
    assert_eq!(m.memories.len(), 2);
    assert_eq!((m.memories[0].minimum, m.memories[0].maximum), (1, Some(2)));
    assert_eq!(m.memories[1].minimum, 3);
    assert_eq!(m.tables[0].element, ValType::ExternRef);
    assert_eq!(
        (m.tables[1].element, m.tables[1].maximum),
        (ValType::FuncRef, Some(10))
    );
    assert_eq!(m.globals.len(), 4);
    assert!(m.globals[1].mutable);
    assert_eq!(
        m.global_inits,
        vec![
            ConstExpr::I64(42),
            ConstExpr::F32(1.5f32.to_bits()),
            ConstExpr::GlobalGet(0)
        ]
    );
    assert_eq!(m.start, Some(1));
    assert_eq!(m.exports[1].name, "m2");
    assert_eq!(m.exports[1].index, ExternIndex::Memory(1));
    assert_eq!(m.exports[3].index, ExternIndex::Table(1));

    assert_eq!(m.elements.len(), 3);
    assert_eq!(
        m.elements[0].mode,
        SegmentMode::Active {
            index: 1,
            offset: ConstExpr::I32(0)
        }
    );
    assert_eq!(m.elements[0].items, vec![ConstExpr::RefFunc(0); 2]);
    assert_eq!(
        m.elements[1].items,
        vec![ConstExpr::RefNull, ConstExpr::RefFunc(1)]
    );
    assert_eq!(m.elements[2].mode, SegmentMode::Declared);

    let data = unsafe { std::slice::from_raw_parts(desc.data, desc.data_len) };
    assert_eq!(data, b"hellopassive!");
    let segment = |i: usize| {
        let s = &m.data[i];
        &data[s.start as usize..(s.start + s.len) as usize]
    };
    assert_eq!(segment(0), b"hello");
    assert_eq!(segment(1), b"passive!");
    assert_eq!(m.data[1].mode, SegmentMode::Passive);
    assert_eq!(
        m.data[2].mode,
        SegmentMode::Active {
            index: 1,
            offset: ConstExpr::GlobalGet(0)
        }
    );
    assert_eq!(m.layout.memories, 2);
    assert_eq!(m.layout.defined_globals, 3);
    assert_eq!(m.layout.functions, 2);

    // Types 0 and 2 share a signature: two pairs of trampolines, not three.
    assert_eq!(desc.trampoline_count, 4);
    assert_eq!(m.array_trampolines, vec![0, 2, 0]);
    assert_eq!(m.host_trampolines, vec![1, 3, 1]);
    for i in 0..4 {
        assert!(!loaded.trampoline(i).is_null());
    }
    assert_ne!(loaded.trampoline(0), loaded.trampoline(1));
}

/// The start of a `VMHostFunc`, followed by test data the dispatcher reads.
#[repr(C)]
struct HostFunc {
    dispatch: unsafe extern "C" fn(*mut HostFunc, *mut u128) -> u32,
    calls: u32,
}

type ArrayTrampoline = unsafe extern "C" fn(*const u8, *mut u8, *mut u128);

/// `(i32, i64) -> f32`: returns the sum.
unsafe extern "C" fn add_dispatch(func: *mut HostFunc, values: *mut u128) -> u32 {
    unsafe {
        (*func).calls += 1;
        let a = *(values as *const i32);
        let b = *(values.add(1) as *const i64);
        *(values as *mut f32) = (a as i64 + b) as f32;
    }
    0
}

#[test]
fn array_trampoline_calls_host_trampoline() {
    let loaded = load("roundtrip", EVERYTHING_BUT_CODE);
    let m = &loaded.unit().modules[0];
    let array: ArrayTrampoline =
        unsafe { std::mem::transmute(loaded.trampoline(m.array_trampolines[0])) };
    let host = loaded.trampoline(m.host_trampolines[0]);
    let mut func = HostFunc {
        dispatch: add_dispatch,
        calls: 0,
    };
    let mut values = [0u128; 2];
    values[0] = (-5i32) as u32 as u128;
    values[1] = 1_000_000_000_000i64 as u64 as u128;
    unsafe {
        array(
            host,
            &mut func as *mut HostFunc as *mut u8,
            values.as_mut_ptr(),
        )
    };
    assert_eq!(func.calls, 1);
    assert_eq!(f32::from_bits(values[0] as u32), 999_999_999_995i64 as f32);
}

/// `(f64, i32, v128) -> (i64, f64, i32, i64, i32, v128)`: more results than
/// registers, so the wasm side returns through an implicit struct pointer.
unsafe extern "C" fn many_dispatch(func: *mut HostFunc, values: *mut u128) -> u32 {
    unsafe {
        (*func).calls += 1;
        let x = f64::from_bits(*values as u64);
        let n = *(values.add(1) as *const i32);
        let v = *values.add(2);
        let out = [
            n as i64 as u64 as u128,
            (x * 2.0).to_bits() as u128,
            (n + 1) as u32 as u128,
            u64::MAX as u128,
            7,
            !v,
        ];
        std::ptr::copy_nonoverlapping(out.as_ptr(), values, out.len());
    }
    0
}

#[test]
fn trampolines_handle_many_results_and_v128() {
    let loaded = load(
        "many",
        r#"(module (import "env" "f"
             (func (param f64 i32 v128) (result i64 f64 i32 i64 i32 v128))))"#,
    );
    let m = &loaded.unit().modules[0];
    let array: ArrayTrampoline =
        unsafe { std::mem::transmute(loaded.trampoline(m.array_trampolines[0])) };
    let host = loaded.trampoline(m.host_trampolines[0]);
    let mut func = HostFunc {
        dispatch: many_dispatch,
        calls: 0,
    };
    let v = 0x0123_4567_89ab_cdef_0011_2233_4455_6677u128;
    let mut values = [0u128; 6];
    values[0] = 1.25f64.to_bits() as u128;
    values[1] = (-3i32) as u32 as u128;
    values[2] = v;
    unsafe {
        array(
            host,
            &mut func as *mut HostFunc as *mut u8,
            values.as_mut_ptr(),
        )
    };
    assert_eq!(func.calls, 1);
    assert_eq!(values[0] as u64 as i64, -3);
    assert_eq!(f64::from_bits(values[1] as u64), 2.5);
    assert_eq!(values[2] as u32 as i32, -2);
    assert_eq!(values[3] as u64, u64::MAX);
    assert_eq!(values[4] as u32, 7);
    assert_eq!(values[5], !v);
}

#[test]
fn archive_contains_the_object() {
    let wasm = wat::parse_str("(module (memory 1))").unwrap();
    let object = compile_module(&wasm, &Options::default()).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let obj_path = dir.join("archived.o");
    std::fs::write(&obj_path, object).unwrap();
    let lib = archive(&[obj_path], &dir, "rivet_archive_test").unwrap();
    assert_eq!(lib, dir.join("librivet_archive_test.a"));
    let bytes = std::fs::read(&lib).unwrap();
    assert!(bytes.starts_with(b"!<arch>\n"));
    assert!(bytes.windows(10).any(|w| w == b"rivet_unit"));
}

#[test]
fn link_errors_name_the_command() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let missing = dir.join("does-not-exist.o");
    let err = link_shared(&[missing], &dir.join("libnothing.so")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Toolchain, "{err}");
    assert!(err.message().contains("does-not-exist.o"), "{err}");
    assert!(err.message().contains("-shared"), "{err}");
}

#[test]
fn cross_compiles_for_aarch64() {
    let wasm = wat::parse_str(EVERYTHING_BUT_CODE).unwrap();
    let options = Options {
        target: Some("aarch64-unknown-linux-gnu".to_string()),
        ..Options::default()
    };
    let object = compile_module(&wasm, &options).unwrap();
    assert_eq!(&object[..4], b"\x7fELF");
    // e_machine at offset 18: EM_AARCH64 = 183.
    assert_eq!(u16::from_le_bytes([object[18], object[19]]), 183);
}

#[test]
fn bad_targets_are_errors() {
    let wasm = wat::parse_str("(module)").unwrap();
    for (target, kind) in [
        ("not-a-triple-at-all", ErrorKind::Config),
        ("i686-unknown-linux-gnu", ErrorKind::Unsupported),
    ] {
        let options = Options {
            target: Some(target.to_string()),
            ..Options::default()
        };
        let err = compile_module(&wasm, &options).unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert!(err.message().contains(target), "{err}");
    }
}

/// A module of `n` functions with loops, arithmetic and calls to the
/// functions before them (small ones are inlined, large ones called).
fn many_functions(n: usize) -> Vec<u8> {
    let mut wat = String::from("(module (memory 1)\n");
    for i in 0..n {
        let call = if i == 0 {
            String::new()
        } else {
            format!("local.get 0 call {} local.get 1 i32.add local.set 1", i / 2)
        };
        let work =
            "local.get 1 i32.const 7 i32.mul i32.const 3 i32.xor local.set 1 ".repeat(1 + i % 9);
        wat.push_str(&format!(
            "(func (export \"f{i}\") (param i32) (result i32) (local i32)
               (loop $l {work} local.get 1 i32.const {i} i32.store
                 (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
               {call} local.get 1)\n"
        ));
    }
    wat.push(')');
    wat::parse_str(&wat).unwrap()
}

/// What `compile` returns when run on a pool of `threads` threads.
fn on_threads(threads: usize, compile: &(dyn Fn() -> Vec<u8> + Sync)) -> Vec<u8> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(compile)
}

#[test]
fn objects_are_the_same_whatever_the_number_of_threads() {
    // A component of several modules with fused adapters, a module of more
    // functions than a batch, and a smaller one with the C backend (GCC takes
    // seconds per hundred of these functions).
    let front = include_bytes!("../../guests/front.wasm");
    let module = many_functions(300);
    let small = many_functions(40);
    let c = Options {
        c_backend: true,
        ..Options::default()
    };
    let default = Options::default();
    let cases: [(&str, &(dyn Fn() -> Vec<u8> + Sync)); 3] = [
        ("front.wasm", &|| {
            rivet_build::compile_component(front, &default).unwrap()
        }),
        ("the module", &|| compile_module(&module, &default).unwrap()),
        ("the small module in C", &|| {
            compile_module(&small, &c).unwrap()
        }),
    ];
    for (name, compile) in cases {
        let one = on_threads(1, compile);
        assert!(one.len() > 10_000, "{name}: {} bytes", one.len());
        for threads in [2, 2, 4] {
            let other = on_threads(threads, compile);
            assert!(
                other == one,
                "{name}: the object compiled on {threads} threads differs from the one on 1"
            );
        }
    }
}
