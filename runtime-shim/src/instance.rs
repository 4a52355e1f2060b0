//! Instantiation: linking imports, building the vmctx, applying segments, running
//! the start function.

use crate::builtins::{self, BuiltinTable};
use crate::bump::FixedVec;
use crate::component::convert::{Transcoder, TRANSCODER};
use crate::component::instance::ComponentState;
use crate::component::intrinsics;
use crate::error::{Error, Trap};
use crate::func::{Func, FuncEntry, FuncKind};
use crate::global::{Global, GlobalData};
use crate::memory::{Memory, MemoryData};
use crate::module::{Module, ModuleInner};
use crate::prelude::*;
use crate::signatures::Sig;
use crate::store::{Store, StoreId};
use crate::table::{self, Table, TableData};
use crate::tag::{Tag, TagData};
use crate::vm::{VMFuncImport, VMFuncRef, VMTag, ValRaw, VmSlot};
use crate::Extern;
use alloc::rc::Rc;
use rivet_descriptor::component::CoreDef;
use rivet_descriptor::{
    ConstExpr, ConstOp, ExternIndex, Import, ImportType, SegmentMode, TrapKind, VmctxLayout,
};

/// An instance of a module in a [`Store`].
#[derive(Clone, Copy, Debug)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

impl Instance {
    /// The export called `name`, if any.
    pub fn export(&self, store: &Store, name: &str) -> Option<Extern> {
        let data = store.instance(*self);
        let export = data
            .module
            .inner()
            .meta
            .exports
            .iter()
            .find(|e| e.name == name)?;
        Some(match export.index {
            ExternIndex::Func(i) => Extern::Func(data.funcs[i as usize]),
            ExternIndex::Table(i) => Extern::Table(data.tables[i as usize].0),
            ExternIndex::Memory(i) => Extern::Memory(data.memories[i as usize].0),
            ExternIndex::Global(i) => Extern::Global(data.globals[i as usize]),
            ExternIndex::Tag(i) => Extern::Tag(data.tags[i as usize]),
        })
    }
}

/// The runtime's record of an instance; `vmctx + VmctxLayout::INSTANCE` points here.
pub(crate) struct InstanceData {
    pub module: Module,
    /// For tests that call builtins as compiled code does (the runtime reaches
    /// a vmctx through funcrefs).
    #[cfg(test)]
    pub vmctx: *mut u8,
    pub funcs: FixedVec<Func>,
    /// Each memory with its record (which builtins reach directly).
    pub memories: FixedVec<(Memory, *mut MemoryData)>,
    /// Each table with its record.
    pub tables: FixedVec<(Table, *mut TableData)>,
    pub globals: FixedVec<Global>,
    pub tags: FixedVec<Tag>,
    /// Raw items of each element segment; emptied when dropped.
    pub elements: Vec<Vec<usize>>,
    /// Bytes of each data segment as (address, length); length 0 once dropped.
    pub data: FixedVec<(usize, usize)>,
}

impl InstanceData {
    /// The record of memory `index`, if the instance has one.
    pub fn memory_data(&self, index: u32) -> Option<*mut MemoryData> {
        self.memories.get(index as usize).map(|m| m.1)
    }

    /// The record of table `index`, if the instance has one.
    pub fn table_data(&self, index: u32) -> Option<*mut TableData> {
        self.tables.get(index as usize).map(|t| t.1)
    }

    pub fn data_segment(&self, index: u32) -> Option<&[u8]> {
        let &(addr, len) = self.data.get(index as usize)?;
        if len == 0 {
            return Some(&[]);
        }
        // SAFETY: inside the descriptor's data blob, which stays loaded.
        Some(unsafe { core::slice::from_raw_parts(addr as *const u8, len) })
    }
}

/// Writes `value` at `offset` of the vmctx. Safety: the offset is inside the
/// vmctx and suitably aligned for `T` (guaranteed by `VmctxLayout`).
unsafe fn put<T>(vmctx: *mut u8, offset: u32, value: T) {
    vmctx.add(offset as usize).cast::<T>().write(value)
}

unsafe fn slot<T>(vmctx: *mut u8, offset: u32) -> *mut T {
    vmctx.add(offset as usize).cast::<T>()
}

/// How [`link`] turns an import that does not match into an error: the
/// public API describes the types ([`describe_mismatch`]); a component's own
/// core instances, whose wiring was checked when it was compiled, only name
/// the import, so that hosts of components do not link the description.
pub(crate) type Report = fn(&Store, &ModuleInner, &Import, &Extern, Mismatch) -> Error;

pub(crate) fn instantiate(
    store: &mut Store,
    module: &Module,
    imports: &[Extern],
    report: Report,
) -> Result<Instance, Error> {
    if module.bounds() != store.bounds() {
        return Err(Error::Runtime(format!(
            "module compiled for {} bounds checks, store uses {}",
            module.bounds(),
            store.bounds()
        )));
    }
    let parts = module.inner().parts;
    match parts.link {
        Some(link) => link(store, module, imports, report)?,
        None if imports.is_empty() => {}
        None => return Err(import_count(0, imports.len())),
    }
    let layout = module.inner().meta.layout;
    let meta = &module.inner().meta;
    // The vmctx and the lists live in the store's bump chunks, sized up front.
    let b = &mut store.bump;
    let vmctx = b.alloc_zeroed(layout.size as usize).as_ptr();
    let data = InstanceData {
        module: module.clone(),
        #[cfg(test)]
        vmctx,
        funcs: FixedVec::with_capacity(b, meta.functions.len()),
        memories: FixedVec::with_capacity(b, meta.memories.len()),
        tables: FixedVec::with_capacity(b, meta.tables.len()),
        globals: FixedVec::with_capacity(b, meta.globals.len()),
        tags: FixedVec::with_capacity(b, meta.tags.len()),
        elements: Vec::with_capacity(meta.elements.len()),
        data: FixedVec::with_capacity(b, meta.data.len()),
    };
    let (instance, record) = store.add_instance(data);
    // SAFETY: the record and vmctx are owned by the store and outlive this call;
    // `Builder` only writes offsets given by the module's validated layout.
    unsafe {
        let mut b = Builder {
            store,
            module,
            imports,
            layout,
            vmctx,
            record,
        };
        b.header();
        b.run(parts.imports)?;
        b.defined_functions();
        b.defined_memories()?;
        b.run(parts.tables)?;
        b.defined_globals()?;
        b.run(parts.tags)?;
        b.run(parts.elements)?;
        b.data()?;
        b.run(parts.start)?;
    }
    Ok(instance)
}

/// A module given `given` imports where it has `wanted`.
#[cold]
fn import_count(wanted: usize, given: usize) -> Error {
    Error::Link(format!("module has {wanted} imports, {given} provided"))
}

/// The optional parts of the runtime ([`rivet_descriptor::parts`]): the
/// functions that run the optional stages of instantiation, and the builtins
/// table whose optional groups are filled in. A module loaded from a
/// descriptor has them all; one loaded from a static unit has those its unit
/// uses (the `PARTS` static that `rivet_build` writes beside the metadata,
/// made by [`Parts::of`] at compile time), so a host links no code for the
/// others.
#[doc(hidden)]
pub struct Parts {
    mask: u32,
    link: Option<LinkStage>,
    imports: Option<BuildStage>,
    tables: Option<BuildStage>,
    tags: Option<BuildStage>,
    elements: Option<BuildStage>,
    start: Option<BuildStage>,
    arith: Option<ArithStage>,
    args: Option<ArgsStage>,
    lending: Option<Lending>,
    transcoder: Option<&'static Transcoder>,
    builtins: BuiltinTable,
}

type LinkStage = fn(&Store, &Module, &[Extern], Report) -> Result<(), Error>;
type ArgsStage =
    fn(&mut Store, &Rc<ComponentState>, &[CoreDef], &mut Vec<Extern>) -> Result<(), Error>;
/// What a call that can lend handles does around the callee: record its
/// loans on entry, check and release them on exit
/// ([`ComponentState::enter_call`], [`ComponentState::exit_call`]).
#[derive(Clone, Copy)]
pub(crate) struct Lending {
    pub enter: fn(&ComponentState, u32),
    pub exit: fn(&ComponentState, u32) -> Result<(), Trap>,
}
type BuildStage = unsafe fn(&mut Builder<'_>) -> Result<(), Error>;
/// Evaluates an arithmetic constant expression ([`Builder::arith`]).
type ArithStage = unsafe fn(&Builder<'_>, &[ConstOp]) -> u64;

impl Parts {
    /// Every part, for modules whose needs are known only at run time.
    pub(crate) const ALL: Parts = Parts::of(u32::MAX);

    /// The parts in `mask` (bits of [`rivet_descriptor::parts`]).
    pub const fn of(mask: u32) -> Parts {
        use rivet_descriptor::parts::*;
        /// `part` if `mask` has `bit` (a function, as closures cannot be
        /// called in constants).
        const fn pick<T: Copy>(mask: u32, bit: u32, part: T) -> Option<T> {
            if mask & bit != 0 {
                Some(part)
            } else {
                None
            }
        }
        let lending = Lending {
            enter: ComponentState::enter_call,
            exit: ComponentState::exit_call,
        };
        Parts {
            mask,
            link: pick(mask, IMPORTS, link as LinkStage),
            // SAFETY (each stage): `Builder` runs them on the instance it is
            // building, as `instantiate` documents.
            imports: pick(mask, IMPORTS, |b| unsafe { b.imports() }),
            tables: pick(mask, TABLES, |b| unsafe { b.defined_tables() }),
            tags: pick(mask, TAGS, |b| unsafe { b.defined_tags() }),
            elements: pick(mask, ELEMENTS, |b| unsafe { b.elements() }),
            start: pick(mask, START, |b| unsafe { b.start() }),
            arith: pick(mask, IMPORTS, |b, ops| unsafe { b.arith(ops) }),
            args: pick(mask, IMPORTS, intrinsics::resolve_args as ArgsStage),
            lending: pick(mask, BORROWS, lending),
            transcoder: pick(mask, TRANSCODING, &TRANSCODER),
            builtins: builtins::table(mask & TABLE_BUILTINS != 0, mask & EXCEPTION_BUILTINS != 0),
        }
    }

    /// Refuses a unit whose modules use a part these lack, when it is loaded
    /// (a static unit's parts cover it by construction; this keeps a mismatch
    /// from being skipped silently). The plan's parts are checked by the
    /// accessors below, where they would be used.
    pub(crate) fn cover(&self, unit: &rivet_descriptor::Unit) -> Result<(), Error> {
        match unit.module_parts() & !self.mask {
            0 => Ok(()),
            missing => Err(Error::Runtime(not_named(missing))),
        }
    }

    /// What resolves the core imports of a component's instance of this
    /// module (a component's core instances import only with
    /// [`rivet_descriptor::parts::IMPORTS`]).
    pub(crate) fn args(&self) -> Result<ArgsStage, Error> {
        let missing = || Error::Runtime(not_named(rivet_descriptor::parts::IMPORTS));
        self.args.ok_or_else(missing)
    }

    /// What a call that lends handles does on entry and exit.
    pub(crate) fn lending(&self) -> Result<Lending, Trap> {
        let missing = || Trap::host(not_named(rivet_descriptor::parts::BORROWS));
        self.lending.ok_or_else(missing)
    }

    /// The transcoders of strings in encodings other than UTF-8.
    pub(crate) fn transcoder(&self) -> Result<&'static Transcoder, Trap> {
        let missing = || Trap::host(not_named(rivet_descriptor::parts::TRANSCODING));
        self.transcoder.ok_or_else(missing)
    }
}

/// Says that a module or plan uses runtime parts `missing` that its unit's
/// parts lack.
#[cold]
fn not_named(missing: u32) -> String {
    format!("the unit uses runtime parts {missing:#x} that its static does not name")
}

/// Checks imports against the module's import types (wasm import matching),
/// reading the types in place: this runs on every instantiation.
fn link(store: &Store, module: &Module, imports: &[Extern], report: Report) -> Result<(), Error> {
    let meta = &module.inner().meta;
    if meta.imports.len() != imports.len() {
        return Err(import_count(meta.imports.len(), imports.len()));
    }
    for (import, given) in meta.imports.iter().zip(imports) {
        if given.store_id() != store.id() {
            return Err(Error::Runtime(format!(
                "import {}::{} is from another store",
                import.module, import.name
            )));
        }
        if let Err(why) = matches(store, module.inner(), &import.ty, given) {
            return Err(report(store, module.inner(), import, given, why));
        }
    }
    Ok(())
}

/// Why an import does not match; the types themselves are looked up only
/// when the mismatch is described.
#[derive(Clone, Copy)]
pub(crate) enum Mismatch {
    Kind,
    FuncType,
    TagType,
    TableElement,
    GlobalType,
    Minimum { given: u64, min: u64 },
    Maximum { given: u64, max: u64 },
    NoMaximum,
}

/// Wasm's import-matching rules, comparing function and tag types by their
/// interned ids.
fn matches(
    store: &Store,
    module: &ModuleInner,
    want: &ImportType,
    given: &Extern,
) -> Result<(), Mismatch> {
    let limits = |min: u64, max: Option<u64>, given: u64, gmax: Option<u64>| {
        if given < min {
            return Err(Mismatch::Minimum { given, min });
        }
        match (max, gmax) {
            (Some(max), Some(given)) if given > max => Err(Mismatch::Maximum { given, max }),
            (Some(_), None) => Err(Mismatch::NoMaximum),
            _ => Ok(()),
        }
    };
    let same = |ok: bool, why: Mismatch| if ok { Ok(()) } else { Err(why) };
    match (want, given) {
        (ImportType::Func(t), Extern::Func(f)) => same(
            f.type_id(store) == module.sigs[*t as usize].id,
            Mismatch::FuncType,
        ),
        (ImportType::Table(t), Extern::Table(x)) => {
            let g = x.ty(store);
            same(g.element == t.element, Mismatch::TableElement)?;
            limits(t.minimum, t.maximum, g.minimum, g.maximum)
        }
        (ImportType::Memory(t), Extern::Memory(x)) => {
            let g = x.ty(store);
            limits(t.minimum, t.maximum, g.minimum, g.maximum)
        }
        (ImportType::Global(t), Extern::Global(x)) => same(x.ty(store) == *t, Mismatch::GlobalType),
        (ImportType::Tag(t), Extern::Tag(x)) => {
            // SAFETY: the tag's slot is owned by the store.
            let id = unsafe { (*x.vm(store)).type_id };
            same(id == module.sigs[*t as usize].id, Mismatch::TagType)
        }
        _ => Err(Mismatch::Kind),
    }
}

/// A mismatch as the public API reports it: with both types.
pub(crate) fn describe_mismatch(
    store: &Store,
    module: &ModuleInner,
    import: &Import,
    given: &Extern,
    why: Mismatch,
) -> Error {
    let types = &module.meta.types;
    let why = match (why, &import.ty, given) {
        (Mismatch::FuncType, ImportType::Func(t), Extern::Func(f)) => {
            format!(
                "function type {} is not {}",
                f.ty(store),
                types[*t as usize]
            )
        }
        (Mismatch::TagType, ImportType::Tag(t), Extern::Tag(x)) => {
            format!("tag type {} is not {}", x.ty(store), types[*t as usize])
        }
        (Mismatch::TableElement, ImportType::Table(t), Extern::Table(x)) => {
            format!("table of {}, not {}", x.ty(store).element, t.element)
        }
        (Mismatch::GlobalType, ImportType::Global(t), Extern::Global(x)) => {
            format!("global type {} is not {t}", x.ty(store))
        }
        (Mismatch::Minimum { given, min }, ..) => {
            format!("size {given} below the required minimum {min}")
        }
        (Mismatch::Maximum { given, max }, ..) => {
            format!("maximum {given} above the required {max}")
        }
        (Mismatch::NoMaximum, ..) => "no maximum but one is required".into(),
        _ => "incompatible import type".into(),
    };
    Error::Link(format!("import {}::{}: {why}", import.module, import.name))
}

/// Fills one instance. All methods are unsafe for the same reason: they write
/// through `vmctx` and `record`, which the store owns.
struct Builder<'a> {
    store: &'a mut Store,
    module: &'a Module,
    imports: &'a [Extern],
    layout: VmctxLayout,
    vmctx: *mut u8,
    record: *mut InstanceData,
}

impl Builder<'_> {
    fn meta(&self) -> &rivet_descriptor::Module {
        &self.module.inner().meta
    }

    unsafe fn header(&mut self) {
        put(self.vmctx, VmctxLayout::STORE, self.store.ctx());
        let builtins = &self.module.inner().parts.builtins;
        put(self.vmctx, VmctxLayout::BUILTINS, builtins.0.as_ptr());
        put(self.vmctx, VmctxLayout::INSTANCE, self.record);
        for (i, sig) in self.module.inner().sigs.iter().enumerate() {
            put(self.vmctx, self.layout.type_id(i as u32), sig.id);
        }
        self.store.refs().borrow_mut().add_module(self.module);
    }

    /// Runs an optional stage, if the module's parts have it.
    unsafe fn run(&mut self, stage: Option<BuildStage>) -> Result<(), Error> {
        match stage {
            Some(stage) => stage(self),
            None => Ok(()),
        }
    }

    fn sig(&self, ty: u32) -> Sig {
        self.module.inner().sigs[ty as usize]
    }

    /// Writes pointers for every import and the funcref of imported functions.
    unsafe fn imports(&mut self) -> Result<(), Error> {
        let (inner, imports) = (self.module.inner(), self.imports);
        let (mut funcs, mut mems, mut tables, mut globals) = (0u32, 0u32, 0u32, 0u32);
        let mut tags = 0u32;
        for (import, given) in inner.meta.imports.iter().zip(imports) {
            match (&import.ty, given) {
                (ImportType::Func(ty), Extern::Func(f)) => {
                    self.import_func(funcs, *ty, *f);
                    funcs += 1;
                }
                (ImportType::Memory(_), Extern::Memory(m)) => {
                    let data = self.store.memory_ptr(*m);
                    put(self.vmctx, self.layout.memory_pointer(mems), (*data).vm());
                    (&mut *self.record).memories.push((*m, data));
                    mems += 1;
                }
                (ImportType::Table(_), Extern::Table(t)) => {
                    let data = self.store.table_ptr(*t);
                    put(self.vmctx, self.layout.table_pointer(tables), (*data).vm());
                    (&mut *self.record).tables.push((*t, data));
                    tables += 1;
                }
                (ImportType::Global(_), Extern::Global(g)) => {
                    let vm = self.store.global(*g).vm.ptr();
                    put(self.vmctx, self.layout.global_pointer(globals), vm);
                    (&mut *self.record).globals.push(*g);
                    globals += 1;
                }
                (ImportType::Tag(_), Extern::Tag(t)) => {
                    put(self.vmctx, self.layout.tag_pointer(tags), t.vm(self.store));
                    (&mut *self.record).tags.push(*t);
                    tags += 1;
                }
                _ => unreachable!("imports were linked"),
            }
        }
        Ok(())
    }

    unsafe fn import_func(&mut self, index: u32, ty: u32, f: Func) {
        let type_id = self.sig(ty).id;
        let mut refs = self.store.refs().borrow_mut();
        let (code, vmctx) = match refs.func(f).kind {
            FuncKind::Wasm { funcref, .. } => ((*funcref).code, (*funcref).vmctx),
            FuncKind::Host { record, .. } => {
                (self.module.inner().host_trampoline(ty), record.cast())
            }
        };
        put(
            self.vmctx,
            self.layout.imported_function(index),
            VMFuncImport { code, vmctx },
        );
        let funcref = slot::<VMFuncRef>(self.vmctx, self.layout.funcref(index));
        funcref.write(VMFuncRef {
            code,
            vmctx,
            type_id,
            pad: 0,
        });
        refs.alias_funcref(funcref, f);
        (&mut *self.record).funcs.push(f);
    }

    unsafe fn defined_functions(&mut self) {
        let inner = self.module.inner();
        let imported = inner.meta.layout.imported_functions;
        for (i, &code) in inner.functions.iter().enumerate() {
            let index = imported + i as u32;
            let ty = inner.meta.functions[index as usize];
            let sig = self.sig(ty);
            let funcref = slot::<VMFuncRef>(self.vmctx, self.layout.funcref(index));
            funcref.write(VMFuncRef {
                code: code as *const u8,
                vmctx: self.vmctx,
                type_id: sig.id,
                pad: 0,
            });
            let f = self.store.refs().borrow_mut().add_func(FuncEntry {
                sig,
                kind: FuncKind::Wasm {
                    funcref,
                    array_trampoline: inner.array_trampoline(ty),
                },
            });
            (&mut *self.record).funcs.push(f);
        }
    }

    unsafe fn defined_memories(&mut self) -> Result<(), Error> {
        let meta = &self.module.inner().meta;
        let counts = &self.module.inner().meta.layout;
        let imported = counts.memories - counts.defined_memories;
        for (i, ty) in meta.memories.iter().enumerate().skip(imported as usize) {
            let vm = slot(self.vmctx, self.layout.defined_memory(i as u32 - imported));
            let data = MemoryData::new(*ty, self.store.bounds(), VmSlot::InVmctx(vm))?;
            let m = self.store.add_memory(data);
            put(self.vmctx, self.layout.memory_pointer(i as u32), vm);
            (&mut *self.record)
                .memories
                .push((m, self.store.memory_ptr(m)));
        }
        Ok(())
    }

    unsafe fn defined_tables(&mut self) -> Result<(), Error> {
        let meta = &self.module.inner().meta;
        let counts = &self.module.inner().meta.layout;
        let imported = counts.tables - counts.defined_tables;
        for (i, ty) in meta.tables.iter().enumerate().skip(imported as usize) {
            let vm = slot(self.vmctx, self.layout.defined_table(i as u32 - imported));
            let data = TableData::new(*ty, 0, VmSlot::InVmctx(vm))?;
            let t = self.store.add_table(data);
            put(self.vmctx, self.layout.table_pointer(i as u32), vm);
            (&mut *self.record)
                .tables
                .push((t, self.store.table_ptr(t)));
        }
        Ok(())
    }

    unsafe fn defined_globals(&mut self) -> Result<(), Error> {
        let meta = &self.module.inner().meta;
        let counts = &self.module.inner().meta.layout;
        let imported = counts.globals - counts.defined_globals;
        for (i, (ty, init)) in meta
            .globals
            .iter()
            .skip(imported as usize)
            .zip(meta.global_inits.iter())
            .enumerate()
        {
            let vm = slot::<ValRaw>(self.vmctx, self.layout.defined_global(i as u32));
            vm.write(self.eval(init));
            let g = self.store.add_global(GlobalData {
                vm: VmSlot::InVmctx(vm),
                ty: *ty,
            });
            let index = imported + i as u32;
            put(self.vmctx, self.layout.global_pointer(index), vm);
            (&mut *self.record).globals.push(g);
        }
        Ok(())
    }

    /// Makes a fresh tag for every defined tag: tags are generative, each
    /// instance has its own.
    unsafe fn defined_tags(&mut self) -> Result<(), Error> {
        let meta = &self.module.inner().meta;
        let counts = &self.module.inner().meta.layout;
        let imported = counts.tags - counts.defined_tags;
        for (i, &ty) in meta.tags.iter().enumerate().skip(imported as usize) {
            let vm = slot::<VMTag>(self.vmctx, self.layout.defined_tag(i as u32 - imported));
            vm.write(VMTag {
                type_id: self.sig(ty).id,
                pad: 0,
            });
            let t = self.store.add_tag(TagData {
                vm: VmSlot::InVmctx(vm),
                ty: meta.types[ty as usize].clone(),
            });
            put(self.vmctx, self.layout.tag_pointer(i as u32), vm);
            (&mut *self.record).tags.push(t);
        }
        Ok(())
    }

    /// Evaluates a constant expression (indices were validated at load).
    unsafe fn eval(&self, e: &ConstExpr) -> ValRaw {
        match *e {
            ConstExpr::I32Arith(ref ops) => ValRaw::from_u32(self.run_arith(ops) as u32),
            ConstExpr::I64Arith(ref ops) => ValRaw::from_u64(self.run_arith(ops)),
            ConstExpr::I32(x) => ValRaw::from_u32(x as u32),
            ConstExpr::I64(x) => ValRaw::from_u64(x as u64),
            ConstExpr::F32(x) => ValRaw::from_u32(x),
            ConstExpr::F64(x) => ValRaw::from_u64(x),
            ConstExpr::V128(x) => ValRaw::from_u128(x),
            ConstExpr::RefNull => ValRaw::default(),
            ConstExpr::RefFunc(f) => {
                ValRaw::from_u64(self.vmctx.add(self.layout.funcref(f) as usize) as u64)
            }
            ConstExpr::GlobalGet(g) => self.global(g),
        }
    }

    /// The value of global `g`, an imported one (constant expressions read
    /// no others: the load check refuses them).
    unsafe fn global(&self, g: u32) -> ValRaw {
        *(*slot::<*const ValRaw>(self.vmctx, self.layout.global_pointer(g)))
    }

    /// Evaluates arithmetic through the module's parts: arithmetic reads an
    /// imported global, so a module with some has
    /// [`rivet_descriptor::parts::IMPORTS`] (its load checked that its parts
    /// cover it), and hosts of modules without imports link no evaluator.
    unsafe fn run_arith(&self, ops: &[ConstOp]) -> u64 {
        match self.module.inner().parts.arith {
            Some(arith) => arith(self, ops),
            None => 0,
        }
    }

    /// Evaluates an arithmetic constant expression over imported globals
    /// (its shape was checked at load or, for a static unit, at build time).
    unsafe fn arith(&self, ops: &[ConstOp]) -> u64 {
        ConstOp::eval(ops, |g| self.global(g).u64()).unwrap_or(0)
    }

    unsafe fn elements(&mut self) -> Result<(), Error> {
        let meta = &self.module.inner().meta;
        for seg in meta.elements.iter() {
            let items: Vec<usize> = seg
                .items
                .iter()
                .map(|e| self.eval(e).u64() as usize)
                .collect();
            let kept = match &seg.mode {
                SegmentMode::Passive => items,
                SegmentMode::Declared => Vec::new(),
                SegmentMode::Active { index, offset } => {
                    let at = self.eval(offset).u32() as u64;
                    let table = &mut *(&mut *self.record).tables[*index as usize].1;
                    if !table.write(at, &items) {
                        return Err(Error::Trap(Trap::new(TrapKind::TableOutOfBounds)));
                    }
                    Vec::new()
                }
            };
            (&mut *self.record).elements.push(kept);
        }
        Ok(())
    }

    unsafe fn data(&mut self) -> Result<(), Error> {
        let inner = self.module.inner();
        for seg in inner.meta.data.iter() {
            let addr = inner.data + seg.start as usize;
            let kept = match &seg.mode {
                SegmentMode::Active { index, offset } => {
                    let at = self.eval(offset).u32() as u64;
                    let bytes = core::slice::from_raw_parts(addr as *const u8, seg.len as usize);
                    let mem = (*(&mut *self.record).memories[*index as usize].1).data_mut();
                    let Some(r) = table::range(at, seg.len, mem.len() as u64) else {
                        return Err(Error::Trap(Trap::new(TrapKind::MemoryOutOfBounds)));
                    };
                    mem[r].copy_from_slice(bytes);
                    (addr, 0)
                }
                _ => (addr, seg.len as usize),
            };
            (&mut *self.record).data.push(kept);
        }
        Ok(())
    }

    unsafe fn start(&mut self) -> Result<(), Error> {
        let Some(start) = self.meta().start else {
            return Ok(());
        };
        // On raw slots, not through `Func::call`: the validator checked that
        // a start function takes and returns nothing, and every host would
        // otherwise link the checks of dynamic values.
        let f = (&mut *self.record).funcs[start as usize];
        f.raw_target(self.store)
            .and_then(|t| t.call(self.store, &mut []))
            .map_err(Error::Trap)
    }
}
