//! The faults a case's glue may inject (docs/fuzzing.md): each is one change
//! to one side's core code that breaks a rule of the Canonical ABI, so the
//! call must trap where the spec says, in both engines alike.

use super::super::generate::SplitMix64;
use super::ty::{alignment, below, byte_roles, flat_roles, size, Flat, FuncTy, Role, Ty};

/// Which component's glue is changed: A (lowered by the host, calls B
/// through the fused adapter) or B (calls the host).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

/// A bad pointer, given or returned where a good one was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadPtr {
    /// The good pointer plus one: misaligned for any alignment above one.
    Misaligned,
    /// 0xffff_fff8: aligned, but its range wraps around the 32-bit space.
    Wrap,
    /// The end of memory minus four: only ranges of at most four bytes fit.
    Straddle,
    /// The end of memory: only an empty range fits.
    End,
}

impl BadPtr {
    const ALL: [BadPtr; 4] = [
        BadPtr::Misaligned,
        BadPtr::Wrap,
        BadPtr::Straddle,
        BadPtr::End,
    ];

    /// The core expression of the bad pointer, `good` the good one's.
    pub fn wat(self, good: &str) -> String {
        match self {
            BadPtr::Misaligned => format!("(i32.add {good} (i32.const 1))"),
            BadPtr::Wrap => "(i32.const 0xfffffff8)".into(),
            BadPtr::Straddle => format!("(i32.const {})", MEMORY_BYTES - 4),
            BadPtr::End => format!("(i32.const {MEMORY_BYTES})"),
        }
    }
}

impl BadPtr {
    /// Whether the Canonical ABI traps on this pointer to a value of type
    /// `t` (`trap_if(ptr != align_to(ptr, alignment(t)))`, then
    /// `trap_if(ptr + elem_size(t) > len(memory))`), `good` pointers being
    /// aligned and in bounds.
    pub fn traps(self, t: &Ty) -> bool {
        let (align, size) = (alignment(t), size(t));
        match self {
            BadPtr::Misaligned => align > 1,
            BadPtr::Wrap => true,
            BadPtr::Straddle => align > 4 || size > 4,
            BadPtr::End => size > 0,
        }
    }
}

/// Bytes of each component's memory: three pages, so that in explicit mode
/// its slot (four pages) has a page past its end, which must stay zero
/// (`rivet::__private::audit_memory`).
pub const MEMORY_BYTES: u32 = 3 << 16;

/// One injected fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The side's canonical `realloc` returns a bad pointer.
    Realloc(Side, BadPtr),
    /// The side's canonical `realloc` returns a misaligned pointer (+1) only
    /// when it moves an allocation (its old pointer is not null): the second
    /// `realloc` of the transcoding paths, whose result the spec checks as
    /// it does the first's.
    ReallocMoved(Side),
    /// The glue flips bits (`mask`) of flat parameter `index` (an integer)
    /// before passing it on: a discriminant, a `char`, a pointer or a length
    /// may become invalid.
    FlatParam(Side, usize, u64),
    /// The glue flips bits of byte `offset` of the spilled parameters.
    SpilledParam(Side, u32, u8),
    /// The glue passes a bad pointer to the spilled parameters.
    ParamsPtr(Side, BadPtr),
    /// The glue passes a bad return pointer to the function it calls.
    RetPtr(Side, BadPtr),
    /// The glue returns a bad pointer to its spilled result.
    ReturnPtr(Side, BadPtr),
    /// The glue flips bits of its one flat result (an integer).
    FlatResult(Side, u64),
    /// The glue flips bits of byte `offset` of its spilled result.
    ResultByte(Side, u32, u8),
    /// The glue makes string parameter `index` invalid in its encoding
    /// (a 0xff byte in UTF-8, an unpaired surrogate in UTF-16).
    BadStringParam(Side, usize),
    /// The glue makes its string result invalid in its encoding.
    BadStringResult(Side),
    /// The side's `post-return` traps.
    PostTrap(Side),
    /// The side's `post-return` overwrites its whole memory: harmless if, as
    /// the spec says, it runs after the results were read.
    PostClobber(Side),
    /// The glue calls the side's own export, lowered back into it, instead
    /// of its import: the spec lets a component call itself (its
    /// `entering_set` is empty), so this recurses until the stack is
    /// exhausted. Wasmtime traps on entry instead (docs/fuzzing.md).
    Recurse(Side),
    /// The glue calls A's `g` instead of its import, through a trampoline
    /// that the component around A and B lifts and lowers: A is entered
    /// while it is on the call stack, which the spec traps on entry
    /// (`may_enter_from`: A is in `A.entering_set(caller)`).
    Reenter(Side),
}

impl Fault {
    pub fn side(&self) -> Side {
        match *self {
            Fault::Realloc(s, _)
            | Fault::ReallocMoved(s)
            | Fault::FlatParam(s, ..)
            | Fault::SpilledParam(s, ..)
            | Fault::ParamsPtr(s, _)
            | Fault::RetPtr(s, _)
            | Fault::ReturnPtr(s, _)
            | Fault::FlatResult(s, _)
            | Fault::ResultByte(s, ..)
            | Fault::BadStringParam(s, _)
            | Fault::BadStringResult(s)
            | Fault::PostTrap(s)
            | Fault::PostClobber(s)
            | Fault::Recurse(s)
            | Fault::Reenter(s) => s,
        }
    }

    /// Whether the side's lift has a `post-return` function for the fault.
    pub fn needs_post_return(&self) -> bool {
        matches!(self, Fault::PostTrap(_) | Fault::PostClobber(_))
    }
}

/// A fault that fits `func` (half the time; `None` otherwise): each kind
/// is drawn only where the type gives it something to break.
pub fn arbitrary(rng: &mut SplitMix64, func: &FuncTy) -> Option<Fault> {
    if rng.next_u64() & 1 == 0 {
        return None;
    }
    let side = if rng.next_u64() & 1 == 0 {
        Side::A
    } else {
        Side::B
    };
    let candidates = candidates(rng, func, side);
    let pick = below(rng, candidates.len() as u64) as usize;
    candidates.into_iter().nth(pick)
}

/// Every kind of fault `func` allows on `side`, with its details drawn.
fn candidates(rng: &mut SplitMix64, func: &FuncTy, side: Side) -> Vec<Fault> {
    let bad = BadPtr::ALL[below(rng, 4) as usize];
    let mut all = vec![
        Fault::Realloc(side, bad),
        Fault::ReallocMoved(side),
        Fault::PostTrap(side),
        Fault::PostClobber(side),
        Fault::Recurse(side),
        Fault::Reenter(side),
    ];
    let flat = func.flat_params();
    let roles: Vec<Role> = func.params.iter().flat_map(flat_roles).collect();
    if func.params_spill() {
        all.push(Fault::ParamsPtr(side, bad));
        if let Some(offset) = data_byte(rng, &func.params_tuple()) {
            all.push(Fault::SpilledParam(side, offset, mask8(rng)));
        }
    } else {
        let ints: Vec<usize> = (0..flat.len())
            .filter(|&i| matches!(flat[i], Flat::I32 | Flat::I64) && roles[i] != Role::Float)
            .collect();
        if !ints.is_empty() {
            let i = ints[below(rng, ints.len() as u64) as usize];
            let mask = match roles[i] {
                Role::Address => out_of_bounds(rng),
                _ => mask(rng, flat[i]),
            };
            all.push(Fault::FlatParam(side, i, mask));
        }
        let strings: Vec<usize> = (0..func.params.len())
            .filter(|&i| func.params[i] == Ty::String)
            .collect();
        if !strings.is_empty() {
            let i = strings[below(rng, strings.len() as u64) as usize];
            all.push(Fault::BadStringParam(side, i));
        }
    }
    let result = func.flat_result();
    match (&func.result, &result[..]) {
        (Some(t), _) if func.result_spills() => {
            all.push(Fault::RetPtr(side, bad));
            all.push(Fault::ReturnPtr(side, bad));
            if let Some(offset) = data_byte(rng, t) {
                all.push(Fault::ResultByte(side, offset, mask8(rng)));
            }
            if *t == Ty::String {
                all.push(Fault::BadStringResult(side));
            }
        }
        (Some(r), [t @ (Flat::I32 | Flat::I64)]) if flat_roles(r) == [Role::Data] => {
            all.push(Fault::FlatResult(side, mask(rng, *t)))
        }
        _ => {}
    }
    all
}

/// A byte of `t` in memory that is no part of a pointer, a length or a
/// float, if there is one (see [`Role`]).
fn data_byte(rng: &mut SplitMix64, t: &Ty) -> Option<u32> {
    let bytes = byte_roles(t);
    let data: Vec<u32> = (0..bytes.len() as u32)
        .filter(|&i| bytes[i as usize] == Role::Data)
        .collect();
    (!data.is_empty()).then(|| data[below(rng, data.len() as u64) as usize])
}

/// Bits to flip in a pointer or a length that always take it out of
/// bounds: the power of two above the memory's size added (for a pointer
/// just past the memory, the next explicit-mode slot), or every bit.
fn out_of_bounds(rng: &mut SplitMix64) -> u64 {
    let past = u64::from(MEMORY_BYTES.next_power_of_two());
    [past, 0xffff_ffff][below(rng, 2) as usize]
}

/// Bits to flip in an integer that is no pointer or length: the lowest (a
/// discriminant, a `bool`, a `char`), a sign, high bits, or all.
fn mask(rng: &mut SplitMix64, t: Flat) -> u64 {
    const I32: [u64; 5] = [1, 0x80, 0x8000_0000, 0xffff_ffff, 0x2_0000];
    const I64: [u64; 3] = [1, 1 << 32, 1 << 63];
    match t {
        Flat::I64 => I64[below(rng, 3) as usize],
        _ => I32[below(rng, 5) as usize],
    }
}

fn mask8(rng: &mut SplitMix64) -> u8 {
    const MASKS: [u8; 4] = [1, 0x80, 0xff, 0x3f];
    MASKS[below(rng, 4) as usize]
}
