//! Loading descriptors, linking, segments, globals and builtins, with modules
//! whose code never runs.

use super::fake::{empty, finish, func_type, load_inert, FakeUnit};
use crate::builtins;
use crate::instance::Parts;
use crate::prelude::*;
use crate::vm::VMMemory;
use crate::*;
use rivet_descriptor::{
    Builtin, ConstExpr, ConstOp, DataSegment, ElementSegment, Export, ExternIndex, Import,
    ImportType, SegmentMode, Unit, VmctxLayout,
};

fn import(name: &str, ty: ImportType) -> Import {
    Import {
        module: "env".into(),
        name: name.to_string().into(),
        ty,
    }
}

fn export(name: &str, index: ExternIndex) -> Export {
    Export {
        name: name.to_string().into(),
        index,
    }
}

fn active(index: u32, offset: i32) -> SegmentMode {
    SegmentMode::Active {
        index,
        offset: ConstExpr::I32(offset),
    }
}

fn mem_ty(min: u64, max: Option<u64>) -> MemoryType {
    MemoryType {
        minimum: min,
        maximum: max,
    }
}

fn funcref_table(min: u64, max: Option<u64>) -> TableType {
    TableType {
        element: ValType::FuncRef,
        minimum: min,
        maximum: max,
    }
}

#[test]
fn bad_descriptors_are_format_errors() {
    let unit = Unit {
        bounds: BoundsMode::Guard,
        modules: vec![finish(empty())].into(),
        component: None,
    };
    let mut fake = FakeUnit::new(&unit, vec![], vec![], vec![]);
    assert_eq!(fake.load().unwrap().len(), 1);
    fake.desc.magic[0] = b'X';
    assert!(matches!(fake.load(), Err(Error::Format(_))));
    fake.desc.magic = rivet_descriptor::MAGIC;
    fake.desc.version += 1;
    assert!(matches!(fake.load(), Err(Error::Format(m)) if m.contains("version")));
    // SAFETY: a null descriptor is rejected before any read.
    assert!(unsafe { Module::from_descriptor(std::ptr::null()) }.is_err());
    let junk = [0xffu8; 3];
    let mut fake = FakeUnit::new(&unit, vec![], vec![], vec![]);
    fake.desc.metadata = junk.as_ptr();
    fake.desc.metadata_len = junk.len();
    assert!(matches!(fake.load(), Err(Error::Format(_))));
}

#[test]
fn inconsistent_metadata_is_refused() {
    let mut m = finish(Module_with_memory());
    m.layout = VmctxLayout::new(&Default::default());
    let unit = Unit {
        bounds: BoundsMode::Guard,
        modules: vec![m].into(),
        component: None,
    };
    let fake = FakeUnit::new(&unit, vec![], vec![], vec![]);
    assert!(matches!(fake.load(), Err(Error::Format(e)) if e.contains("layout")));
    let mut m = Module_with_memory();
    m.data.to_mut().push(DataSegment {
        mode: SegmentMode::Passive,
        start: 0,
        len: 10,
    });
    let unit = Unit {
        bounds: BoundsMode::Guard,
        modules: vec![finish(m)].into(),
        component: None,
    };
    let fake = FakeUnit::new(&unit, vec![], vec![], vec![1, 2, 3]);
    assert!(matches!(fake.load(), Err(Error::Format(e)) if e.contains("data")));
}

#[allow(non_snake_case)]
fn Module_with_memory() -> rivet_descriptor::Module {
    let mut m = empty();
    m.memories.to_mut().push(mem_ty(1, None));
    m
}

#[test]
fn imports_are_checked_by_wasm_matching_rules() {
    let mut m = empty();
    m.types.to_mut().push(func_type(&[ValType::I32], &[]));
    m.imports = vec![
        import("f", ImportType::Func(0)),
        import("mem", ImportType::Memory(mem_ty(1, Some(2)))),
        import("tab", ImportType::Table(funcref_table(2, None))),
        import(
            "g",
            ImportType::Global(GlobalType {
                content: ValType::I32,
                mutable: true,
            }),
        ),
    ]
    .into();
    m.functions = vec![0].into();
    m.memories = vec![mem_ty(1, Some(2))].into();
    m.tables = vec![funcref_table(2, None)].into();
    m.globals = vec![GlobalType {
        content: ValType::I32,
        mutable: true,
    }]
    .into();
    let (_fake, modules) = load_inert(BoundsMode::Guard, vec![m], vec![]);
    let module = &modules[0];
    assert_eq!(module.imports().len(), 4);
    assert_eq!(module.imports()[1].1, "mem");

    let mut store = Store::new(BoundsMode::Guard);
    let f = Func::wrap(&mut store, func_type(&[ValType::I32], &[]), |_, _| Ok(()));
    let wrong_f = Func::wrap(&mut store, func_type(&[], &[]), |_, _| Ok(()));
    let mem = Memory::new(&mut store, mem_ty(2, Some(2))).unwrap();
    let unbounded = Memory::new(&mut store, mem_ty(1, None)).unwrap();
    let tab = Table::new(&mut store, funcref_table(3, Some(9)), Val::FuncRef(None)).unwrap();
    let small = Table::new(&mut store, funcref_table(1, None), Val::FuncRef(None)).unwrap();
    let g_ty = GlobalType {
        content: ValType::I32,
        mutable: true,
    };
    let g = Global::new(&mut store, g_ty, Val::I32(1)).unwrap();
    let const_g = Global::new(
        &mut store,
        GlobalType {
            mutable: false,
            ..g_ty
        },
        Val::I32(1),
    )
    .unwrap();
    let good = [
        Extern::Func(f),
        Extern::Memory(mem),
        Extern::Table(tab),
        Extern::Global(g),
    ];
    store.instantiate(module, &good).unwrap();
    let cases: [(usize, Extern, &str); 5] = [
        (0, Extern::Func(wrong_f), "env::f"),
        (1, Extern::Memory(unbounded), "env::mem"),
        (2, Extern::Table(small), "env::tab"),
        (3, Extern::Global(const_g), "env::g"),
        (3, Extern::Memory(mem), "env::g"),
    ];
    for (i, bad, name) in cases {
        let mut imports = good;
        imports[i] = bad;
        match store.instantiate(module, &imports) {
            Err(Error::Link(m)) => assert!(m.contains(name), "{m}"),
            other => panic!("expected a link error for {name}, got {other:?}"),
        }
    }
    assert!(matches!(
        store.instantiate(module, &good[..3]),
        Err(Error::Link(_))
    ));
    let mut explicit = Store::new(BoundsMode::Explicit);
    assert!(matches!(
        explicit.instantiate(module, &[]),
        Err(Error::Runtime(_))
    ));
}

#[test]
fn failing_data_segment_keeps_earlier_writes() {
    let mut m = empty();
    m.imports = vec![import("mem", ImportType::Memory(mem_ty(1, None)))].into();
    m.memories = vec![mem_ty(1, None)].into();
    m.data = vec![
        DataSegment {
            mode: active(0, 10),
            start: 0,
            len: 3,
        },
        DataSegment {
            mode: active(0, 65535),
            start: 3,
            len: 2,
        },
    ]
    .into();
    let (_fake, modules) = load_inert(BoundsMode::Explicit, vec![m], b"abcde".to_vec());
    let mut store = Store::new(BoundsMode::Explicit);
    let mem = Memory::new(&mut store, mem_ty(1, None)).unwrap();
    match store.instantiate(&modules[0], &[Extern::Memory(mem)]) {
        Err(Error::Trap(t)) => assert_eq!(t.kind, TrapKind::MemoryOutOfBounds),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(&mem.data(&store)[10..13], b"abc");
    assert_eq!(mem.data(&store)[65535], 0);
}

/// Two defined functions, a table filled by an active segment, a passive
/// segment, a passive data segment, globals initialised from an import and a
/// funcref, and an imported host function.
fn rich_module() -> rivet_descriptor::Module {
    let mut m = empty();
    m.types = vec![func_type(&[], &[])].into();
    m.imports = vec![
        import("host", ImportType::Func(0)),
        import(
            "base",
            ImportType::Global(GlobalType {
                content: ValType::I32,
                mutable: false,
            }),
        ),
    ]
    .into();
    m.functions = vec![0, 0, 0].into();
    m.tables = vec![funcref_table(3, Some(10))].into();
    m.memories = vec![mem_ty(1, Some(3))].into();
    m.globals = vec![
        GlobalType {
            content: ValType::I32,
            mutable: false,
        },
        GlobalType {
            content: ValType::I32,
            mutable: false,
        },
        GlobalType {
            content: ValType::I32,
            mutable: true,
        },
        GlobalType {
            content: ValType::FuncRef,
            mutable: false,
        },
    ]
    .into();
    m.global_inits = vec![
        ConstExpr::GlobalGet(0),
        ConstExpr::I32(0),
        ConstExpr::RefFunc(2),
    ]
    .into();
    m.elements = vec![
        ElementSegment {
            element: ValType::FuncRef,
            mode: active(0, 1),
            items: vec![ConstExpr::RefFunc(1), ConstExpr::RefFunc(0)].into(),
        },
        ElementSegment {
            element: ValType::FuncRef,
            mode: SegmentMode::Passive,
            items: vec![ConstExpr::RefFunc(2), ConstExpr::RefNull].into(),
        },
        ElementSegment {
            element: ValType::FuncRef,
            mode: SegmentMode::Declared,
            items: vec![ConstExpr::RefFunc(2)].into(),
        },
    ]
    .into();
    m.data = vec![DataSegment {
        mode: SegmentMode::Passive,
        start: 0,
        len: 4,
    }]
    .into();
    m.exports = vec![
        export("f1", ExternIndex::Func(1)),
        export("f2", ExternIndex::Func(2)),
        export("host", ExternIndex::Func(0)),
        export("t", ExternIndex::Table(0)),
        export("m", ExternIndex::Memory(0)),
        export("copy", ExternIndex::Global(1)),
        export("counter", ExternIndex::Global(2)),
        export("fref", ExternIndex::Global(3)),
    ]
    .into();
    m
}

struct Rich {
    _fake: FakeUnit,
    store: Store,
    instance: Instance,
    host: Func,
}

fn instantiate_rich(bounds: BoundsMode) -> Rich {
    let (fake, modules) = load_inert(bounds, vec![rich_module()], b"wxyz".to_vec());
    let module = &modules[0];
    assert_eq!(module.exports().len(), 8);
    assert_eq!(
        module.exports()[3].1,
        module::ExternType::Table(funcref_table(3, Some(10)))
    );
    let mut store = Store::new(bounds);
    let (instance, host) = with_rich_imports(&mut store, module);
    Rich {
        _fake: fake,
        store,
        instance: instance.unwrap(),
        host,
    }
}

/// Instantiates a module of [`rich_module`] with the imports it needs; the
/// host function imported is returned beside the instance.
fn with_rich_imports(store: &mut Store, module: &Module) -> (Result<Instance, Error>, Func) {
    let host = Func::wrap(store, func_type(&[], &[]), |_, _| Ok(()));
    let base = Global::new(
        store,
        GlobalType {
            content: ValType::I32,
            mutable: false,
        },
        Val::I32(1234),
    )
    .unwrap();
    let instance = store.instantiate(module, &[Extern::Func(host), Extern::Global(base)]);
    (instance, host)
}

/// The static unit of `modules`, loaded with the runtime parts of `mask`.
fn load_with_parts(fake: &FakeUnit, mask: u32) -> Result<Vec<Module>, Error> {
    // SAFETY: the fake descriptor's metadata lives as long as `fake`.
    let bytes = unsafe { core::slice::from_raw_parts(fake.desc.metadata, fake.desc.metadata_len) };
    let unit: &'static Unit = Box::leak(Box::new(Unit::decode(bytes).unwrap()));
    let parts: &'static Parts = Box::leak(Box::new(Parts::of(mask)));
    // SAFETY: as in `FakeUnit::load`; `unit` is the descriptor's metadata.
    unsafe { module::load_static(&*fake.desc, unit, parts) }.map(|u| u.modules)
}

/// A module loaded from a static unit gets the runtime parts that come with
/// the unit: the parts it uses instantiate it as a descriptor's would, and
/// parts lacking one it uses refuse it when it is loaded rather than skip the
/// stage or leave a builtin out.
#[test]
fn static_units_run_the_parts_they_name() {
    use rivet_descriptor::parts::{ELEMENTS, IMPORTS, START, TABLES, TABLE_BUILTINS, TAGS};
    let (fake, modules) = load_inert(BoundsMode::Guard, vec![rich_module()], b"wxyz".to_vec());
    let used = IMPORTS | TABLES | ELEMENTS | TABLE_BUILTINS;
    assert_eq!(modules[0].inner().meta.parts(), used);
    // A component's instances resolve their core imports only with imports.
    assert!(Parts::of(IMPORTS).args().is_ok());
    assert!(matches!(
        Parts::of(used & !IMPORTS).args(),
        Err(Error::Runtime(_))
    ));
    for (mask, missing) in [
        (used, None),
        (u32::MAX, None),
        (used & !TABLES | TAGS | START, Some(TABLES)),
        (used & !TABLE_BUILTINS, Some(TABLE_BUILTINS)),
    ] {
        let loaded = load_with_parts(&fake, mask);
        let mut store = Store::new(BoundsMode::Guard);
        let instance = loaded.and_then(|m| with_rich_imports(&mut store, &m[0]).0);
        match (instance, missing) {
            (Ok(i), None) => {
                let Some(Extern::Table(t)) = i.export(&store, "t") else {
                    panic!("table export")
                };
                let f1 = get_func(&store, i, "f1");
                assert!(matches!(t.get(&store, 1), Some(Val::FuncRef(Some(f))) if f == f1));
            }
            (Err(Error::Runtime(why)), Some(bit)) => {
                let want = format!("parts {bit:#x} that its static does not name");
                assert!(why.contains(&want), "{why}");
            }
            (other, _) => panic!("parts {mask:#x}: {other:?}"),
        }
    }
}

/// [`rich_module`] with its global "copy" initialized by `ops` (an `i32`
/// expression) instead of `global.get 0`.
fn rich_with_arith(ops: Vec<ConstOp>) -> rivet_descriptor::Module {
    let mut m = rich_module();
    m.global_inits.to_mut()[0] = ConstExpr::I32Arith(ops.into());
    m
}

/// Constant arithmetic, which reads imported globals, is evaluated by the
/// imports' runtime part: a static unit whose parts lack it is refused at
/// load; with it, the initializer reads the imported global (1234) and wraps
/// at 32 bits.
#[test]
fn constant_arithmetic_runs_with_the_imports_part() {
    use rivet_descriptor::parts::IMPORTS;
    use ConstOp::{Const, GlobalGet, Mul, Sub};
    let m = rich_with_arith(vec![GlobalGet(0), Const(0x40_0000), Mul, Const(1), Sub]);
    let (fake, modules) = load_inert(BoundsMode::Guard, vec![m], b"wxyz".to_vec());
    let used = modules[0].inner().meta.parts();
    let refused = load_with_parts(&fake, used & !IMPORTS);
    let want = format!("parts {IMPORTS:#x} that its static does not name");
    assert!(matches!(&refused, Err(Error::Runtime(why)) if why.contains(&want)));
    for modules in [modules, load_with_parts(&fake, used).unwrap()] {
        let mut store = Store::new(BoundsMode::Guard);
        let i = with_rich_imports(&mut store, &modules[0]).0.unwrap();
        let Some(Extern::Global(copy)) = i.export(&store, "copy") else {
            panic!("global export")
        };
        // 1234 * 2^22 - 1, modulo 2^32.
        let want = 1234u32.wrapping_mul(0x40_0000).wrapping_sub(1) as i32;
        assert!(matches!(copy.get(&store), Val::I32(v) if v == want));
    }
}

#[test]
fn malformed_constant_arithmetic_is_refused_at_load() {
    use ConstOp::{Add, Const, GlobalGet};
    for (ops, why) in [
        (vec![GlobalGet(1), Const(1), Add], "global.get 1"),
        (vec![GlobalGet(0), Add], "does not leave one value"),
        (vec![Const(1), Const(2)], "does not leave one value"),
    ] {
        let m = finish(rich_with_arith(ops));
        let functions = vec![std::ptr::dangling(); m.code.len()];
        let unit = Unit {
            bounds: BoundsMode::Guard,
            modules: vec![m].into(),
            component: None,
        };
        let trampolines = vec![std::ptr::dangling(); 2];
        let fake = FakeUnit::new(&unit, functions, trampolines, b"wxyz".to_vec());
        let err = fake.load().map(drop).unwrap_err();
        assert!(matches!(&err, Error::Format(e) if e.contains(why)), "{err}");
    }
}

/// A module without tables, element segments or tags gets a builtins table
/// without their builtins: a host of such modules links none of them.
#[test]
fn builtins_left_out_are_the_unused_ones() {
    let (fake, modules) = load_inert(BoundsMode::Guard, vec![Module_with_memory()], vec![]);
    let modules = load_with_parts(&fake, modules[0].inner().meta.parts()).unwrap();
    let mut store = Store::new(BoundsMode::Guard);
    let instance = store.instantiate(&modules[0], &[]).unwrap();
    let vmctx = store.instance(instance).vmctx;
    // SAFETY: the vmctx holds the builtins table's address at `BUILTINS`.
    let table = unsafe {
        *vmctx
            .add(VmctxLayout::BUILTINS as usize)
            .cast::<*const *const ()>()
    };
    let entry = |b: Builtin| unsafe { *table.add(b as usize) };
    assert!(!entry(Builtin::MemoryGrow).is_null());
    assert!(!entry(Builtin::Trap).is_null());
    assert!(entry(Builtin::TableGrow).is_null());
    assert!(entry(Builtin::ElemDrop).is_null());
    assert!(entry(Builtin::ExnNew).is_null());
}

fn get_func(store: &Store, i: Instance, name: &str) -> Func {
    match i.export(store, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn exports_globals_and_element_segments() {
    let Rich {
        _fake,
        mut store,
        instance,
        host,
    } = instantiate_rich(BoundsMode::Guard);
    let f1 = get_func(&store, instance, "f1");
    let f2 = get_func(&store, instance, "f2");
    assert_eq!(get_func(&store, instance, "host"), host);
    assert!(instance.export(&store, "nothing").is_none());
    let Some(Extern::Table(t)) = instance.export(&store, "t") else {
        panic!("table export")
    };
    assert!(matches!(t.get(&store, 0), Some(Val::FuncRef(None))));
    assert!(matches!(t.get(&store, 1), Some(Val::FuncRef(Some(f))) if f == f1));
    assert!(matches!(t.get(&store, 2), Some(Val::FuncRef(Some(f))) if f == host));
    let Some(Extern::Global(copy)) = instance.export(&store, "copy") else {
        panic!("global export")
    };
    assert!(matches!(copy.get(&store), Val::I32(1234)));
    let Some(Extern::Global(fref)) = instance.export(&store, "fref") else {
        panic!("global export")
    };
    assert!(matches!(fref.get(&store), Val::FuncRef(Some(f)) if f == f2));
    let Some(Extern::Global(counter)) = instance.export(&store, "counter") else {
        panic!("global export")
    };
    counter.set(&mut store, Val::I32(5)).unwrap();
    assert!(matches!(counter.get(&store), Val::I32(5)));
    // The host function now has a funcref of its own (this module's trampoline).
    let free = Func::wrap(&mut store, func_type(&[], &[]), |_, _| Ok(()));
    t.set(&mut store, 0, Val::FuncRef(Some(free))).unwrap();
    assert!(matches!(t.get(&store, 0), Some(Val::FuncRef(Some(f))) if f == free));
}

type Status6 = unsafe extern "C" fn(*mut u8, u32, u32, u32, u32, u32) -> u32;

/// The builtin `b` as a function of type `F`.
unsafe fn builtin<F: Copy>(b: Builtin) -> F {
    let p = builtins::table(true, true).0[b as usize];
    std::mem::transmute_copy::<*const (), F>(&p)
}

#[test]
fn memory_builtins_act_on_the_instance() {
    for bounds in [BoundsMode::Guard, BoundsMode::Explicit] {
        let Rich {
            _fake,
            mut store,
            instance,
            ..
        } = instantiate_rich(bounds);
        let vmctx = store.instance(instance).vmctx;
        let layout = store.instance(instance).module.inner().meta.layout;
        let Some(Extern::Memory(mem)) = instance.export(&store, "m") else {
            panic!("memory export")
        };
        // SAFETY: calls the builtins exactly as compiled code would.
        unsafe {
            let grow: unsafe extern "C" fn(*mut u8, u32, u32) -> u32 = builtin(Builtin::MemoryGrow);
            assert_eq!(grow(vmctx, 0, 1), 1);
            assert_eq!(grow(vmctx, 0, 5), u32::MAX);
            assert_eq!(grow(vmctx, 7, 1), u32::MAX);
            let vm = *vmctx
                .add(layout.memory_pointer(0) as usize)
                .cast::<*const VMMemory>();
            assert_eq!((*vm).length, 2 * 65536);
            assert_eq!((*vm).base as *const u8, mem.data(&store).as_ptr());

            let init: Status6 = builtin(Builtin::MemoryInit);
            assert_eq!(init(vmctx, 0, 0, 100, 1, 3), 0);
            assert_eq!(init(vmctx, 0, 0, 100, 2, 3), 1);
            let drop_data: unsafe extern "C" fn(*mut u8, u32) = builtin(Builtin::DataDrop);
            drop_data(vmctx, 0);
            assert_eq!(init(vmctx, 0, 0, 100, 0, 1), 1);
            assert_eq!(init(vmctx, 0, 0, 100, 0, 0), 0);
        }
        let data = mem.data(&store);
        assert_eq!(&data[99..104], b"\0xyz\0");
        let _ = &mut store;
    }
}

#[test]
fn table_builtins_act_on_the_instance() {
    let Rich {
        _fake,
        store,
        instance,
        ..
    } = instantiate_rich(BoundsMode::Guard);
    let vmctx = store.instance(instance).vmctx;
    let f1 = get_func(&store, instance, "f1");
    let f2 = get_func(&store, instance, "f2");
    let Some(Extern::Table(t)) = instance.export(&store, "t") else {
        panic!("table export")
    };
    // SAFETY: calls the builtins exactly as compiled code would.
    unsafe {
        let init: Status6 = builtin(Builtin::TableInit);
        assert_eq!(init(vmctx, 0, 1, 0, 0, 1), 0);
        assert_eq!(init(vmctx, 0, 1, 2, 0, 2), 1);
        assert_eq!(init(vmctx, 0, 0, 0, 0, 1), 1, "active segments are dropped");
        let grow: unsafe extern "C" fn(*mut u8, u32, usize, u32) -> u32 =
            builtin(Builtin::TableGrow);
        assert_eq!(grow(vmctx, 0, 0, 2), 3);
        assert_eq!(grow(vmctx, 0, 0, 6), u32::MAX);
        let copy: Status6 = builtin(Builtin::TableCopy);
        assert_eq!(copy(vmctx, 0, 0, 3, 0, 2), 0);
        assert_eq!(copy(vmctx, 0, 0, 4, 0, 2), 1);
        let fill: unsafe extern "C" fn(*mut u8, u32, u32, usize, u32) -> u32 =
            builtin(Builtin::TableFill);
        assert_eq!(fill(vmctx, 0, 2, 0, 1), 0);
        assert_eq!(fill(vmctx, 0, 4, 0, 2), 1);
        let drop_elem: unsafe extern "C" fn(*mut u8, u32) = builtin(Builtin::ElemDrop);
        drop_elem(vmctx, 1);
        assert_eq!(init(vmctx, 0, 1, 0, 0, 1), 1);
    }
    assert_eq!(t.ty(&store).minimum, 5);
    assert!(matches!(t.get(&store, 0), Some(Val::FuncRef(Some(f))) if f == f2));
    assert!(matches!(t.get(&store, 1), Some(Val::FuncRef(Some(f))) if f == f1));
    assert!(matches!(t.get(&store, 2), Some(Val::FuncRef(None))));
    assert!(matches!(t.get(&store, 3), Some(Val::FuncRef(Some(f))) if f == f2));
    assert!(matches!(t.get(&store, 4), Some(Val::FuncRef(Some(f))) if f == f1));
}
