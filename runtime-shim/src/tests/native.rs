//! Hand-assembled x86-64 functions standing in for compiled wasm: real traps
//! through the signal handler, host calls through a host trampoline.

use super::fake::{empty, finish, func_type, FakeUnit};
use crate::prelude::*;
use crate::*;
use rivet_descriptor::{Export, ExternIndex, FunctionCode, Import, ImportType, Unit};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

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

/// Returns (rsp - stack limit) in KiB: the stack wasm may still use.
const STACK_ROOM: &[u8] = &[
    0x48, 0x8b, 0x07, // mov rax, [rdi]      ; *mut VMStoreContext
    0x48, 0x8b, 0x00, // mov rax, [rax]      ; stack_limit
    0x48, 0x89, 0xe1, // mov rcx, rsp
    0x48, 0x29, 0xc1, // sub rcx, rax
    0x48, 0xc1, 0xe9, 0x0a, // shr rcx, 10
    0x89, 0xc8, // mov eax, ecx
    0xc3, // ret
];

/// Probes 16 MiB of stack a page at a time, as compiled code (Cranelift's
/// inline probes, GCC's `-fstack-clash-protection`) does for a large frame,
/// past the end of any test thread's stack: the fault is a stack overflow.
const PROBE: &[u8] = &[
    0x48, 0xc7, 0xc1, 0x00, 0x10, 0x00, 0x00, // mov rcx, 4096
    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, // loop: sub rsp, 4096
    0x48, 0x83, 0x0c, 0x24, 0x00, // or qword [rsp], 0
    0x48, 0xff, 0xc9, // dec rcx
    0x75, 0xef, // jnz loop
    0x48, 0x81, 0xc4, 0x00, 0x00, 0x00, 0x01, // add rsp, 16 MiB
    0x31, 0xc0, // xor eax, eax
    0xc3, // ret
];

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

/// The module's code, kept alive with the module.
struct Loaded {
    _page: CodePage,
    _fake: FakeUnit,
    module: Module,
}

/// Builds the module: imports `env::host: () -> i32`, exports `ret42`, `ud2`,
/// `oob`, `callhost`, `stack_room` and `probe`, all `() -> i32`.
fn load() -> Loaded {
    let ty = func_type(&[], &[ValType::I32]);
    let mut m = empty();
    m.types = vec![ty.clone()].into();
    m.imports = vec![Import {
        module: "env".into(),
        name: "host".into(),
        ty: ImportType::Func(0),
    }]
    .into();
    m.functions = vec![0; 7].into();
    m.memories = vec![MemoryType {
        minimum: 1,
        maximum: None,
    }]
    .into();
    m.exports = ["ret42", "ud2", "oob", "callhost", "stack_room", "probe"]
        .iter()
        .enumerate()
        .map(|(i, n)| Export {
            name: n.to_string().into(),
            index: ExternIndex::Func(i as u32 + 1),
        })
        .collect();
    let mut m = finish(m);
    let oob = oob(m.layout.memory_pointer(0));
    let call = call_import(m.layout.imported_function(0));
    let pieces: [&[u8]; 8] = [
        ARRAY_TRAMPOLINE,
        HOST_TRAMPOLINE,
        RET42,
        UD2,
        &oob,
        &call,
        STACK_ROOM,
        PROBE,
    ];
    m.code = pieces[2..]
        .iter()
        .map(|c| FunctionCode {
            len: c.len() as u32,
            traps: vec![].into(),
            name: None,
        })
        .collect();
    m.code.to_mut()[1].traps = vec![(0, TrapKind::Unreachable)].into();
    let (page, addrs) = CodePage::new(&pieces);
    let unit = Unit {
        bounds: BoundsMode::Guard,
        modules: vec![m].into(),
        component: None,
    };
    let fake = FakeUnit::new(&unit, addrs[2..].to_vec(), addrs[..2].to_vec(), vec![]);
    let module = fake.load().unwrap().remove(0);
    Loaded {
        _page: page,
        _fake: fake,
        module,
    }
}

/// A store with the module instantiated, and its host function's mode.
struct Prepared {
    store: Store,
    mode: Arc<AtomicU8>,
    funcs: [Func; 6],
}

/// Instantiates the module, with a host function whose `mode` says whether
/// it returns 7, traps or panics.
fn prepare(module: &Module) -> Prepared {
    let ty = func_type(&[], &[ValType::I32]);
    let mut store = Store::new(BoundsMode::Guard);
    let mode = Arc::new(AtomicU8::new(0));
    let seen = mode.clone();
    let host = Func::wrap(&mut store, ty, move |_, results| {
        match seen.load(Ordering::Relaxed) {
            0 => {
                results[0] = Val::I32(7);
                Ok(())
            }
            1 => Err(Trap::host("denied")),
            _ => panic!("host panicked"),
        }
    });
    let instance = store.instantiate(module, &[Extern::Func(host)]).unwrap();
    let funcs = ["ret42", "ud2", "oob", "callhost", "stack_room", "probe"]
        .map(|n| exported(&store, instance, n));
    Prepared { store, mode, funcs }
}

/// Exercises every kind of exit on the calling thread, whichever thread
/// prepared the store: the stack limit must be this thread's.
fn exercise(p: Prepared) {
    let Prepared {
        mut store,
        mode,
        funcs: [ret42, ud2, oob, callhost, stack_room, probe],
    } = p;
    assert_eq!(call_i32(&mut store, ret42).unwrap(), 42);
    assert_eq!(
        call_i32(&mut store, ud2).unwrap_err().kind,
        TrapKind::Unreachable
    );
    assert_eq!(call_i32(&mut store, ret42).unwrap(), 42);
    let e = call_i32(&mut store, oob).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_ref()),
        (TrapKind::MemoryOutOfBounds, "out of bounds memory access")
    );
    assert_eq!(
        call_i32(&mut store, ud2).unwrap_err().kind,
        TrapKind::Unreachable
    );

    // A frame too large for the rest of the stack faults on the guard page
    // below it, far from any linear memory.
    let e = call_i32(&mut store, probe).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_ref()),
        (TrapKind::StackOverflow, "call stack exhausted")
    );
    assert_eq!(call_i32(&mut store, ret42).unwrap(), 42);

    assert_eq!(call_i32(&mut store, callhost).unwrap(), 7);
    mode.store(1, Ordering::Relaxed);
    let e = call_i32(&mut store, callhost).unwrap_err();
    assert_eq!((e.kind, e.message.as_ref()), (TrapKind::Host, "denied"));
    // Without `std` a host panic aborts instead (see `func::dispatch`).
    #[cfg(feature = "std")]
    {
        mode.store(2, Ordering::Relaxed);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = call_i32(&mut store, callhost);
        }));
        assert_eq!(
            panicked.unwrap_err().downcast_ref::<&str>(),
            Some(&"host panicked")
        );
    }
    mode.store(0, Ordering::Relaxed);
    assert_eq!(call_i32(&mut store, callhost).unwrap(), 7);
    assert_eq!(
        call_i32(&mut store, oob).unwrap_err().kind,
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(call_i32(&mut store, ret42).unwrap(), 42);
    let room = call_i32(&mut store, stack_room).unwrap();
    let bottom = crate::stack::thread_stack_bottom();
    let here = crate::stack::current_sp();
    let expected =
        ((here - (here - (1 << 20)).max(bottom + crate::stack::SAFETY_MARGIN)) >> 10) as i32;
    assert!(
        room > 0 && room <= expected && room > expected - 16,
        "room {room} KiB, expected about {expected}"
    );
    store.set_max_wasm_stack(256 * 1024);
    let room = call_i32(&mut store, stack_room).unwrap();
    assert!(room > 200 && room < 256, "room {room} KiB");
}

/// Prepares and exercises a store on the calling thread.
fn scenario() {
    exercise(prepare(&load().module));
}

#[test]
fn traps_and_host_calls_on_the_test_thread() {
    scenario();
}

/// A store created on the test thread and moved to a thread with a much
/// smaller stack: its traps, stack overflow and stack limit are the new
/// thread's.
#[test]
fn traps_and_host_calls_after_the_store_moves_to_another_thread() {
    let loaded = load();
    let prepared = prepare(&loaded.module);
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn_scoped(s, move || exercise(prepared))
            .unwrap()
            .join()
            .unwrap()
    });
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

/// A fault in host code while wasm is on the stack is not a wasm trap: it must
/// reach the default action. Runs itself in a child process to watch it die.
#[test]
fn host_fault_inside_a_wasm_call_is_not_caught() {
    const CHILD: &str = "RIVET_TEST_FAULT_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let Loaded { module, .. } = &load();
        let mut store = Store::new(BoundsMode::Guard);
        let host = Func::wrap(&mut store, func_type(&[], &[ValType::I32]), |_, _| {
            // SAFETY: deliberately faults, in host code, to check it is not caught.
            unsafe { std::ptr::write_volatile(std::ptr::dangling_mut::<u64>(), 1) };
            Ok(())
        });
        let instance = store.instantiate(module, &[Extern::Func(host)]).unwrap();
        let callhost = exported(&store, instance, "callhost");
        let _ = call_i32(&mut store, callhost);
        std::process::exit(0);
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tests::native::host_fault_inside_a_wasm_call_is_not_caught",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap()
        .status;
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status:?}");
}
