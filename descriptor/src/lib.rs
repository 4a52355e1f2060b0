//! The contract between Rivet's build-time compiler (`rivet-build`) and its runtime
//! shim (package `rivet-runtime`, library `rivet`).
//!
//! A compiled *unit* is one object file. It exports exactly one data symbol, the
//! descriptor, laid out as [`RawDescriptor`]. The descriptor points at the unit's
//! code (one entry per defined function and per trampoline), at the concatenated
//! bytes of its data segments, and at a postcard-encoded [`Unit`] that says
//! everything else the runtime needs. Both sides depend on this crate, so the
//! layout of the instance context ([`VmctxLayout`]), the table of runtime
//! builtins ([`Builtin`]) and the trap codes ([`TrapKind`]) are written once.
//!
//! # Native calling convention of compiled wasm functions
//! Every wasm function `(p1..pn) -> (r1..rm)` compiles to a native function with the
//! target's default C calling convention (System V on x86-64 Linux), Cranelift's
//! implicit struct return for more results than fit registers, and the signature
//! `(vmctx: ptr, p1..pn) -> (r1..rm)`. `vmctx` is the callee instance's context.
//! `i32`/`i64`/`f32`/`f64` map to the same Cranelift types; `funcref` and
//! `externref` and `exnref` are pointer-sized integers (0 is null): a funcref is a
//! `*const VMFuncRef`, an externref an opaque non-zero handle owned by the store,
//! an exnref a `*mut VMExn`.
//!
//! # Trampolines
//! * *Array trampoline* (one per type index, `Module::array_trampolines`):
//!   `extern "C" fn(code: *const u8, vmctx: *mut u8, values: *mut ValRaw)`. Loads the
//!   parameters from `values[0..n]`, calls `code` with the native convention above,
//!   stores the results to `values[0..m]`. This is how the host calls into wasm.
//! * *Host trampoline* (one per type index, `Module::host_trampolines`): a function with
//!   the native wasm convention of that type, used as the `code` of a host function.
//!   Its `vmctx` argument is really a `*mut VMHostFunc`: it spills the parameters to a
//!   stack array of `ValRaw` (large enough for params and results), calls
//!   `(*vmctx).dispatch(vmctx, values)` with the C convention, and if that returns
//!   non-zero executes a trap with code [`TrapKind::Host`]; otherwise it loads the
//!   results from the array and returns them.
//!
//! # Exceptions
//! Rivet does not unwind native frames. A unit in which any module has a tag is
//! compiled *exception-aware*: `throw` creates an exception ([`Builtin::ExnNew`]),
//! stores it in `VMStoreContext::pending_exception` and returns zero values; after
//! every call the caller tests that field and, when set, either branches to the
//! matching catch clause of an enclosing `try_table` (clearing the field) or
//! returns at once. The runtime turns an exception still pending when a call
//! from the host returns into [`TrapKind::UncaughtException`]. Units without
//! tags cannot create exceptions and are compiled without the tests.
//!
//! # Values in memory (`ValRaw`, globals)
//! A slot is 16 bytes, little-endian from offset 0: `i32` and `f32` (bits) use 4
//! bytes, `i64` and `f64` (bits) 8 bytes, references a pointer-sized integer, `v128`
//! all 16.

#![no_std]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// A list in the metadata: owned where the compiler builds it or the runtime
/// decodes it, borrowed where the metadata is static data that the build
/// generated (see [`Unit`]).
pub type List<T> = Cow<'static, [T]>;

/// A name in the metadata: owned or static, like [`List`].
pub type Text = Cow<'static, str>;

pub mod abi;
pub mod check;
pub mod component;
mod decode;
pub mod display;

/// Bumped on every change to anything in this crate; the runtime refuses a
/// descriptor with another version.
pub const FORMAT_VERSION: u32 = 10;

/// First bytes of every descriptor.
pub const MAGIC: [u8; 8] = *b"RIVETUN\0";

/// Size in bytes of a wasm page.
pub const WASM_PAGE_SIZE: u64 = 65536;

/// In guard-region mode every 32-bit memory reserves this many bytes of address
/// space (4 GiB of addressable memory plus a 32 MiB guard), so that an access
/// `base + zext(index) + offset` with `offset + size <= GUARD_BYTES` needs no check.
pub const GUARD_RESERVATION: u64 = (4 << 30) + GUARD_BYTES;

/// Guard bytes after the 4 GiB of a 32-bit memory in guard-region mode. Accesses
/// whose static offset plus access size exceed this get an explicit bounds check.
/// 32 MiB covers the static offsets compilers emit (a struct field, a stack
/// slot) while keeping a reservation small enough that the 128 TiB of a 48-bit
/// address space holds 32,000 of them; a larger guard only buys checks on
/// offsets no real code uses.
pub const GUARD_BYTES: u64 = 32 << 20;

/// The header every compiled unit exports under its descriptor symbol.
/// `#[repr(C)]`: the compiler emits it field by field with relocations.
#[repr(C)]
#[derive(Debug)]
pub struct RawDescriptor {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// postcard-encoded [`Unit`].
    pub metadata: *const u8,
    /// Length of `metadata` in bytes.
    pub metadata_len: usize,
    /// Code address of every defined function of every module in the unit, in
    /// order: module 0's defined functions, then module 1's, … (see
    /// [`Module::defined_function_base`]).
    pub functions: *const *const u8,
    /// Number of entries in `functions`.
    pub function_count: usize,
    /// Code address of every trampoline (array and host trampolines of all
    /// modules; indices in [`Module::array_trampolines`] and
    /// [`Module::host_trampolines`]).
    pub trampolines: *const *const u8,
    /// Number of entries in `trampolines`.
    pub trampoline_count: usize,
    /// Concatenated bytes of every data segment of every module.
    pub data: *const u8,
    /// Length of `data` in bytes.
    pub data_len: usize,
    /// Bounds of the code the C backend compiled (null without any): the
    /// runtime registers it as wasm code, so a fault in it is a trap.
    pub c_code_start: *const u8,
    pub c_code_end: *const u8,
}

// SAFETY: a descriptor is immutable static data in the loaded object.
unsafe impl Sync for RawDescriptor {}

/// Field offsets of [`RawDescriptor`] on a 64-bit target, for the emitter.
pub mod raw_offsets {
    /// `metadata` pointer.
    pub const METADATA: u32 = 16;
    /// `metadata_len`.
    pub const METADATA_LEN: u32 = 24;
    /// `functions` pointer.
    pub const FUNCTIONS: u32 = 32;
    /// `function_count`.
    pub const FUNCTION_COUNT: u32 = 40;
    /// `trampolines` pointer.
    pub const TRAMPOLINES: u32 = 48;
    /// `trampoline_count`.
    pub const TRAMPOLINE_COUNT: u32 = 56;
    /// `data` pointer.
    pub const DATA: u32 = 64;
    /// `data_len`.
    pub const DATA_LEN: u32 = 72;
    /// `c_code_start`.
    pub const C_CODE_START: u32 = 80;
    /// `c_code_end`.
    pub const C_CODE_END: u32 = 88;
    /// Total size.
    pub const SIZE: u32 = 96;
}

/// Everything about a unit that is not code: encoded with postcard into the
/// descriptor, and written by `rivet-build` as a Rust `static` (its lists and
/// names borrowed) that the `component!` bindings read in place.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Unit {
    /// How memory accesses were compiled; the runtime allocates memories to match.
    pub bounds: BoundsMode,
    /// The core modules of the unit (for a component: its distinct core modules and
    /// its generated adapter modules).
    pub modules: List<Module>,
    /// For a component, its instantiation plan; `None` for a core module.
    pub component: Option<component::Component>,
}

impl Unit {
    /// The optional parts of the runtime its modules and plan use.
    pub fn parts(&self) -> u32 {
        let plan = self
            .component
            .as_ref()
            .map_or(0, component::Component::parts);
        plan | self.module_parts()
    }

    /// The optional parts of the runtime its modules use.
    pub fn module_parts(&self) -> u32 {
        self.modules.iter().fold(0, |all, m| all | m.parts())
    }

    /// Encodes the unit for the descriptor.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("encoding a Unit cannot fail")
    }

    /// Decodes the unit from a descriptor's metadata (see [`decode`] for why
    /// not with serde).
    pub fn decode(bytes: &[u8]) -> Result<Unit, String> {
        decode::unit(bytes)
    }
}

/// How linear-memory accesses are checked.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, Default)]
pub enum BoundsMode {
    /// Memories reserve [`GUARD_RESERVATION`] bytes of address space; out-of-bounds
    /// accesses fault on an inaccessible page and become traps. Memory bases never
    /// move.
    #[default]
    Guard,
    /// Every access is compared with the memory's current length. Memories are
    /// allocated at their current size and may move when they grow, so compiled
    /// code reloads the base after anything that may grow memory.
    Explicit,
}

/// A wasm value type.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
    /// A reference to an exception (`*mut VMExn`, 0 is null).
    ExnRef,
}

impl ValType {
    /// Every value type, in declaration order.
    pub const ALL: [ValType; 8] = [
        ValType::I32,
        ValType::I64,
        ValType::F32,
        ValType::F64,
        ValType::V128,
        ValType::FuncRef,
        ValType::ExternRef,
        ValType::ExnRef,
    ];
}

/// A function type. Ordered so that the runtime can intern types in a
/// sorted list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncType {
    pub params: List<ValType>,
    pub results: List<ValType>,
}

/// A memory type (32-bit, unshared: what Rivet supports).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct MemoryType {
    /// Initial size in pages.
    pub minimum: u64,
    /// Maximum size in pages.
    pub maximum: Option<u64>,
}

/// A table type.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableType {
    /// `FuncRef` or `ExternRef`.
    pub element: ValType,
    pub minimum: u64,
    pub maximum: Option<u64>,
}

/// A global type.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct GlobalType {
    pub content: ValType,
    pub mutable: bool,
}

/// The kind of an import or export, with its index in that kind's index space.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum ExternIndex {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    /// An exception tag.
    Tag(u32),
}

/// The type of an import.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum ImportType {
    /// Type index into [`Module::types`].
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// A tag whose payload is the parameters of function type index `ty`.
    Tag(u32),
}

/// One import, in the module's import order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Import {
    pub module: Text,
    pub name: Text,
    pub ty: ImportType,
}

/// One export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Export {
    pub name: Text,
    pub index: ExternIndex,
}

/// A constant expression: one instruction, or integer arithmetic of the
/// extended-const proposal that reads imported globals (the compiler folds
/// arithmetic that reads none to its value, so only these reach the runtime).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum ConstExpr {
    I32(i32),
    I64(i64),
    /// Bits of an f32.
    F32(u32),
    /// Bits of an f64.
    F64(u64),
    V128(u128),
    /// A null reference of either reference type.
    RefNull,
    /// Function index.
    RefFunc(u32),
    /// Global index (an imported global in wasm 2.0).
    GlobalGet(u32),
    /// An `i32` expression of `add`, `sub` and `mul` over constants and
    /// imported globals, evaluated at instantiation ([`ConstOp::eval`]).
    I32Arith(List<ConstOp>),
    /// An `i64` expression, as [`ConstExpr::I32Arith`].
    I64Arith(List<ConstOp>),
}

/// One instruction of an arithmetic constant expression, in the expression's
/// postfix (wasm) order. The instructions carry no width: wasm has no constant
/// conversions, so one expression is all `i32` or all `i64`, and its variant
/// ([`ConstExpr::I32Arith`] or [`ConstExpr::I64Arith`]) says which.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum ConstOp {
    /// Pushes a constant (an `i32` one sign-extended).
    Const(i64),
    /// Pushes the value of an imported global.
    GlobalGet(u32),
    /// Pops `b`, then `a`, and pushes `a + b`.
    Add,
    /// Pops `b`, then `a`, and pushes `a - b`.
    Sub,
    /// Pops `b`, then `a`, and pushes `a * b`.
    Mul,
}

impl ConstOp {
    /// Evaluates `ops`, reading global `g` as `global(g)`. The arithmetic wraps
    /// at 64 bits; the low 32 bits of the result are what wrapping at 32 bits
    /// throughout would give (and do not depend on the upper bits of an
    /// operand), so an `i32` expression takes those. `None` if the
    /// instructions do not leave exactly one value.
    pub fn eval(ops: &[ConstOp], mut global: impl FnMut(u32) -> u64) -> Option<u64> {
        let mut stack: Vec<u64> = Vec::new();
        for op in ops {
            let value = match *op {
                ConstOp::Const(c) => c as u64,
                ConstOp::GlobalGet(g) => global(g),
                ConstOp::Add => apply(&mut stack, u64::wrapping_add)?,
                ConstOp::Sub => apply(&mut stack, u64::wrapping_sub)?,
                ConstOp::Mul => apply(&mut stack, u64::wrapping_mul)?,
            };
            stack.push(value);
        }
        match stack[..] {
            [value] => Some(value),
            _ => None,
        }
    }
}

/// Pops `b`, then `a`, and gives `f(a, b)`; `None` if the stack has fewer
/// than two values.
fn apply(stack: &mut Vec<u64>, f: fn(u64, u64) -> u64) -> Option<u64> {
    let b = stack.pop()?;
    let a = stack.pop()?;
    Some(f(a, b))
}

/// Where an element or data segment goes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum SegmentMode {
    /// Copied by `table.init` / `memory.init` only.
    Passive,
    /// Copied at instantiation into table or memory `index` at `offset`, then dropped.
    Active { index: u32, offset: ConstExpr },
    /// Declared (element segments only): dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ElementSegment {
    /// `FuncRef` or `ExternRef`.
    pub element: ValType,
    pub mode: SegmentMode,
    pub items: List<ConstExpr>,
}

/// A data segment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataSegment {
    pub mode: SegmentMode,
    /// Offset of the bytes in [`RawDescriptor::data`].
    pub start: u64,
    /// Number of bytes.
    pub len: u64,
}

/// Trap sites of one compiled function.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct FunctionCode {
    /// Size of the function's machine code in bytes.
    pub len: u32,
    /// Offsets (from the function's start) of instructions that may trap, sorted.
    pub traps: List<(u32, TrapKind)>,
    /// The function's wasm name, where the name section gives one.
    pub name: Option<Text>,
}

/// One core module of a unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Module {
    /// The module's type section (function types only in wasm 2.0).
    pub types: List<FuncType>,
    pub imports: List<Import>,
    /// Type index of every function, imported ones first (the wasm index space).
    pub functions: List<u32>,
    /// Index in [`RawDescriptor::functions`] of this module's first defined function.
    pub defined_function_base: u32,
    /// Every table, imported ones first.
    pub tables: List<TableType>,
    /// Every memory, imported ones first.
    pub memories: List<MemoryType>,
    /// Every global, imported ones first.
    pub globals: List<GlobalType>,
    /// Initial value of every defined global (not of imported ones).
    pub global_inits: List<ConstExpr>,
    /// Function type index (its parameters are the payload) of every tag,
    /// imported ones first.
    pub tags: List<u32>,
    pub exports: List<Export>,
    pub start: Option<u32>,
    pub elements: List<ElementSegment>,
    pub data: List<DataSegment>,
    /// Per type index: index into [`RawDescriptor::trampolines`].
    pub array_trampolines: List<u32>,
    /// Per type index: index into [`RawDescriptor::trampolines`].
    pub host_trampolines: List<u32>,
    /// Per defined function: code size and trap sites.
    pub code: List<FunctionCode>,
    /// Where everything lives in this module's instance context.
    pub layout: VmctxLayout,
}

impl Module {
    /// Number of imported functions.
    pub fn imported_functions(&self) -> u32 {
        self.count_imports(|t| matches!(t, ImportType::Func(_)))
    }
    /// Number of imported tables.
    pub fn imported_tables(&self) -> u32 {
        self.count_imports(|t| matches!(t, ImportType::Table(_)))
    }
    /// Number of imported memories.
    pub fn imported_memories(&self) -> u32 {
        self.count_imports(|t| matches!(t, ImportType::Memory(_)))
    }
    /// Number of imported globals.
    pub fn imported_globals(&self) -> u32 {
        self.count_imports(|t| matches!(t, ImportType::Global(_)))
    }
    /// Number of imported tags.
    pub fn imported_tags(&self) -> u32 {
        self.count_imports(|t| matches!(t, ImportType::Tag(_)))
    }
    fn count_imports(&self, f: impl Fn(&ImportType) -> bool) -> u32 {
        self.imports.iter().filter(|i| f(&i.ty)).count() as u32
    }

    /// The optional parts of the runtime this module uses ([`parts`]).
    pub fn parts(&self) -> u32 {
        use parts::bit;
        bit(!self.imports.is_empty(), parts::IMPORTS)
            | bit(self.layout.defined_tables > 0, parts::TABLES)
            | bit(self.layout.defined_tags > 0, parts::TAGS)
            | bit(!self.elements.is_empty(), parts::ELEMENTS)
            | bit(self.start.is_some(), parts::START)
            | bit(
                !self.tables.is_empty() || !self.elements.is_empty(),
                parts::TABLE_BUILTINS,
            )
            | bit(!self.tags.is_empty(), parts::EXCEPTION_BUILTINS)
    }

    /// Every constant expression: global initializers, element items and
    /// active segments' offsets.
    pub fn const_exprs(&self) -> impl Iterator<Item = &ConstExpr> {
        let offsets = self
            .elements
            .iter()
            .map(|s| &s.mode)
            .chain(self.data.iter().map(|s| &s.mode))
            .filter_map(|mode| match mode {
                SegmentMode::Active { offset, .. } => Some(offset),
                _ => None,
            });
        self.global_inits
            .iter()
            .chain(self.elements.iter().flat_map(|s| s.items.iter()))
            .chain(offsets)
    }
}

/// The optional parts of the runtime a module uses, as bits: stages of
/// instantiating it, and groups of builtins its code can call. A unit's
/// static metadata comes with the parts its modules use ([`Unit::parts`]),
/// so that a host built from statics links the runtime's code for those
/// only: a component without tables, say, brings neither table creation nor
/// the table builtins into the binary.
pub mod parts {
    /// Linking and writing imports, and evaluating arithmetic constant
    /// expressions (which the compiler leaves only where they read an
    /// imported global).
    pub const IMPORTS: u32 = 1 << 0;
    /// Creating defined tables.
    pub const TABLES: u32 = 1 << 1;
    /// Creating defined exception tags.
    pub const TAGS: u32 = 1 << 2;
    /// Applying element segments.
    pub const ELEMENTS: u32 = 1 << 3;
    /// Running the start function.
    pub const START: u32 = 1 << 4;
    /// The table and element-segment builtins (only a module with a table
    /// or an element segment has instructions that call them).
    pub const TABLE_BUILTINS: u32 = 1 << 5;
    /// The builtin that makes exceptions (only a module with a tag throws).
    pub const EXCEPTION_BUILTINS: u32 = 1 << 6;
    /// Releasing the handles a call lent, when it returns (only a plan
    /// whose exports take borrows lends).
    pub const BORROWS: u32 = 1 << 7;
    /// Strings in an encoding other than UTF-8 (only a plan whose canonical
    /// options name one).
    pub const TRANSCODING: u32 = 1 << 8;

    /// `bit` if the part is `used`, else no bits.
    pub(crate) fn bit(used: bool, bit: u32) -> u32 {
        if used {
            bit
        } else {
            0
        }
    }
}

/// Why wasm code stopped. Each kind carries the message the spec tests use.
#[repr(u8)]
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub enum TrapKind {
    /// The native stack limit was reached.
    StackOverflow = 0,
    /// `unreachable` was executed.
    Unreachable = 1,
    /// Out-of-bounds linear memory access (loads, stores, bulk memory operations,
    /// and data segments at instantiation).
    MemoryOutOfBounds = 2,
    /// Out-of-bounds table access (table.get/set/fill/copy/init, element segments).
    TableOutOfBounds = 3,
    /// `call_indirect` index past the end of the table.
    UndefinedElement = 4,
    /// `call_indirect` of a null entry.
    UninitializedElement = 5,
    /// `call_indirect` of a function of another type.
    BadSignature = 6,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 7,
    /// Signed division overflow (`INT_MIN / -1`).
    IntegerOverflow = 8,
    /// Float-to-int conversion of NaN or of a value out of range.
    BadConversionToInteger = 9,
    /// A host function returned an error; the runtime holds its details.
    Host = 10,
    /// A null reference was dereferenced.
    NullReference = 11,
    /// A wasm exception reached the host without being caught.
    UncaughtException = 12,
}

impl TrapKind {
    /// Every kind, in code order.
    pub const ALL: [TrapKind; 13] = [
        TrapKind::StackOverflow,
        TrapKind::Unreachable,
        TrapKind::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds,
        TrapKind::UndefinedElement,
        TrapKind::UninitializedElement,
        TrapKind::BadSignature,
        TrapKind::IntegerDivideByZero,
        TrapKind::IntegerOverflow,
        TrapKind::BadConversionToInteger,
        TrapKind::Host,
        TrapKind::NullReference,
        TrapKind::UncaughtException,
    ];

    /// The message the WebAssembly spec tests expect for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::StackOverflow => "call stack exhausted",
            TrapKind::Unreachable => "unreachable",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::BadSignature => "indirect call type mismatch",
            TrapKind::IntegerDivideByZero => "integer divide by zero",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::BadConversionToInteger => "invalid conversion to integer",
            TrapKind::Host => "host function error",
            TrapKind::NullReference => "null reference",
            TrapKind::UncaughtException => "uncaught exception",
        }
    }

    /// The kind with this code, if any.
    pub fn from_code(code: u8) -> Option<TrapKind> {
        TrapKind::ALL.get(code as usize).copied()
    }
}

/// Runtime functions compiled code calls through the builtins table whose address
/// is at [`VmctxLayout::BUILTINS`]. Entry `b as usize` of that table is the function
/// for builtin `b`, with the C calling convention and the signature documented on
/// each variant (`vmctx` is the calling instance's context; `u32` arguments are
/// wasm `i32` values). Builtins that return a *status* return 0 on success and
/// non-zero when the operation must trap; the compiled code then traps with the
/// kind named on the variant.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `(vmctx, memory: u32, delta_pages: u32) -> u32`: old size in pages, or
    /// `u32::MAX` when the memory cannot grow.
    MemoryGrow = 0,
    /// `(vmctx, memory: u32, data: u32, dst: u32, src: u32, len: u32) -> status`
    /// (MemoryOutOfBounds).
    MemoryInit = 1,
    /// `(vmctx, data: u32)`.
    DataDrop = 2,
    /// `(vmctx, table: u32, init: ptr, delta: u32) -> u32`: old size, or `u32::MAX`.
    TableGrow = 3,
    /// `(vmctx, table: u32, dst: u32, value: ptr, len: u32) -> status`
    /// (TableOutOfBounds).
    TableFill = 4,
    /// `(vmctx, dst_table: u32, src_table: u32, dst: u32, src: u32, len: u32) -> status`
    /// (TableOutOfBounds).
    TableCopy = 5,
    /// `(vmctx, table: u32, elem: u32, dst: u32, src: u32, len: u32) -> status`
    /// (TableOutOfBounds).
    TableInit = 6,
    /// `(vmctx, elem: u32)`.
    ElemDrop = 7,
    /// `(vmctx, tag: ptr, payload: u32) -> ptr`: a new store-owned exception
    /// (`VMExn`) of tag identity `tag` with room for `payload` values, which the
    /// compiled `throw` then writes. Lives as long as the store.
    ExnNew = 8,
    /// `(vmctx, kind: u32) -> !`: traps with `TrapKind` `kind`. For code from
    /// the C backend, which cannot place trap sites of its own.
    Trap = 9,
}

impl Builtin {
    /// Number of builtins (length of the builtins table).
    pub const COUNT: usize = 10;
}

/// The instance context (`vmctx`) of one module instance.
///
/// Layout, in order (all offsets from the start, 16-byte aligned allocation):
/// 1. `0`: `*mut VMStoreContext` — shared by every instance of a store; its first
///    field is the stack limit checked in every function prologue.
/// 2. `8`: `*const [fn; Builtin::COUNT]` — the builtins table.
/// 3. `16`: `*mut ()` — the runtime's own instance record.
/// 4. `24`: reserved.
/// 5. `type_ids`: `[u32; types]`, the store-wide id of each type index, used by
///    `call_indirect` to compare with [`VMFuncRef::type_id`]; padded to 8.
/// 6. `imported_functions`: `[VMFuncImport; imported functions]`.
/// 7. `memory_pointers`: `[*mut VMMemory; memories]`, every memory (imported or not).
/// 8. `table_pointers`: `[*mut VMTable; tables]`.
/// 9. `global_pointers`: `[*mut VMGlobal; globals]`.
/// 10. `defined_memories`: `[VMMemory; defined memories]` storage.
/// 11. `defined_tables`: `[VMTable; defined tables]` storage.
/// 12. `defined_globals`: `[VMGlobal; defined globals]` storage (16-byte aligned).
/// 13. `funcrefs`: `[VMFuncRef; functions]`, one per function (imported or not):
///     what `ref.func`, element segments and exports hand out.
/// 14. `tag_pointers`: `[*const VMTag; tags]`, every tag (imported or not). A
///     tag's identity is the address of its `VMTag`.
/// 15. `defined_tags`: `[VMTag; defined tags]` storage: each instance defines
///     fresh tags (tags are generative).
///
/// Compiled code may use either the pointer arrays (always) or the inline storage
/// of defined items directly.
///
/// The structs, all `#[repr(C)]`, 64-bit:
/// * `VMStoreContext { stack_limit: usize, pending_exception: *mut VMExn }`: the
///   exception being thrown, null when none (see "Exceptions" in the crate docs).
/// * `VMTag { type_id: u32, pad: u32 }` (8 bytes)
/// * `VMExn { tag: *const VMTag, len: usize, payload: [ValRaw; len] }`
///   (payload at offset 16)
/// * `VMFuncImport { code: *const u8, vmctx: *mut u8 }` (16 bytes)
/// * `VMMemory { base: *mut u8, length: usize }` (16 bytes; length in bytes)
/// * `VMTable { base: *mut usize, length: u32, pad: u32 }` (16 bytes; elements are
///   pointer-sized: `*const VMFuncRef` or an externref handle, 0 = null)
/// * `VMGlobal` (16 bytes, value at offset 0 as a `ValRaw`)
/// * `VMFuncRef { code: *const u8, vmctx: *mut u8, type_id: u32, pad: u32 }` (24 bytes)
/// * `VMHostFunc { dispatch: extern "C" fn(*mut VMHostFunc, *mut ValRaw) -> u32, … }`
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct VmctxLayout {
    pub types: u32,
    pub imported_functions: u32,
    pub memories: u32,
    pub tables: u32,
    pub globals: u32,
    pub defined_memories: u32,
    pub defined_tables: u32,
    pub defined_globals: u32,
    pub functions: u32,
    pub type_ids: u32,
    pub imported_functions_offset: u32,
    pub memory_pointers: u32,
    pub table_pointers: u32,
    pub global_pointers: u32,
    pub defined_memories_offset: u32,
    pub defined_tables_offset: u32,
    pub defined_globals_offset: u32,
    pub funcrefs: u32,
    pub tags: u32,
    pub defined_tags: u32,
    pub tag_pointers: u32,
    pub defined_tags_offset: u32,
    /// Total size in bytes.
    pub size: u32,
}

/// Field offsets of the structs named in [`VmctxLayout`].
pub mod vm {
    /// `VMStoreContext::stack_limit`.
    pub const STORE_STACK_LIMIT: u32 = 0;
    /// `VMStoreContext::pending_exception`.
    pub const STORE_PENDING_EXCEPTION: u32 = 8;
    /// Size of `VMTag`.
    pub const TAG_SIZE: u32 = 8;
    /// `VMExn::tag`.
    pub const EXN_TAG: u32 = 0;
    /// `VMExn::payload`: the first `ValRaw`.
    pub const EXN_PAYLOAD: u32 = 16;
    /// Size of `VMFuncImport`.
    pub const FUNC_IMPORT_SIZE: u32 = 16;
    /// `VMFuncImport::code`.
    pub const FUNC_IMPORT_CODE: u32 = 0;
    /// `VMFuncImport::vmctx`.
    pub const FUNC_IMPORT_VMCTX: u32 = 8;
    /// Size of `VMMemory`.
    pub const MEMORY_SIZE: u32 = 16;
    /// `VMMemory::base`.
    pub const MEMORY_BASE: u32 = 0;
    /// `VMMemory::length`.
    pub const MEMORY_LENGTH: u32 = 8;
    /// Size of `VMTable`.
    pub const TABLE_SIZE: u32 = 16;
    /// `VMTable::base`.
    pub const TABLE_BASE: u32 = 0;
    /// `VMTable::length` (u32).
    pub const TABLE_LENGTH: u32 = 8;
    /// Size of `VMGlobal` and of `ValRaw`.
    pub const GLOBAL_SIZE: u32 = 16;
    /// Size of `VMFuncRef`.
    pub const FUNCREF_SIZE: u32 = 24;
    /// `VMFuncRef::code`.
    pub const FUNCREF_CODE: u32 = 0;
    /// `VMFuncRef::vmctx`.
    pub const FUNCREF_VMCTX: u32 = 8;
    /// `VMFuncRef::type_id` (u32).
    pub const FUNCREF_TYPE_ID: u32 = 16;
    /// `VMHostFunc::dispatch`.
    pub const HOST_FUNC_DISPATCH: u32 = 0;
    /// Size of `ValRaw`.
    pub const VAL_RAW_SIZE: u32 = 16;
}

impl VmctxLayout {
    /// Offset of the `*mut VMStoreContext`.
    pub const STORE: u32 = 0;
    /// Offset of the builtins table pointer.
    pub const BUILTINS: u32 = 8;
    /// Offset of the runtime's instance pointer.
    pub const INSTANCE: u32 = 16;

    /// Computes the layout of a module's instance context.
    pub fn new(module: &ModuleCounts) -> VmctxLayout {
        let align = |x: u32, a: u32| x.div_ceil(a) * a;
        let type_ids = 32;
        let imported_functions_offset = align(type_ids + 4 * module.types, 8);
        let memory_pointers =
            imported_functions_offset + vm::FUNC_IMPORT_SIZE * module.imported_functions;
        let table_pointers = memory_pointers + 8 * module.memories;
        let global_pointers = table_pointers + 8 * module.tables;
        let defined_memories_offset = align(global_pointers + 8 * module.globals, 16);
        let defined_tables_offset =
            defined_memories_offset + vm::MEMORY_SIZE * module.defined_memories;
        let defined_globals_offset = defined_tables_offset + vm::TABLE_SIZE * module.defined_tables;
        let funcrefs = defined_globals_offset + vm::GLOBAL_SIZE * module.defined_globals;
        let tag_pointers = funcrefs + vm::FUNCREF_SIZE * module.functions;
        let defined_tags_offset = tag_pointers + 8 * module.tags;
        let size = align(defined_tags_offset + vm::TAG_SIZE * module.defined_tags, 16);
        VmctxLayout {
            types: module.types,
            imported_functions: module.imported_functions,
            memories: module.memories,
            tables: module.tables,
            globals: module.globals,
            defined_memories: module.defined_memories,
            defined_tables: module.defined_tables,
            defined_globals: module.defined_globals,
            functions: module.functions,
            type_ids,
            imported_functions_offset,
            memory_pointers,
            table_pointers,
            global_pointers,
            defined_memories_offset,
            defined_tables_offset,
            defined_globals_offset,
            funcrefs,
            tags: module.tags,
            defined_tags: module.defined_tags,
            tag_pointers,
            defined_tags_offset,
            size,
        }
    }

    /// The counts the layout was computed from (checked to be the module's
    /// own by [`check::module`]).
    pub fn counts(&self) -> ModuleCounts {
        ModuleCounts {
            types: self.types,
            imported_functions: self.imported_functions,
            memories: self.memories,
            tables: self.tables,
            globals: self.globals,
            defined_memories: self.defined_memories,
            defined_tables: self.defined_tables,
            defined_globals: self.defined_globals,
            functions: self.functions,
            tags: self.tags,
            defined_tags: self.defined_tags,
        }
    }

    /// Offset of the store-wide type id of type index `ty`.
    pub fn type_id(&self, ty: u32) -> u32 {
        self.type_ids + 4 * ty
    }
    /// Offset of the `VMFuncImport` of imported function `index`.
    pub fn imported_function(&self, index: u32) -> u32 {
        self.imported_functions_offset + vm::FUNC_IMPORT_SIZE * index
    }
    /// Offset of the `*mut VMMemory` of memory `index`.
    pub fn memory_pointer(&self, index: u32) -> u32 {
        self.memory_pointers + 8 * index
    }
    /// Offset of the `*mut VMTable` of table `index`.
    pub fn table_pointer(&self, index: u32) -> u32 {
        self.table_pointers + 8 * index
    }
    /// Offset of the `*mut VMGlobal` of global `index`.
    pub fn global_pointer(&self, index: u32) -> u32 {
        self.global_pointers + 8 * index
    }
    /// Offset of the `VMMemory` of defined memory `index` (counting defined ones only).
    pub fn defined_memory(&self, index: u32) -> u32 {
        self.defined_memories_offset + vm::MEMORY_SIZE * index
    }
    /// Offset of the `VMTable` of defined table `index` (counting defined ones only).
    pub fn defined_table(&self, index: u32) -> u32 {
        self.defined_tables_offset + vm::TABLE_SIZE * index
    }
    /// Offset of the `VMGlobal` of defined global `index` (counting defined ones only).
    pub fn defined_global(&self, index: u32) -> u32 {
        self.defined_globals_offset + vm::GLOBAL_SIZE * index
    }
    /// Offset of the `VMFuncRef` of function `index` (imported or defined).
    pub fn funcref(&self, index: u32) -> u32 {
        self.funcrefs + vm::FUNCREF_SIZE * index
    }
    /// Offset of the `*const VMTag` of tag `index` (imported or defined).
    pub fn tag_pointer(&self, index: u32) -> u32 {
        self.tag_pointers + 8 * index
    }
    /// Offset of the `VMTag` of defined tag `index` (counting defined ones only).
    pub fn defined_tag(&self, index: u32) -> u32 {
        self.defined_tags_offset + vm::TAG_SIZE * index
    }
}

/// The counts a [`VmctxLayout`] is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModuleCounts {
    pub types: u32,
    pub imported_functions: u32,
    pub memories: u32,
    pub tables: u32,
    pub globals: u32,
    pub defined_memories: u32,
    pub defined_tables: u32,
    pub defined_globals: u32,
    pub functions: u32,
    pub tags: u32,
    pub defined_tags: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn layout_is_aligned_and_ordered() {
        let counts = ModuleCounts {
            types: 3,
            imported_functions: 2,
            memories: 2,
            tables: 1,
            globals: 3,
            defined_memories: 1,
            defined_tables: 1,
            defined_globals: 2,
            functions: 5,
            tags: 2,
            defined_tags: 1,
        };
        let l = VmctxLayout::new(&counts);
        assert_eq!(l.counts(), counts);
        assert_eq!(l.type_id(2), 40);
        assert_eq!(l.imported_function(0) % 8, 0);
        assert!(l.memory_pointer(0) >= l.imported_function(2));
        assert_eq!(l.defined_memory(0) % 16, 0);
        assert_eq!(l.defined_global(0) % 16, 0);
        assert_eq!(l.size % 16, 0);
        assert_eq!(l.funcref(5), l.size - (l.size - l.funcref(5)));
        assert!(l.funcref(4) + vm::FUNCREF_SIZE <= l.tag_pointer(0));
        assert_eq!(l.tag_pointer(0) % 8, 0);
        assert!(l.defined_tag(0) >= l.tag_pointer(2));
        assert!(l.defined_tag(1) <= l.size);
    }

    #[test]
    fn const_arithmetic_wraps_in_wasm_order() {
        use ConstOp::*;
        let no_globals = |_| unreachable!("no global.get");
        let eval = |ops: &[ConstOp]| ConstOp::eval(ops, no_globals);
        assert_eq!(eval(&[Const(i64::MAX), Const(1), Add]), Some(1 << 63));
        assert_eq!(eval(&[Const(2), Const(5), Sub]), Some(-3i64 as u64));
        // 2^40 * 2^30 = 2^70, a multiple of 2^64.
        assert_eq!(eval(&[Const(1 << 40), Const(1 << 30), Mul]), Some(0));
        assert_eq!(eval(&[Const(-3), Const(7), Mul]), Some(-21i64 as u64));
        // An i32 expression takes the low 32 bits, which wrapping at 64 bits
        // leaves as wrapping at 32 would: 0x7fffffff + 1 is i32::MIN.
        let low = eval(&[Const(i32::MAX.into()), Const(1), Add]).unwrap() as u32;
        assert_eq!(low as i32, i32::MIN);
        // Globals are read in order; the upper half of an i32 global's slot
        // does not change the low 32 bits of the result.
        let values = [0xdead_beef_0000_0003u64, 10];
        let ops = [GlobalGet(0), Const(4), Mul, GlobalGet(1), Sub];
        let value = ConstOp::eval(&ops, |g| values[g as usize]).unwrap();
        assert_eq!(value as u32, 2);
    }

    #[test]
    fn const_arithmetic_must_leave_one_value() {
        let eval = |ops: &[ConstOp]| ConstOp::eval(ops, |_| 0);
        assert_eq!(eval(&[]), None);
        assert_eq!(eval(&[ConstOp::Add]), None);
        assert_eq!(eval(&[ConstOp::Const(1), ConstOp::Mul]), None);
        assert_eq!(eval(&[ConstOp::Const(1), ConstOp::Const(2)]), None);
    }

    #[test]
    fn unit_round_trips() {
        let unit = Unit {
            bounds: BoundsMode::Explicit,
            modules: vec![].into(),
            component: Some(component::Component::default()),
        };
        assert_eq!(Unit::decode(&unit.encode()).unwrap(), unit);
        assert!(Unit::decode(&[0xff, 0xff]).is_err());
    }

    #[test]
    fn trap_codes_round_trip() {
        for kind in TrapKind::ALL {
            assert_eq!(TrapKind::from_code(kind as u8), Some(kind));
        }
        assert_eq!(TrapKind::from_code(200), None);
    }
}
