//! Loading compiled modules from a descriptor.

use crate::code_registry::{self, CodeRegistration};
use crate::error::Error;
use crate::instance::Parts;
use crate::prelude::*;
use crate::signatures::{self, Sig};
use alloc::sync::Arc;
use rivet_descriptor::{
    check, BoundsMode, ExternIndex, FuncType, GlobalType, ImportType, MemoryType, RawDescriptor,
    TableType, Unit, FORMAT_VERSION, MAGIC,
};

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq)]
pub enum ExternType {
    Func(FuncType),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// A tag whose payload is the function type's parameters.
    Tag(FuncType),
}

/// A compiled core module, loaded from a descriptor. Cheap to clone.
#[derive(Clone)]
pub struct Module(Arc<ModuleInner>);

/// Metadata read in place, never copied: the static a build generated, or a
/// part of a decoded unit that the [`MetaOwner`] beside it keeps alive. Only
/// lent out for as long as the `Meta` itself lives.
pub(crate) struct Meta<T: 'static>(&'static T);

#[cfg(test)]
impl<T> Meta<T> {
    /// Metadata a test built, kept for the rest of the process.
    pub fn leaked(value: T) -> Meta<T> {
        Meta(Box::leak(Box::new(value)))
    }
}

impl<T> core::ops::Deref for Meta<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0
    }
}

/// What keeps decoded metadata alive (`None` for a static). Type-erased, so
/// that a host reading only statics links no drop code for the metadata.
pub(crate) type MetaOwner = Option<Arc<dyn core::any::Any + Send + Sync>>;

/// A unit's modules and plan, read in place, with what keeps them alive.
pub(crate) struct LoadedUnit {
    pub modules: Vec<Module>,
    pub plan: Option<Meta<rivet_descriptor::component::Component>>,
    pub owner: MetaOwner,
    /// The runtime parts the unit may use.
    pub parts: &'static Parts,
}

/// Addresses are kept as `usize`: they point into loaded, immutable code and data.
pub(crate) struct ModuleInner {
    pub meta: Meta<rivet_descriptor::Module>,
    pub bounds: BoundsMode,
    /// Code address of each defined function: the module's part of the
    /// descriptor's table, read in place.
    pub functions: &'static [usize],
    /// The descriptor's whole trampoline table, which the metadata's
    /// per-type lists index.
    trampolines: &'static [usize],
    /// Per type index: its process-wide id, found once at load.
    pub sigs: Vec<Sig>,
    /// The unit's data blob.
    pub data: usize,
    /// The runtime parts it may use: all, or those its static unit names.
    pub parts: &'static Parts,
    /// Declared before the owner, so dropped first: the registration refers
    /// to the metadata's trap sites until it is gone.
    _code: Option<CodeRegistration>,
    _owner: MetaOwner,
    /// The unit's C-backend code, registered once for all its modules.
    _c_code: Option<Arc<CodeRegistration>>,
}

impl ModuleInner {
    /// The array trampoline of type index `ty` (host calls into wasm).
    pub fn array_trampoline(&self, ty: u32) -> *const u8 {
        self.trampolines[self.meta.array_trampolines[ty as usize] as usize] as *const u8
    }

    /// The host trampoline of type index `ty` (wasm calls into the host).
    pub fn host_trampoline(&self, ty: u32) -> *const u8 {
        self.trampolines[self.meta.host_trampolines[ty as usize] as usize] as *const u8
    }
}

impl Module {
    /// Whether both handles are the same loaded module.
    pub(crate) fn same(&self, other: &Module) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Parses the unit behind a descriptor (checks magic and FORMAT_VERSION) and returns
    /// its modules in unit order.
    ///
    /// # Safety
    /// `desc` points at a RawDescriptor in loaded code that stays loaded
    /// for as long as any returned Module or any instance of it exists.
    pub unsafe fn from_descriptor(desc: *const RawDescriptor) -> Result<Vec<Module>, Error> {
        load_unit(desc).map(|unit| unit.modules)
    }

    pub(crate) fn inner(&self) -> &ModuleInner {
        &self.0
    }

    pub fn bounds(&self) -> BoundsMode {
        self.0.bounds
    }

    /// How many imports the module has.
    pub fn import_count(&self) -> usize {
        self.0.meta.imports.len()
    }

    /// (module, name, type) of every import, in import order.
    pub fn imports(&self) -> Vec<(String, String, ExternType)> {
        let m = &self.0.meta;
        m.imports
            .iter()
            .map(|i| {
                let ty = match &i.ty {
                    ImportType::Func(t) => ExternType::Func(m.types[*t as usize].clone()),
                    ImportType::Table(t) => ExternType::Table(*t),
                    ImportType::Memory(t) => ExternType::Memory(*t),
                    ImportType::Global(t) => ExternType::Global(*t),
                    ImportType::Tag(t) => ExternType::Tag(m.types[*t as usize].clone()),
                };
                (i.module.to_string(), i.name.to_string(), ty)
            })
            .collect()
    }

    /// (name, type) of every export.
    pub fn exports(&self) -> Vec<(String, ExternType)> {
        let m = &self.0.meta;
        m.exports
            .iter()
            .map(|e| {
                let ty = match e.index {
                    ExternIndex::Func(f) => {
                        ExternType::Func(m.types[m.functions[f as usize] as usize].clone())
                    }
                    ExternIndex::Table(t) => ExternType::Table(m.tables[t as usize]),
                    ExternIndex::Memory(x) => ExternType::Memory(m.memories[x as usize]),
                    ExternIndex::Global(g) => ExternType::Global(m.globals[g as usize]),
                    ExternIndex::Tag(t) => {
                        ExternType::Tag(m.types[m.tags[t as usize] as usize].clone())
                    }
                };
                (e.name.to_string(), ty)
            })
            .collect()
    }
}

/// Parses the unit behind a descriptor: its modules in unit order and, for a
/// component, its plan.
///
/// # Safety
/// As [`Module::from_descriptor`].
pub(crate) unsafe fn load_unit(desc: *const RawDescriptor) -> Result<LoadedUnit, Error> {
    let desc = header(desc)?;
    let unit = Unit::decode(slice(desc.metadata, desc.metadata_len)?).map_err(Error::Format)?;
    let limits = check::Limits {
        functions: desc.function_count,
        trampolines: desc.trampoline_count,
        data: desc.data_len as u64,
    };
    check::unit(&unit, &limits).map_err(Error::Format)?;
    let unit = Arc::new(unit);
    // SAFETY: every reference into the unit is kept in a `Meta` beside a
    // clone of the `Arc` (the `owner` passed on), which keeps it alive.
    let metadata = &*Arc::as_ptr(&unit);
    // Opaque to the optimiser: seeing that every owner `load_parts` gets is a
    // unit, it would otherwise bake the unit's drop code into `load_parts`,
    // and so into hosts that only read statics.
    let owner = core::hint::black_box(Some(unit as Arc<dyn core::any::Any + Send + Sync>));
    load_parts(desc, metadata, owner, &Parts::ALL)
}

/// As [`load_unit`], with the metadata read in place from `unit`, the static
/// that `rivet_build` generated beside the object, instead of decoded from the
/// descriptor: a host built this way links neither the metadata reader nor
/// its check, which `rivet_build` ran on the static's metadata at build time,
/// and its modules have the runtime `parts` `rivet_build` wrote beside
/// it.
///
/// # Safety
/// As [`Module::from_descriptor`]; `unit` is the metadata of the same build.
pub(crate) unsafe fn load_static(
    desc: *const RawDescriptor,
    unit: &'static Unit,
    parts: &'static Parts,
) -> Result<LoadedUnit, Error> {
    let desc = header(desc)?;
    parts.cover(unit)?;
    load_parts(desc, unit, None, parts)
}

/// The descriptor behind `desc`, checked to be one of this runtime's format.
///
/// # Safety
/// As [`Module::from_descriptor`].
unsafe fn header<'a>(desc: *const RawDescriptor) -> Result<&'a RawDescriptor, Error> {
    let desc = desc
        .as_ref()
        .ok_or_else(|| Error::Format("null descriptor".into()))?;
    if desc.magic != MAGIC {
        return Err(Error::Format("bad magic: not a Rivet descriptor".into()));
    }
    if desc.version != FORMAT_VERSION {
        return Err(Error::Format(format!(
            "descriptor format version {} but this runtime reads version {FORMAT_VERSION}",
            desc.version
        )));
    }
    Ok(desc)
}

/// Builds the modules of the unit behind `desc`, whose metadata is `unit`
/// (checked, see [`check::unit`]), kept alive by `owner`.
///
/// # Safety
/// As [`Module::from_descriptor`].
unsafe fn load_parts(
    desc: &RawDescriptor,
    unit: &'static Unit,
    owner: MetaOwner,
    parts: &'static Parts,
) -> Result<LoadedUnit, Error> {
    // Code addresses as integers: the module is then `Send` and `Sync`.
    let functions = slice(desc.functions.cast::<usize>(), desc.function_count)?;
    let trampolines = slice(desc.trampolines.cast::<usize>(), desc.trampoline_count)?;
    let c_code = register_c_code(desc)?.map(Arc::new);
    let mut modules = Vec::with_capacity(unit.modules.len());
    for meta in unit.modules.iter() {
        let base = meta.defined_function_base as usize;
        let defined = &functions[base..base + meta.code.len()];
        // SAFETY: the module keeps the metadata (`owner`) and the descriptor
        // (the caller's contract) alive for longer than its registration.
        let code = code_registry::register(defined, &meta.code)?;
        modules.push(Module(Arc::new(ModuleInner {
            bounds: unit.bounds,
            functions: defined,
            trampolines,
            sigs: meta.types.iter().map(signatures::intern).collect(),
            data: desc.data as usize,
            parts,
            meta: Meta(meta),
            _code: code,
            _owner: owner.clone(),
            _c_code: c_code.clone(),
        })));
    }
    Ok(LoadedUnit {
        modules,
        plan: unit.component.as_ref().map(Meta),
        owner,
        parts,
    })
}

/// Registers the span of code the C backend compiled, if the unit has any:
/// its functions' sizes are not known at build time, so the span is one
/// range without trap sites (a fault in it is an out-of-bounds access; other
/// traps are raised through `rivet_trap`).
fn register_c_code(desc: &RawDescriptor) -> Result<Option<CodeRegistration>, Error> {
    let (start, end) = (desc.c_code_start as usize, desc.c_code_end as usize);
    if start == 0 || end <= start {
        return Ok(None);
    }
    code_registry::register_range(start, end).map(Some)
}

/// A slice over descriptor memory, allowing a null pointer for an empty slice.
unsafe fn slice<'a, T>(ptr: *const T, len: usize) -> Result<&'a [T], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::Format("null pointer with a non-zero length".into()));
    }
    Ok(core::slice::from_raw_parts(ptr, len))
}
