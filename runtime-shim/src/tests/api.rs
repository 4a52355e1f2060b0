//! Host-side objects: memories, tables, globals, host functions.

use super::fake::func_type;
use crate::prelude::*;
use crate::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

fn mem(min: u64, max: Option<u64>) -> MemoryType {
    MemoryType {
        minimum: min,
        maximum: max,
    }
}

#[test]
fn guarded_memory_grows_in_place() {
    let mut store = Store::new(BoundsMode::Guard);
    let m = Memory::new(&mut store, mem(1, Some(3))).unwrap();
    assert_eq!(m.data(&store).len(), 65536);
    m.data_mut(&mut store)[65535] = 9;
    let base = m.data(&store).as_ptr();
    assert_eq!(m.grow(&mut store, 2).unwrap(), 1);
    assert_eq!(m.data(&store).as_ptr(), base);
    assert_eq!(m.ty(&store), mem(3, Some(3)));
    assert_eq!(m.data(&store)[65535], 9);
    m.data_mut(&mut store)[3 * 65536 - 1] = 1;
    assert!(m.grow(&mut store, 1).is_err());
    assert_eq!(m.grow(&mut store, 0).unwrap(), 3);
}

#[test]
fn explicit_memory_moves_and_keeps_contents() {
    let mut store = Store::new(BoundsMode::Explicit);
    let m = Memory::new(&mut store, mem(0, None)).unwrap();
    assert!(m.data(&store).is_empty());
    assert_eq!(m.grow(&mut store, 1).unwrap(), 0);
    m.data_mut(&mut store)[..4].copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(m.grow(&mut store, 1).unwrap(), 1);
    assert_eq!(m.data(&store).len(), 2 * 65536);
    assert_eq!(&m.data(&store)[..5], &[1, 2, 3, 4, 0]);
    assert!(m.grow(&mut store, 65535).is_err());
}

#[test]
fn memory_over_its_limit_is_refused() {
    let mut store = Store::new(BoundsMode::Guard);
    assert!(matches!(
        Memory::new(&mut store, mem(65537, None)),
        Err(Error::Runtime(_))
    ));
    assert!(Memory::new(&mut store, mem(2, Some(1))).is_err());
}

#[test]
fn globals_get_set_and_check_types() {
    let mut store = Store::new(BoundsMode::Guard);
    let ty = GlobalType {
        content: ValType::I64,
        mutable: true,
    };
    let g = Global::new(&mut store, ty, Val::I64(-5)).unwrap();
    assert!(matches!(g.get(&store), Val::I64(-5)));
    g.set(&mut store, Val::I64(1 << 40)).unwrap();
    assert!(matches!(g.get(&store), Val::I64(x) if x == 1 << 40));
    assert!(g.set(&mut store, Val::I32(1)).is_err());
    assert_eq!(g.ty(&store), ty);
    let c = Global::new(
        &mut store,
        GlobalType {
            content: ValType::F64,
            mutable: false,
        },
        Val::F64(f64::NAN.to_bits() | 1),
    )
    .unwrap();
    assert!(matches!(c.get(&store), Val::F64(b) if b == f64::NAN.to_bits() | 1));
    assert!(c.set(&mut store, Val::F64(0)).is_err());
    assert!(Global::new(&mut store, ty, Val::F32(0)).is_err());
}

#[test]
fn tables_hold_externrefs_and_grow() {
    let mut store = Store::new(BoundsMode::Guard);
    let ty = TableType {
        element: ValType::ExternRef,
        minimum: 2,
        maximum: Some(4),
    };
    let t = Table::new(&mut store, ty, Val::ExternRef(Some(77))).unwrap();
    assert!(matches!(t.get(&store, 1), Some(Val::ExternRef(Some(77)))));
    t.set(&mut store, 0, Val::ExternRef(Some(0))).unwrap();
    assert!(matches!(t.get(&store, 0), Some(Val::ExternRef(Some(0)))));
    t.set(&mut store, 1, Val::ExternRef(None)).unwrap();
    assert!(matches!(t.get(&store, 1), Some(Val::ExternRef(None))));
    assert!(t.get(&store, 2).is_none());
    assert!(t.set(&mut store, 2, Val::ExternRef(None)).is_err());
    assert!(t.set(&mut store, 0, Val::FuncRef(None)).is_err());
    assert_eq!(t.grow(&mut store, 2, Val::ExternRef(Some(5))).unwrap(), 2);
    assert!(matches!(t.get(&store, 3), Some(Val::ExternRef(Some(5)))));
    assert!(t.grow(&mut store, 1, Val::ExternRef(None)).is_err());
    assert_eq!(t.ty(&store).minimum, 4);
}

#[test]
fn host_function_called_from_host() {
    let mut store = Store::new(BoundsMode::Guard);
    let ty = func_type(&[ValType::I32, ValType::I32], &[ValType::I32]);
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let add = Func::wrap(&mut store, ty.clone(), move |args, results| {
        seen.fetch_add(1, Ordering::Relaxed);
        match (args[0], args[1]) {
            (Val::I32(a), Val::I32(b)) => {
                results[0] = Val::I32(a.wrapping_add(b));
                Ok(())
            }
            _ => Err(Trap::host("bad args")),
        }
    });
    assert_eq!(add.ty(&store), ty);
    let r = add.call(&mut store, &[Val::I32(2), Val::I32(40)]).unwrap();
    assert!(matches!(r[..], [Val::I32(42)]));
    let e = add.call(&mut store, &[Val::I32(2)]).unwrap_err();
    assert_eq!(e.kind, TrapKind::Host);
    assert!(add.call(&mut store, &[Val::I32(2), Val::I64(1)]).is_err());
    assert_eq!(
        calls.load(Ordering::Relaxed),
        1,
        "type errors never reach the closure"
    );
}

#[test]
fn host_function_errors_and_bad_results_are_traps() {
    let mut store = Store::new(BoundsMode::Guard);
    let fail = Func::wrap(&mut store, func_type(&[], &[]), |_, _| {
        Err(Trap::host("nope"))
    });
    let e = fail.call(&mut store, &[]).unwrap_err();
    assert_eq!((e.kind, e.message.as_ref()), (TrapKind::Host, "nope"));
    let wrong = Func::wrap(&mut store, func_type(&[], &[ValType::I32]), |_, r| {
        r[0] = Val::I64(1);
        Ok(())
    });
    assert!(wrong.call(&mut store, &[]).is_err());
}

/// Without `std` a host panic aborts instead (see `func::dispatch`).
#[cfg(feature = "std")]
#[test]
fn host_function_panic_reaches_the_host() {
    let mut store = Store::new(BoundsMode::Guard);
    let f = Func::wrap(&mut store, func_type(&[], &[]), |_, _| panic!("host boom"));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = f.call(&mut store, &[]);
    }));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"host boom"));
}

#[test]
fn host_funcref_needs_a_trampoline_of_its_type() {
    let mut store = Store::new(BoundsMode::Guard);
    let f = Func::wrap(&mut store, func_type(&[], &[]), |_, _| Ok(()));
    let ty = TableType {
        element: ValType::FuncRef,
        minimum: 1,
        maximum: None,
    };
    let t = Table::new(&mut store, ty, Val::FuncRef(None)).unwrap();
    let e = t.set(&mut store, 0, Val::FuncRef(Some(f))).unwrap_err();
    assert!(e.to_string().contains("not supported yet"), "{e}");
}

#[test]
fn handles_from_another_store_are_refused() {
    let mut a = Store::new(BoundsMode::Guard);
    let mut b = Store::new(BoundsMode::Guard);
    let f = Func::wrap(&mut a, func_type(&[], &[]), |_, _| Ok(()));
    let ty = TableType {
        element: ValType::FuncRef,
        minimum: 1,
        maximum: None,
    };
    assert!(Table::new(&mut b, ty, Val::FuncRef(Some(f))).is_err());
}
