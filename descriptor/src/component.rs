//! The component part of a unit: the flat instantiation plan the compiler's
//! flatten stage produces and the runtime executes.
//!
//! A component unit holds every distinct core module of the component (each
//! compiled once, however often it is instantiated) and every generated adapter
//! module in [`crate::Unit::modules`]; [`Component`] says how to instantiate them,
//! in which order, with which imports, and what reaches the host.
//!
//! Indices:
//! * *core instance* `i`: the instance created by the `i`-th [`Step::Instantiate`].
//! * *component instance* `c`: an entry of [`Component::instances`]; 0 is the root
//!   (the component the host instantiates); nested ones name their parent. Each
//!   has the Canonical ABI's per-instance state: `may_leave`, `may_enter`, the
//!   handle table, and the poisoned flag set when a trap unwinds through it.
//! * *type* `t`: an entry of [`Component::types`]; *function type* `f`: an entry
//!   of [`Component::func_types`]; *resource* `r`: an entry of
//!   [`Component::resources`].

use crate::{List, Text};
use serde::{Deserialize, Serialize};

/// A component value type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub enum ValueType {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    /// `list<t>`.
    List(u32),
    /// `map<k, v>`: laid out and passed exactly like `list<tuple<k, v>>` (the
    /// Canonical ABI despecializes it), but kept distinct so bindings and
    /// messages can name it. `k` is one of the spec's key types (`bool`,
    /// integers, `char`, `string`).
    Map(u32, u32),
    /// Named fields, in order.
    Record(List<(Text, u32)>),
    Tuple(List<u32>),
    /// Cases with optional payloads, in order.
    Variant(List<(Text, Option<u32>)>),
    Enum(List<Text>),
    Option(u32),
    Result {
        ok: Option<u32>,
        err: Option<u32>,
    },
    Flags(List<Text>),
    /// An owned handle to resource `r`.
    Own(u32),
    /// A borrowed handle to resource `r`.
    Borrow(u32),
}

/// A component function type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct ComponentFuncType {
    /// Named parameters, in order (types index [`Component::types`]).
    pub params: List<(Text, u32)>,
    /// The result, if any.
    pub result: Option<u32>,
}

/// String encodings of the `string-encoding` canonical option.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, Default)]
pub enum StringEncoding {
    #[default]
    Utf8,
    Utf16,
    /// `latin1+utf16`.
    CompactUtf16,
}

/// Canonical options of a `canon lift` or `canon lower`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct CanonOptions {
    /// The memory (a core memory export).
    pub memory: Option<CoreDef>,
    /// The `realloc` function `(old_ptr, old_size, align, new_size) -> ptr`.
    pub realloc: Option<CoreDef>,
    /// The `post-return` function (lifts only).
    pub post_return: Option<CoreDef>,
    pub string_encoding: StringEncoding,
}

/// Where a core item (function, memory, table, global) comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum CoreDef {
    /// Export `name` of core instance `instance`.
    Export { instance: u32, name: Text },
    /// A host import lowered into core wasm: entry of [`Component::host_lowers`].
    /// The runtime supplies a host function of the lowered core signature.
    HostLower(u32),
    /// `canon resource.new r`, called from component instance `instance`:
    /// `(rep: i32) -> i32`.
    ResourceNew { resource: u32, instance: u32 },
    /// `canon resource.rep r`: `(handle: i32) -> i32`.
    ResourceRep { resource: u32, instance: u32 },
    /// `canon resource.drop r`: `(handle: i32)`.
    ResourceDrop { resource: u32, instance: u32 },
    /// A runtime intrinsic that fused adapters import (see [`Intrinsic`]).
    Intrinsic(Intrinsic),
}

/// Runtime state and operations fused adapters need and core wasm cannot do by
/// itself. Each is supplied by the runtime as a core import of the shape given.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub enum Intrinsic {
    /// The flags of component instance `c` as a mutable `i32` global:
    /// bit 0 `may_leave`, bit 1 `may_enter`, bit 2 poisoned. The runtime sets
    /// `may_leave | may_enter` at instantiation; adapters test and update them.
    InstanceFlags(u32),
    /// Move an owned handle of resource `resource` from the table of component
    /// instance `from` to that of `to`: `(handle: i32) -> i32` (the new handle).
    /// Traps as the Canonical ABI says (bad handle, lent-out handle).
    TransferOwn { resource: u32, from: u32, to: u32 },
    /// Lend a handle (own or borrow) of `resource` in `from` to `to` for the
    /// duration of the current call: `(handle: i32) -> i32` (the borrow handle in
    /// `to`, or the representation when `to` defines the resource).
    TransferBorrow { resource: u32, from: u32, to: u32 },
    /// Start a call into component instance `c` that may receive borrows: `()`.
    EnterCall(u32),
    /// End that call: traps if a borrow lent for it was not dropped: `()`.
    ExitCall(u32),
    /// Raise a Canonical ABI trap: `(code: i32)` where `code` is an [`AbiTrap`];
    /// never returns.
    Trap,
}

/// Canonical ABI traps an adapter raises through [`Intrinsic::Trap`], with the
/// messages the reference tests expect.
#[repr(u32)]
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub enum AbiTrap {
    CannotLeave = 0,
    CannotEnter = 1,
    UnalignedPointer = 2,
    StringOutOfBounds = 3,
    ListOutOfBounds = 4,
    InvalidUtf8 = 5,
    InvalidUtf16 = 6,
    InvalidChar = 7,
    InvalidBool = 8,
    InvalidDiscriminant = 9,
    InvalidFlags = 10,
    ReallocOutOfBounds = 11,
    ReallocUnaligned = 12,
    /// A string longer than the Canonical ABI's `MAX_STRING_BYTE_LENGTH`.
    StringTooLong = 13,
    /// Spilled parameters or results, or a return area, not wholly inside
    /// memory (`trap_if(ptr + elem_size(t) > len(memory))`).
    PointerOutOfBounds = 14,
}

impl AbiTrap {
    /// Every trap, in code order.
    pub const ALL: [AbiTrap; 15] = [
        AbiTrap::CannotLeave,
        AbiTrap::CannotEnter,
        AbiTrap::UnalignedPointer,
        AbiTrap::StringOutOfBounds,
        AbiTrap::ListOutOfBounds,
        AbiTrap::InvalidUtf8,
        AbiTrap::InvalidUtf16,
        AbiTrap::InvalidChar,
        AbiTrap::InvalidBool,
        AbiTrap::InvalidDiscriminant,
        AbiTrap::InvalidFlags,
        AbiTrap::ReallocOutOfBounds,
        AbiTrap::ReallocUnaligned,
        AbiTrap::StringTooLong,
        AbiTrap::PointerOutOfBounds,
    ];

    /// The trap with this code, if any.
    pub fn from_code(code: u32) -> Option<AbiTrap> {
        AbiTrap::ALL.get(code as usize).copied()
    }

    /// The message the component-model reference tests expect.
    pub fn message(self) -> &'static str {
        match self {
            AbiTrap::CannotLeave => "cannot leave component instance",
            AbiTrap::CannotEnter => "cannot enter component instance",
            AbiTrap::UnalignedPointer => "unaligned pointer",
            AbiTrap::StringOutOfBounds => "string content out-of-bounds",
            AbiTrap::ListOutOfBounds => "list content out-of-bounds",
            AbiTrap::InvalidUtf8 => "invalid utf-8",
            AbiTrap::InvalidUtf16 => "invalid utf-16",
            AbiTrap::InvalidChar => "invalid `char` bit pattern",
            AbiTrap::InvalidBool => "invalid bool",
            AbiTrap::InvalidDiscriminant => "invalid variant discriminant",
            AbiTrap::InvalidFlags => "invalid flags",
            AbiTrap::ReallocOutOfBounds => "realloc return: beyond end of memory",
            AbiTrap::ReallocUnaligned => "realloc return: result not aligned",
            AbiTrap::StringTooLong => "string too long",
            AbiTrap::PointerOutOfBounds => "pointer out of bounds of memory",
        }
    }
}

/// One initializer, run in order at instantiation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Step {
    /// Instantiate `module` (index into [`crate::Unit::modules`]) as the next core
    /// instance, with one definition per import in the module's import order.
    Instantiate { module: u32, args: List<CoreDef> },
}

/// A component instance created by the plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentInstance {
    /// The enclosing component instance; `None` for the root.
    pub parent: Option<u32>,
}

/// A resource type the component defines, or one the root imports from the host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourceDef {
    /// Component instance that defines it (whose handles hold its representations);
    /// the root for an imported resource.
    pub instance: u32,
    /// Whether the root imports it from the host (under `name`) rather than a
    /// component instance defining it: the host must supply it at instantiation.
    pub imported: bool,
    /// Destructor `(rep: i32)`, if any.
    pub dtor: Option<CoreDef>,
    /// The name the resource is exported under, for messages.
    pub name: Text,
}

/// A core function lifted to a component function.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lift {
    /// The lifted core function.
    pub func: CoreDef,
    /// Index into [`Component::func_types`].
    pub ty: u32,
    pub options: CanonOptions,
    /// Component instance whose code runs.
    pub instance: u32,
    /// How the host calls it, laid out from its type when the plan was made
    /// ([`crate::abi::call_layout`]).
    pub layout: CallLayout,
}

/// How the host calls a lifted function: the Canonical ABI's flattening of
/// its type, laid out when the plan is made, so that hosts neither compute
/// it nor link the code that would.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct CallLayout {
    /// Parameters passed in memory (more flat values than
    /// [`crate::abi::MAX_FLAT_PARAMS`]): where each goes.
    pub spill: Option<Spill>,
    /// A result returned in memory (more flat values than
    /// [`crate::abi::MAX_FLAT_RESULTS`]): its alignment and size.
    pub spill_result: Option<(u32, u32)>,
    /// The one flat result is 64 bits wide (`i64` or `f64`).
    pub wide_result: bool,
    /// Lowering the parameters may call the guest's `realloc`.
    pub reallocs: bool,
    /// The parameters hold `borrow` handles.
    pub lends: bool,
}

/// Parameters passed in memory, as their tuple is laid out there.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Spill {
    pub align: u32,
    pub size: u32,
    /// Each parameter's offset in the tuple.
    pub offsets: List<u32>,
}

/// A host import lowered into core wasm.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostLower {
    /// Index into [`Component::imports`].
    pub import: u32,
    pub options: CanonOptions,
    /// Component instance that calls it.
    pub instance: u32,
}

/// A function the component imports from the host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentImport {
    /// Import name: `f` for a top-level function, `iface-name#f` for function `f`
    /// of imported instance `iface-name` (e.g. `wasi:cli/stdout@0.2.0#get-stdout`).
    pub name: Text,
    /// Index into [`Component::func_types`].
    pub ty: u32,
}

/// A function the component exports to the host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentExport {
    /// Export name, with the same `iface-name#f` convention as imports.
    pub name: Text,
    /// Index into [`Component::lifts`].
    pub lift: u32,
}

/// The flattened plan of a component.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Component {
    pub types: List<ValueType>,
    pub func_types: List<ComponentFuncType>,
    pub resources: List<ResourceDef>,
    pub instances: List<ComponentInstance>,
    pub imports: List<ComponentImport>,
    pub host_lowers: List<HostLower>,
    pub lifts: List<Lift>,
    pub steps: List<Step>,
    pub exports: List<ComponentExport>,
    /// Names of the core modules the root imports from the host; the host must
    /// supply them at instantiation.
    pub module_imports: List<Text>,
    /// WIT names of records, variants, enums and flags (entries of `types`)
    /// the root imports or exports as types (`person`, or `iface#person` in an
    /// imported interface), so bindings can name their Rust types after them.
    pub type_names: List<(u32, Text)>,
    /// WIT documentation from the component's `package-docs` section, for the
    /// bindings' rustdoc: `(item, docs)` where the item is named as the plan
    /// names it elsewhere: a function import or export (`iface#f`, `f`), a
    /// type of `type_names`, a resource, or an interface (`my:pkg/api`).
    /// Only the plan file build.rs writes carries them; the descriptor's copy
    /// is left without, as the runtime never reads them.
    pub docs: List<(Text, Text)>,
}

impl Component {
    /// The optional parts of the runtime the plan uses ([`crate::parts`]).
    pub fn parts(&self) -> u32 {
        let lends = self.lifts.iter().any(|l| l.layout.lends);
        let options = self.lifts.iter().map(|l| &l.options);
        let mut options = options.chain(self.host_lowers.iter().map(|h| &h.options));
        let transcodes = options.any(|o| o.string_encoding != StringEncoding::Utf8);
        crate::parts::bit(lends, crate::parts::BORROWS)
            | crate::parts::bit(transcodes, crate::parts::TRANSCODING)
    }
}

/// A value type of a plan, read in place: the plan and an index into its
/// [`Component::types`]. A checked plan ([`crate::check::component`]) lists
/// every type after the types it is made of, so walking a `TypeRef`'s
/// children always ends.
#[derive(Debug, Clone, Copy)]
pub struct TypeRef<'a> {
    pub plan: &'a Component,
    pub index: u32,
}

impl<'a> TypeRef<'a> {
    /// Type `index` of `plan`.
    #[inline]
    pub fn new(plan: &'a Component, index: u32) -> TypeRef<'a> {
        TypeRef { plan, index }
    }

    /// The type's definition. Panics on an index out of range, which a
    /// checked plan does not hold.
    #[inline]
    pub fn value(self) -> &'a ValueType {
        &self.plan.types[self.index as usize]
    }

    /// Another type of the same plan (a child of this one).
    #[inline]
    pub fn at(self, index: u32) -> TypeRef<'a> {
        TypeRef::new(self.plan, index)
    }

    /// Whether this type or any type nested in it satisfies `pred`.
    pub fn contains(self, pred: &dyn Fn(&ValueType) -> bool) -> bool {
        let v = self.value();
        if pred(v) {
            return true;
        }
        let sub = |t: u32| self.at(t).contains(pred);
        match v {
            ValueType::List(t) | ValueType::Option(t) => sub(*t),
            ValueType::Map(k, v) => sub(*k) || sub(*v),
            ValueType::Record(fs) => fs.iter().any(|(_, t)| sub(*t)),
            ValueType::Tuple(ts) => ts.iter().any(|t| sub(*t)),
            ValueType::Variant(cs) => cs.iter().filter_map(|(_, t)| *t).any(sub),
            ValueType::Result { ok, err } => ok.iter().chain(err).any(|t| sub(*t)),
            _ => false,
        }
    }
}
