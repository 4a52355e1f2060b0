//! Runs translated code natively: a module is compiled into an object, linked
//! into a shared library with the system C compiler and loaded, and its
//! functions are called with a hand-built instance context. Memories are
//! plain buffers; in guard-region mode each reserves the full
//! `GUARD_RESERVATION` of (lazily committed) capacity, so its base never moves,
//! though accesses past the end do not fault as real guard pages would. Traps
//! would end the test process, so only code that returns is run here; trapping
//! paths are checked in the IR.

use super::{host_isa, module_env, translate};
use crate::env::ModuleEnv;
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{default_libcall_names, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use rivet_descriptor::{vm, BoundsMode, Builtin, VmctxLayout, GUARD_RESERVATION, WASM_PAGE_SIZE};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A loaded module and the state its instance context points at.
pub(super) struct Instance {
    lib: libloading::Library,
    /// The instance context, 16-byte aligned, and its address.
    _vmctx: Vec<u128>,
    base: usize,
    _store: Box<usize>,
    _builtins: Box<[usize; Builtin::COUNT]>,
    /// What the builtins work on; the context's instance pointer points here.
    pub(super) record: Box<Record>,
    pub(super) layout: VmctxLayout,
}

/// What a test instance's imports are: imported functions all do nothing;
/// imported globals, memories and tables are made here with these values and
/// sizes (in import order).
#[derive(Default)]
pub(super) struct Imports {
    /// Slot bits of each imported global.
    pub globals: Vec<u64>,
    /// Minimum and maximum pages of each imported memory.
    pub memories: Vec<(u64, Option<u64>)>,
    /// Minimum and maximum length of each imported table.
    pub tables: Vec<(u64, Option<u64>)>,
}

/// The body of every imported function: ignores its arguments, returns
/// nothing (which suits functions without results).
extern "C" fn imported_noop() {}

/// The instance state the test builtins ([`super::builtins`]) reach through
/// the context's instance pointer.
pub(super) struct Record {
    /// Every memory, imported ones first.
    pub memories: Vec<Vec<u8>>,
    /// Address of each memory's `VMMemory`.
    pub memory_structs: Vec<usize>,
    /// Maximum size of each memory, in pages.
    pub memory_maxima: Vec<u64>,
    pub tables: Vec<Vec<usize>>,
    /// Address of each table's `VMTable`.
    pub table_structs: Vec<usize>,
    /// Maximum length of each table.
    pub table_maxima: Vec<u64>,
    /// Bytes of each data segment (empty once dropped).
    pub data: Vec<Vec<u8>>,
    /// Items of each element segment (empty once dropped).
    pub elements: Vec<Vec<usize>>,
    /// Storage of imported memories' and tables' structs and imported globals.
    #[allow(
        clippy::vec_box,
        reason = "slot addresses are published and must not move"
    )]
    pub imported_slots: Vec<Box<[u64; 2]>>,
}

/// A fresh scratch path for one compiled module.
fn scratch(ext: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("rivet-translate-{}-{n}.{ext}", std::process::id()))
}

/// Compiles every function of a module into a shared library exporting defined function `i` as `f{i}`.
fn compile_library(
    wasm: &'static [u8],
    bounds: BoundsMode,
) -> (libloading::Library, ModuleEnv<'static>) {
    wasmparser::Validator::new().validate_all(wasm).unwrap();
    let isa = host_isa();
    let env = module_env(wasm, &isa, bounds).unwrap().unwrap();
    let builder = ObjectBuilder::new(isa.clone(), "t", default_libcall_names()).unwrap();
    let mut module = ObjectModule::new(builder);
    let mut builder_ctx = FunctionBuilderContext::new();
    for i in 0..env.bodies.len() as u32 {
        let sig = env.wasm_signature(env.functions[(env.imported_functions + i) as usize]);
        let id = module
            .declare_function(&format!("f{i}"), Linkage::Export, &sig)
            .unwrap();
        assert_eq!(id.as_u32(), env.callee_names[i as usize]);
    }
    for i in 0..env.bodies.len() as u32 {
        let mut ctx = Context::for_function(translate(&env, i, &mut builder_ctx).unwrap());
        let id = cranelift_module::FuncId::from_u32(i);
        module.define_function(id, &mut ctx).unwrap();
    }
    let object = module.finish().emit().unwrap();
    let (obj, so) = (scratch("o"), scratch("so"));
    std::fs::write(&obj, object).unwrap();
    let status = Command::new("cc")
        .arg("-shared")
        .arg("-o")
        .arg(&so)
        .arg(&obj)
        .status();
    assert!(status.unwrap().success());
    // SAFETY: the library holds only the functions just compiled.
    let lib = unsafe { libloading::Library::new(&so) }.unwrap();
    let _ = (std::fs::remove_file(obj), std::fs::remove_file(so));
    (lib, env)
}

/// A zeroed memory of `len` bytes; in guard-region mode with the capacity of
/// a whole reservation, so that growing it never moves it.
fn new_memory(len: usize, bounds: BoundsMode) -> Vec<u8> {
    let mut memory = match bounds {
        BoundsMode::Guard => Vec::with_capacity(GUARD_RESERVATION as usize),
        BoundsMode::Explicit => Vec::new(),
    };
    memory.resize(len, 0);
    memory
}

impl Instance {
    /// Compiles `wat` and builds an instance context for it, with `builtins` as
    /// the builtins table.
    pub(super) fn new(wat: &str, builtins: [usize; Builtin::COUNT]) -> Instance {
        let wasm = Box::leak(wat::parse_str(wat).unwrap().into_boxed_slice());
        Instance::from_wasm(wasm, builtins, BoundsMode::Explicit, &Imports::default())
    }

    /// Compiles a binary module and builds an instance context for it.
    pub(super) fn from_wasm(
        wasm: &'static [u8],
        builtins: [usize; Builtin::COUNT],
        bounds: BoundsMode,
        imports: &Imports,
    ) -> Instance {
        let (lib, env) = compile_library(wasm, bounds);
        let layout = env.layout;
        let mut vmctx: Vec<u128> = vec![0; (layout.size as usize).div_ceil(16)];
        let mut inst = Instance {
            lib,
            base: vmctx.as_mut_ptr() as usize,
            _vmctx: vmctx,
            _store: Box::new(0),
            _builtins: Box::new(builtins),
            record: Box::new(Record {
                memories: vec![],
                memory_structs: vec![],
                memory_maxima: vec![],
                tables: vec![],
                table_structs: vec![],
                table_maxima: vec![],
                data: vec![],
                elements: vec![],
                imported_slots: vec![],
            }),
            layout,
        };
        let record = &*inst.record as *const Record as usize;
        inst.write(VmctxLayout::INSTANCE, record);
        inst.write(VmctxLayout::STORE, &*inst._store as *const usize as usize);
        inst.write(VmctxLayout::BUILTINS, inst._builtins.as_ptr() as usize);
        inst.init_memories(&env, imports, bounds);
        inst.init_tables(&env, imports);
        inst.init_globals(&env, imports);
        inst.init_functions(&env);
        inst
    }

    /// Storage for an imported item's 16 bytes, holding `value` first.
    fn imported_slot(&mut self, value: u64) -> usize {
        let mut slot = Box::new([value, 0]);
        let at = slot.as_mut_ptr() as usize;
        self.record.imported_slots.push(slot);
        at
    }

    fn init_memories(&mut self, env: &ModuleEnv, imports: &Imports, bounds: BoundsMode) {
        let layout = self.layout;
        for m in 0..env.memories.len() as u32 {
            let ty = &env.memories[m as usize];
            let (minimum, maximum) = match env.defined_memory(m) {
                Some(_) => (ty.minimum, ty.maximum),
                None => imports.memories[m as usize],
            };
            let at = match env.defined_memory(m) {
                Some(d) => self.address(layout.defined_memory(d)),
                None => self.imported_slot(0),
            };
            let memory = new_memory((minimum * WASM_PAGE_SIZE) as usize, bounds);
            self.record.memories.push(memory);
            self.record.memory_maxima.push(maximum.unwrap_or(1 << 16));
            self.record.memory_structs.push(at);
            super::builtins::publish_memory(&mut self.record, m);
            self.write(layout.memory_pointer(m), at);
        }
    }

    fn init_tables(&mut self, env: &ModuleEnv, imports: &Imports) {
        let layout = self.layout;
        for t in 0..env.tables.len() as u32 {
            let ty = &env.tables[t as usize];
            let (minimum, maximum) = match env.defined_table(t) {
                Some(_) => (ty.minimum, ty.maximum),
                None => imports.tables[t as usize],
            };
            let at = match env.defined_table(t) {
                Some(d) => self.address(layout.defined_table(d)),
                None => self.imported_slot(0),
            };
            self.record.tables.push(vec![0; minimum as usize]);
            self.record
                .table_maxima
                .push(maximum.unwrap_or(u32::MAX.into()));
            self.record.table_structs.push(at);
            super::builtins::publish_table(&mut self.record, t);
            self.write(layout.table_pointer(t), at);
        }
    }

    fn init_globals(&mut self, env: &ModuleEnv, imports: &Imports) {
        let layout = self.layout;
        for g in 0..env.globals.len() as u32 {
            let at = match env.defined_global(g) {
                Some(d) => self.address(layout.defined_global(d)),
                None => self.imported_slot(imports.globals[g as usize]),
            };
            self.write(layout.global_pointer(g), at);
        }
    }

    /// Type ids, imported functions and every function's `VMFuncRef`.
    fn init_functions(&mut self, env: &ModuleEnv) {
        let layout = self.layout;
        // Store-wide type ids are canonical: equal function types share one,
        // here the index of the first of them.
        let canonical = |ty: u32| env.types.iter().position(|t| *t == env.types[ty as usize]);
        for ty in 0..env.types.len() as u32 {
            self.write(layout.type_id(ty), canonical(ty).unwrap() as u32);
        }
        let imported = env.imported_functions;
        let noop = imported_noop as *const () as usize;
        for f in 0..imported {
            let at = layout.imported_function(f);
            self.write(at + vm::FUNC_IMPORT_CODE, noop);
            self.write(at + vm::FUNC_IMPORT_VMCTX, self.address(0));
        }
        for (f, ty) in env.functions.iter().enumerate() {
            let f = f as u32;
            let code = match f.checked_sub(imported) {
                Some(d) => self.code(d),
                None => noop,
            };
            let at = layout.funcref(f);
            self.write(at + vm::FUNCREF_CODE, code);
            self.write(at + vm::FUNCREF_VMCTX, self.address(0));
            self.write(at + vm::FUNCREF_TYPE_ID, canonical(*ty).unwrap() as u32);
        }
    }

    /// The address of byte `offset` of the instance context.
    pub(super) fn address(&self, offset: u32) -> usize {
        self.base + offset as usize
    }

    /// Writes `value` at byte `offset` of the instance context.
    pub(super) fn write<T>(&mut self, offset: u32, value: T) {
        let at = self.address(offset) as *mut T;
        // SAFETY: every offset comes from the layout, inside the allocation.
        unsafe { at.write_unaligned(value) }
    }

    /// Reads an `i64` at byte `offset` of the instance context.
    pub(super) fn read_i64(&self, offset: u32) -> i64 {
        // SAFETY: every offset comes from the layout, inside the allocation.
        unsafe { (self.address(offset) as *const i64).read_unaligned() }
    }

    /// The code address of defined function `i`.
    pub(super) fn code(&self, i: u32) -> usize {
        // SAFETY: `f{i}` is a function symbol; only its address is taken.
        let sym = unsafe { self.lib.get::<*const u8>(format!("f{i}").as_bytes()) };
        *sym.unwrap() as usize
    }

    /// Defined function `i` as a callable of type `F` (an `extern "C" fn`
    /// whose first parameter is the context).
    pub(super) fn func<F: Copy>(&self, i: u32) -> F {
        // SAFETY: callers name the native signature of the function's type.
        unsafe { *self.lib.get::<F>(format!("f{i}").as_bytes()).unwrap() }
    }

    pub(super) fn vmctx(&self) -> *mut u8 {
        self.base as *mut u8
    }
}

type I32I32ToI32 = extern "C" fn(*mut u8, i32, i32) -> i32;
type I64I64ToI64 = extern "C" fn(*mut u8, i64, i64) -> i64;

#[test]
fn integer_division_and_remainder() {
    let inst = Instance::new(
        "(module
          (func (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
          (func (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
          (func (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
          (func (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
          (func (param i64 i64) (result i64) (i64.div_u (local.get 0) (local.get 1))))",
        [0; Builtin::COUNT],
    );
    let vmctx = inst.vmctx();
    let rem_s: I32I32ToI32 = inst.func(0);
    assert_eq!(rem_s(vmctx, i32::MIN, -1), 0);
    assert_eq!(rem_s(vmctx, -7, 2), -1);
    let div_s: I32I32ToI32 = inst.func(1);
    assert_eq!(div_s(vmctx, -7, 2), -3);
    let rem_u: I32I32ToI32 = inst.func(2);
    assert_eq!(rem_u(vmctx, -1, 10), 5);
    let rem_s64: I64I64ToI64 = inst.func(3);
    assert_eq!(rem_s64(vmctx, i64::MIN, -1), 0);
    let div_u64: I64I64ToI64 = inst.func(4);
    assert_eq!(div_u64(vmctx, -1, 2), i64::MAX);
}

/// Runs `(func (result i64) …)` bodies, one function each, and compares
/// each result with its expected value.
pub(super) fn check_i64_results(cases: &[(&str, i64)]) {
    let funcs: String = cases
        .iter()
        .map(|(body, _)| format!("(func (result i64) {body})\n"))
        .collect();
    let inst = Instance::new(&format!("(module {funcs})"), [0; Builtin::COUNT]);
    for (i, (body, expected)) in cases.iter().enumerate() {
        let f: extern "C" fn(*mut u8) -> i64 = inst.func(i as u32);
        assert_eq!(f(inst.vmctx()), *expected, "{body}");
    }
}

#[test]
fn integer_operators_follow_wasm() {
    check_i64_results(&[
        (
            "(i64.extend_i32_u (i32.shl (i32.const 1) (i32.const 33)))",
            2,
        ),
        ("(i64.shr_s (i64.const -8) (i64.const 65))", -4),
        (
            "(i64.extend_i32_u (i32.shr_u (i32.const -8) (i32.const 1)))",
            0x7fff_fffc,
        ),
        (
            "(i64.extend_i32_u (i32.rotl (i32.const 0x8000_0001) (i32.const 1)))",
            3,
        ),
        ("(i64.rotr (i64.const 1) (i64.const 1))", i64::MIN),
        ("(i64.extend_i32_u (i32.clz (i32.const 0)))", 32),
        ("(i64.ctz (i64.const 0))", 64),
        ("(i64.popcnt (i64.const -1))", 64),
        ("(i64.extend_i32_u (i32.eqz (i32.const 0)))", 1),
        (
            "(i64.extend_i32_u (i64.lt_s (i64.const -1) (i64.const 0)))",
            1,
        ),
        (
            "(i64.extend_i32_u (i64.lt_u (i64.const -1) (i64.const 0)))",
            0,
        ),
        ("(i64.extend_i32_s (i32.extend8_s (i32.const 0x80)))", -128),
        ("(i64.extend16_s (i64.const 0x8000))", -32768),
        ("(i64.extend32_s (i64.const 0x8000_0000))", -0x8000_0000),
        (
            "(i64.extend_i32_u (i32.wrap_i64 (i64.const 0x1_0000_0005)))",
            5,
        ),
        ("(i64.extend_i32_s (i32.const -1))", -1),
        ("(i64.extend_i32_u (i32.const -1))", 0xffff_ffff),
        (
            "(i64.mul (i64.const 0x1_0000_0000) (i64.const 0x1_0000_0000))",
            0,
        ),
    ]);
}

#[test]
fn float_operators_follow_wasm() {
    let f64_bits = |x: f64| x.to_bits() as i64;
    let f32_bits = |x: f32| i64::from(x.to_bits());
    check_i64_results(&[
        (
            "(i64.reinterpret_f64 (f64.nearest (f64.const 2.5)))",
            f64_bits(2.0),
        ),
        (
            "(i64.reinterpret_f64 (f64.nearest (f64.const -3.5)))",
            f64_bits(-4.0),
        ),
        (
            "(i64.reinterpret_f64 (f64.floor (f64.const -1.5)))",
            f64_bits(-2.0),
        ),
        (
            "(i64.reinterpret_f64 (f64.ceil (f64.const -1.5)))",
            f64_bits(-1.0),
        ),
        (
            "(i64.reinterpret_f64 (f64.trunc (f64.const -1.5)))",
            f64_bits(-1.0),
        ),
        (
            "(i64.reinterpret_f64 (f64.min (f64.const 0) (f64.const -0)))",
            f64_bits(-0.0),
        ),
        (
            "(i64.reinterpret_f64 (f64.max (f64.const -0) (f64.const 0)))",
            f64_bits(0.0),
        ),
        (
            "(i64.extend_i32_u (i32.reinterpret_f32 (f32.copysign (f32.const 2) (f32.const -1))))",
            f32_bits(-2.0),
        ),
        (
            "(i64.extend_i32_u (f64.ne (f64.const nan) (f64.const nan)))",
            1,
        ),
        (
            "(i64.extend_i32_u (f64.eq (f64.const nan) (f64.const nan)))",
            0,
        ),
        (
            "(i64.extend_i32_u (f32.lt (f32.const -0) (f32.const 0)))",
            0,
        ),
        (
            "(i64.extend_i32_u (f32.ge (f32.const nan) (f32.const 0)))",
            0,
        ),
        ("(i64.trunc_sat_f64_s (f64.const nan))", 0),
        ("(i64.trunc_sat_f64_s (f64.const 1e300))", i64::MAX),
        ("(i64.trunc_sat_f32_u (f32.const -5))", 0),
        (
            "(i64.extend_i32_u (i32.trunc_sat_f64_u (f64.const 1e10)))",
            0xffff_ffff,
        ),
        ("(i64.trunc_f64_s (f64.const -2.9))", -2),
        (
            "(i64.extend_i32_u (i32.trunc_f32_u (f32.const 4294967040)))",
            4294967040,
        ),
        (
            "(i64.reinterpret_f64 (f64.convert_i64_u (i64.const -1)))",
            f64_bits(18446744073709551616.0),
        ),
        (
            "(i64.extend_i32_u (i32.reinterpret_f32 (f32.convert_i32_u (i32.const -1))))",
            f32_bits(4294967296.0),
        ),
        (
            "(i64.extend_i32_u (i32.reinterpret_f32 (f32.convert_i64_s (i64.const -3))))",
            f32_bits(-3.0),
        ),
        (
            "(i64.extend_i32_u (i32.reinterpret_f32 (f32.demote_f64 (f64.const 0.1))))",
            f32_bits(0.1),
        ),
        (
            "(i64.reinterpret_f64 (f64.promote_f32 (f32.const 0.5)))",
            f64_bits(0.5),
        ),
        (
            "(i64.reinterpret_f64 (f64.sqrt (f64.const 16)))",
            f64_bits(4.0),
        ),
        (
            "(i64.reinterpret_f64 (f64.neg (f64.const 0)))",
            f64_bits(-0.0),
        ),
        (
            "(i64.reinterpret_f64 (f64.abs (f64.const -7)))",
            f64_bits(7.0),
        ),
    ]);
}

#[test]
fn control_flow_and_multi_value() {
    check_i64_results(&[
        // br_table passing values, to each target and the default.
        (
            "(block (result i64) (block (result i64) (i64.const 10) (i32.const 0) (br_table 0 1))
               (i64.const 1) (i64.add))",
            11,
        ),
        (
            "(block (result i64) (block (result i64) (i64.const 10) (i32.const 7) (br_table 0 1))
               (i64.const 1) (i64.add))",
            10,
        ),
        // A loop with parameters: sum 1..=10.
        (
            "(local i64) (i64.const 0) (i64.const 10)
             (loop (param i64 i64) (result i64)
               (local.set 0) (local.get 0) (i64.add)
               (local.get 0) (i64.const 1) (i64.sub) (local.tee 0)
               (local.get 0) (i64.eqz) (i32.eqz) (br_if 0)
               (drop))",
            55,
        ),
        // An if without else passes its parameters on when false.
        (
            "(i64.const 5) (i32.const 0) (if (param i64) (result i64) (then (i64.const 1) (i64.add)))",
            5,
        ),
        (
            "(i64.const 5) (i32.const 1) (if (param i64) (result i64) (then (i64.const 1) (i64.add)))",
            6,
        ),
        ("(select (i64.const 1) (i64.const 2) (i32.const 0))", 2),
        // Dead code after br, with nested blocks, is skipped.
        (
            "(block (result i64) (i64.const 3) (br 0) (block (drop (i32.const 1))) (i64.const 4))",
            3,
        ),
        // Locals start at zero.
        ("(local i64 f64) (local.get 0)", 0),
        ("(local f64) (i64.reinterpret_f64 (local.get 0))", 0),
    ]);
}

#[test]
fn calls_multi_value_and_call_indirect() {
    let inst = Instance::new(
        r#"(module
          (type $three (func (param i64) (result i64 i32 f64 i64 i32 i64)))
          (table 2 funcref)
          (elem declare func $fac)
          (func $many (type $three)
            (local.get 0) (i32.const 2) (f64.const 3) (i64.const 4) (i32.const 5) (i64.const 6))
          (func $sum (param i64) (result i64)
            (local $b i32) (local $c f64) (local $d i64) (local $e i32) (local $f i64)
            (call $many (local.get 0))
            (local.set $f) (local.set $e) (local.set $d) (local.set $c) (local.set $b)
            (i64.add (i64.extend_i32_u (local.get $b)))
            (i64.add (i64.trunc_f64_s (local.get $c)))
            (i64.add (local.get $d))
            (i64.add (i64.extend_i32_u (local.get $e)))
            (i64.add (local.get $f)))
          (func $fac (param i64) (result i64)
            (if (result i64) (i64.eqz (local.get 0))
              (then (i64.const 1))
              (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
          (func $indirect (param i32 i64) (result i64)
            (call_indirect (param i64) (result i64) (local.get 1) (local.get 0)))
          (func $is_null (param i32) (result i32)
            (ref.is_null (table.get (local.get 0))))
          (func $set (param i32)
            (table.set (local.get 0) (ref.func $fac)))
          (func $size (result i32) (table.size)))"#,
        [0; Builtin::COUNT],
    );
    let vmctx = inst.vmctx();
    let sum: extern "C" fn(*mut u8, i64) -> i64 = inst.func(1);
    assert_eq!(sum(vmctx, 100), 100 + 2 + 3 + 4 + 5 + 6);
    let fac: extern "C" fn(*mut u8, i64) -> i64 = inst.func(2);
    assert_eq!(fac(vmctx, 10), 3628800);
    let is_null: extern "C" fn(*mut u8, i32) -> i32 = inst.func(4);
    assert_eq!(is_null(vmctx, 1), 1);
    let set: extern "C" fn(*mut u8, i32) = inst.func(5);
    set(vmctx, 1);
    assert_eq!(is_null(vmctx, 1), 0);
    let indirect: extern "C" fn(*mut u8, i32, i64) -> i64 = inst.func(3);
    assert_eq!(indirect(vmctx, 1, 5), 120);
    let size: extern "C" fn(*mut u8) -> i32 = inst.func(6);
    assert_eq!(size(vmctx), 2);
}

#[test]
fn memories_and_globals() {
    let inst = Instance::new(
        r#"(module
          (memory $a 1)
          (memory $b 1)
          (global $g (mut i64) (i64.const 0))
          (func (param i32 i64)
            (i64.store offset=3 (local.get 0) (local.get 1))
            (i32.store16 $b (local.get 0) (i32.wrap_i64 (local.get 1))))
          (func (param i32) (result i64)
            (i64.add (i64.load8_s offset=3 (local.get 0)) (i64.load16_u $b (local.get 0))))
          (func (result i32) (i32.add (memory.size) (memory.size $b)))
          (func (param i64) (result i64)
            (global.set $g (i64.add (global.get $g) (local.get 0)))
            (global.get $g)))"#,
        [0; Builtin::COUNT],
    );
    let vmctx = inst.vmctx();
    let store: extern "C" fn(*mut u8, i32, i64) = inst.func(0);
    store(vmctx, 65525, 0x0102_0304_0506_0780);
    assert_eq!(
        inst.record.memories[0][65528..],
        0x0102_0304_0506_0780u64.to_le_bytes()
    );
    assert_eq!(inst.record.memories[1][65525..65527], [0x80, 0x07]);
    let load: extern "C" fn(*mut u8, i32) -> i64 = inst.func(1);
    assert_eq!(load(vmctx, 65525), -128 + 0x780);
    let size: extern "C" fn(*mut u8) -> i32 = inst.func(2);
    assert_eq!(size(vmctx), 2);
    let add: extern "C" fn(*mut u8, i64) -> i64 = inst.func(3);
    add(vmctx, 5);
    assert_eq!(add(vmctx, 7), 12);
}

/// Offset of the `VMMemory` of defined memory 0 in the builtins test's context.
static MEMORY_AT: AtomicUsize = AtomicUsize::new(0);

/// A `memory.grow` that really moves memory 0: it allocates a larger buffer
/// (leaked: the test is short), copies, and updates the `VMMemory`.
extern "C" fn test_memory_grow(vmctx: *mut u8, memory: u32, delta: u32) -> u32 {
    assert_eq!(memory, 0);
    // SAFETY: `vmctx` is the test instance's context, whose memory 0 is a
    // `VMMemory` at `MEMORY_AT`.
    unsafe {
        let at = vmctx.add(MEMORY_AT.load(Ordering::Relaxed));
        let base = *(at.add(vm::MEMORY_BASE as usize) as *const *mut u8);
        let length = *(at.add(vm::MEMORY_LENGTH as usize) as *const usize);
        let mut bigger = vec![0u8; length + delta as usize * WASM_PAGE_SIZE as usize];
        std::ptr::copy_nonoverlapping(base, bigger.as_mut_ptr(), length);
        let bigger = Box::leak(bigger.into_boxed_slice());
        *(at.add(vm::MEMORY_BASE as usize) as *mut *mut u8) = bigger.as_mut_ptr();
        *(at.add(vm::MEMORY_LENGTH as usize) as *mut usize) = bigger.len();
        (length / WASM_PAGE_SIZE as usize) as u32
    }
}

/// A `memory.init` that only succeeds when asked to copy nothing, so that the
/// status path can be seen from wasm.
extern "C" fn test_memory_init(
    _: *mut u8,
    memory: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    assert_eq!((memory, data, dst, src), (0, 0, 7, 9));
    len
}

/// A `table.grow` that returns its arguments' sum, to show they arrive.
extern "C" fn test_table_grow(_: *mut u8, table: u32, init: usize, delta: u32) -> u32 {
    table + init as u32 + delta
}

#[test]
fn builtins_receive_their_arguments_and_memory_base_is_reloaded() {
    let mut builtins = [0; Builtin::COUNT];
    builtins[Builtin::MemoryGrow as usize] = test_memory_grow as *const () as usize;
    builtins[Builtin::MemoryInit as usize] = test_memory_init as *const () as usize;
    builtins[Builtin::TableGrow as usize] = test_table_grow as *const () as usize;
    let inst = Instance::new(
        r#"(module
          (memory 1)
          (table $t 0 externref)
          (func (param i32) (result i32)
            (i32.store (i32.const 16) (i32.const 0x1234))
            (drop (memory.grow (local.get 0)))
            (i32.store (i32.const 70000) (i32.const 5))
            (i32.add (i32.load (i32.const 16)) (i32.load (i32.const 70000)))
            (i32.add (memory.size)))
          (data "passive bytes")
          (func (param i32)
            (memory.init 0 (i32.const 7) (i32.const 9) (local.get 0)))
          (func (result i32)
            (table.grow $t (ref.null extern) (i32.const 3))))"#,
        builtins,
    );
    let at = inst.layout.defined_memory(0);
    MEMORY_AT.store(at as usize, Ordering::Relaxed);
    let vmctx = inst.vmctx();
    let grow: extern "C" fn(*mut u8, i32) -> i32 = inst.func(0);
    assert_eq!(grow(vmctx, 1), 0x1234 + 5 + 2);
    let init: extern "C" fn(*mut u8, i32) = inst.func(1);
    init(vmctx, 0);
    let table_grow: extern "C" fn(*mut u8) -> i32 = inst.func(2);
    assert_eq!(table_grow(vmctx), 3);
}

#[test]
fn imported_functions_are_called_with_their_own_context() {
    let mut inst = Instance::new(
        r#"(module
          (import "host" "double" (func $double (param i64) (result i64)))
          (global (mut i64) (i64.const 0))
          (func (param i64) (result i64) (i64.add (call $double (local.get 0)) (i64.const 1))))"#,
        [0; Builtin::COUNT],
    );
    // The callee records its argument in its own global.
    let callee = Instance::new(
        "(module (global (mut i64) (i64.const 0))
           (func (param i64) (result i64)
             (global.set 0 (local.get 0)) (i64.mul (local.get 0) (i64.const 2))))",
        [0; Builtin::COUNT],
    );
    let at = inst.layout.imported_function(0);
    inst.write(at + vm::FUNC_IMPORT_CODE, callee.code(0));
    inst.write(at + vm::FUNC_IMPORT_VMCTX, callee.vmctx() as usize);
    let f: extern "C" fn(*mut u8, i64) -> i64 = inst.func(0);
    assert_eq!(f(inst.vmctx(), 20), 41);
    assert_eq!(callee.read_i64(callee.layout.defined_global(0)), 20);
    assert_eq!(inst.read_i64(inst.layout.defined_global(0)), 0);
}
