//! Hand-assembled x86-64 functions standing in for compiled wasm: real traps
//! through the signal handler, host calls through a host trampoline.

use super::fake::{empty, finish, func_type, FakeUnit};
use crate::*;
use rivet_descriptor::{Export, ExternIndex, FunctionCode, Import, ImportType, Unit};
use std::cell::Cell;
use std::rc::Rc;

/// Array trampoline for `() -> i32`: calls `code(vmctx)`, stores eax to values[0].
const ARRAY_TRAMPOLINE: &[u8] = &[
    0x53, // push rbx
    0x48, 0x89, 0xd3, // mov rbx, rdx
    0x48, 0x89, 0xf8, // mov rax, rdi
    0x48, 0x89, 0xf7, // mov rdi, rsi
    0xff, 0xd0, // call rax
    0x89, 0x03, // mov [rbx], eax
    0x5b, // pop rbx
    0xc3, // ret
];

/// Host trampoline for `() -> i32`: dispatch(record, values) then load the
/// result, or trap with ud2 when dispatch fails.
const HOST_TRAMPOLINE: &[u8] = &[
    0x48, 0x83, 0xec, 0x18, // sub rsp, 24
    0x48, 0x89, 0xe6, // mov rsi, rsp
    0xff, 0x17, // call [rdi]
    0x85, 0xc0, // test eax, eax
    0x75, 0x08, // jnz trap
    0x8b, 0x04, 0x24, // mov eax, [rsp]
    0x48, 0x83, 0xc4, 0x18, // add rsp, 24
    0xc3, // ret
    0x0f, 0x0b, // trap: ud2
];

const RET42: &[u8] = &[0xb8, 42, 0, 0, 0, 0xc3];
const UD2: &[u8] = &[0x0f, 0x0b];

/// Loads from 128 KiB into memory 0 (one page is accessible).
fn oob(memory_pointer: u32) -> Vec<u8> {
    let mut code = vec![0x48, 0x8b, 0x87]; // mov rax, [rdi + disp32]
    code.extend(memory_pointer.to_le_bytes());
    code.extend([0x48, 0x8b, 0x00]); // mov rax, [rax]
    code.extend([0x8b, 0x80]); // mov eax, [rax + disp32]
    code.extend(0x20000u32.to_le_bytes());
    code.push(0xc3);
    code
}

/// Calls imported function 0 as compiled code does.
fn call_import(import: u32) -> Vec<u8> {
    let mut code = vec![0x48, 0x83, 0xec, 0x08]; // sub rsp, 8
    code.extend([0x48, 0x8b, 0x87]); // mov rax, [rdi + code]
    code.extend(import.to_le_bytes());
    code.extend([0x48, 0x8b, 0xbf]); // mov rdi, [rdi + vmctx]
    code.extend((import + 8).to_le_bytes());
    code.extend([0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08, 0xc3]); // call rax; add rsp, 8; ret
    code
}

/// One executable page holding the code above.
struct CodePage(*mut u8);

impl CodePage {
    fn new(pieces: &[&[u8]]) -> (CodePage, Vec<*const u8>) {
        // SAFETY: a fresh anonymous mapping, written then made executable.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            ) as *mut u8;
            assert_ne!(p as *mut libc::c_void, libc::MAP_FAILED);
            let addrs = pieces
                .iter()
                .enumerate()
                .map(|(i, code)| {
                    let at = p.add(64 * i);
                    std::ptr::copy_nonoverlapping(code.as_ptr(), at, code.len());
                    at as *const u8
                })
                .collect();
            assert_eq!(
                libc::mprotect(p.cast(), 4096, libc::PROT_READ | libc::PROT_EXEC),
                0
            );
            (CodePage(p), addrs)
        }
    }
}

impl Drop for CodePage {
    fn drop(&mut self) {
        // SAFETY: mapped in `new`.
        unsafe { libc::munmap(self.0.cast(), 4096) };
    }
}

fn exported(store: &Store, i: Instance, name: &str) -> Func {
    match i.export(store, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("{name}: {other:?}"),
    }
}

fn call_i32(store: &mut Store, f: Func) -> Result<i32, Trap> {
    match f.call(store, &[])?[..] {
        [Val::I32(x)] => Ok(x),
        ref other => panic!("unexpected results {other:?}"),
    }
}

/// Builds the module, instantiates it and exercises every kind of exit.
fn scenario() {
    let ty = func_type(&[], &[ValType::I32]);
    let mut m = empty();
    m.types = vec![ty.clone()];
    m.imports = vec![Import {
        module: "env".into(),
        name: "host".into(),
        ty: ImportType::Func(0),
    }];
    m.functions = vec![0; 5];
    m.memories = vec![MemoryType {
        minimum: 1,
        maximum: None,
    }];
    m.exports = ["ret42", "ud2", "oob", "callhost"]
        .iter()
        .enumerate()
        .map(|(i, n)| Export {
            name: n.to_string(),
            index: ExternIndex::Func(i as u32 + 1),
        })
        .collect();
    let mut m = finish(m);
    let oob = oob(m.layout.memory_pointer(0));
    let call = call_import(m.layout.imported_function(0));
    let pieces: [&[u8]; 6] = [ARRAY_TRAMPOLINE, HOST_TRAMPOLINE, RET42, UD2, &oob, &call];
    m.code = pieces[2..]
        .iter()
        .map(|c| FunctionCode {
            len: c.len() as u32,
            traps: vec![],
            name: None,
        })
        .collect();
    m.code[1].traps = vec![(0, TrapKind::Unreachable)];
    let (_page, addrs) = CodePage::new(&pieces);
    let unit = Unit {
        bounds: BoundsMode::Guard,
        modules: vec![m],
    };
    let fake = FakeUnit::new(&unit, addrs[2..].to_vec(), addrs[..2].to_vec(), vec![]);
    let module = fake.load().unwrap().remove(0);

    let mut store = Store::new(BoundsMode::Guard);
    let mode = Rc::new(Cell::new(0u8));
    let seen = mode.clone();
    let host = Func::wrap(&mut store, ty, move |_, results| match seen.get() {
        0 => {
            results[0] = Val::I32(7);
            Ok(())
        }
        1 => Err(Trap::host("denied")),
        _ => panic!("host panicked"),
    });
    let instance = store.instantiate(&module, &[Extern::Func(host)]).unwrap();
    let [ret42, ud2, oob, callhost] =
        ["ret42", "ud2", "oob", "callhost"].map(|n| exported(&store, instance, n));

    assert_eq!(call_i32(&mut store, ret42).unwrap(), 42);
    assert_eq!(
        call_i32(&mut store, ud2).unwrap_err().kind,
        TrapKind::Unreachable
    );
    assert_eq!(call_i32(&mut store, ret42).unwrap(), 42);
    let e = call_i32(&mut store, oob).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (TrapKind::MemoryOutOfBounds, "out of bounds memory access")
    );
    assert_eq!(
        call_i32(&mut store, ud2).unwrap_err().kind,
        TrapKind::Unreachable
    );

    assert_eq!(call_i32(&mut store, callhost).unwrap(), 7);
    mode.set(1);
    let e = call_i32(&mut store, callhost).unwrap_err();
    assert_eq!((e.kind, e.message.as_str()), (TrapKind::Host, "denied"));
    mode.set(2);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = call_i32(&mut store, callhost);
    }));
    assert_eq!(
        panicked.unwrap_err().downcast_ref::<&str>(),
        Some(&"host panicked")
    );
    mode.set(0);
    assert_eq!(call_i32(&mut store, callhost).unwrap(), 7);
    assert_eq!(
        call_i32(&mut store, oob).unwrap_err().kind,
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(call_i32(&mut store, ret42).unwrap(), 42);
    drop(store);
    drop(module);
}

#[test]
fn traps_and_host_calls_on_the_test_thread() {
    scenario();
}

#[test]
fn traps_and_host_calls_on_a_small_spawned_thread() {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(scenario)
        .unwrap()
        .join()
        .unwrap();
}
