//! Linear memory: loads, stores, `memory.size`/`grow` and bulk memory
//! (`memory.copy`/`fill` check their ranges inline and call libc; the rest go
//! through runtime builtins).
//!
//! An access to memory `m` at `index` with static `offset` reads
//! `base + zext(index) + offset`. In guard-region mode the reservation behind a
//! memory makes any access with `offset + size <= GUARD_BYTES` fault by itself;
//! other accesses, and every access in explicit mode, compare
//! `zext(index) + offset + size` (64-bit, cannot overflow) with the length.
//! `base` is reloaded at every access because in explicit mode memories move
//! when they grow.

use super::state::FuncTranslator;
use crate::env::trap_code;
use crate::Error;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F32, F64, I16, I32, I64, I8};
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData, Type, Value};
use rivet_descriptor::{vm, BoundsMode, Builtin, TrapKind, GUARD_BYTES};
use wasmparser::{MemArg, MemArgTarget, Operator};

/// One load or store: which memory, the static offset, and the accessed type.
#[derive(Clone, Copy)]
pub(super) struct Access {
    memory: u32,
    offset: u64,
    ty: Type,
}

impl Access {
    /// The access a memory argument describes; GC array accesses are not
    /// linear memory.
    pub(super) fn new(memarg: &MemArg, ty: Type, at: usize) -> Result<Access, Error> {
        match memarg.target {
            MemArgTarget::Memory(memory) => Ok(Access {
                memory,
                offset: memarg.offset,
                ty,
            }),
            MemArgTarget::Array(_) => Err(Error::unsupported(at, "GC array accesses")),
        }
    }
}

/// How a load widens what it reads.
#[derive(Clone, Copy)]
enum Extend {
    /// Reads a full value of the result type.
    None,
    Signed,
    Unsigned,
}

impl FuncTranslator<'_, '_> {
    /// Translates a memory operator; false if `op` is not one.
    pub(super) fn translate_memory(&mut self, op: &Operator, at: usize) -> Result<bool, Error> {
        if let Some((memarg, ty, mem_ty, ext)) = load_kind(op) {
            let access = Access::new(memarg, mem_ty, at)?;
            self.load(access, ty, ext);
        } else if let Some((memarg, mem_ty)) = store_kind(op) {
            let access = Access::new(memarg, mem_ty, at)?;
            self.store(access);
        } else {
            return Ok(self.translate_memory_instance(op));
        }
        Ok(true)
    }

    /// `memory.size`, `memory.grow` and the bulk memory operators.
    fn translate_memory_instance(&mut self, op: &Operator) -> bool {
        match *op {
            Operator::MemorySize { mem } => {
                let length = self.memory_field(mem, vm::MEMORY_LENGTH);
                let pages = self.b.ins().ushr_imm_u(length, 16);
                let pages = self.narrow_to_i32(pages);
                self.push(pages);
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop();
                let mem = self.const_i32(mem);
                let old = self.call_builtin(Builtin::MemoryGrow, &[mem, delta], Some(I32));
                self.push(old.expect("memory.grow returns the old size"));
            }
            Operator::MemoryFill { mem } => {
                let (dst, value, len) = self.pop3();
                let len = self.b.ins().uextend(I64, len);
                let dst = self.checked_range(mem, dst, len);
                let byte = self.b.ins().ireduce(I8, value);
                let config = self.env.isa.frontend_config();
                self.b.call_memset(config, dst, byte, len);
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                let len = self.b.ins().uextend(I64, len);
                let dst = self.checked_range(dst_mem, dst, len);
                let src = self.checked_range(src_mem, src, len);
                let config = self.env.isa.frontend_config();
                self.b.call_memmove(config, dst, src, len);
            }
            Operator::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let (m, d) = (self.const_i32(mem), self.const_i32(data_index));
                let args = [m, d, dst, src, len];
                self.call_checked_builtin(Builtin::MemoryInit, &args, TrapKind::MemoryOutOfBounds);
            }
            Operator::DataDrop { data_index } => {
                let d = self.const_i32(data_index);
                self.call_builtin(Builtin::DataDrop, &[d], None);
            }
            _ => return false,
        }
        true
    }

    /// A pointer-sized field of memory `mem`'s `VMMemory`: in place for a
    /// defined memory, through its pointer for an imported one.
    fn memory_field(&mut self, mem: u32, field: u32) -> Value {
        let layout = self.env.layout;
        // In guard-region mode a memory's base never changes, so its loads may
        // be shared and hoisted; the length changes on grow in either mode.
        let fixed = self.env.bounds == BoundsMode::Guard && field == vm::MEMORY_BASE;
        let flags = if fixed {
            MemFlagsData::trusted().with_readonly().with_can_move()
        } else {
            MemFlagsData::trusted()
        };
        let (memory, offset) = match self.env.defined_memory(mem) {
            Some(d) => (self.vmctx, layout.defined_memory(d) + field),
            None => {
                let pointer = layout.memory_pointer(mem);
                let readonly = MemFlagsData::trusted().with_readonly().with_can_move();
                let ptr = self.env.pointer_type();
                let memory = self.b.ins().load(ptr, readonly, self.vmctx, pointer as i32);
                (memory, field)
            }
        };
        let ptr = self.env.pointer_type();
        self.b.ins().load(ptr, flags, memory, offset as i32)
    }

    /// The native address of the `len` bytes (an `i64`) at `index` in memory
    /// `mem`, after trapping if any of them is out of bounds. Bulk operators
    /// check their whole range first (the spec writes nothing when it traps),
    /// then run as a plain `memmove`/`memset` from libc: no builtin call, no
    /// instance lookup, which matters for the many short copies compiled
    /// Rust makes.
    fn checked_range(&mut self, mem: u32, index: Value, len: Value) -> Value {
        let index = self.b.ins().uextend(I64, index);
        let end = self.b.ins().iadd(index, len);
        self.trap_past_length(mem, end);
        self.native_address(mem, index)
    }

    /// Traps (out of bounds) when `end`, one past the last byte an access
    /// touches (64-bit, so it cannot have wrapped), is beyond memory `mem`'s
    /// current length.
    fn trap_past_length(&mut self, mem: u32, end: Value) {
        let length = self.memory_field(mem, vm::MEMORY_LENGTH);
        let out = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, length);
        self.b
            .ins()
            .trapnz(out, trap_code(TrapKind::MemoryOutOfBounds));
    }

    /// `base + index` for memory `mem`, `index` already widened.
    fn native_address(&mut self, mem: u32, index: Value) -> Value {
        let base = self.memory_field(mem, vm::MEMORY_BASE);
        self.b.ins().iadd(base, index)
    }

    /// A pointer-sized value truncated to `i32` (a no-op on 32-bit targets).
    fn narrow_to_i32(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == I32 {
            v
        } else {
            self.b.ins().ireduce(I32, v)
        }
    }

    /// The native address of an access of `size` bytes at `index` (an `i32`),
    /// after any bounds check the mode requires.
    pub(super) fn effective_address(&mut self, access: Access, index: Value) -> Value {
        let ptr = self.env.pointer_type();
        let index = self.b.ins().uextend(ptr, index);
        let end = access.offset + u64::from(access.ty.bytes());
        if self.env.bounds == BoundsMode::Explicit || end > GUARD_BYTES {
            let last = self.b.ins().iadd_imm_u(index, end as i64);
            self.trap_past_length(access.memory, last);
        }
        let addr = self.native_address(access.memory, index);
        if access.offset == 0 {
            addr
        } else {
            self.b.ins().iadd_imm_u(addr, access.offset as i64)
        }
    }

    /// Loads `access.ty` from memory, extended to `ty` as `ext` says.
    fn load(&mut self, access: Access, ty: Type, ext: Extend) {
        let index = self.pop();
        let addr = self.effective_address(access, index);
        let flags = wasm_memory_flags();
        let ins = self.b.ins();
        let v = match (ext, access.ty) {
            (Extend::None, _) => ins.load(ty, flags, addr, 0),
            (Extend::Signed, I8) => ins.sload8(ty, flags, addr, 0),
            (Extend::Unsigned, I8) => ins.uload8(ty, flags, addr, 0),
            (Extend::Signed, I16) => ins.sload16(ty, flags, addr, 0),
            (Extend::Unsigned, I16) => ins.uload16(ty, flags, addr, 0),
            (Extend::Signed, _) => ins.sload32(flags, addr, 0),
            (Extend::Unsigned, _) => ins.uload32(flags, addr, 0),
        };
        self.push(v);
    }

    /// Stores the low `access.ty` bytes of the top value to memory.
    fn store(&mut self, access: Access) {
        let (index, value) = self.pop2();
        let addr = self.effective_address(access, index);
        let flags = wasm_memory_flags();
        let value_ty = self.b.func.dfg.value_type(value);
        let ins = self.b.ins();
        match access.ty {
            ty if ty == value_ty => ins.store(flags, value, addr, 0),
            I8 => ins.istore8(flags, value, addr, 0),
            I16 => ins.istore16(flags, value, addr, 0),
            _ => ins.istore32(flags, value, addr, 0),
        };
    }
}

/// Flags of a wasm memory access: little-endian, possibly unaligned, and a
/// fault is an out-of-bounds trap.
pub(super) fn wasm_memory_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_endianness(Endianness::Little)
        .with_trap_code(Some(trap_code(TrapKind::MemoryOutOfBounds)))
}

/// Memory argument, result type, accessed type and extension of a load.
fn load_kind<'a>(op: &'a Operator) -> Option<(&'a MemArg, Type, Type, Extend)> {
    use self::Extend::{None as Full, Signed as S, Unsigned as U};
    Some(match op {
        Operator::I32Load { memarg } => (memarg, I32, I32, Full),
        Operator::I64Load { memarg } => (memarg, I64, I64, Full),
        Operator::F32Load { memarg } => (memarg, F32, F32, Full),
        Operator::F64Load { memarg } => (memarg, F64, F64, Full),
        Operator::I32Load8S { memarg } => (memarg, I32, I8, S),
        Operator::I32Load8U { memarg } => (memarg, I32, I8, U),
        Operator::I32Load16S { memarg } => (memarg, I32, I16, S),
        Operator::I32Load16U { memarg } => (memarg, I32, I16, U),
        Operator::I64Load8S { memarg } => (memarg, I64, I8, S),
        Operator::I64Load8U { memarg } => (memarg, I64, I8, U),
        Operator::I64Load16S { memarg } => (memarg, I64, I16, S),
        Operator::I64Load16U { memarg } => (memarg, I64, I16, U),
        Operator::I64Load32S { memarg } => (memarg, I64, I32, S),
        Operator::I64Load32U { memarg } => (memarg, I64, I32, U),
        _ => return None,
    })
}

/// Memory argument and stored type of a store.
fn store_kind<'a>(op: &'a Operator) -> Option<(&'a MemArg, Type)> {
    Some(match op {
        Operator::I32Store { memarg } => (memarg, I32),
        Operator::I64Store { memarg } => (memarg, I64),
        Operator::F32Store { memarg } => (memarg, F32),
        Operator::F64Store { memarg } => (memarg, F64),
        Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => (memarg, I8),
        Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => (memarg, I16),
        Operator::I64Store32 { memarg } => (memarg, I32),
        _ => return None,
    })
}
