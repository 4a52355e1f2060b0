//! Reading a [`Unit`] from the bytes [`Unit::encode`] writes, without serde.
//!
//! The compiler writes a unit with postcard through serde's derived
//! `Serialize`, and postcard stays the definition of the format. The runtime
//! reads it with this module instead of serde's derived `Deserialize`:
//! serde's visitors and postcard's deserializer were a sixth of a small
//! `no_std` host's code, and reading postcard's wire format needs much less.
//! The tests below check that this reader and serde's agree, on good bytes
//! and on corrupt ones.
//!
//! The wire format, as postcard writes the descriptor's types: unsigned
//! integers above 8 bits as LEB128 varints, signed ones zigzag-encoded first;
//! `u8` and `bool` as one byte; `Option` as a 0/1 byte and the value; a
//! sequence or string as its varint length and its elements; a struct or tuple
//! as its fields in order; an enum as its variant's varint index (declaration
//! order) and the variant's fields.
//!
//! Errors are sticky rather than `Result`s: the first one is recorded, and
//! from then on every read gives zero, so every length is zero and decoding
//! runs to the end at once. Without an early return on every field, the
//! decoders have no paths that drop half-built values, which halves their
//! code.

use crate::component::*;
use crate::*;

/// Decodes a whole unit; trailing bytes are an error.
pub(crate) fn unit(bytes: &[u8]) -> Result<Unit, String> {
    let mut r = Reader {
        bytes,
        pos: 0,
        error: None,
    };
    let unit = <Unit as Decode>::decode(&mut r);
    if r.pos != bytes.len() {
        r.fail("trailing bytes");
    }
    match r.error {
        None => Ok(unit),
        Some((at, why)) => Err(format!("corrupt unit metadata at byte {at}: {why}")),
    }
}

/// A cursor over the encoded bytes, with the first error and where it was.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    error: Option<(usize, &'static str)>,
}

impl Reader<'_> {
    /// Records `why` unless an earlier error is recorded, and stops reading.
    /// Out of line: every decoder has several error paths, and none is hot.
    #[cold]
    #[inline(never)]
    fn fail(&mut self, why: &'static str) {
        if self.error.is_none() {
            self.error = Some((self.pos, why));
        }
        self.pos = self.bytes.len();
    }

    #[inline(never)]
    fn byte(&mut self) -> u8 {
        match self.bytes.get(self.pos) {
            Some(&b) if self.error.is_none() => {
                self.pos += 1;
                b
            }
            _ => {
                self.fail("unexpected end");
                0
            }
        }
    }

    /// A LEB128 varint of at most `bits` bits. Not inlined: one copy serves
    /// every integer width.
    #[inline(never)]
    fn varint(&mut self, bits: u32) -> u128 {
        let mut value = 0u128;
        let mut shift = 0;
        loop {
            let b = self.byte();
            let low = u128::from(b & 0x7f);
            if shift >= bits || (shift > 0 && low >> (bits - shift) != 0) {
                self.fail("varint too large");
                return 0;
            }
            value |= low << shift;
            if b & 0x80 == 0 {
                return value;
            }
            shift += 7;
        }
    }

    /// An enum's variant index, checked to be below `count`; 0 after an error.
    #[inline(never)]
    fn variant(&mut self, count: u32) -> u32 {
        let i = u32::decode(self);
        if i >= count {
            self.fail("invalid variant");
            return 0;
        }
        i
    }

    /// A sequence's length, no more than the bytes left (every element takes
    /// at least one), so a corrupt length cannot reserve huge amounts.
    #[inline(never)]
    fn len(&mut self) -> usize {
        let n = usize::decode(self);
        if n > self.bytes.len() - self.pos {
            self.fail("length past the end");
            return 0;
        }
        n
    }
}

trait Decode {
    fn decode(r: &mut Reader) -> Self;
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode(r: &mut Reader) -> Self {
                r.varint(<$t>::BITS) as $t
            }
        }
    )*};
}
unsigned!(u32, u64, u128, usize);

macro_rules! signed {
    ($($t:ty: $u:ty),*) => {$(
        impl Decode for $t {
            fn decode(r: &mut Reader) -> Self {
                let z = <$u>::decode(r);
                (z >> 1) as $t ^ -((z & 1) as $t)
            }
        }
    )*};
}
signed!(i32: u32, i64: u64);

impl Decode for bool {
    fn decode(r: &mut Reader) -> Self {
        match r.byte() {
            0 => false,
            1 => true,
            _ => {
                r.fail("invalid bool");
                false
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut Reader) -> Self {
        match r.byte() {
            0 => None,
            1 => Some(T::decode(r)),
            _ => {
                r.fail("invalid option tag");
                None
            }
        }
    }
}

impl<T: Decode + Clone> Decode for List<T> {
    fn decode(r: &mut Reader) -> Self {
        let n = r.len();
        List::Owned((0..n).map(|_| T::decode(r)).collect())
    }
}

impl Decode for Text {
    fn decode(r: &mut Reader) -> Self {
        let n = r.len();
        let bytes = &r.bytes[r.pos..r.pos + n];
        match core::str::from_utf8(bytes) {
            Ok(s) => {
                r.pos += n;
                Text::Owned(s.into())
            }
            Err(_) => {
                r.fail("invalid UTF-8");
                Text::Borrowed("")
            }
        }
    }
}

impl<A: Decode, B: Decode> Decode for (A, B) {
    fn decode(r: &mut Reader) -> Self {
        (A::decode(r), B::decode(r))
    }
}

/// Structs: their fields in declaration order.
macro_rules! structs {
    ($($ty:ident { $($field:ident),* $(,)? })*) => {$(
        impl Decode for $ty {
            fn decode(r: &mut Reader) -> Self {
                $ty { $($field: Decode::decode(r)),* }
            }
        }
    )*};
}

structs! {
    Unit { bounds, modules, component }
    FuncType { params, results }
    MemoryType { minimum, maximum }
    TableType { element, minimum, maximum }
    GlobalType { content, mutable }
    Import { module, name, ty }
    Export { name, index }
    ElementSegment { element, mode, items }
    DataSegment { mode, start, len }
    FunctionCode { len, traps, name }
    Module {
        types, imports, functions, defined_function_base, tables, memories,
        globals, global_inits, tags, exports, start, elements, data,
        array_trampolines, host_trampolines, code, layout,
    }
    VmctxLayout {
        types, imported_functions, memories, tables, globals, defined_memories,
        defined_tables, defined_globals, functions, type_ids,
        imported_functions_offset, memory_pointers, table_pointers,
        global_pointers, defined_memories_offset, defined_tables_offset,
        defined_globals_offset, funcrefs, tags, defined_tags, tag_pointers,
        defined_tags_offset, size,
    }
    ComponentFuncType { params, result }
    CanonOptions { memory, realloc, post_return, string_encoding }
    ComponentInstance { parent }
    ResourceDef { instance, imported, dtor, name }
    Lift { func, ty, options, instance, layout }
    CallLayout { spill, spill_result, wide_result, reallocs, lends }
    Spill { align, size, offsets }
    HostLower { import, options, instance }
    ComponentImport { name, ty }
    ComponentExport { name, lift }
    Component {
        types, func_types, resources, instances, imports, host_lowers, lifts,
        steps, exports, module_imports, type_names, docs,
    }
}

/// Enums whose variants carry nothing: the variant index picks one from the
/// list of every variant in declaration order.
macro_rules! unit_enums {
    ($($ty:ident = $all:expr;)*) => {$(
        impl Decode for $ty {
            fn decode(r: &mut Reader) -> Self {
                let all = $all;
                all[r.variant(all.len() as u32) as usize]
            }
        }
    )*};
}

unit_enums! {
    BoundsMode = [BoundsMode::Guard, BoundsMode::Explicit];
    StringEncoding = [StringEncoding::Utf8, StringEncoding::Utf16, StringEncoding::CompactUtf16];
    ValType = ValType::ALL;
    TrapKind = TrapKind::ALL;
}

/// Enums whose variants carry fields: `index => Variant(fields…)` or
/// `index => Variant { fields… }`, each field decoded in order; the indices
/// run from 0 without gaps. Variant 0 is read (as zeros) after an invalid
/// index.
macro_rules! enums {
    ($($ty:ident {
        $($i:literal => $variant:ident $(($($tuple:ident),*))? $({$($named:ident),*})?),* $(,)?
    })*) => {$(
        impl Decode for $ty {
            fn decode(r: &mut Reader) -> Self {
                match r.variant([$($i),*].len() as u32) {
                    $($i => $ty::$variant
                        $(($({ let $tuple = Decode::decode(r); $tuple }),*))?
                        $({$($named: Decode::decode(r)),*})?,)*
                    _ => unreachable!("variant() checked the index"),
                }
            }
        }
    )*};
}

enums! {
    ExternIndex { 0 => Func(x), 1 => Table(x), 2 => Memory(x), 3 => Global(x), 4 => Tag(x) }
    ImportType { 0 => Func(x), 1 => Table(x), 2 => Memory(x), 3 => Global(x), 4 => Tag(x) }
    ConstExpr {
        0 => I32(x), 1 => I64(x), 2 => F32(x), 3 => F64(x), 4 => V128(x),
        5 => RefNull, 6 => RefFunc(x), 7 => GlobalGet(x), 8 => I32Arith(x), 9 => I64Arith(x),
    }
    ConstOp { 0 => Const(x), 1 => GlobalGet(x), 2 => Add, 3 => Sub, 4 => Mul }
    SegmentMode { 0 => Passive, 1 => Active { index, offset }, 2 => Declared }
    ValueType {
        0 => Bool, 1 => S8, 2 => U8, 3 => S16, 4 => U16, 5 => S32, 6 => U32,
        7 => S64, 8 => U64, 9 => F32, 10 => F64, 11 => Char, 12 => String,
        13 => List(x), 14 => Map(k, v), 15 => Record(x), 16 => Tuple(x),
        17 => Variant(x), 18 => Enum(x), 19 => Option(x), 20 => Result { ok, err },
        21 => Flags(x), 22 => Own(x), 23 => Borrow(x),
    }
    CoreDef {
        0 => Export { instance, name }, 1 => HostLower(x),
        2 => ResourceNew { resource, instance }, 3 => ResourceRep { resource, instance },
        4 => ResourceDrop { resource, instance }, 5 => Intrinsic(x),
    }
    Intrinsic {
        0 => InstanceFlags(x), 1 => TransferOwn { resource, from, to },
        2 => TransferBorrow { resource, from, to }, 3 => EnterCall(x), 4 => ExitCall(x),
        5 => Trap,
    }
    Step { 0 => Instantiate { module, args } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn s(x: &str) -> Text {
        Text::Owned(x.into())
    }

    /// A unit using every variant of every enum and both states of every
    /// `Option`, with integers at the edges of their varint ranges.
    fn every_variant() -> Unit {
        let export = |name: &str| CoreDef::Export {
            instance: u32::MAX,
            name: s(name),
        };
        let options = CanonOptions {
            memory: Some(export("memory")),
            realloc: None,
            post_return: Some(CoreDef::HostLower(7)),
            string_encoding: StringEncoding::CompactUtf16,
        };
        let types = vec![
            ValueType::Bool,
            ValueType::S8,
            ValueType::U8,
            ValueType::S16,
            ValueType::U16,
            ValueType::S32,
            ValueType::U32,
            ValueType::S64,
            ValueType::U64,
            ValueType::F32,
            ValueType::F64,
            ValueType::Char,
            ValueType::String,
            ValueType::List(1),
            ValueType::Map(2, 3),
            ValueType::Record(vec![(s("a"), 4), (s("ü"), 5)].into()),
            ValueType::Tuple(vec![6, 7].into()),
            ValueType::Variant(vec![(s("x"), None), (s("y"), Some(8))].into()),
            ValueType::Enum(vec![s("e")].into()),
            ValueType::Option(9),
            ValueType::Result {
                ok: Some(10),
                err: None,
            },
            ValueType::Flags(vec![s("f"), s("g")].into()),
            ValueType::Own(11),
            ValueType::Borrow(12),
        ];
        let intrinsics = [
            Intrinsic::InstanceFlags(1),
            Intrinsic::TransferOwn {
                resource: 1,
                from: 2,
                to: 3,
            },
            Intrinsic::TransferBorrow {
                resource: 4,
                from: 5,
                to: 6,
            },
            Intrinsic::EnterCall(7),
            Intrinsic::ExitCall(8),
            Intrinsic::Trap,
        ];
        let mut args = vec![
            export(""),
            CoreDef::HostLower(0),
            CoreDef::ResourceNew {
                resource: 1,
                instance: 2,
            },
            CoreDef::ResourceRep {
                resource: 3,
                instance: 4,
            },
            CoreDef::ResourceDrop {
                resource: 5,
                instance: 6,
            },
        ];
        args.extend(intrinsics.map(CoreDef::Intrinsic));
        let component = Component {
            types: types.into(),
            func_types: vec![ComponentFuncType {
                params: vec![(s("p"), 0)].into(),
                result: Some(1),
            }]
            .into(),
            resources: vec![ResourceDef {
                instance: 0,
                imported: true,
                dtor: Some(export("dtor")),
                name: s("r"),
            }]
            .into(),
            instances: vec![
                ComponentInstance { parent: None },
                ComponentInstance { parent: Some(0) },
            ]
            .into(),
            imports: vec![ComponentImport {
                name: s("i"),
                ty: 0,
            }]
            .into(),
            host_lowers: vec![HostLower {
                import: 0,
                options: options.clone(),
                instance: 1,
            }]
            .into(),
            lifts: vec![Lift {
                func: export("f"),
                ty: 0,
                options,
                instance: 0,
                layout: CallLayout {
                    spill: Some(Spill {
                        align: 4,
                        size: 12,
                        offsets: vec![0, 4, 8].into(),
                    }),
                    spill_result: Some((8, 16)),
                    wide_result: true,
                    reallocs: true,
                    lends: false,
                },
            }]
            .into(),
            steps: vec![Step::Instantiate {
                module: 0,
                args: args.into(),
            }]
            .into(),
            exports: vec![ComponentExport {
                name: s("e"),
                lift: 0,
            }]
            .into(),
            module_imports: vec![s("m")].into(),
            type_names: vec![(3, s("t"))].into(),
            docs: vec![(s("d"), s("doc"))].into(),
        };
        let counts = ModuleCounts {
            types: 300,
            functions: u32::MAX / 64,
            ..Default::default()
        };
        let module = Module {
            types: vec![FuncType {
                params: ValType::ALL.to_vec().into(),
                results: vec![].into(),
            }]
            .into(),
            imports: vec![
                Import {
                    module: s("m"),
                    name: s("f"),
                    ty: ImportType::Func(0),
                },
                Import {
                    module: s("m"),
                    name: s("t"),
                    ty: ImportType::Table(TableType {
                        element: ValType::FuncRef,
                        minimum: 1,
                        maximum: None,
                    }),
                },
                Import {
                    module: s("m"),
                    name: s("m"),
                    ty: ImportType::Memory(MemoryType {
                        minimum: 0,
                        maximum: Some(u64::MAX),
                    }),
                },
                Import {
                    module: s("m"),
                    name: s("g"),
                    ty: ImportType::Global(GlobalType {
                        content: ValType::I64,
                        mutable: true,
                    }),
                },
                Import {
                    module: s("m"),
                    name: s("x"),
                    ty: ImportType::Tag(0),
                },
            ]
            .into(),
            functions: vec![0, 0].into(),
            defined_function_base: 128,
            tables: vec![].into(),
            memories: vec![MemoryType {
                minimum: 1,
                maximum: None,
            }]
            .into(),
            globals: vec![GlobalType {
                content: ValType::F32,
                mutable: false,
            }]
            .into(),
            global_inits: vec![
                ConstExpr::I32(i32::MIN),
                ConstExpr::I32(-1),
                ConstExpr::I64(i64::MAX),
                ConstExpr::I64(i64::MIN),
                ConstExpr::F32(u32::MAX),
                ConstExpr::F64(1 << 63),
                ConstExpr::V128(u128::MAX),
                ConstExpr::RefNull,
                ConstExpr::RefFunc(1),
                ConstExpr::GlobalGet(0),
                ConstExpr::I32Arith(
                    vec![ConstOp::GlobalGet(0), ConstOp::Const(-7), ConstOp::Add].into(),
                ),
                ConstExpr::I64Arith(
                    vec![
                        ConstOp::Const(i64::MIN),
                        ConstOp::GlobalGet(0),
                        ConstOp::Sub,
                        ConstOp::GlobalGet(0),
                        ConstOp::Mul,
                    ]
                    .into(),
                ),
            ]
            .into(),
            tags: vec![0].into(),
            exports: [
                ExternIndex::Func(1),
                ExternIndex::Table(0),
                ExternIndex::Memory(0),
                ExternIndex::Global(0),
                ExternIndex::Tag(0),
            ]
            .map(|index| Export {
                name: s("x"),
                index,
            })
            .to_vec()
            .into(),
            start: Some(1),
            elements: vec![ElementSegment {
                element: ValType::FuncRef,
                mode: SegmentMode::Active {
                    index: 0,
                    offset: ConstExpr::I32(3),
                },
                items: vec![ConstExpr::RefFunc(0)].into(),
            }]
            .into(),
            data: vec![
                DataSegment {
                    mode: SegmentMode::Passive,
                    start: 0,
                    len: 3,
                },
                DataSegment {
                    mode: SegmentMode::Declared,
                    start: 3,
                    len: 0,
                },
            ]
            .into(),
            array_trampolines: vec![0].into(),
            host_trampolines: vec![1].into(),
            code: vec![FunctionCode {
                len: 99,
                traps: TrapKind::ALL
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (i as u32, *k))
                    .collect(),
                name: Some(s("f")),
            }]
            .into(),
            layout: VmctxLayout::new(&counts),
        };
        Unit {
            bounds: BoundsMode::Explicit,
            modules: vec![
                module.clone(),
                Module {
                    start: None,
                    ..module
                },
            ]
            .into(),
            component: Some(component),
        }
    }

    #[test]
    fn reads_what_postcard_writes_as_serde_does() {
        let unit = every_variant();
        let bytes = unit.encode();
        let by_serde: Unit = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(by_serde, unit);
        assert_eq!(super::unit(&bytes), Ok(unit));
        let core = Unit {
            component: None,
            ..every_variant()
        };
        assert_eq!(super::unit(&core.encode()), Ok(core));
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_an_error() {
        let bytes = every_variant().encode();
        for end in 0..bytes.len() {
            let err = super::unit(&bytes[..end]).unwrap_err();
            assert!(err.starts_with("corrupt unit metadata at byte"), "{err}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let err = super::unit(&longer).unwrap_err();
        assert!(err.ends_with("trailing bytes"), "{err}");
    }

    #[test]
    fn corrupt_bytes_are_errors_as_with_serde() {
        let bytes = every_variant().encode();
        // Every byte flipped to each of a few values: either both readers
        // fail, or both read the same unit.
        for i in 0..bytes.len() {
            for b in [0x00, 0x01, 0x05, 0x7f, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[i] = b;
                let ours = super::unit(&bad).ok();
                let serde = postcard::from_bytes::<Unit>(&bad).ok().filter(|_| {
                    postcard::take_from_bytes::<Unit>(&bad).is_ok_and(|(_, r)| r.is_empty())
                });
                assert_eq!(ours, serde, "byte {i} set to {b:#x}");
            }
        }
    }

    #[test]
    fn varints_past_their_width_are_errors() {
        fn read<T: Decode>(bytes: &[u8]) -> (T, Option<(usize, &'static str)>) {
            let mut r = Reader {
                bytes,
                pos: 0,
                error: None,
            };
            (T::decode(&mut r), r.error)
        }
        let too_large = Some((5, "varint too large"));
        assert_eq!(read::<u32>(&[0xff, 0xff, 0xff, 0xff, 0x1f]), (0, too_large));
        assert_eq!(
            read::<u32>(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            (u32::MAX, None)
        );
        let too_long = Some((11, "varint too large"));
        assert_eq!(read::<u64>(&[0x80; 11]), (0, too_long));
        assert_eq!(read::<u64>(&[0x80]), (0, Some((1, "unexpected end"))));
    }
}
