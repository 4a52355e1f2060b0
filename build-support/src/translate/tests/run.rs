//! Runs translated code natively: a module is compiled into an object, linked
//! into a shared library with the system C compiler and loaded, and its
//! functions are called with a hand-built instance context (explicit bounds
//! mode, so memories are plain buffers). Traps would end the test process, so
//! only code that returns is run here; trapping paths are checked in the IR.

use super::{host_isa, module_env, translate};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{default_libcall_names, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use rivet_descriptor::{vm, BoundsMode, Builtin, VmctxLayout, WASM_PAGE_SIZE};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A loaded module and the state its instance context points at.
struct Instance {
    lib: libloading::Library,
    /// The instance context, 16-byte aligned, and its address.
    _vmctx: Vec<u128>,
    base: usize,
    _store: Box<usize>,
    _builtins: Box<[usize; Builtin::COUNT]>,
    memories: Vec<Vec<u8>>,
    tables: Vec<Vec<usize>>,
}

/// A fresh scratch path for one compiled module.
fn scratch(ext: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("rivet-translate-{}-{n}.{ext}", std::process::id()))
}

/// Compiles every function of a WAT module (no imports) into a shared library
/// exporting defined function `i` as `f{i}`.
fn compile_library(wat: &str) -> (libloading::Library, crate::env::ModuleEnv<'static>) {
    let wasm: &'static [u8] = Box::leak(wat::parse_str(wat).unwrap().into_boxed_slice());
    let isa = host_isa();
    let env = module_env(wasm, &isa, BoundsMode::Explicit).unwrap().unwrap();
    assert_eq!(env.imported_functions, 0, "run tests wire no imports");
    let builder = ObjectBuilder::new(isa.clone(), "t", default_libcall_names()).unwrap();
    let mut module = ObjectModule::new(builder);
    let mut builder_ctx = FunctionBuilderContext::new();
    for i in 0..env.bodies.len() as u32 {
        let sig = env.wasm_signature(env.functions[i as usize]);
        let id = module.declare_function(&format!("f{i}"), Linkage::Export, &sig).unwrap();
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
    let status = Command::new("cc").arg("-shared").arg("-o").arg(&so).arg(&obj).status();
    assert!(status.unwrap().success());
    // SAFETY: the library holds only the functions just compiled.
    let lib = unsafe { libloading::Library::new(&so) }.unwrap();
    let _ = (std::fs::remove_file(obj), std::fs::remove_file(so));
    (lib, env)
}

impl Instance {
    /// Compiles `wat` and builds an instance context for it, with `builtins` as
    /// the builtins table.
    fn new(wat: &str, builtins: [usize; Builtin::COUNT]) -> Instance {
        let (lib, env) = compile_library(wat);
        let layout = env.layout;
        let mut vmctx: Vec<u128> = vec![0; (layout.size as usize).div_ceil(16)];
        let mut inst = Instance {
            lib,
            base: vmctx.as_mut_ptr() as usize,
            _vmctx: vmctx,
            _store: Box::new(0),
            _builtins: Box::new(builtins),
            memories: env
                .memories
                .iter()
                .map(|m| vec![0; (m.minimum * WASM_PAGE_SIZE) as usize])
                .collect(),
            tables: env.tables.iter().map(|t| vec![0; t.minimum as usize]).collect(),
        };
        inst.write(VmctxLayout::STORE, &*inst._store as *const usize as usize);
        inst.write(VmctxLayout::BUILTINS, inst._builtins.as_ptr() as usize);
        for (ty, _) in env.types.iter().enumerate() {
            inst.write(layout.type_id(ty as u32), ty as u32);
        }
        inst.init_memories(&layout);
        inst.init_tables(&layout);
        for g in 0..env.globals.len() as u32 {
            let at = inst.address(layout.defined_global(g));
            inst.write(layout.global_pointer(g), at);
        }
        for (f, ty) in env.functions.iter().enumerate() {
            let at = layout.funcref(f as u32);
            inst.write(at + vm::FUNCREF_CODE, inst.code(f as u32));
            inst.write(at + vm::FUNCREF_VMCTX, inst.address(0));
            inst.write(at + vm::FUNCREF_TYPE_ID, *ty);
        }
        inst
    }

    fn init_memories(&mut self, layout: &VmctxLayout) {
        for m in 0..self.memories.len() {
            let at = layout.defined_memory(m as u32);
            let (base, len) = (self.memories[m].as_mut_ptr() as usize, self.memories[m].len());
            self.write(at + vm::MEMORY_BASE, base);
            self.write(at + vm::MEMORY_LENGTH, len);
            self.write(layout.memory_pointer(m as u32), self.address(at));
        }
    }

    fn init_tables(&mut self, layout: &VmctxLayout) {
        for t in 0..self.tables.len() {
            let at = layout.defined_table(t as u32);
            let (base, len) = (self.tables[t].as_mut_ptr() as usize, self.tables[t].len());
            self.write(at + vm::TABLE_BASE, base);
            self.write(at + vm::TABLE_LENGTH, len as u32);
            self.write(layout.table_pointer(t as u32), self.address(at));
        }
    }

    /// The address of byte `offset` of the instance context.
    fn address(&self, offset: u32) -> usize {
        self.base + offset as usize
    }

    /// Writes `value` at byte `offset` of the instance context.
    fn write<T>(&mut self, offset: u32, value: T) {
        let at = self.address(offset) as *mut T;
        // SAFETY: every offset comes from the layout, inside the allocation.
        unsafe { at.write_unaligned(value) }
    }

    /// The code address of defined function `i`.
    fn code(&self, i: u32) -> usize {
        // SAFETY: `f{i}` is a function symbol; only its address is taken.
        let sym = unsafe { self.lib.get::<*const u8>(format!("f{i}").as_bytes()) };
        *sym.unwrap() as usize
    }

    /// Defined function `i` as a callable of type `F` (an `extern "C" fn`
    /// whose first parameter is the context).
    fn func<F: Copy>(&self, i: u32) -> F {
        // SAFETY: callers name the native signature of the function's type.
        unsafe { *self.lib.get::<F>(format!("f{i}").as_bytes()).unwrap() }
    }

    fn vmctx(&self) -> *mut u8 {
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
