//! Strings: validating the source string, transcoding it between any two of
//! the `string-encoding` options, and storing it in the destination memory.
//!
//! Every transcoding is two passes over the source: the first decodes and
//! validates every code point and measures the result in each destination
//! encoding; the second copies (`memory.copy` when the encodings agree) or
//! encodes. The destination's `realloc` is called exactly as the spec's
//! `store_string_*` functions call it (same order, arguments and checks of
//! each returned pointer), since a guest can observe every call: where the
//! spec first allocates optimistically and then grows or shrinks, so does
//! the adapter, with the measured sizes deciding which calls happen. The
//! bytes are written where and when the spec writes them, since a `realloc`
//! that does not keep an allocation's contents shows the difference: the
//! prefix that fits the optimistic allocation before it grows, the rest
//! after (the growing `realloc` is trusted to keep the prefix, as the spec
//! trusts it), and a Latin-1 prefix inflated or UTF-16 deflated in place.
//! UTF-8 into UTF-8 needs no measuring (a valid string keeps its length), so
//! it is one pass that validates and copies together.
//! Both passes over UTF-8 take runs of ASCII 64 and then 16 bytes at a time
//! and leave every other chunk to the exact byte-wise decoder.

use super::Fuser;
use rivet_descriptor::component::{AbiTrap, StringEncoding};
use wasm_encoder::{BlockType, MemArg, MemArgTarget, ValType};

/// The tag in a `latin1+utf16` length saying the string is UTF-16.
const UTF16_TAG: u32 = 1 << 31;

/// One concrete encoding (`latin1+utf16` is one of two per string).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Simple {
    Utf8,
    Utf16,
    Latin1,
}

impl Simple {
    fn unit(self) -> u32 {
        match self {
            Simple::Utf16 => 2,
            _ => 1,
        }
    }
}

/// The spec's `MAX_STRING_BYTE_LENGTH`: longer strings trap when lifted.
const MAX_STRING_BYTE_LENGTH: i64 = (1 << 28) - 1;

/// A validated source string: its simple encoding, and locals with its
/// pointer and length in code units.
struct Source {
    src: Simple,
    ptr: u32,
    units: u32,
}

/// Locals the measuring pass fills.
struct Measure {
    utf8_bytes: u32,
    utf16_units: u32,
    /// Bitwise or of the code points (ASCII runs the fast path skips left
    /// out): above 0xFF iff one is.
    or_all: u32,
}

/// What the UTF-8 decoding loop does for a run of ASCII bytes, which it
/// hands over in `v128` locals (16 bytes each, in order), instead of
/// running its body once per byte.
type AsciiRun<'a> = &'a mut dyn FnMut(&mut Fuser, &[u32]);

fn mem(memory: u32, offset: u32, align: u32) -> MemArg {
    MemArg {
        offset: offset.into(),
        align,
        target: MemArgTarget::Memory(memory),
        ordering: None,
    }
}

impl Fuser {
    /// Moves the string at `ptr` with (tagged) code-unit length `len`; returns
    /// locals with the destination's pointer and (tagged) length.
    pub(super) fn string(&mut self, ptr: u32, len: u32) -> (u32, u32) {
        let out = (self.body.local(ValType::I32), self.body.local(ValType::I32));
        match self.from.encoding {
            StringEncoding::Utf8 => self.transcode(Simple::Utf8, ptr, len, out),
            StringEncoding::Utf16 => self.transcode(Simple::Utf16, ptr, len, out),
            StringEncoding::CompactUtf16 => {
                let units = self.body.local(ValType::I32);
                self.body
                    .ins()
                    .local_get(len)
                    .i32_const(!UTF16_TAG as i32)
                    .i32_and()
                    .local_set(units)
                    .local_get(len)
                    .i32_const(UTF16_TAG as i32)
                    .i32_and()
                    .if_(BlockType::Empty);
                self.transcode(Simple::Utf16, ptr, units, out);
                self.body.ins().else_();
                self.transcode(Simple::Latin1, ptr, units, out);
                self.body.ins().end();
            }
        }
        out
    }

    fn string_align(&self, encoding: StringEncoding) -> u32 {
        match encoding {
            StringEncoding::Utf8 => 1,
            _ => 2,
        }
    }

    /// Validates `units` code units of `src` at `ptr` (checking its length,
    /// alignment and bounds in the order of the spec's
    /// `load_string_from_range`) and stores them in the destination's
    /// encoding, setting `out` (pointer, tagged length).
    fn transcode(&mut self, src: Simple, ptr: u32, units: u32, out: (u32, u32)) {
        let bytes = self.body.local(ValType::I64);
        self.body
            .ins()
            .local_get(units)
            .i64_extend_i32_u()
            .i64_const(src.unit().into())
            .i64_mul()
            .local_tee(bytes)
            .i64_const(MAX_STRING_BYTE_LENGTH)
            .i64_gt_u();
        self.trap_if(AbiTrap::StringTooLong);
        let align = self.string_align(self.from.encoding);
        self.check_aligned(ptr, align, AbiTrap::UnalignedPointer);
        let src_mem = self.source_memory();
        self.check_in_bounds(src_mem, ptr, bytes, AbiTrap::StringOutOfBounds);
        if src == Simple::Utf8 && self.to.encoding == StringEncoding::Utf8 {
            self.copy_utf8(ptr, units, out);
            return;
        }
        let m = self.measure(src, ptr, units);
        let s = Source { src, ptr, units };
        match (self.to.encoding, src) {
            (StringEncoding::Utf8, _) => self.store_to_utf8(&s, &m, out),
            (StringEncoding::Utf16, Simple::Utf8) => self.store_utf8_to_utf16(&s, &m, out),
            (StringEncoding::Utf16, _) => self.store_copy(&s, Simple::Utf16, out),
            (StringEncoding::CompactUtf16, Simple::Latin1) => {
                self.store_copy(&s, Simple::Latin1, out)
            }
            (StringEncoding::CompactUtf16, Simple::Utf16)
                if self.from.encoding == StringEncoding::CompactUtf16 =>
            {
                self.store_probably_utf16(&s, &m, out)
            }
            (StringEncoding::CompactUtf16, _) => self.store_to_latin1_or_utf16(&s, &m, out),
        }
    }

    /// UTF-8 into UTF-8: a valid string keeps its bytes, so the destination
    /// is allocated at the source's length up front and one pass validates
    /// and copies (ASCII 16 bytes a vector, other code points re-encoded as
    /// they decode, which gives back the same bytes). The spec validates
    /// while lifting, before the destination's `realloc`; calling it first
    /// is only visible if the string then traps, which ends the call anyway
    /// (and a bad allocation then traps first). Validation is never skipped.
    ///
    /// The pass writes forward while it reads, so if the allocation could
    /// overlap the source past its start (only possible when both sides share
    /// a memory) the string is validated first and moved by `memory.copy`.
    fn copy_utf8(&mut self, ptr: u32, len: u32, out: (u32, u32)) {
        let new_ptr = self.allocate(1, len, AbiTrap::StringOutOfBounds);
        self.body
            .ins()
            .local_get(new_ptr)
            .local_set(out.0)
            .local_get(len)
            .local_set(out.1);
        self.overlaps_forward(new_ptr, ptr, len);
        self.body.ins().if_(BlockType::Empty);
        self.decode_loop(Simple::Utf8, ptr, len, Some(&mut |_, _| {}), |_, _| {});
        let (src_mem, dst_mem) = (self.source_memory(), self.target_memory());
        self.body
            .ins()
            .local_get(new_ptr)
            .local_get(ptr)
            .local_get(len)
            .memory_copy(dst_mem, src_mem)
            .else_();
        let cursor = self.body.local(ValType::I32);
        self.body.ins().local_get(new_ptr).local_set(cursor);
        let mut copy =
            |f: &mut Self, chunk: &[u32]| f.store_ascii(chunk, Simple::Utf8, dst_mem, cursor);
        self.decode_loop(Simple::Utf8, ptr, len, Some(&mut copy), |f, cp| {
            f.encode_utf8(dst_mem, cursor, cp)
        });
        self.body.ins().end();
    }

    /// The measuring (and validating) pass.
    fn measure(&mut self, src: Simple, ptr: u32, units: u32) -> Measure {
        let m = Measure {
            utf8_bytes: self.body.local(ValType::I32),
            utf16_units: self.body.local(ValType::I32),
            or_all: self.body.local(ValType::I32),
        };
        // Locals start at zero only once: this may run in a list's loop.
        for local in [m.utf8_bytes, m.utf16_units, m.or_all] {
            self.body.ins().i32_const(0).local_set(local);
        }
        let mut count = |f: &mut Self, chunk: &[u32]| {
            for counter in [m.utf8_bytes, m.utf16_units] {
                f.body
                    .ins()
                    .local_get(counter)
                    .i32_const(16 * chunk.len() as i32)
                    .i32_add()
                    .local_set(counter);
            }
        };
        self.decode_loop(src, ptr, units, Some(&mut count), |f, cp| {
            let mut ins = f.body.ins();
            // utf8_bytes += 1 + (cp >= 0x80) + (cp >= 0x800) + (cp >= 0x10000)
            ins.local_get(m.utf8_bytes).i32_const(1).i32_add();
            for limit in [0x80, 0x800, 0x10000] {
                ins.local_get(cp).i32_const(limit).i32_ge_u().i32_add();
            }
            ins.local_set(m.utf8_bytes);
            ins.local_get(m.utf16_units)
                .i32_const(1)
                .i32_add()
                .local_get(cp)
                .i32_const(0x10000)
                .i32_ge_u()
                .i32_add()
                .local_set(m.utf16_units);
            ins.local_get(m.or_all)
                .local_get(cp)
                .i32_or()
                .local_set(m.or_all);
        });
        m
    }

    /// The spec's `store_string_copy`: one allocation of exactly the
    /// source's code units in `dst` (an encoding whose code points all fit
    /// the source's units one for one).
    fn store_copy(&mut self, s: &Source, dst: Simple, out: (u32, u32)) {
        let size = self.scaled(s.units, dst.unit());
        let align = self.string_align(self.to.encoding);
        let new_ptr = self.allocate(align, size, AbiTrap::StringOutOfBounds);
        self.fill(s, dst, new_ptr, size);
        self.set_out(out, new_ptr, s.units, false);
    }

    /// The spec's `store_string_to_utf8` (from UTF-16 or Latin-1): the first
    /// allocation assumes one byte per code unit; a code point beyond ASCII
    /// grows it to the worst case, shrunk to the exact length at the end.
    fn store_to_utf8(&mut self, s: &Source, m: &Measure, out: (u32, u32)) {
        let new_ptr = self.allocate(1, s.units, AbiTrap::StringOutOfBounds);
        self.body
            .ins()
            .local_get(m.or_all)
            .i32_const(0x80)
            .i32_ge_u()
            .if_(BlockType::Empty);
        let (taken, _) = self.store_prefix(s, 0x80, new_ptr);
        let worst = self.scaled(s.units, if s.src == Simple::Utf16 { 3 } else { 2 });
        self.reallocate(new_ptr, s.units, 1, worst, AbiTrap::StringOutOfBounds);
        let (rest, at) = self.rest_after(s, taken, new_ptr, taken);
        self.fill(&rest, Simple::Utf8, at, worst);
        self.shrink(new_ptr, worst, 1, m.utf8_bytes);
        self.body.ins().else_();
        self.fill(s, Simple::Utf8, new_ptr, s.units);
        self.body.ins().end();
        self.set_out(out, new_ptr, m.utf8_bytes, false);
    }

    /// The spec's `store_utf8_to_utf16`: two bytes per source byte, shrunk
    /// to the exact length if that is less.
    fn store_utf8_to_utf16(&mut self, s: &Source, m: &Measure, out: (u32, u32)) {
        let worst = self.scaled(s.units, 2);
        let new_ptr = self.allocate(2, worst, AbiTrap::StringOutOfBounds);
        self.fill(s, Simple::Utf16, new_ptr, worst);
        let size = self.scaled(m.utf16_units, 2);
        self.shrink(new_ptr, worst, 2, size);
        self.set_out(out, new_ptr, m.utf16_units, false);
    }

    /// The spec's `store_string_to_latin1_or_utf16` (from UTF-8 or UTF-16):
    /// the first allocation assumes Latin-1, one byte per source code unit;
    /// a code point beyond Latin-1 grows it to two bytes per code unit and
    /// the string is stored as UTF-16; either is shrunk to the exact length.
    fn store_to_latin1_or_utf16(&mut self, s: &Source, m: &Measure, out: (u32, u32)) {
        let new_ptr = self.allocate(2, s.units, AbiTrap::StringOutOfBounds);
        self.beyond_latin1(m);
        let (taken, latin1) = self.store_prefix(s, 0x100, new_ptr);
        let worst = self.scaled(s.units, 2);
        self.reallocate(new_ptr, s.units, 2, worst, AbiTrap::StringOutOfBounds);
        self.inflate(new_ptr, latin1);
        let utf16_bytes = self.scaled(latin1, 2);
        let (rest, at) = self.rest_after(s, taken, new_ptr, utf16_bytes);
        self.fill(&rest, Simple::Utf16, at, worst);
        let size = self.scaled(m.utf16_units, 2);
        self.shrink(new_ptr, worst, 2, size);
        self.set_out(out, new_ptr, m.utf16_units, true);
        self.body.ins().else_();
        self.fill(s, Simple::Latin1, new_ptr, s.units);
        self.shrink(new_ptr, s.units, 2, m.utf16_units);
        self.set_out(out, new_ptr, m.utf16_units, false);
        self.body.ins().end();
    }

    /// The spec's `store_probably_utf16_to_latin1_or_utf16` (from the UTF-16
    /// half of `latin1+utf16`): stored as UTF-16; if every code point fits
    /// Latin-1 it is deflated in place to Latin-1 and the allocation shrunk
    /// to it with alignment 1, as the spec passes (the only
    /// `latin1+utf16` allocation it makes with an alignment other than 2, and
    /// so the only returned pointer it does not check for alignment).
    fn store_probably_utf16(&mut self, s: &Source, m: &Measure, out: (u32, u32)) {
        let size = self.scaled(s.units, 2);
        let new_ptr = self.allocate(2, size, AbiTrap::StringOutOfBounds);
        self.fill(s, Simple::Utf16, new_ptr, size);
        self.beyond_latin1(m);
        self.set_out(out, new_ptr, s.units, true);
        self.body.ins().else_();
        self.deflate(new_ptr, s.units);
        self.reallocate(new_ptr, size, 1, s.units, AbiTrap::StringOutOfBounds);
        self.set_out(out, new_ptr, s.units, false);
        self.body.ins().end();
    }

    /// Writes the longest prefix of the source whose code points are below
    /// `limit` (0x80 or 0x100), one byte each, at `new_ptr`: what the spec
    /// writes into the optimistic first allocation before it finds a code
    /// point that needs more. Returns locals with the source code units
    /// taken and the bytes written (equal, but for UTF-8 into Latin-1,
    /// where 0x80–0xFF take two bytes). The source is valid: measured first.
    fn store_prefix(&mut self, s: &Source, limit: u32, new_ptr: u32) -> (u32, u32) {
        let (src_mem, dst_mem) = (self.source_memory(), self.target_memory());
        let (taken, written, cp) = (
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
        );
        self.body
            .ins()
            .i32_const(0)
            .local_set(taken)
            .i32_const(0)
            .local_set(written);
        self.open_loop_below(taken, s.units);
        let mut ins = self.body.ins();
        ins.local_get(s.ptr).local_get(taken);
        match s.src {
            Simple::Utf16 => {
                ins.i32_const(1).i32_shl().i32_add();
                ins.i32_load16_u(mem(src_mem, 0, 1)).local_set(cp);
            }
            _ => {
                ins.i32_add().i32_load8_u(mem(src_mem, 0, 0)).local_set(cp);
            }
        }
        if s.src == Simple::Utf8 {
            // 0xC2 and 0xC3 lead the two-byte forms of 0x80–0xFF.
            ins.local_get(cp)
                .i32_const(0x80)
                .i32_ge_u()
                .if_(BlockType::Empty);
            ins.local_get(cp).i32_const(0xC4).i32_ge_u().br_if(2);
            ins.local_get(cp)
                .i32_const(0x1F)
                .i32_and()
                .i32_const(6)
                .i32_shl();
            ins.local_get(s.ptr).local_get(taken).i32_add();
            ins.i32_load8_u(mem(src_mem, 1, 0))
                .i32_const(0x3F)
                .i32_and();
            ins.i32_or().local_set(cp);
            ins.local_get(taken).i32_const(1).i32_add().local_set(taken);
            ins.end();
        }
        ins.local_get(cp)
            .i32_const(limit as i32)
            .i32_ge_u()
            .br_if(1);
        ins.local_get(new_ptr)
            .local_get(written)
            .i32_add()
            .local_get(cp);
        ins.i32_store8(mem(dst_mem, 0, 0));
        for counter in [taken, written] {
            ins.local_get(counter)
                .i32_const(1)
                .i32_add()
                .local_set(counter);
        }
        ins.br(0).end().end();
        (taken, written)
    }

    /// The source after its first `taken` code units, and a local with
    /// `new_ptr` plus local `offset`: where the spec writes the rest of a
    /// string after growing its allocation.
    fn rest_after(&mut self, s: &Source, taken: u32, new_ptr: u32, offset: u32) -> (Source, u32) {
        let (ptr, units, at) = (
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
        );
        let mut ins = self.body.ins();
        ins.local_get(s.ptr).local_get(taken);
        if s.src == Simple::Utf16 {
            ins.i32_const(1).i32_shl();
        }
        ins.i32_add().local_set(ptr);
        ins.local_get(s.units)
            .local_get(taken)
            .i32_sub()
            .local_set(units);
        ins.local_get(new_ptr)
            .local_get(offset)
            .i32_add()
            .local_set(at);
        (
            Source {
                src: s.src,
                ptr,
                units,
            },
            at,
        )
    }

    /// Inflates the `count` Latin-1 bytes at `ptr` to UTF-16 in place, last
    /// first so that none is overwritten before it is read (the spec's
    /// `store_string_to_latin1_or_utf16` after growing).
    fn inflate(&mut self, ptr: u32, count: u32) {
        let dst_mem = self.target_memory();
        let j = self.body.local(ValType::I32);
        let mut ins = self.body.ins();
        ins.local_get(count).local_set(j);
        ins.block(BlockType::Empty).loop_(BlockType::Empty);
        ins.local_get(j).i32_eqz().br_if(1);
        ins.local_get(j).i32_const(1).i32_sub().local_set(j);
        ins.local_get(ptr)
            .local_get(j)
            .i32_const(1)
            .i32_shl()
            .i32_add();
        ins.local_get(ptr)
            .local_get(j)
            .i32_add()
            .i32_load8_u(mem(dst_mem, 0, 0));
        ins.i32_store16(mem(dst_mem, 0, 0));
        ins.br(0).end().end();
    }

    /// Deflates the `count` UTF-16 code units at `ptr`, all below 0x100, to
    /// Latin-1 in place, first first (the spec's
    /// `store_probably_utf16_to_latin1_or_utf16`).
    fn deflate(&mut self, ptr: u32, count: u32) {
        let dst_mem = self.target_memory();
        let i = self.body.local(ValType::I32);
        self.body.ins().i32_const(0).local_set(i);
        self.open_loop_below(i, count);
        let mut ins = self.body.ins();
        ins.local_get(ptr).local_get(i).i32_add();
        ins.local_get(ptr)
            .local_get(i)
            .i32_const(1)
            .i32_shl()
            .i32_add();
        ins.i32_load8_u(mem(dst_mem, 0, 0))
            .i32_store8(mem(dst_mem, 0, 0));
        ins.local_get(i).i32_const(1).i32_add().local_set(i);
        ins.br(0).end().end();
    }

    /// Opens an `if` taken when some code point of the measured string is
    /// beyond Latin-1.
    fn beyond_latin1(&mut self, m: &Measure) {
        self.body
            .ins()
            .local_get(m.or_all)
            .i32_const(0xff)
            .i32_gt_u()
            .if_(BlockType::Empty);
    }

    /// Shrinks the allocation at local `ptr` from `old` to `new` bytes with
    /// `realloc` unless they are equal, as every spec transcoder ends.
    fn shrink(&mut self, ptr: u32, old: u32, align: u32, new: u32) {
        self.body
            .ins()
            .local_get(old)
            .local_get(new)
            .i32_ne()
            .if_(BlockType::Empty);
        self.reallocate(ptr, old, align, new, AbiTrap::StringOutOfBounds);
        self.body.ins().end();
    }

    /// A new local holding local `units` times `factor`, which cannot wrap:
    /// a string's byte length is at most `MAX_STRING_BYTE_LENGTH`.
    fn scaled(&mut self, units: u32, factor: u32) -> u32 {
        let local = self.body.local(ValType::I32);
        self.body
            .ins()
            .local_get(units)
            .i32_const(factor as i32)
            .i32_mul()
            .local_set(local);
        local
    }

    /// Sets `out` to the pointer and the code units, tagged as UTF-16 if
    /// `utf16` (a `latin1+utf16` destination holding UTF-16).
    fn set_out(&mut self, out: (u32, u32), ptr: u32, units: u32, utf16: bool) {
        let mut ins = self.body.ins();
        ins.local_get(ptr).local_set(out.0).local_get(units);
        if utf16 {
            ins.i32_const(UTF16_TAG as i32).i32_or();
        }
        ins.local_set(out.1);
    }

    /// Writes the source string as `dst` at `new_ptr` (`size` bytes when the
    /// encodings agree and it is copied whole).
    fn fill(&mut self, s: &Source, dst: Simple, new_ptr: u32, size: u32) {
        let (src_mem, dst_mem) = (self.source_memory(), self.target_memory());
        if s.src == dst {
            self.body
                .ins()
                .local_get(new_ptr)
                .local_get(s.ptr)
                .local_get(size)
                .memory_copy(dst_mem, src_mem);
            return;
        }
        let cursor = self.body.local(ValType::I32);
        self.body.ins().local_get(new_ptr).local_set(cursor);
        let mut widen = |f: &mut Self, chunk: &[u32]| f.store_ascii(chunk, dst, dst_mem, cursor);
        self.decode_loop(s.src, s.ptr, s.units, Some(&mut widen), |f, cp| match dst {
            Simple::Utf8 => f.encode_utf8(dst_mem, cursor, cp),
            Simple::Utf16 => f.encode_utf16(dst_mem, cursor, cp),
            Simple::Latin1 => {
                f.body
                    .ins()
                    .local_get(cursor)
                    .local_get(cp)
                    .i32_store8(mem(dst_mem, 0, 0))
                    .local_get(cursor)
                    .i32_const(1)
                    .i32_add()
                    .local_set(cursor);
            }
        });
    }

    /// A loop over the code points of the source string; `body` sees each in
    /// local `cp`. Malformed input traps.
    ///
    /// With a UTF-8 source, runs of 64 or 16 ASCII bytes skip `body` and run
    /// `ascii(chunk)` with them instead (see [`Self::ascii_run`]), which must
    /// do what that many calls of `body` with those code points would.
    fn decode_loop(
        &mut self,
        src: Simple,
        ptr: u32,
        units: u32,
        ascii: Option<AsciiRun<'_>>,
        mut body: impl FnMut(&mut Self, u32),
    ) {
        let (p, end, cp) = (
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
        );
        let ascii = ascii.filter(|_| src == Simple::Utf8);
        let fast = ascii.is_some().then(|| {
            let fast = self.body.local(ValType::I32);
            self.body.ins().i32_const(1).local_set(fast);
            fast
        });
        self.body
            .ins()
            .local_get(ptr)
            .local_tee(p)
            .local_get(units)
            .i32_const(src.unit() as i32)
            .i32_mul()
            .i32_add()
            .local_set(end);
        self.open_loop_below(p, end);
        if let (Some(fast), Some(ascii)) = (fast, ascii) {
            // Long ASCII runs go 64 bytes a step (one test for four vectors),
            // what is left of them 16 bytes a step; either may reach `end`.
            self.ascii_run(fast, p, end, 4, &mut *ascii);
            self.ascii_run(fast, p, end, 1, ascii);
            self.body
                .ins()
                .local_get(p)
                .local_get(end)
                .i32_ge_u()
                .br_if(1);
        }
        match src {
            Simple::Utf8 => self.decode_utf8(p, end, cp),
            Simple::Utf16 => self.decode_utf16(p, end, cp),
            Simple::Latin1 => {
                let m = self.source_memory();
                self.body
                    .ins()
                    .local_get(p)
                    .i32_load8_u(mem(m, 0, 0))
                    .local_set(cp)
                    .local_get(p)
                    .i32_const(1)
                    .i32_add()
                    .local_set(p);
            }
        }
        if let Some(fast) = fast {
            self.body
                .ins()
                .local_get(cp)
                .i32_const(0x80)
                .i32_lt_u()
                .local_set(fast);
        }
        body(self, cp);
        self.body.ins().br(0).end().end();
    }

    /// The ASCII fast path at the top of the UTF-8 decoding loop: when the
    /// last code point was ASCII (`fast`, so text with no ASCII in it never
    /// pays for the test), an inner loop takes `vectors` × 16 bytes at `p` at
    /// a time for as long as they are all below 0x80, and so valid one-byte
    /// code points: it runs `ascii(chunk)` with the vectors it loaded (so a
    /// copy need not load them again) and moves `p` past them. It stops
    /// before a chunk with any other byte or one that would pass `end`; the
    /// exact byte-wise decoder takes over there, so validation is unchanged. An inner loop (rather than a jump back to the decoding
    /// loop's top) keeps a long run down to the test, the work and one
    /// branch per step.
    fn ascii_run(&mut self, fast: u32, p: u32, end: u32, vectors: u32, ascii: AsciiRun<'_>) {
        let m = self.source_memory();
        let chunk: Vec<u32> = (0..vectors)
            .map(|_| self.body.local(ValType::V128))
            .collect();
        let mut ins = self.body.ins();
        ins.local_get(fast)
            .if_(BlockType::Empty)
            .block(BlockType::Empty)
            .loop_(BlockType::Empty)
            .local_get(end)
            .local_get(p)
            .i32_sub()
            .i32_const(16 * vectors as i32)
            .i32_lt_u()
            .br_if(1);
        for (k, &v) in (0..).zip(&chunk) {
            ins.local_get(p).v128_load(mem(m, 16 * k, 0)).local_tee(v);
            if k > 0 {
                ins.v128_or();
            }
        }
        // A byte with its top bit set: not ASCII, leave the run.
        ins.i8x16_bitmask().br_if(1);
        ascii(self, &chunk);
        self.body
            .ins()
            .local_get(p)
            .i32_const(16 * vectors as i32)
            .i32_add()
            .local_set(p)
            .br(0)
            .end()
            .end()
            .end();
    }

    /// Stores the ASCII bytes in the `v128` locals `chunk` at `cursor` as
    /// Latin-1 or UTF-8 bytes or UTF-16 code units, advancing `cursor`.
    /// Static offsets instead of a moving pointer let each store fold its
    /// displacement into the native address.
    fn store_ascii(&mut self, chunk: &[u32], dst: Simple, dst_mem: u32, cursor: u32) {
        let mut ins = self.body.ins();
        for (k, &v) in (0..).zip(chunk) {
            let at = 16 * k * dst.unit();
            ins.local_get(cursor).local_get(v);
            if dst == Simple::Utf16 {
                ins.i16x8_extend_low_i8x16_u()
                    .v128_store(mem(dst_mem, at, 0))
                    .local_get(cursor)
                    .local_get(v)
                    .i16x8_extend_high_i8x16_u()
                    .v128_store(mem(dst_mem, at + 16, 0));
            } else {
                ins.v128_store(mem(dst_mem, at, 0));
            }
        }
        let width = 16 * chunk.len() as u32 * dst.unit();
        ins.local_get(cursor)
            .i32_const(width as i32)
            .i32_add()
            .local_set(cursor);
    }

    /// Decodes one UTF-8 sequence at `p` (before `end`) into `cp`, advancing
    /// `p`; rejects stray continuation bytes, truncation, overlong forms,
    /// surrogates and values beyond 0x10FFFF.
    fn decode_utf8(&mut self, p: u32, end: u32, cp: u32) {
        let m = self.source_memory();
        let (n, j, b) = (
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
            self.body.local(ValType::I32),
        );
        self.body
            .ins()
            .i32_const(1)
            .local_set(n)
            .local_get(p)
            .i32_load8_u(mem(m, 0, 0))
            .local_tee(cp)
            .i32_const(0x80)
            .i32_ge_u()
            .if_(BlockType::Empty)
            // A lead byte: 0xC0..0xF8.
            .local_get(cp)
            .i32_const(0xc0)
            .i32_lt_u()
            .local_get(cp)
            .i32_const(0xf8)
            .i32_ge_u()
            .i32_or();
        self.trap_if(AbiTrap::InvalidUtf8);
        self.body
            .ins()
            .i32_const(2)
            .local_get(cp)
            .i32_const(0xe0)
            .i32_ge_u()
            .i32_add()
            .local_get(cp)
            .i32_const(0xf0)
            .i32_ge_u()
            .i32_add()
            .local_set(n)
            .local_get(end)
            .local_get(p)
            .i32_sub()
            .local_get(n)
            .i32_lt_u();
        self.trap_if(AbiTrap::InvalidUtf8);
        self.body
            .ins()
            .local_get(cp)
            .i32_const(0x7f)
            .local_get(n)
            .i32_shr_u()
            .i32_and()
            .local_set(cp)
            .i32_const(1)
            .local_set(j);
        self.open_loop_below(j, n);
        self.body
            .ins()
            .local_get(p)
            .local_get(j)
            .i32_add()
            .i32_load8_u(mem(m, 0, 0))
            .local_tee(b)
            .i32_const(0xc0)
            .i32_and()
            .i32_const(0x80)
            .i32_ne();
        self.trap_if(AbiTrap::InvalidUtf8);
        self.body
            .ins()
            .local_get(cp)
            .i32_const(6)
            .i32_shl()
            .local_get(b)
            .i32_const(0x3f)
            .i32_and()
            .i32_or()
            .local_set(cp)
            .local_get(j)
            .i32_const(1)
            .i32_add()
            .local_set(j)
            .br(0)
            .end()
            .end()
            // Overlong: below the least value of its length.
            .local_get(cp)
            .i32_const(0x80)
            .i32_const(0x10000)
            .i32_const(0x800)
            .local_get(n)
            .i32_const(4)
            .i32_eq()
            .select()
            .local_get(n)
            .i32_const(2)
            .i32_eq()
            .select()
            .i32_lt_u()
            .local_get(cp)
            .i32_const(0x10ffff)
            .i32_gt_u()
            .i32_or()
            .local_get(cp)
            .i32_const(0xfffff800u32 as i32)
            .i32_and()
            .i32_const(0xd800)
            .i32_eq()
            .i32_or();
        self.trap_if(AbiTrap::InvalidUtf8);
        self.body.ins().end();
        self.body
            .ins()
            .local_get(p)
            .local_get(n)
            .i32_add()
            .local_set(p);
    }

    /// Decodes one UTF-16 code point at `p` into `cp`, advancing `p`; rejects
    /// unpaired surrogates.
    fn decode_utf16(&mut self, p: u32, end: u32, cp: u32) {
        let m = self.source_memory();
        let low = self.body.local(ValType::I32);
        self.body
            .ins()
            .local_get(p)
            .i32_load16_u(mem(m, 0, 1))
            .local_set(cp)
            .local_get(p)
            .i32_const(2)
            .i32_add()
            .local_set(p)
            .local_get(cp)
            .i32_const(0xf800)
            .i32_and()
            .i32_const(0xd800)
            .i32_eq()
            .if_(BlockType::Empty)
            // A low surrogate first, or a high one with nothing after it.
            .local_get(cp)
            .i32_const(0xdc00)
            .i32_ge_u()
            .local_get(p)
            .local_get(end)
            .i32_ge_u()
            .i32_or();
        self.trap_if(AbiTrap::InvalidUtf16);
        self.body
            .ins()
            .local_get(p)
            .i32_load16_u(mem(m, 0, 1))
            .local_tee(low)
            .i32_const(0xfc00)
            .i32_and()
            .i32_const(0xdc00)
            .i32_ne();
        self.trap_if(AbiTrap::InvalidUtf16);
        self.body
            .ins()
            .local_get(cp)
            .i32_const(0xd800)
            .i32_sub()
            .i32_const(10)
            .i32_shl()
            .local_get(low)
            .i32_const(0xdc00)
            .i32_sub()
            .i32_add()
            .i32_const(0x10000)
            .i32_add()
            .local_set(cp)
            .local_get(p)
            .i32_const(2)
            .i32_add()
            .local_set(p)
            .end();
    }

    /// Stores `cp` as UTF-8 at `cursor`, advancing it.
    fn encode_utf8(&mut self, memory: u32, cursor: u32, cp: u32) {
        // Sequences of 1, 2, 3 and 4 bytes, by the code point's range.
        let limits = [0x80, 0x800, 0x10000];
        for len in 1..=4u32 {
            if len < 4 {
                self.body
                    .ins()
                    .local_get(cp)
                    .i32_const(limits[len as usize - 1])
                    .i32_lt_u()
                    .if_(BlockType::Empty);
            }
            for k in 0..len {
                let shift = 6 * (len - 1 - k);
                let mut ins = self.body.ins();
                ins.local_get(cursor).local_get(cp);
                if shift > 0 {
                    ins.i32_const(shift as i32).i32_shr_u();
                }
                if k == 0 {
                    let lead: u32 = [0, 0xc0, 0xe0, 0xf0][len as usize - 1];
                    if lead != 0 {
                        ins.i32_const(lead as i32).i32_or();
                    }
                } else {
                    ins.i32_const(0x3f).i32_and().i32_const(0x80).i32_or();
                }
                ins.i32_store8(mem(memory, k, 0));
            }
            self.body
                .ins()
                .local_get(cursor)
                .i32_const(len as i32)
                .i32_add()
                .local_set(cursor);
            if len < 4 {
                self.body.ins().else_();
            }
        }
        for _ in 0..3 {
            self.body.ins().end();
        }
    }

    /// Stores `cp` as UTF-16 at `cursor`, advancing it.
    fn encode_utf16(&mut self, memory: u32, cursor: u32, cp: u32) {
        self.body
            .ins()
            .local_get(cp)
            .i32_const(0x10000)
            .i32_lt_u()
            .if_(BlockType::Empty)
            .local_get(cursor)
            .local_get(cp)
            .i32_store16(mem(memory, 0, 1))
            .local_get(cursor)
            .i32_const(2)
            .i32_add()
            .local_set(cursor)
            .else_()
            .local_get(cursor)
            .local_get(cp)
            .i32_const(0x10000)
            .i32_sub()
            .i32_const(10)
            .i32_shr_u()
            .i32_const(0xd800)
            .i32_or()
            .i32_store16(mem(memory, 0, 1))
            .local_get(cursor)
            .local_get(cp)
            .i32_const(0x3ff)
            .i32_and()
            .i32_const(0xdc00)
            .i32_or()
            .i32_store16(mem(memory, 2, 1))
            .local_get(cursor)
            .i32_const(4)
            .i32_add()
            .local_set(cursor)
            .end();
    }
}
