//! The host side of lifting and lowering (CanonicalABI.md "Loading", "Storing",
//! "Flat Lifting", "Flat Lowering"): component values to and from flat core
//! values and guest linear memory.
//!
//! Flat values are carried as `u64` bit patterns (an `i32` or `f32` in the low
//! bits, zero-extended): the coercions between joined variant payload types
//! are then plain truncation and zero extension.

use super::abi;
use super::instance::ComponentState;
use super::resources::{Handle, Holder};
use super::types::{ResourceType, Type};
use super::values::{ResourceAny, Value};
use crate::error::Trap;
use crate::func::RawTarget;
use crate::prelude::*;
use crate::vm::{VMMemory, ValRaw};
use crate::{Store, Val};
use rivet_descriptor::component::{StringEncoding, TypeRef};
use rivet_descriptor::ValType;

/// Strings and lists longer than this many bytes trap (the spec's limits).
pub(crate) const MAX_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The `latin1+utf16` length tag marking UTF-16 contents.
const UTF16_TAG: u32 = 1 << 31;

/// Options whose encoding is not UTF-8 but that came without transcoders:
/// a runtime bug, reported as a trap rather than a panic.
fn no_transcoder() -> Trap {
    Trap::fixed("internal error: string options without their transcoders")
}

/// Resolved canonical options.
#[derive(Clone, Copy)]
pub(crate) struct Opts {
    /// The memory's VM record (base and length, which growing updates in
    /// place), looked up when the options are: reading the guest's memory
    /// then skips the store's memory table.
    pub memory: Option<*mut VMMemory>,
    /// Looked up when the options are, so that each call skips the store's
    /// function table.
    pub realloc: Option<RawTarget>,
    pub encoding: StringEncoding,
    /// For an encoding other than UTF-8, its transcoders (always set then).
    pub transcoder: Option<&'static Transcoder>,
}

/// Strings in the encodings other than UTF-8, both ways: a runtime part
/// ([`rivet_descriptor::parts::TRANSCODING`]), so that hosts of components
/// whose strings are all UTF-8 link none of it.
pub(crate) struct Transcoder {
    /// A string from its bytes: UTF-16 (`utf16`) or Latin-1.
    decode: fn(raw: &[u8], utf16: bool) -> Result<String, Trap>,
    /// A string's bytes in UTF-16 (little-endian).
    utf16: fn(s: &str) -> Vec<u8>,
}

pub(crate) const TRANSCODER: Transcoder = Transcoder {
    decode: |raw, utf16| match utf16 {
        true => {
            let units = raw
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| Trap::fixed("invalid utf-16"))
        }
        false => Ok(raw.iter().map(|&b| b as char).collect()),
    },
    utf16: |s| s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
};

/// Everything a lift or lower needs: the store, the instantiation, the guest's
/// options and the component instance whose handle table is used. Public only
/// as an opaque argument of [`super::typed::LowerArg`] and
/// [`super::typed::LiftResult`] (and of [`super::typed_import`]'s traits).
pub struct Cx<'a> {
    pub(crate) store: &'a mut Store,
    pub(crate) state: &'a ComponentState,
    pub(crate) opts: Opts,
    pub(crate) instance: u32,
    /// Host-table entries made for borrows lent to the host for one call.
    pub(crate) temps: Vec<u32>,
}

impl<'a> Cx<'a> {
    /// The tree of one of the plan's types, for the dynamic API (`Value`s).
    pub(crate) fn tree(&self, ty: TypeRef) -> &'a Type {
        let state: &'a ComponentState = self.state;
        &state.component.0.trees().types[ty.index as usize]
    }
}

/// Reads flat values in order (public only as an opaque argument of
/// [`super::typed::LiftResult`]).
pub struct Flat<'v> {
    values: &'v [u64],
    at: usize,
}

impl<'v> Flat<'v> {
    pub(crate) fn new(values: &'v [u64]) -> Self {
        Flat { values, at: 0 }
    }
    #[inline]
    pub(crate) fn next(&mut self) -> Result<u64, Trap> {
        let v = self.values.get(self.at).copied();
        self.at += 1;
        v.ok_or_else(|| Trap::fixed("too few core values for the component type"))
    }
    fn next32(&mut self) -> Result<u32, Trap> {
        self.next().map(|v| v as u32)
    }

    /// The next `n` values, as a reader of their own (a variant's payload
    /// slots).
    pub(crate) fn take(&mut self, n: usize) -> Result<Flat<'v>, Trap> {
        let slots = (self.values.get(self.at..self.at + n))
            .ok_or_else(|| Trap::fixed("too few core values for the component type"))?;
        self.at += n;
        Ok(Flat::new(slots))
    }
}

/// Flat values being lowered, on the stack: at most `MAX_FLAT_PARAMS` (more
/// are passed through memory), so a call needs no allocation for them. Public
/// only as an opaque argument of [`super::typed::LowerArg`].
pub struct FlatBuf {
    values: [u64; abi::MAX_FLAT_PARAMS],
    len: usize,
    /// Set when more values were pushed than fit: a type mismatch, reported
    /// by [`FlatBuf::values`].
    overflow: bool,
}

impl FlatBuf {
    pub(crate) fn new() -> Self {
        FlatBuf {
            values: [0; abi::MAX_FLAT_PARAMS],
            len: 0,
            overflow: false,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, v: u64) {
        match self.values.get_mut(self.len) {
            Some(slot) => {
                *slot = v;
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Pads with zeros (or cuts) to `len` values.
    pub(crate) fn resize(&mut self, len: usize) {
        while self.len < len && !self.overflow {
            self.push(0);
        }
        self.len = self.len.min(len);
    }

    /// The values pushed, or a trap if they did not fit.
    #[inline]
    pub(crate) fn values(&self) -> Result<&[u64], Trap> {
        if self.overflow {
            return Err(Trap::fixed("too many flat values for the component type"));
        }
        Ok(&self.values[..self.len])
    }
}

/// Core values to flat bits.
pub(crate) fn vals_to_bits(vals: &[Val]) -> Vec<u64> {
    vals.iter().map(val_to_bit).collect()
}

/// A core value to its flat bits.
pub(crate) fn val_to_bit(v: &Val) -> u64 {
    match *v {
        Val::I32(x) => x as u32 as u64,
        Val::I64(x) => x as u64,
        Val::F32(b) => b as u64,
        Val::F64(b) => b,
        _ => 0,
    }
}

/// Flat bits to core values of the given types.
pub(crate) fn bits_to_vals(bits: &[u64], types: &[ValType]) -> Vec<Val> {
    bits.iter()
        .zip(types)
        .map(|(&b, t)| bit_to_val(b, *t))
        .collect()
}

/// Flat bits to a core value of type `t`.
pub(crate) fn bit_to_val(b: u64, t: ValType) -> Val {
    match t {
        ValType::I64 => Val::I64(b as i64),
        ValType::F32 => Val::F32(b as u32),
        ValType::F64 => Val::F64(b),
        _ => Val::I32(b as u32 as i32),
    }
}

/// Calls macro `$m` with the scalar types' conversions: for each Rust type,
/// its component type, its size in memory, the flat bits of `$x` and the
/// value of bits `$b`; `bytes` marks `u8`, whose lists the typed imports copy
/// in one piece.
macro_rules! scalar_table {
    ($m:ident) => {
        $m! {
            bool: Bool, 1, |x| x as u64, |b| Ok(b as u32 != 0);
            i8: S8, 1, |x| x as u8 as u64, |b| Ok(b as i8);
            u8: U8, 1, |x| x as u64, |b| Ok(b as u8), bytes;
            i16: S16, 2, |x| x as u16 as u64, |b| Ok(b as i16);
            u16: U16, 2, |x| x as u64, |b| Ok(b as u16);
            i32: S32, 4, |x| x as u32 as u64, |b| Ok(b as i32);
            u32: U32, 4, |x| x as u64, |b| Ok(b as u32);
            i64: S64, 8, |x| x as u64, |b| Ok(b as i64);
            u64: U64, 8, |x| x, |b| Ok(b);
            f32: F32, 4, |x| canon_f32(x.to_bits()).to_bits() as u64, |b| Ok(canon_f32(b as u32));
            f64: F64, 8, |x| canon_f64(x.to_bits()).to_bits(), |b| Ok(canon_f64(b));
            char: Char, 4, |x| x as u64, |b| to_char(b as u32);
        }
    };
}
pub(crate) use scalar_table;

pub(crate) fn canon_f32(bits: u32) -> f32 {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        f32::from_bits(0x7fc0_0000)
    } else {
        f
    }
}

pub(crate) fn canon_f64(bits: u64) -> f64 {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        f64::from_bits(0x7ff8_0000_0000_0000)
    } else {
        f
    }
}

pub(crate) fn to_char(i: u32) -> Result<char, Trap> {
    char::from_u32(i).ok_or_else(|| Trap::fixed("invalid `char` bit pattern"))
}

fn flags_from_bits(words: &[u32], names: &[String]) -> Value {
    Value::Flags(
        names
            .iter()
            .enumerate()
            .filter(|(i, _)| words[i / 32] >> (i % 32) & 1 == 1)
            .map(|(_, n)| n.clone())
            .collect(),
    )
}

fn flags_to_bits(set: &[String], names: &[String]) -> Vec<u32> {
    let mut words = vec![0u32; names.len().div_ceil(32)];
    for (i, n) in names.iter().enumerate() {
        if set.contains(n) {
            words[i / 32] |= 1 << (i % 32);
        }
    }
    words
}

/// The value of case `index` of variant-like type `t`, with its payload.
fn make_case(t: &Type, index: usize, payload: Option<Value>) -> Value {
    let p = payload.map(Box::new);
    match t {
        Type::Variant(cs) => Value::Variant(cs[index].0.clone(), p),
        Type::Enum(names) => Value::Enum(names[index].clone()),
        Type::Option(_) => Value::Option(if index == 0 { None } else { p }),
        _ if index == 0 => Value::Result(Ok(p)),
        _ => Value::Result(Err(p)),
    }
}

/// The case index and payload of a variant-like value (already type-checked).
fn case_of<'v>(t: &Type, v: &'v Value) -> (usize, Option<&'v Value>) {
    match (t, v) {
        (Type::Variant(cs), Value::Variant(n, p)) => (
            cs.iter().position(|(c, _)| c == n).unwrap_or(0),
            p.as_deref(),
        ),
        (Type::Enum(names), Value::Enum(n)) => {
            (names.iter().position(|c| c == n).unwrap_or(0), None)
        }
        (_, Value::Option(o)) => (o.is_some() as usize, o.as_deref()),
        (_, Value::Result(Ok(p))) => (0, p.as_deref()),
        (_, Value::Result(Err(p))) => (1, p.as_deref()),
        _ => (0, None),
    }
}

impl Cx<'_> {
    /// The guest memory's current contents.
    #[inline]
    fn memory(&self) -> Result<&[u8], Trap> {
        let vm = self.vm_memory()?;
        // SAFETY: the record of a memory of `self.store` (options are resolved
        // from its own instances), live as long as the store; no wasm runs
        // while the slice is borrowed, as that needs `&mut self`.
        Ok(unsafe { core::slice::from_raw_parts((*vm).base, (*vm).length) })
    }

    /// As [`Cx::memory`], writable.
    #[inline]
    fn memory_mut(&mut self) -> Result<&mut [u8], Trap> {
        let vm = self.vm_memory()?;
        // SAFETY: as in `memory`, and `&mut self` makes the access exclusive.
        Ok(unsafe { core::slice::from_raw_parts_mut((*vm).base, (*vm).length) })
    }

    #[inline]
    fn vm_memory(&self) -> Result<*mut VMMemory, Trap> {
        self.opts
            .memory
            .ok_or_else(|| Trap::fixed("canonical option `memory` is required"))
    }

    #[inline]
    pub(crate) fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Trap> {
        let data = self.memory()?;
        let end = ptr as u64 + len as u64;
        if end > data.len() as u64 {
            return Err(Trap::fixed("pointer out of bounds of memory"));
        }
        Ok(&data[ptr as usize..end as usize])
    }

    #[inline]
    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Trap> {
        let data = self.memory_mut()?;
        let end = ptr as u64 + bytes.len() as u64;
        if end > data.len() as u64 {
            return Err(Trap::fixed("pointer out of bounds of memory"));
        }
        data[ptr as usize..end as usize].copy_from_slice(bytes);
        Ok(())
    }

    #[inline]
    pub(crate) fn load_int(&self, ptr: u32, n: u32) -> Result<u64, Trap> {
        let mut buf = [0u8; 8];
        buf[..n as usize].copy_from_slice(self.bytes(ptr, n)?);
        Ok(u64::from_le_bytes(buf))
    }

    pub(crate) fn store_int(&mut self, ptr: u32, n: u32, v: u64) -> Result<(), Trap> {
        self.write(ptr, &v.to_le_bytes()[..n as usize])
    }

    /// Checks that `len` bytes at `ptr`, aligned to `align`, are in memory.
    #[inline]
    pub(crate) fn check_range(
        &self,
        ptr: u32,
        len: u64,
        align: u32,
        what: &str,
    ) -> Result<(), Trap> {
        if !ptr.is_multiple_of(align) {
            return Err(Trap::fixed("unaligned pointer"));
        }
        let mem = self.memory()?.len() as u64;
        if ptr as u64 + len > mem {
            return Err(Trap::host(format!(
                "{what} pointer/length out of bounds of memory"
            )));
        }
        Ok(())
    }

    // ---------------------------------------------------------------- lifting

    pub fn lift_flat(&mut self, t: &Type, vi: &mut Flat) -> Result<Value, Trap> {
        Ok(match t {
            Type::Bool => Value::Bool(vi.next32()? != 0),
            Type::S8 => Value::S8(vi.next32()? as i8),
            Type::U8 => Value::U8(vi.next32()? as u8),
            Type::S16 => Value::S16(vi.next32()? as i16),
            Type::U16 => Value::U16(vi.next32()? as u16),
            Type::S32 => Value::S32(vi.next32()? as i32),
            Type::U32 => Value::U32(vi.next32()?),
            Type::S64 => Value::S64(vi.next()? as i64),
            Type::U64 => Value::U64(vi.next()?),
            Type::F32 => Value::F32(canon_f32(vi.next32()?)),
            Type::F64 => Value::F64(canon_f64(vi.next()?)),
            Type::Char => Value::Char(to_char(vi.next32()?)?),
            Type::String => Value::String(self.lift_string(vi)?),
            Type::List(e) => {
                let (ptr, len) = (vi.next32()?, vi.next32()?);
                self.load_list_range(e, ptr, len)?
            }
            Type::Map(k, v) => {
                let (ptr, len) = (vi.next32()?, vi.next32()?);
                self.load_map_range(k, v, ptr, len)?
            }
            Type::Record(fs) => Value::Record(
                fs.iter()
                    .map(|(n, t)| Ok((n.clone(), self.lift_flat(t, vi)?)))
                    .collect::<Result<_, Trap>>()?,
            ),
            Type::Tuple(ts) => Value::Tuple(
                ts.iter()
                    .map(|t| self.lift_flat(t, vi))
                    .collect::<Result<_, _>>()?,
            ),
            Type::Flags(names) => {
                let words = (0..names.len().div_ceil(32))
                    .map(|_| vi.next32())
                    .collect::<Result<Vec<_>, _>>()?;
                flags_from_bits(&words, names)
            }
            Type::Own(r) => {
                let i = vi.next32()?;
                self.lift_own(*r, i)?
            }
            Type::Borrow(r) => {
                let i = vi.next32()?;
                self.lift_borrow(*r, i)?
            }
            _ => self.lift_flat_variant(t, vi)?,
        })
    }

    fn lift_flat_variant(&mut self, t: &Type, vi: &mut Flat) -> Result<Value, Trap> {
        let cs = abi::cases(t).unwrap_or_default();
        let payload_len = abi::flatten(t).len() - 1;
        let index = vi.next32()? as usize;
        let mut slots = vi.take(payload_len)?;
        let case = *cs
            .get(index)
            .ok_or_else(|| Trap::fixed("invalid variant discriminant"))?;
        let payload = match case {
            Some(pt) => Some(self.lift_flat(pt, &mut slots)?),
            None => None,
        };
        Ok(make_case(t, index, payload))
    }

    pub fn load(&mut self, t: &Type, ptr: u32) -> Result<Value, Trap> {
        let int = |cx: &Self, n| cx.load_int(ptr, n);
        Ok(match t {
            Type::Bool => Value::Bool(int(self, 1)? != 0),
            Type::S8 => Value::S8(int(self, 1)? as i8),
            Type::U8 => Value::U8(int(self, 1)? as u8),
            Type::S16 => Value::S16(int(self, 2)? as i16),
            Type::U16 => Value::U16(int(self, 2)? as u16),
            Type::S32 => Value::S32(int(self, 4)? as i32),
            Type::U32 => Value::U32(int(self, 4)? as u32),
            Type::S64 => Value::S64(int(self, 8)? as i64),
            Type::U64 => Value::U64(int(self, 8)?),
            Type::F32 => Value::F32(canon_f32(int(self, 4)? as u32)),
            Type::F64 => Value::F64(canon_f64(int(self, 8)?)),
            Type::Char => Value::Char(to_char(int(self, 4)? as u32)?),
            Type::String => Value::String(self.load_string(ptr)?),
            Type::List(e) => {
                let (p, l) = (int(self, 4)? as u32, self.load_int(ptr + 4, 4)? as u32);
                self.load_list_range(e, p, l)?
            }
            Type::Map(k, v) => {
                let (p, l) = (int(self, 4)? as u32, self.load_int(ptr + 4, 4)? as u32);
                self.load_map_range(k, v, p, l)?
            }
            Type::Record(fs) => Value::Record(
                fs.iter()
                    .zip(abi::field_offsets(fs.iter().map(|(_, t)| t), ptr))
                    .map(|((n, _), (ft, at))| Ok((n.clone(), self.load(ft, at)?)))
                    .collect::<Result<_, Trap>>()?,
            ),
            Type::Tuple(ts) => Value::Tuple(
                abi::field_offsets(ts, ptr)
                    .map(|(ft, at)| self.load(ft, at))
                    .collect::<Result<_, _>>()?,
            ),
            Type::Flags(names) => {
                let n = abi::flags_size(names.len());
                let words = if n <= 4 {
                    vec![int(self, n)? as u32]
                } else {
                    (0..n / 4)
                        .map(|k| self.load_int(ptr + 4 * k, 4).map(|w| w as u32))
                        .collect::<Result<_, _>>()?
                };
                flags_from_bits(&words, names)
            }
            Type::Own(r) => {
                let i = int(self, 4)? as u32;
                self.lift_own(*r, i)?
            }
            Type::Borrow(r) => {
                let i = int(self, 4)? as u32;
                self.lift_borrow(*r, i)?
            }
            _ => {
                let cs = abi::cases(t).unwrap_or_default();
                let index = int(self, abi::discriminant_size(cs.len()))? as usize;
                let case = *cs
                    .get(index)
                    .ok_or_else(|| Trap::fixed("invalid variant discriminant"))?;
                let payload = match case {
                    Some(pt) => Some(self.load(pt, ptr + abi::payload_offset(&cs))?),
                    None => None,
                };
                make_case(t, index, payload)
            }
        })
    }

    /// Loads a value spilled to memory at `ptr` (parameters or results).
    pub fn load_spilled(&mut self, t: &Type, ptr: u32) -> Result<Value, Trap> {
        self.check_spilled(t, ptr)?;
        self.load(t, ptr)
    }

    /// Checks that a value of type `t` spilled at `ptr` is aligned and in memory.
    fn check_spilled(&self, t: &Type, ptr: u32) -> Result<(), Trap> {
        self.check_spilled_layout((abi::alignment(t), abi::size(t)), ptr)
    }

    /// Checks that a value of alignment and size `layout` spilled at `ptr`
    /// is aligned and in memory.
    pub(crate) fn check_spilled_layout(&self, layout: (u32, u32), ptr: u32) -> Result<(), Trap> {
        let (align, size) = layout;
        if !ptr.is_multiple_of(align) {
            return Err(Trap::fixed("unaligned pointer"));
        }
        let mem = self.memory()?.len() as u64;
        if ptr as u64 + size as u64 > mem {
            return Err(Trap::fixed("pointer out of bounds of memory"));
        }
        Ok(())
    }

    /// Lifts a string from its flat `(ptr, len)`.
    pub(crate) fn lift_string(&self, vi: &mut Flat) -> Result<String, Trap> {
        let (ptr, len) = (vi.next32()?, vi.next32()?);
        self.load_string_range(ptr, len)
    }

    /// Loads a string whose `(ptr, len)` is stored at `at`.
    #[inline]
    pub(crate) fn load_string(&self, at: u32) -> Result<String, Trap> {
        let (ptr, len) = (self.load_int(at, 4)?, self.load_int(at + 4, 4)?);
        self.load_string_range(ptr as u32, len as u32)
    }

    fn load_string_range(&self, ptr: u32, tagged: u32) -> Result<String, Trap> {
        let (align, bytes, utf16) = match self.opts.encoding {
            StringEncoding::Utf8 => (1, tagged as u64, false),
            StringEncoding::Utf16 => (2, 2 * tagged as u64, true),
            StringEncoding::CompactUtf16 if tagged & UTF16_TAG != 0 => {
                (2, 2 * (tagged ^ UTF16_TAG) as u64, true)
            }
            StringEncoding::CompactUtf16 => (2, tagged as u64, false),
        };
        if bytes > MAX_BYTE_LENGTH {
            return Err(Trap::fixed("string content out-of-bounds"));
        }
        self.check_range(ptr, bytes, align, "string")?;
        let raw = self.bytes(ptr, bytes as u32)?;
        match (self.opts.encoding, self.opts.transcoder) {
            (StringEncoding::Utf8, _) => match core::str::from_utf8(raw) {
                Ok(s) => Ok(s.to_string()),
                Err(e) if e.error_len().is_none() => {
                    Err(Trap::fixed("incomplete utf-8 byte sequence"))
                }
                Err(_) => Err(Trap::fixed("invalid utf-8")),
            },
            (_, Some(t)) => (t.decode)(raw, utf16),
            (_, None) => Err(no_transcoder()),
        }
    }

    fn load_list_range(&mut self, elem: &Type, ptr: u32, len: u32) -> Result<Value, Trap> {
        self.load_elems(elem, ptr, len, |cx, at| cx.load(elem, at))
            .map(Value::List)
    }

    /// A map is loaded as the list of `(k, v)` tuples it is in memory.
    fn load_map_range(&mut self, k: &Type, v: &Type, ptr: u32, len: u32) -> Result<Value, Trap> {
        let value_at = abi::map_value_offset(k, v);
        self.load_elems(&abi::map_entry(k, v), ptr, len, |cx, at| {
            Ok((cx.load(k, at)?, cx.load(v, at + value_at)?))
        })
        .map(Value::Map)
    }

    /// Checks the range of `len` elements of type `elem` at `ptr`, then loads
    /// each with `load_one(cx, address)`.
    fn load_elems<T>(
        &mut self,
        elem: &Type,
        ptr: u32,
        len: u32,
        mut load_one: impl FnMut(&mut Self, u32) -> Result<T, Trap>,
    ) -> Result<Vec<T>, Trap> {
        let size = abi::size(elem);
        self.check_list(size, abi::alignment(elem), ptr, len)?;
        (0..len).map(|i| load_one(self, ptr + i * size)).collect()
    }

    /// Checks that a list of `len` elements of `size` bytes aligned to
    /// `align` at `ptr` is within the spec's limit and in memory.
    pub(crate) fn check_list(&self, size: u32, align: u32, ptr: u32, len: u32) -> Result<(), Trap> {
        let bytes = len as u64 * size as u64;
        if bytes > MAX_BYTE_LENGTH {
            return Err(Trap::fixed("list content out-of-bounds"));
        }
        self.check_range(ptr, bytes, align, "list")
    }

    /// `lift_own`: the handle leaves the guest's table for the host's (or, for
    /// a host-defined resource, becomes its representation again).
    fn lift_own(&mut self, r: ResourceType, i: u32) -> Result<Value, Trap> {
        self.own_handle(r, i).map(Value::Own)
    }

    /// The handle `lift_own` gives the host.
    pub(crate) fn own_handle(&mut self, r: ResourceType, i: u32) -> Result<ResourceAny, Trap> {
        let mut tables = self.state.tables.borrow_mut();
        let h = tables.instances[self.instance as usize]
            .table
            .take_own(i, r.0)?;
        if self.state.imported(r) {
            return Ok(ResourceAny::host(r, h.rep));
        }
        let index = tables.host.add(Handle::own(r.0, h.rep))?;
        Ok(self.state.resource_any(index, r))
    }

    /// `lift_borrow` (for the host): a host entry that lives for this call.
    fn lift_borrow(&mut self, r: ResourceType, i: u32) -> Result<Value, Trap> {
        self.borrow_handle(r, i).map(Value::Borrow)
    }

    /// The handle `lift_borrow` lends the host.
    pub(crate) fn borrow_handle(&mut self, r: ResourceType, i: u32) -> Result<ResourceAny, Trap> {
        let mut tables = self.state.tables.borrow_mut();
        let rep = tables.instances[self.instance as usize]
            .table
            .get_typed(i, r.0)?
            .rep;
        if self.state.imported(r) {
            return Ok(ResourceAny::host(r, rep));
        }
        let index = tables.host.add(Handle {
            own: false,
            ..Handle::own(r.0, rep)
        })?;
        self.temps.push(index);
        Ok(self.state.resource_any(index, r))
    }

    /// Removes the host entries made for borrows lent to the host.
    pub fn drop_temps(&mut self) {
        let mut tables = self.state.tables.borrow_mut();
        for i in self.temps.drain(..) {
            let _ = tables.host.remove(i);
        }
    }

    // --------------------------------------------------------------- lowering

    pub fn lower_flat(&mut self, v: &Value, t: &Type, out: &mut FlatBuf) -> Result<(), Trap> {
        match (v, t) {
            (Value::Bool(b), _) => out.push(*b as u64),
            (Value::S8(x), _) => out.push(*x as i32 as u32 as u64),
            (Value::U8(x), _) => out.push(*x as u64),
            (Value::S16(x), _) => out.push(*x as i32 as u32 as u64),
            (Value::U16(x), _) => out.push(*x as u64),
            (Value::S32(x), _) => out.push(*x as u32 as u64),
            (Value::U32(x), _) => out.push(*x as u64),
            (Value::S64(x), _) => out.push(*x as u64),
            (Value::U64(x), _) => out.push(*x),
            (Value::F32(x), _) => out.push(canon_f32(x.to_bits()).to_bits() as u64),
            (Value::F64(x), _) => out.push(canon_f64(x.to_bits()).to_bits()),
            (Value::Char(c), _) => out.push(*c as u64),
            (Value::String(s), _) => self.lower_string(s, out)?,
            (Value::List(vs), Type::List(e)) => {
                let (ptr, len) = self.store_list(vs, e)?;
                out.push(ptr as u64);
                out.push(len as u64);
            }
            (Value::Map(es), Type::Map(k, v)) => {
                let (ptr, len) = self.store_map(es, k, v)?;
                out.push(ptr as u64);
                out.push(len as u64);
            }
            (Value::Record(fs), Type::Record(ts)) => {
                for ((_, v), (_, t)) in fs.iter().zip(ts) {
                    self.lower_flat(v, t, out)?;
                }
            }
            (Value::Tuple(vs), Type::Tuple(ts)) => {
                for (v, t) in vs.iter().zip(ts) {
                    self.lower_flat(v, t, out)?;
                }
            }
            (Value::Flags(set), Type::Flags(names)) => {
                flags_to_bits(set, names)
                    .into_iter()
                    .for_each(|w| out.push(w.into()));
            }
            (Value::Own(h), Type::Own(r)) => out.push(self.lower_own(*h, *r)? as u64),
            (Value::Own(h) | Value::Borrow(h), Type::Borrow(r)) => {
                out.push(self.lower_borrow(*h, *r)? as u64)
            }
            _ => {
                let width = abi::flatten(t).len();
                let (index, payload) = case_of(t, v);
                let start = out.len();
                out.push(index as u64);
                let cs = abi::cases(t).unwrap_or_default();
                if let (Some(p), Some(Some(pt))) = (payload, cs.get(index)) {
                    self.lower_flat(p, pt, out)?;
                }
                out.resize(start + width);
            }
        }
        Ok(())
    }

    pub fn store(&mut self, v: &Value, t: &Type, ptr: u32) -> Result<(), Trap> {
        match (v, t) {
            (Value::String(s), _) => self.store_string_at(s, ptr),
            (Value::List(vs), Type::List(e)) => {
                let (p, l) = self.store_list(vs, e)?;
                self.store_int(ptr, 4, p as u64)?;
                self.store_int(ptr + 4, 4, l as u64)
            }
            (Value::Map(es), Type::Map(k, v)) => {
                let (p, l) = self.store_map(es, k, v)?;
                self.store_int(ptr, 4, p as u64)?;
                self.store_int(ptr + 4, 4, l as u64)
            }
            (Value::Record(_) | Value::Tuple(_), _) => {
                let items: Vec<&Value> = match v {
                    Value::Record(fs) => fs.iter().map(|(_, v)| v).collect(),
                    Value::Tuple(vs) => vs.iter().collect(),
                    _ => Vec::new(),
                };
                let fields = abi::fields(t).unwrap_or_default();
                items
                    .into_iter()
                    .zip(abi::field_offsets(fields, ptr))
                    .try_for_each(|(v, (ft, at))| self.store(v, ft, at))
            }
            (Value::Flags(set), Type::Flags(names)) => {
                let words = flags_to_bits(set, names);
                let n = abi::flags_size(names.len());
                if n <= 4 {
                    return self.store_int(ptr, n, words[0] as u64);
                }
                for (k, w) in words.into_iter().enumerate() {
                    self.store_int(ptr + 4 * k as u32, 4, w as u64)?;
                }
                Ok(())
            }
            (Value::Variant(..) | Value::Enum(_) | Value::Option(_) | Value::Result(_), _) => {
                let cs = abi::cases(t).unwrap_or_default();
                let (index, payload) = case_of(t, v);
                self.store_int(ptr, abi::discriminant_size(cs.len()), index as u64)?;
                match (payload, cs.get(index)) {
                    (Some(p), Some(Some(pt))) => self.store(p, pt, ptr + abi::payload_offset(&cs)),
                    _ => Ok(()),
                }
            }
            _ => {
                let mut flat = FlatBuf::new();
                self.lower_flat(v, t, &mut flat)?;
                let bits = flat.values()?.first().copied().unwrap_or(0);
                self.store_int(ptr, abi::size(t), bits)
            }
        }
    }

    /// Calls the guest's `realloc(0, 0, align, size)` and checks its answer.
    pub fn realloc(&mut self, align: u32, size: u32) -> Result<u32, Trap> {
        self.reallocate((0, 0), align, size)
    }

    /// Calls the guest's `realloc(old.0, old.1, align, size)` and checks its
    /// answer as the Canonical ABI checks every pointer `realloc` returns.
    fn reallocate(&mut self, old: (u32, u32), align: u32, size: u32) -> Result<u32, Trap> {
        let f = self
            .opts
            .realloc
            .ok_or_else(|| Trap::fixed("canonical option `realloc` is required"))?;
        // The validator checked realloc's core type when the component was
        // built: four i32s in, one i32 out.
        let mut args = [old.0, old.1, align, size].map(ValRaw::from_u32);
        f.call(self.store, &mut args)?;
        let ptr = args[0].u32();
        if !ptr.is_multiple_of(align) {
            return Err(Trap::fixed("realloc return: result not aligned"));
        }
        let mem = self.memory()?.len() as u64;
        if ptr as u64 + size as u64 > mem {
            return Err(Trap::fixed("realloc return: beyond end of memory"));
        }
        Ok(ptr)
    }

    /// Lowers a string to its flat `(ptr, len)`.
    pub(crate) fn lower_string(&mut self, s: &str, out: &mut FlatBuf) -> Result<(), Trap> {
        let (ptr, len) = self.store_string(s)?;
        out.push(ptr as u64);
        out.push(len as u64);
        Ok(())
    }

    /// Stores a string's `(ptr, len)` at `at`.
    pub(crate) fn store_string_at(&mut self, s: &str, at: u32) -> Result<(), Trap> {
        let (p, l) = self.store_string(s)?;
        self.store_int(at, 4, p as u64)?;
        self.store_int(at + 4, 4, l as u64)
    }

    /// Stores a host string (UTF-8) as the spec's `store_string` does for a
    /// UTF-8 source, with its `realloc` calls and its writes in their order
    /// (a guest's `realloc` sees the contents it is trusted to keep): a copy
    /// into UTF-8; into UTF-16 a worst case of two bytes per source byte,
    /// written, then shrunk to fit; into `latin1+utf16`
    /// [`Self::store_latin1_or_utf16`].
    fn store_string(&mut self, s: &str) -> Result<(u32, u32), Trap> {
        if s.len() as u64 > MAX_BYTE_LENGTH {
            return Err(Trap::fixed("string too long"));
        }
        let n = s.len() as u32;
        let encoding = self.opts.encoding;
        if encoding == StringEncoding::Utf8 {
            let ptr = self.realloc(1, n)?;
            self.write(ptr, s.as_bytes())?;
            return Ok((ptr, n));
        }
        let transcoder = self.opts.transcoder.ok_or_else(no_transcoder)?;
        let utf16 = (transcoder.utf16)(s);
        if encoding == StringEncoding::CompactUtf16 {
            return self.store_latin1_or_utf16(n, &utf16);
        }
        let mut ptr = self.realloc(2, 2 * n)?;
        self.write(ptr, &utf16)?;
        let size = utf16.len() as u32;
        if size < 2 * n {
            ptr = self.reallocate((ptr, 2 * n), 2, size)?;
        }
        Ok((ptr, size / 2))
    }

    /// The spec's `store_string_to_latin1_or_utf16` from `n` bytes of UTF-8
    /// (`utf16` is the string in UTF-16): one byte per source byte is
    /// allocated and the Latin-1 prefix written there; if a code point is
    /// beyond Latin-1, the allocation grows to two bytes per source byte,
    /// the prefix `realloc` kept is inflated in place and the rest written
    /// as UTF-16; either is shrunk to fit.
    fn store_latin1_or_utf16(&mut self, n: u32, utf16: &[u8]) -> Result<(u32, u32), Trap> {
        let units = utf16
            .chunks_exact(2)
            .map(|u| u16::from_le_bytes([u[0], u[1]]));
        let latin1: Vec<u8> = units.map_while(|u| u8::try_from(u).ok()).collect();
        let k = latin1.len() as u32;
        let mut ptr = self.realloc(2, n)?;
        self.write(ptr, &latin1)?;
        if 2 * latin1.len() == utf16.len() {
            if k < n {
                ptr = self.reallocate((ptr, n), 2, k)?;
            }
            return Ok((ptr, k));
        }
        ptr = self.reallocate((ptr, n), 2, 2 * n)?;
        let inflated: Vec<u8> = self.bytes(ptr, k)?.iter().flat_map(|&b| [b, 0]).collect();
        self.write(ptr, &inflated)?;
        self.write(ptr + 2 * k, &utf16[2 * k as usize..])?;
        let size = utf16.len() as u32;
        if size < 2 * n {
            ptr = self.reallocate((ptr, 2 * n), 2, size)?;
        }
        Ok((ptr, (size / 2) | UTF16_TAG))
    }

    fn store_list(&mut self, vs: &[Value], e: &Type) -> Result<(u32, u32), Trap> {
        self.store_elems(vs, e, |cx, v, at| cx.store(v, e, at))
    }

    /// A map is stored as the list of `(k, v)` tuples it is in memory.
    fn store_map(&mut self, es: &[(Value, Value)], k: &Type, v: &Type) -> Result<(u32, u32), Trap> {
        let value_at = abi::map_value_offset(k, v);
        self.store_elems(es, &abi::map_entry(k, v), |cx, (kv, vv), at| {
            cx.store(kv, k, at)?;
            cx.store(vv, v, at + value_at)
        })
    }

    /// Allocates room for `items` as elements of type `elem` in the guest and
    /// stores each with `store_one(cx, item, address)`; returns `(ptr, len)`.
    fn store_elems<T>(
        &mut self,
        items: &[T],
        elem: &Type,
        mut store_one: impl FnMut(&mut Self, &T, u32) -> Result<(), Trap>,
    ) -> Result<(u32, u32), Trap> {
        let size = abi::size(elem);
        let ptr = self.alloc_list(size, abi::alignment(elem), items.len())?;
        for (i, item) in items.iter().enumerate() {
            store_one(self, item, ptr + i as u32 * size)?;
        }
        Ok((ptr, items.len() as u32))
    }

    /// Allocates room in the guest for a list of `len` elements of `size`
    /// bytes aligned to `align` (within the spec's limit).
    pub(crate) fn alloc_list(&mut self, size: u32, align: u32, len: usize) -> Result<u32, Trap> {
        let bytes = len as u64 * size as u64;
        if bytes > MAX_BYTE_LENGTH {
            return Err(Trap::fixed("list too long"));
        }
        self.realloc(align, bytes as u32)
    }

    /// `lower_own`: the host's handle moves into the guest's table.
    pub(crate) fn lower_own(&mut self, h: ResourceAny, r: ResourceType) -> Result<u32, Trap> {
        self.state.check_owner(h)?;
        let mut tables = self.state.tables.borrow_mut();
        let rep = match h.owner {
            None => h.index,
            Some(_) => tables.host.take_own(h.index, r.0)?.rep,
        };
        tables.instances[self.instance as usize]
            .table
            .add(Handle::own(r.0, rep))
    }

    /// `lower_borrow`: lends the host's handle for the current call of the
    /// guest instance (the rep itself if the guest defines the resource).
    pub(crate) fn lower_borrow(&mut self, h: ResourceAny, r: ResourceType) -> Result<u32, Trap> {
        self.state.check_owner(h)?;
        let defines = self.state.defines(self.instance, r);
        let mut tables = self.state.tables.borrow_mut();
        if tables.instances[self.instance as usize].frames.is_empty() {
            return Err(Trap::fixed("borrow lent outside a call"));
        }
        let tables = &mut *tables;
        let inst = &mut tables.instances[self.instance as usize];
        let depth = inst.frames.len().checked_sub(1);
        let frame = inst
            .frames
            .last_mut()
            .ok_or_else(|| Trap::fixed("borrow lent outside a call"))?;
        let src = match h.owner {
            // The host keeps a host-defined resource alive itself.
            None => h.index,
            Some(_) => {
                let src = tables.host.get_typed(h.index, r.0)?.rep;
                tables.host.get_mut(h.index)?.lends += 1;
                frame.lenders.push((Holder::Host, h.index));
                src
            }
        };
        if defines {
            return Ok(src);
        }
        frame.borrows += 1;
        inst.table.add(Handle {
            own: false,
            scope: depth,
            ..Handle::own(r.0, src)
        })
    }
}
