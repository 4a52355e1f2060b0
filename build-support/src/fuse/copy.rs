//! Moving one component value from where the source side holds it (flat core
//! values or linear memory) to where the destination side wants it, checking
//! and converting as the Canonical ABI's lift and lower do: the recursive core
//! of every adapter.

use super::layout::{discriminant_size, field_offsets, Ty};
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

/// A list copy by [`Fuser::copy_masked`]: the element type, its masks, and
/// locals with the source pointer, the new pointer, the length and the byte
/// size.
struct MaskedCopy<'a> {
    elem: &'a Ty,
    masks: &'a [i128],
    ptr: u32,
    new_ptr: u32,
    len: u32,
    bytes: u32,
}

/// At most this many vectors (of 16 bytes) make one group of list elements
/// in [`Fuser::copy_masked`]; element sizes needing more are left to other
/// ways of copying.
const MAX_GROUP_VECTORS: u32 = 8;

/// For list elements whose stored form a mask can check
/// ([`Ty::stored_bits`]): the bits no stored element has, laid out over the
/// least run of whole elements that is also whole vectors, one `v128` mask
/// per 16 bytes. None if the type needs other checks or the run is too long.
fn unknown_bit_masks(elem: &Ty) -> Option<Vec<i128>> {
    let size = elem.size();
    if size == 0 {
        return None;
    }
    let mut allowed = vec![0xff; size as usize];
    if !elem.stored_bits(&mut allowed) {
        return None;
    }
    let vectors = size / gcd(size, 16);
    if vectors > MAX_GROUP_VECTORS {
        return None;
    }
    let unknown: Vec<u8> = (0..16 * vectors as usize)
        .map(|i| !allowed[i % allowed.len()])
        .collect();
    Some(
        unknown
            .chunks(16)
            .map(|c| i128::from_le_bytes(c.try_into().expect("16 bytes")))
            .collect(),
    )
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
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
        self.invalid_char(v);
        self.trap_if(AbiTrap::InvalidChar);
        self.write(dst, Scalar::I32, v);
    }

    /// Pushes 1 if local `v` is not a Unicode scalar value (a surrogate,
    /// 0xD800..0xE000, or beyond 0x10FFFF), else 0.
    fn invalid_char(&mut self, v: u32) {
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
    }

    fn record(&mut self, fields: &[Ty], src: &Loc, dst: &Loc) {
        let mut slot = 0;
        for (field, offset) in field_offsets(fields, 0) {
            let count = field.flatten().len();
            self.translate(
                field,
                &src.part(offset, slot, count),
                &dst.part(offset, slot, count),
            );
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
        let src_mem = self.source_memory();
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
            self.copy_bytes(new_ptr, ptr, bytes32);
        } else if let Some(masks) = unknown_bit_masks(elem) {
            let copy = MaskedCopy {
                elem,
                masks: &masks,
                ptr,
                new_ptr,
                len,
                bytes: bytes32,
            };
            self.copy_masked(&copy);
        } else if elem.is_checked_bytes() {
            self.copy_checked(elem, ptr, new_ptr, len, bytes32);
        } else {
            let memories = (self.source_memory(), self.target_memory());
            self.copy_elements(elem, memories, ptr, new_ptr, len);
        }
        new_ptr
    }

    /// Copies a list of [`Ty::is_checked_bytes`] elements with one
    /// `memory.copy` (right even if the allocation overlaps the list), then
    /// looks at every copied element; only if one is not in its stored form
    /// (a bool of 2, say, or a bad char) are the copies moved again, in
    /// place and one by one, which normalises them or traps at the first bad
    /// one, as the element-wise lift would.
    fn copy_checked(&mut self, elem: &Ty, ptr: u32, new_ptr: u32, len: u32, bytes: u32) {
        self.copy_bytes(new_ptr, ptr, bytes);
        let dst_mem = self.target_memory();
        let odd = self.check_list(elem, dst_mem, new_ptr, bytes);
        self.body.ins().local_get(odd).if_(BlockType::Empty);
        self.copy_elements(elem, (dst_mem, dst_mem), new_ptr, new_ptr, len);
        self.body.ins().end();
    }

    /// Copies a list whose elements [`unknown_bit_masks`] describes 16 bytes
    /// at a time (see [`Self::copy_groups`]). A forward copy into an
    /// allocation overlapping the list past its start (one shared memory)
    /// would read what it wrote, so that case goes by
    /// [`Self::copy_checked`].
    fn copy_masked(&mut self, c: &MaskedCopy<'_>) {
        self.overlaps_forward(c.new_ptr, c.ptr, c.bytes);
        self.body.ins().if_(BlockType::Empty);
        self.copy_checked(c.elem, c.ptr, c.new_ptr, c.len, c.bytes);
        self.body.ins().else_();
        self.copy_groups(c);
        self.body.ins().end();
    }

    /// Copies whole groups of elements (as many as span a whole number of
    /// vectors) 16 bytes at a time, collecting the bits their stored form
    /// never has; if any turns up (a bool of 2, say, or an enum out of
    /// range), the copied groups are moved again, in place and one by one,
    /// which normalises them or traps where the element-wise lift would. The
    /// few elements left over are moved one by one.
    fn copy_groups(&mut self, c: &MaskedCopy<'_>) {
        let per_group = 16 * c.masks.len() as i32 / c.elem.size() as i32;
        let [s, d, left, grouped] = [(); 4].map(|_| self.body.local(ValType::I32));
        self.body
            .ins()
            .local_get(c.len)
            .i32_const(per_group)
            .i32_div_u()
            .local_tee(left)
            .i32_const(per_group)
            .i32_mul()
            .local_set(grouped)
            .local_get(c.ptr)
            .local_set(s)
            .local_get(c.new_ptr)
            .local_set(d);
        let odd = self.group_loop(c.masks, s, d, left);
        self.body
            .ins()
            .local_get(odd)
            .v128_any_true()
            .if_(BlockType::Empty);
        // In place: an allocation before the list in one shared memory may
        // have overwritten the source by now; the copy holds its bytes.
        let (src_mem, dst_mem) = (self.source_memory(), self.target_memory());
        let in_place = (dst_mem, dst_mem);
        self.copy_elements(c.elem, in_place, c.new_ptr, c.new_ptr, grouped);
        self.body
            .ins()
            .end()
            .local_get(c.len)
            .local_get(grouped)
            .i32_sub()
            .local_set(left);
        self.copy_elements(c.elem, (src_mem, dst_mem), s, d, left);
    }

    /// A loop copying `left` groups of `masks.len()` vectors from `s` to `d`,
    /// advancing both; returns a `v128` local holding the or of every vector
    /// anded with its mask.
    fn group_loop(&mut self, masks: &[i128], s: u32, d: u32, left: u32) -> u32 {
        let (src_mem, dst_mem) = (self.source_memory(), self.target_memory());
        let [odd, v] = [(); 2].map(|_| self.body.local(ValType::V128));
        self.body.ins().v128_const(0).local_set(odd);
        self.open_counted_loop(left);
        let mut ins = self.body.ins();
        for (k, &mask) in (0..).zip(masks) {
            ins.local_get(d)
                .local_get(s)
                .v128_load(memarg(src_mem, 16 * k, 0))
                .local_tee(v)
                .v128_store(memarg(dst_mem, 16 * k, 0));
            if mask != 0 {
                ins.local_get(odd)
                    .local_get(v)
                    .v128_const(mask)
                    .v128_and()
                    .v128_or()
                    .local_set(odd);
            }
        }
        self.close_counted_loop([s, d], 16 * masks.len() as i32, left);
        odd
    }

    /// Opens a loop whose rounds run while local `left` is nonzero; its body
    /// follows, then [`Self::close_counted_loop`].
    fn open_counted_loop(&mut self, left: u32) {
        self.body
            .ins()
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(left)
            .i32_eqz()
            .br_if(1);
    }

    /// Opens a loop whose rounds run while local `cursor` is below local
    /// `limit` (unsigned); its body follows and ends `br 0`, `end`, `end`.
    pub(super) fn open_loop_below(&mut self, cursor: u32, limit: u32) {
        self.body
            .ins()
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(cursor)
            .local_get(limit)
            .i32_ge_u()
            .br_if(1);
    }

    /// Ends a round of a loop opened by [`Self::open_counted_loop`]: moves
    /// both cursors on by `step`, counts `left` down, and closes the loop.
    fn close_counted_loop(&mut self, cursors: [u32; 2], step: i32, left: u32) {
        let mut ins = self.body.ins();
        for cursor in cursors {
            ins.local_get(cursor)
                .i32_const(step)
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
    }

    /// Pushes nonzero iff a forward copy of `bytes` bytes from `src` to `dst`
    /// (locals) in one memory would overwrite source bytes before reading
    /// them: `src < dst < src + bytes`. Between two memories the answer
    /// means nothing but is only ever a reason to take a slower, equally
    /// correct way.
    pub(super) fn overlaps_forward(&mut self, dst: u32, src: u32, bytes: u32) {
        self.body
            .ins()
            .local_get(dst)
            .local_get(src)
            .i32_sub()
            .local_get(bytes)
            .i32_lt_u()
            .local_get(dst)
            .local_get(src)
            .i32_ne()
            .i32_and();
    }

    /// `memory.copy` of `bytes` (a local) from `src` in the source memory to
    /// `dst` in the destination memory.
    fn copy_bytes(&mut self, dst: u32, src: u32, bytes: u32) {
        let (src_mem, dst_mem) = (self.source_memory(), self.target_memory());
        self.body
            .ins()
            .local_get(dst)
            .local_get(src)
            .local_get(bytes)
            .memory_copy(dst_mem, src_mem);
    }

    /// Moves `len` elements from `ptr` to `new_ptr` one by one, in
    /// `memories` (source, destination).
    fn copy_elements(
        &mut self,
        elem: &Ty,
        (src_mem, dst_mem): (u32, u32),
        ptr: u32,
        new_ptr: u32,
        len: u32,
    ) {
        let size = elem.size();
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
            .local_set(left);
        self.open_counted_loop(left);
        let at = |memory, addr| Loc::Mem {
            memory,
            addr,
            offset: 0,
        };
        self.translate(elem, &at(src_mem, s), &at(dst_mem, d));
        self.close_counted_loop([s, d], size as i32, left);
    }

    /// Looks at the elements in the `bytes` bytes at `ptr` in `memory`;
    /// returns a local that is zero iff every one is in the form lowering
    /// would store (see [`Self::check_stored_form`]).
    fn check_list(&mut self, elem: &Ty, memory: u32, ptr: u32, bytes: u32) -> u32 {
        let (odd, s, end) = (
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
        );
        let size = elem.size() as i32;
        self.body
            .ins()
            .i32_const(0)
            .local_set(odd)
            .local_get(ptr)
            .local_tee(s)
            .local_get(bytes)
            .i32_add()
            .local_set(end);
        self.open_loop_below(s, end);
        let at = Loc::Mem {
            memory,
            addr: s,
            offset: 0,
        };
        self.check_stored_form(elem, &at, odd);
        self.body
            .ins()
            .local_get(s)
            .i32_const(size)
            .i32_add()
            .local_set(s)
            .br(0)
            .end()
            .end();
        odd
    }

    /// For a value of type `ty` (one that [`Ty::is_checked_bytes`]) at `src`
    /// in memory, ors into local `odd` something nonzero unless the value is
    /// already in the form lowering would store, so that its bytes may be
    /// copied as they are: bools 0 or 1, flags without unknown bits, chars
    /// that are Unicode scalar values, discriminants in range.
    fn check_stored_form(&mut self, ty: &Ty, src: &Loc, odd: u32) {
        match ty {
            Ty::Bool => self.check_bits(src, Scalar::U8, !1, odd),
            Ty::Char => {
                let v = self.read(src, Scalar::I32);
                self.invalid_char(v);
                self.or_into(odd);
            }
            Ty::Flags(n) => {
                let kind = Scalar::unsigned(Ty::Flags(*n).size().min(4));
                for word in 0..n.div_ceil(32) {
                    let bits = (n - 32 * word).min(32);
                    let known = if bits < 32 { (1u32 << bits) - 1 } else { !0 };
                    self.check_bits(&src.part(4 * word, 0, 1), kind, !known, odd);
                }
            }
            Ty::Variant(cases) => {
                let bytes = discriminant_size(cases.len());
                if (cases.len() as u64) < 1 << (8 * bytes) {
                    let d = self.read(src, Scalar::unsigned(bytes));
                    self.body
                        .ins()
                        .local_get(d)
                        .i32_const(cases.len() as i32)
                        .i32_ge_u();
                    self.or_into(odd);
                }
            }
            Ty::Record(fields) => {
                for (field, offset) in field_offsets(fields, 0) {
                    self.check_stored_form(field, &src.part(offset, 0, 1), odd);
                }
            }
            _ => {}
        }
    }

    /// Ors into `odd` the bits of `unknown` that the `kind` at `src` has set
    /// (nothing if the loaded width has none of them).
    fn check_bits(&mut self, src: &Loc, kind: Scalar, unknown: u32, odd: u32) {
        let width = match kind {
            Scalar::U8 => 0xff,
            Scalar::U16 => 0xffff,
            _ => !0u32,
        };
        if unknown & width == 0 {
            return;
        }
        let v = self.read(src, kind);
        self.body
            .ins()
            .local_get(v)
            .i32_const((unknown & width) as i32)
            .i32_and();
        self.or_into(odd);
    }

    /// `odd |= ` the `i32` on the stack.
    fn or_into(&mut self, odd: u32) {
        self.body.ins().local_get(odd).i32_or().local_set(odd);
    }

    /// Calls the destination's `realloc(0, 0, align, size)` and checks the
    /// pointer it returns (see [`Self::call_realloc`]); returns a local
    /// holding it.
    pub(super) fn allocate(&mut self, align: u32, size: u32, out_of_bounds: AbiTrap) -> u32 {
        let ptr = self.body.local(ValType::I32);
        self.call_realloc(None, align, size, ptr, out_of_bounds);
        ptr
    }

    /// Resizes the allocation at local `ptr` (`old_size` bytes) to `size`
    /// bytes with the destination's `realloc`, checking the new pointer as a
    /// first allocation's; `ptr` then holds it.
    pub(super) fn reallocate(
        &mut self,
        ptr: u32,
        old_size: u32,
        align: u32,
        size: u32,
        out_of_bounds: AbiTrap,
    ) {
        self.call_realloc(Some((ptr, old_size)), align, size, ptr, out_of_bounds);
    }

    /// Calls `realloc(old_ptr, old_size, align, size)` (zeros for a first
    /// allocation) into local `ptr` and checks the answer as the Canonical
    /// ABI checks every pointer `realloc` returns: misaligned traps with
    /// `UnalignedPointer`, not `size` bytes inside memory with
    /// `out_of_bounds` (which names what was being copied).
    fn call_realloc(
        &mut self,
        old: Option<(u32, u32)>,
        align: u32,
        size: u32,
        ptr: u32,
        out_of_bounds: AbiTrap,
    ) {
        let realloc = self.to.realloc.unwrap_or_default();
        let memory = self.target_memory();
        let mut ins = self.body.ins();
        match old {
            Some((old_ptr, old_size)) => ins.local_get(old_ptr).local_get(old_size),
            None => ins.i32_const(0).i32_const(0),
        };
        ins.i32_const(align as i32)
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

    /// Checks a pointer to a whole value of type `t` in `memory`, spilled
    /// parameters or results or a return area, as `lift_flat_values` and
    /// `lower_flat_values` do before touching it: aligned, and every one of
    /// its bytes inside memory (not only those a short variant case reads).
    pub(super) fn check_value_range(&mut self, memory: u32, ptr: u32, t: &Ty) {
        self.check_aligned(ptr, t.align(), AbiTrap::UnalignedPointer);
        let bytes = self.body.local(ValType::I64);
        self.body
            .ins()
            .i64_const(i64::from(t.size()))
            .local_set(bytes);
        self.check_in_bounds(memory, ptr, bytes, AbiTrap::PointerOutOfBounds);
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
