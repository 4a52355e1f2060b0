//! Moving one component value from where the source side holds it (flat core
//! values or linear memory) to where the destination side wants it, checking
//! and converting as the Canonical ABI's lift and lower do: the recursive core
//! of every adapter.

use super::layout::{align_to, discriminant_size, Ty};
use super::Fuser;
use rivet_descriptor::component::{AbiTrap, CoreDef, Intrinsic};
use wasm_encoder::{BlockType, MemArg, MemArgTarget, ValType};

/// Where a value is.
#[derive(Clone, Debug)]
pub enum Loc {
    /// In locals, one per flat core value, each with the (possibly joined)
    /// type of its slot.
    Flat(Vec<(u32, ValType)>),
    /// In linear memory `memory` at `addr` (a local) plus `offset`.
    Mem { memory: u32, addr: u32, offset: u32 },
}

impl Loc {
    /// The part of this location holding a component at byte `offset` and flat
    /// slots `slot..slot + count`.
    fn part(&self, offset: u32, slot: usize, count: usize) -> Loc {
        match self {
            Loc::Flat(slots) => Loc::Flat(slots[slot..slot + count].to_vec()),
            Loc::Mem {
                memory,
                addr,
                offset: base,
            } => Loc::Mem {
                memory: *memory,
                addr: *addr,
                offset: base + offset,
            },
        }
    }
}

/// How a scalar is held in memory; in flat form every kind up to 32 bits is
/// an `i32`.
#[derive(Clone, Copy, PartialEq)]
pub enum Scalar {
    U8,
    S8,
    U16,
    S16,
    I32,
    I64,
    F32,
    F64,
}

impl Scalar {
    fn core(self) -> ValType {
        match self {
            Scalar::I64 => ValType::I64,
            Scalar::F32 => ValType::F32,
            Scalar::F64 => ValType::F64,
            _ => ValType::I32,
        }
    }

    /// The kind of a discriminant or flags word of `bytes` bytes.
    fn unsigned(bytes: u32) -> Scalar {
        match bytes {
            1 => Scalar::U8,
            2 => Scalar::U16,
            _ => Scalar::I32,
        }
    }
}

fn memarg(memory: u32, offset: u32, align_log2: u32) -> MemArg {
    MemArg {
        offset: offset.into(),
        align: align_log2,
        target: MemArgTarget::Memory(memory),
        ordering: None,
    }
}

impl Fuser {
    /// Moves a value of type `ty` from `src` (a `from`-side location) to `dst`
    /// (a `to`-side location).
    pub(super) fn translate(&mut self, ty: &Ty, src: &Loc, dst: &Loc) {
        match ty {
            Ty::Bool => {
                let v = self.read(src, Scalar::U8);
                self.body
                    .ins()
                    .local_get(v)
                    .i32_const(0)
                    .i32_ne()
                    .local_set(v);
                self.write(dst, Scalar::U8, v);
            }
            Ty::S8 => self.small_int(src, dst, Scalar::S8),
            Ty::U8 => self.small_int(src, dst, Scalar::U8),
            Ty::S16 => self.small_int(src, dst, Scalar::S16),
            Ty::U16 => self.small_int(src, dst, Scalar::U16),
            Ty::S32 | Ty::U32 => self.scalar(src, dst, Scalar::I32),
            Ty::S64 | Ty::U64 => self.scalar(src, dst, Scalar::I64),
            Ty::F32 => self.scalar(src, dst, Scalar::F32),
            Ty::F64 => self.scalar(src, dst, Scalar::F64),
            Ty::Char => self.char(src, dst),
            Ty::String | Ty::List(_) => self.pointer_pair(ty, src, dst),
            Ty::Record(fields) => self.record(fields, src, dst),
            Ty::Variant(cases) => self.variant(ty, cases, src, dst),
            Ty::Flags(n) => self.flags(*n, src, dst),
            Ty::Own(r) => self.handle(*r, true, src, dst),
            Ty::Borrow(r) => self.handle(*r, false, src, dst),
        }
    }

    /// Reads a scalar into a fresh local of its core type.
    pub(super) fn read(&mut self, src: &Loc, kind: Scalar) -> u32 {
        let v = self.body.local(kind.core());
        match src {
            Loc::Flat(slots) => {
                let (local, slot) = slots[0];
                self.body.ins().local_get(local);
                self.unpack_slot(slot, kind.core());
            }
            Loc::Mem {
                memory,
                addr,
                offset,
            } => {
                let mut ins = self.body.ins();
                ins.local_get(*addr);
                let m = |a| memarg(*memory, *offset, a);
                match kind {
                    Scalar::U8 => ins.i32_load8_u(m(0)),
                    Scalar::S8 => ins.i32_load8_s(m(0)),
                    Scalar::U16 => ins.i32_load16_u(m(1)),
                    Scalar::S16 => ins.i32_load16_s(m(1)),
                    Scalar::I32 => ins.i32_load(m(2)),
                    Scalar::I64 => ins.i64_load(m(3)),
                    Scalar::F32 => ins.f32_load(m(2)),
                    Scalar::F64 => ins.f64_load(m(3)),
                };
            }
        }
        self.body.ins().local_set(v);
        v
    }

    /// Writes local `v` (of `kind`'s core type) to `dst`.
    pub(super) fn write(&mut self, dst: &Loc, kind: Scalar, v: u32) {
        match dst {
            Loc::Flat(slots) => {
                let (local, slot) = slots[0];
                self.body.ins().local_get(v);
                self.pack_slot(kind.core(), slot);
                self.body.ins().local_set(local);
            }
            Loc::Mem {
                memory,
                addr,
                offset,
            } => {
                let mut ins = self.body.ins();
                ins.local_get(*addr).local_get(v);
                let m = |a| memarg(*memory, *offset, a);
                match kind {
                    Scalar::U8 | Scalar::S8 => ins.i32_store8(m(0)),
                    Scalar::U16 | Scalar::S16 => ins.i32_store16(m(1)),
                    Scalar::I32 => ins.i32_store(m(2)),
                    Scalar::I64 => ins.i64_store(m(3)),
                    Scalar::F32 => ins.f32_store(m(2)),
                    Scalar::F64 => ins.f64_store(m(3)),
                };
            }
        }
    }

    /// Converts the value on the stack from a flat slot of type `slot` to `want`.
    fn unpack_slot(&mut self, slot: ValType, want: ValType) {
        let mut ins = self.body.ins();
        match (slot, want) {
            (ValType::I32, ValType::F32) => {
                ins.f32_reinterpret_i32();
            }
            (ValType::I64, ValType::I32) => {
                ins.i32_wrap_i64();
            }
            (ValType::I64, ValType::F32) => {
                ins.i32_wrap_i64().f32_reinterpret_i32();
            }
            (ValType::I64, ValType::F64) => {
                ins.f64_reinterpret_i64();
            }
            _ => {}
        }
    }

    /// Converts the value on the stack from `have` to a flat slot of type `slot`.
    fn pack_slot(&mut self, have: ValType, slot: ValType) {
        let mut ins = self.body.ins();
        match (have, slot) {
            (ValType::F32, ValType::I32) => {
                ins.i32_reinterpret_f32();
            }
            (ValType::I32, ValType::I64) => {
                ins.i64_extend_i32_u();
            }
            (ValType::F32, ValType::I64) => {
                ins.i32_reinterpret_f32().i64_extend_i32_u();
            }
            (ValType::F64, ValType::I64) => {
                ins.i64_reinterpret_f64();
            }
            _ => {}
        }
    }

    fn scalar(&mut self, src: &Loc, dst: &Loc, kind: Scalar) {
        let v = self.read(src, kind);
        self.write(dst, kind, v);
    }

    /// An 8- or 16-bit integer: a flat source is wrapped to its width, as
    /// lifting from an `i32` does.
    fn small_int(&mut self, src: &Loc, dst: &Loc, kind: Scalar) {
        let v = self.read(src, kind);
        if matches!(src, Loc::Flat(_)) {
            let mut ins = self.body.ins();
            ins.local_get(v);
            match kind {
                Scalar::U8 => ins.i32_const(0xff).i32_and(),
                Scalar::S8 => ins.i32_extend8_s(),
                Scalar::U16 => ins.i32_const(0xffff).i32_and(),
                _ => ins.i32_extend16_s(),
            };
            ins.local_set(v);
        }
        self.write(dst, kind, v);
    }

    /// A `char`: a Unicode scalar value, else `InvalidChar`.
    fn char(&mut self, src: &Loc, dst: &Loc) {
        let v = self.read(src, Scalar::I32);
        // Invalid: a surrogate (0xD800..0xE000) or beyond 0x10FFFF.
        self.body
            .ins()
            .local_get(v)
            .i32_const(0xd800)
            .i32_xor()
            .i32_const(0x800)
            .i32_lt_u()
            .local_get(v)
            .i32_const(0x10ffff)
            .i32_gt_u()
            .i32_or();
        self.trap_if(AbiTrap::InvalidChar);
        self.write(dst, Scalar::I32, v);
    }

    fn record(&mut self, fields: &[Ty], src: &Loc, dst: &Loc) {
        let (mut offset, mut slot) = (0, 0);
        for field in fields {
            offset = align_to(offset, field.align());
            let count = field.flatten().len();
            self.translate(
                field,
                &src.part(offset, slot, count),
                &dst.part(offset, slot, count),
            );
            offset += field.size();
            slot += count;
        }
    }

    /// A variant: its discriminant, range-checked, then the payload of the
    /// case it names, selected with `br_table`.
    fn variant(&mut self, ty: &Ty, cases: &[Option<Ty>], src: &Loc, dst: &Loc) {
        let kind = Scalar::unsigned(discriminant_size(cases.len()));
        let d = self.read(src, kind);
        self.body
            .ins()
            .local_get(d)
            .i32_const(cases.len() as i32)
            .i32_ge_u();
        self.trap_if(AbiTrap::InvalidDiscriminant);
        self.write(dst, kind, d);
        if cases.iter().all(Option::is_none) {
            return;
        }
        if let Loc::Flat(slots) = dst {
            // Slots a case's payload does not use are zero.
            for &(local, t) in &slots[1..] {
                self.zero(t);
                self.body.ins().local_set(local);
            }
        }
        let payload_offset = ty.payload_offset();
        let n = cases.len() as u32;
        self.body.ins().block(BlockType::Empty);
        for _ in 0..n {
            self.body.ins().block(BlockType::Empty);
        }
        self.body
            .ins()
            .local_get(d)
            .br_table((0..n).collect::<Vec<_>>(), 0)
            .end();
        for (i, case) in cases.iter().enumerate() {
            if let Some(case) = case {
                let count = case.flatten().len();
                self.translate(
                    case,
                    &src.part(payload_offset, 1, count),
                    &dst.part(payload_offset, 1, count),
                );
            }
            self.body.ins().br(n - 1 - i as u32).end();
        }
    }

    /// Pushes the zero of `t`.
    pub(super) fn zero(&mut self, t: ValType) {
        let mut ins = self.body.ins();
        match t {
            ValType::I64 => ins.i64_const(0),
            ValType::F32 => ins.f32_const(0.0.into()),
            ValType::F64 => ins.f64_const(0.0.into()),
            _ => ins.i32_const(0),
        };
    }

    /// Flags: each word masked to the flags that exist.
    fn flags(&mut self, n: u32, src: &Loc, dst: &Loc) {
        let bytes = Ty::Flags(n).size();
        let kind = Scalar::unsigned(bytes.min(4));
        for word in 0..n.div_ceil(32) {
            let part = |l: &Loc| l.part(4 * word, word as usize, 1);
            let v = self.read(&part(src), kind);
            let bits = (n - 32 * word).min(32);
            if bits < 32 {
                let mask = (1u32 << bits) - 1;
                self.body
                    .ins()
                    .local_get(v)
                    .i32_const(mask as i32)
                    .i32_and()
                    .local_set(v);
            }
            self.write(&part(dst), kind, v);
        }
    }

    /// An `own` or `borrow` handle, moved between the two instances' tables by
    /// the runtime.
    fn handle(&mut self, resource: u32, own: bool, src: &Loc, dst: &Loc) {
        let (from, to) = (self.from.instance, self.to.instance);
        let intrinsic = if own {
            Intrinsic::TransferOwn { resource, from, to }
        } else {
            Intrinsic::TransferBorrow { resource, from, to }
        };
        let f = self.module.import_func(
            &CoreDef::Intrinsic(intrinsic),
            &[ValType::I32],
            &[ValType::I32],
        );
        let v = self.read(src, Scalar::I32);
        self.body.ins().local_get(v).call(f).local_set(v);
        self.write(dst, Scalar::I32, v);
    }

    /// A string or list: the pointer and length, then the contents copied.
    fn pointer_pair(&mut self, ty: &Ty, src: &Loc, dst: &Loc) {
        let ptr = self.read(&src.part(0, 0, 1), Scalar::I32);
        let len = self.read(&src.part(4, 1, 1), Scalar::I32);
        let (new_ptr, new_len) = match ty {
            Ty::List(elem) => (self.list(elem, ptr, len), len),
            _ => self.string(ptr, len),
        };
        self.write(&dst.part(0, 0, 1), Scalar::I32, new_ptr);
        self.write(&dst.part(4, 1, 1), Scalar::I32, new_len);
    }

    /// Copies the `len` elements at `ptr` in the source memory into a new
    /// allocation in the destination memory; returns its pointer.
    fn list(&mut self, elem: &Ty, ptr: u32, len: u32) -> u32 {
        let (size, align) = (elem.size(), elem.align());
        let (src_mem, dst_mem) = (self.source_memory(), self.target_memory());
        self.check_aligned(ptr, align, AbiTrap::UnalignedPointer);
        let bytes = self.body.local(ValType::I64);
        self.body
            .ins()
            .local_get(len)
            .i64_extend_i32_u()
            .i64_const(size.into())
            .i64_mul()
            .local_set(bytes);
        self.check_in_bounds(src_mem, ptr, bytes, AbiTrap::ListOutOfBounds);
        let bytes32 = self.body.local(ValType::I32);
        self.body
            .ins()
            .local_get(bytes)
            .i32_wrap_i64()
            .local_set(bytes32);
        let new_ptr = self.allocate(align, bytes32, AbiTrap::ListOutOfBounds);
        if elem.is_plain() {
            self.body
                .ins()
                .local_get(new_ptr)
                .local_get(ptr)
                .local_get(bytes32)
                .memory_copy(dst_mem, src_mem);
            return new_ptr;
        }
        let (s, d, left) = (
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
        );
        self.body
            .ins()
            .local_get(ptr)
            .local_set(s)
            .local_get(new_ptr)
            .local_set(d)
            .local_get(len)
            .local_set(left)
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(left)
            .i32_eqz()
            .br_if(1);
        let at = |memory, addr| Loc::Mem {
            memory,
            addr,
            offset: 0,
        };
        self.translate(elem, &at(src_mem, s), &at(dst_mem, d));
        let mut ins = self.body.ins();
        for cursor in [s, d] {
            ins.local_get(cursor)
                .i32_const(size as i32)
                .i32_add()
                .local_set(cursor);
        }
        ins.local_get(left)
            .i32_const(1)
            .i32_sub()
            .local_set(left)
            .br(0)
            .end()
            .end();
        new_ptr
    }

    /// Calls the destination's `realloc(0, 0, align, size)` and checks the
    /// pointer it returns (misaligned: `UnalignedPointer`; not in memory:
    /// `out_of_bounds`, which names what was being copied); returns a local
    /// holding it.
    pub(super) fn allocate(&mut self, align: u32, size: u32, out_of_bounds: AbiTrap) -> u32 {
        let realloc = self.to.realloc.unwrap_or_default();
        let memory = self.target_memory();
        let ptr = self.body.local(ValType::I32);
        self.body
            .ins()
            .i32_const(0)
            .i32_const(0)
            .i32_const(align as i32)
            .local_get(size)
            .call(realloc)
            .local_set(ptr);
        self.check_aligned(ptr, align, AbiTrap::UnalignedPointer);
        let bytes = self.body.local(ValType::I64);
        self.body
            .ins()
            .local_get(size)
            .i64_extend_i32_u()
            .local_set(bytes);
        self.check_in_bounds(memory, ptr, bytes, out_of_bounds);
        ptr
    }

    /// Traps with `trap` unless local `ptr` is a multiple of `align`.
    pub(super) fn check_aligned(&mut self, ptr: u32, align: u32, trap: AbiTrap) {
        if align > 1 {
            self.body
                .ins()
                .local_get(ptr)
                .i32_const(align as i32 - 1)
                .i32_and();
            self.trap_if(trap);
        }
    }

    /// Traps with `trap` unless `ptr .. ptr + bytes` (an i64 local) lies in
    /// `memory`.
    pub(super) fn check_in_bounds(&mut self, memory: u32, ptr: u32, bytes: u32, trap: AbiTrap) {
        self.body
            .ins()
            .local_get(ptr)
            .i64_extend_i32_u()
            .local_get(bytes)
            .i64_add()
            .memory_size(memory)
            .i64_extend_i32_u()
            .i64_const(16)
            .i64_shl()
            .i64_gt_u();
        self.trap_if(trap);
    }

    /// Raises `trap` if the `i32` on the stack is nonzero.
    pub(super) fn trap_if(&mut self, trap: AbiTrap) {
        let f = self.trap_func();
        self.body
            .ins()
            .if_(BlockType::Empty)
            .i32_const(trap as i32)
            .call(f)
            .unreachable()
            .end();
    }
}
