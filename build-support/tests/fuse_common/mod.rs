//! Shared rig for the fused adapter tests: compiles a callee guest, a caller
//! guest (memory + bump realloc) and an adapter to native code, instantiates
//! them in one store with stand-ins for the runtime intrinsics, and calls the
//! adapter as the caller would.
#![allow(dead_code)]

use libloading::Library;
use rivet::{
    Extern, Func, FuncType, Global, GlobalType, Instance, Memory, Module, Store, Trap, Val, ValType,
};
use rivet_build::__internal::{adapter_module, link_shared, AdapterRequest};
use rivet_build::Options;
use rivet_descriptor::component::{
    AbiTrap, CanonOptions, Component, CoreDef, Intrinsic, StringEncoding,
};
use rivet_descriptor::{BoundsMode, RawDescriptor};
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Core instance numbers the plans in these tests use.
pub const CALLEE: u32 = 0;
pub const CALLER: u32 = 1;

/// Where a guest's `realloc` logs its calls: a ring of [`LOG_ENTRIES`]
/// entries of five words (old pointer, old size, alignment, new size, the
/// pointer returned), the `calls`-th call at entry `calls % LOG_ENTRIES`.
pub const LOG_AT: u32 = 1024;
pub const LOG_ENTRIES: u32 = 64;

/// A guest: one memory of `pages` pages, a bump `realloc` (starting over
/// when memory runs out) that keeps the contents a resize moves and logs
/// every call (see [`LOG_AT`]); once it
/// has answered `good_calls` calls, `mode` 1 makes it return an odd pointer,
/// 2 one beyond the first page. Then `funcs`.
pub fn guest(funcs: &str, pages: u32) -> String {
    format!(
        r#"(module
  (memory (export "memory") {pages})
  (global $bump (mut i32) (i32.const 4096))
  (global $mode (export "mode") (mut i32) (i32.const 0))
  (global $last (export "last") (mut i32) (i32.const 0))
  (global $post (export "post") (mut i64) (i64.const -1))
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (global $good (export "good_calls") (mut i32) (i32.const 0))
  (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32) (local $log i32)
    ;; Back to the start when memory runs out: tests make many calls.
    (if (i32.gt_u (i32.add (global.get $bump) (i32.add (local.get 2) (local.get 3)))
                  (i32.mul (memory.size) (i32.const 65536)))
      (then (global.set $bump (i32.const 4096))))
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (if (local.get 0)
      (then (memory.copy (local.get $p) (local.get 0)
        (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))))
    (if (i32.ge_u (global.get $calls) (global.get $good)) (then
      (if (i32.eq (global.get $mode) (i32.const 1)) (then (local.set $p (i32.const 4097))))
      (if (i32.eq (global.get $mode) (i32.const 2)) (then (local.set $p (i32.const 65532))))))
    (local.set $log (i32.add (i32.const {LOG_AT})
      (i32.mul (i32.rem_u (global.get $calls) (i32.const {LOG_ENTRIES})) (i32.const 20))))
    (i32.store (local.get $log) (local.get 0))
    (i32.store offset=4 (local.get $log) (local.get 1))
    (i32.store offset=8 (local.get $log) (local.get 2))
    (i32.store offset=12 (local.get $log) (local.get 3))
    (i32.store offset=16 (local.get $log) (local.get $p))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (local.get $p))
  {funcs})"#
    )
}

/// A store and a scratch directory for compiled libraries.
pub struct Rig {
    pub store: Store,
    dir: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Rig {
    pub fn new() -> Rig {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rivet-fuse-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Rig {
            store: Store::new(BoundsMode::Guard),
            dir,
        }
    }

    /// Compiles and loads one core module (once per thread: the guests are
    /// shared by the scenarios of a test).
    pub fn load(&mut self, wasm: &[u8]) -> Module {
        thread_local! {
            static CACHE: RefCell<Vec<(Vec<u8>, Module)>> = const { RefCell::new(Vec::new()) };
        }
        if let Some(m) = CACHE.with(|c| {
            c.borrow()
                .iter()
                .find(|(w, _)| w == wasm)
                .map(|(_, m)| m.clone())
        }) {
            return m;
        }
        let module = self.compile(wasm);
        CACHE.with(|c| c.borrow_mut().push((wasm.to_vec(), module.clone())));
        module
    }

    fn compile(&mut self, wasm: &[u8]) -> Module {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let options = Options {
            symbol: format!("rivet_fuse_test_{n}"),
            ..Options::default()
        };
        let object = rivet_build::compile_module(wasm, &options).expect("compiling");
        let obj_path = self.dir.join(format!("m{n}.o"));
        let lib_path = self.dir.join(format!("m{n}.so"));
        std::fs::write(&obj_path, object).unwrap();
        link_shared(&[obj_path], &lib_path).expect("linking");
        let lib = unsafe { Library::new(&lib_path) }.expect("loading");
        let module = unsafe {
            let sym = lib
                .get::<*const RawDescriptor>(options.symbol.as_bytes())
                .expect("descriptor");
            Module::from_descriptor(*sym)
                .expect("reading descriptor")
                .remove(0)
        };
        // Cached modules outlive this rig, so their libraries stay loaded.
        std::mem::forget(lib);
        module
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The canonical options of one side, with its guest's memory and realloc.
pub fn options(instance: u32, encoding: StringEncoding, post_return: Option<&str>) -> CanonOptions {
    let export = |name: &str| CoreDef::Export {
        instance,
        name: name.to_string().into(),
    };
    CanonOptions {
        memory: Some(export("memory")),
        realloc: Some(export("realloc")),
        post_return: post_return.map(export),
        string_encoding: encoding,
    }
}

/// A running adapter between a callee and a caller guest.
pub struct Fused {
    pub rig: Rig,
    pub callee: Instance,
    pub caller: Instance,
    pub adapter: Func,
    /// Flags globals of the callee (0) and caller (1).
    pub flags: [Global; 2],
    /// Intrinsic calls other than transfers, in order.
    pub events: Arc<Mutex<Vec<String>>>,
}

/// One scenario: a plan with function type `ty`, the callee's functions (its
/// lifted function is export `f`, its post-return `post_return`).
pub struct Scenario<'a> {
    pub plan: &'a Component,
    pub ty: u32,
    pub callee_funcs: &'a str,
    pub caller_encoding: StringEncoding,
    pub callee_encoding: StringEncoding,
    pub post_return: bool,
    /// Pages of each guest's memory.
    pub pages: u32,
    /// The callee's options name the caller's memory and `realloc`, as when
    /// two sides share one memory: the callee's allocations may then overlap
    /// the caller's values.
    pub shared_memory: bool,
}

impl Scenario<'_> {
    pub fn build(&self) -> Fused {
        let lower = options(CALLER, self.caller_encoding, None);
        let mut lift = options(
            CALLEE,
            self.callee_encoding,
            self.post_return.then_some("post_return"),
        );
        if self.shared_memory {
            let caller = options(CALLER, self.callee_encoding, None);
            (lift.memory, lift.realloc) = (caller.memory, caller.realloc);
        }
        let callee_def = CoreDef::Export {
            instance: CALLEE,
            name: "f".to_string().into(),
        };
        let adapter = adapter_module(&AdapterRequest {
            plan: self.plan,
            ty: self.ty,
            lower: &lower,
            lower_instance: CALLER,
            lift: &lift,
            lift_instance: CALLEE,
            callee: &callee_def,
        })
        .expect("generating the adapter");
        let mut rig = Rig::new();
        let callee_module =
            rig.load(&wat::parse_str(guest(self.callee_funcs, self.pages)).unwrap());
        let caller_module = rig.load(&wat::parse_str(guest("", self.pages)).unwrap());
        let adapter_mod = rig.load(&adapter.wasm);
        let store = &mut rig.store;
        let callee = store.instantiate(&callee_module, &[]).expect("callee");
        let caller = store.instantiate(&caller_module, &[]).expect("caller");
        let flag_ty = GlobalType {
            content: ValType::I32,
            mutable: true,
        };
        let flags = [
            Global::new(store, flag_ty, Val::I32(3)).unwrap(),
            Global::new(store, flag_ty, Val::I32(3)).unwrap(),
        ];
        let events = Arc::new(Mutex::new(Vec::new()));
        let imports: Vec<Extern> = adapter
            .imports
            .iter()
            .map(|def| wire(store, def, [&callee, &caller], &flags, &events))
            .collect();
        let adapter_inst = store.instantiate(&adapter_mod, &imports).expect("adapter");
        let Some(Extern::Func(adapter_fn)) = adapter_inst.export(store, &adapter.export) else {
            panic!("adapter export missing");
        };
        Fused {
            rig,
            callee,
            caller,
            adapter: adapter_fn,
            flags,
            events,
        }
    }
}

/// What each adapter import is wired to in these tests: guest exports,
/// flag globals, and host stand-ins for the handle intrinsics (own handles
/// gain 100, borrows 1000, so transfers are visible) and the trap.
fn wire(
    store: &mut Store,
    def: &CoreDef,
    instances: [&Instance; 2],
    flags: &[Global; 2],
    events: &Arc<Mutex<Vec<String>>>,
) -> Extern {
    let i32_to_i32 = FuncType {
        params: vec![ValType::I32].into(),
        results: vec![ValType::I32].into(),
    };
    let adder = |store: &mut Store, k: i32| {
        Extern::Func(Func::wrap(store, i32_to_i32.clone(), move |a, r| {
            let Val::I32(h) = a[0] else { unreachable!() };
            r[0] = Val::I32(h + k);
            Ok(())
        }))
    };
    let event = |store: &mut Store, name: String| {
        let events = events.clone();
        Extern::Func(Func::wrap(
            store,
            FuncType {
                params: vec![].into(),
                results: vec![].into(),
            },
            move |_, _| {
                events.lock().unwrap().push(name.clone());
                Ok(())
            },
        ))
    };
    match def {
        CoreDef::Export { instance, name } => instances[*instance as usize]
            .export(store, name)
            .unwrap_or_else(|| panic!("no export {name}")),
        CoreDef::Intrinsic(Intrinsic::InstanceFlags(c)) => Extern::Global(flags[*c as usize]),
        CoreDef::Intrinsic(Intrinsic::TransferOwn { .. }) => adder(store, 100),
        CoreDef::Intrinsic(Intrinsic::TransferBorrow { .. }) => adder(store, 1000),
        CoreDef::Intrinsic(Intrinsic::EnterCall(c)) => event(store, format!("enter {c}")),
        CoreDef::Intrinsic(Intrinsic::ExitCall(c)) => event(store, format!("exit {c}")),
        CoreDef::Intrinsic(Intrinsic::Trap) => Extern::Func(Func::wrap(
            store,
            FuncType {
                params: vec![ValType::I32].into(),
                results: vec![].into(),
            },
            |a, _| {
                let Val::I32(code) = a[0] else { unreachable!() };
                let trap = AbiTrap::from_code(code as u32).expect("a known trap code");
                Err(Trap::host(trap.message()))
            },
        )),
        other => panic!("unexpected adapter import {other:?}"),
    }
}

impl Fused {
    pub fn memory(&self, instance: u32) -> Memory {
        let inst = [&self.callee, &self.caller][instance as usize];
        let Some(Extern::Memory(m)) = inst.export(&self.rig.store, "memory") else {
            panic!("no memory")
        };
        m
    }

    pub fn global(&self, instance: u32, name: &str) -> Global {
        let inst = [&self.callee, &self.caller][instance as usize];
        let Some(Extern::Global(g)) = inst.export(&self.rig.store, name) else {
            panic!("no global {name}")
        };
        g
    }

    pub fn call(&mut self, args: &[Val]) -> Result<Vec<Val>, Trap> {
        self.adapter.call(&mut self.rig.store, args)
    }

    pub fn write(&mut self, instance: u32, addr: u32, bytes: &[u8]) {
        let m = self.memory(instance);
        m.data_mut(&mut self.rig.store)[addr as usize..][..bytes.len()].copy_from_slice(bytes);
    }

    pub fn read(&self, instance: u32, addr: u32, len: u32) -> Vec<u8> {
        let m = self.memory(instance);
        m.data(&self.rig.store)[addr as usize..][..len as usize].to_vec()
    }

    pub fn u32_at(&self, instance: u32, addr: u32) -> u32 {
        u32::from_le_bytes(self.read(instance, addr, 4).try_into().unwrap())
    }

    /// The `realloc` calls `instance` logged since the last call of this
    /// function, each as (old pointer, old size, alignment, new size,
    /// returned pointer); restarts the log.
    pub fn take_reallocs(&mut self, instance: u32) -> Vec<[u32; 5]> {
        let calls = self.global(instance, "calls");
        let Val::I32(n) = calls.get(&self.rig.store) else {
            panic!("`calls` is not an i32")
        };
        assert!(
            n as u32 <= LOG_ENTRIES,
            "{n} realloc calls overflow the log"
        );
        calls.set(&mut self.rig.store, Val::I32(0)).unwrap();
        (0..n as u32)
            .map(|i| std::array::from_fn(|w| self.u32_at(instance, LOG_AT + 20 * i + 4 * w as u32)))
            .collect()
    }
}

/// Asserts `result` is a trap with `trap`'s message.
pub fn assert_trap<T: std::fmt::Debug>(result: Result<T, Trap>, trap: AbiTrap) {
    match result {
        Err(t) => assert_eq!(t.message, trap.message(), "wrong trap"),
        Ok(v) => panic!("expected trap `{}`, got {v:?}", trap.message()),
    }
}
