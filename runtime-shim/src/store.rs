//! The store: owner of everything instances and the host create.

use crate::arena::Arena;
use crate::bump::Bump;
use crate::error::{Error, Trap};
use crate::func::VMHostFunc;
use crate::global::{Global, GlobalData};
use crate::instance::{self, Instance, InstanceData};
use crate::memory::{Memory, MemoryData};
use crate::module::Module;
use crate::prelude::*;
use crate::refs::{Refs, RefsPtr};
use crate::table::{Table, TableData};
use crate::tag::{Tag, TagData};
use crate::thread;
use crate::values::Val;
use crate::vm::{VMStoreContext, VmSlot};
use crate::{stack, trap, Extern};
use core::cell::{Cell, RefCell};
use core::sync::atomic::{AtomicU64, Ordering};
use rivet_descriptor::{BoundsMode, ValType};

/// Where a store records itself while it is inside wasm, for host functions
/// that need it ([`crate::Func::wrap_with_store`]).
pub(crate) type ActivePtr = *const Cell<*mut Store>;

/// Identifies a store, so handles from another store are recognised.
pub(crate) type StoreId = u64;

static NEXT_STORE: AtomicU64 = AtomicU64::new(1);

const DEFAULT_MAX_WASM_STACK: usize = 1 << 20;

/// Owns instances, memories, tables, globals, host functions and externref handles.
/// Everything created in a store lives until the store is dropped.
///
/// `Send` (not `Sync`): a store, with everything in it, may move to another
/// thread between calls; each call takes its stack limit and trap state from
/// the thread making it.
pub struct Store {
    id: StoreId,
    bounds: BoundsMode,
    max_wasm_stack: usize,
    /// What compiled code and host-function dispatch reach by pointer, in one
    /// allocation.
    shared: VmSlot<Shared>,
    // Field order is drop order: memories, tables and globals may live inside an
    // instance's vmctx, so they go before the instances.
    pub(crate) memories: Arena<MemoryData>,
    tables: Arena<TableData>,
    globals: Arena<GlobalData>,
    tags: Arena<TagData>,
    hosts: Arena<VMHostFunc>,
    instances: Arena<InstanceData>,
    /// State of every instantiated component (handle tables, flags).
    pub(crate) components: Vec<alloc::rc::Rc<crate::component::instance::ComponentState>>,
    /// The arenas' chunks, instance contexts and the lists of instance
    /// records; last, so that everything in or pointing into them is dropped
    /// before it.
    pub(crate) bump: Bump,
}

// SAFETY: what is not `Send` in a store is its own: the raw pointers point
// into its arenas and shared record, and the `Rc`s of its component states
// (held by its instances' runtime host functions) never leave it, since
// `ComponentInstance` and the other handles are plain indices. Host code put
// into a store must be `Send` (the public constructors of host functions and
// `ComponentImports` require it). So moving the store moves everything that
// refers to that state together, and `&mut self` on every call keeps two
// threads from using it at once (it is not `Sync`).
unsafe impl Send for Store {}

/// The store's records that compiled code and host-function dispatch reach by
/// raw pointer: the stack limit and pending exception, the function and
/// reference tables, and the store currently running wasm.
struct Shared {
    ctx: VMStoreContext,
    refs: RefCell<Refs>,
    active: Cell<*mut Store>,
}

impl Store {
    /// Memories created in this store (and modules instantiated in it) use `bounds`.
    pub fn new(bounds: BoundsMode) -> Store {
        let id = NEXT_STORE.fetch_add(1, Ordering::Relaxed);
        Store {
            id,
            bounds,
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            shared: VmSlot::owned(Shared {
                ctx: VMStoreContext::new(),
                refs: RefCell::new(Refs::new(id)),
                active: Cell::new(core::ptr::null_mut()),
            }),
            memories: Arena::new(),
            tables: Arena::new(),
            globals: Arena::new(),
            tags: Arena::new(),
            hosts: Arena::new(),
            instances: Arena::new(),
            components: Vec::new(),
            bump: Bump::new(),
        }
    }

    /// Maximum native stack wasm may use per call from the host (default 1 MiB).
    pub fn set_max_wasm_stack(&mut self, bytes: usize) {
        self.max_wasm_stack = bytes;
    }

    /// Instantiates: checks the module's bounds mode matches the store's, checks each
    /// import's type against `imports` (same order as Module::imports) with the wasm
    /// import-matching rules -> Error::Link naming the import on mismatch; then builds
    /// the vmctx, memories, tables, globals, applies element segments then data
    /// segments in order (an out-of-bounds segment traps: Error::Trap, earlier writes
    /// stay), then runs the start function (a trap is Error::Trap).
    pub fn instantiate(&mut self, module: &Module, imports: &[Extern]) -> Result<Instance, Error> {
        instance::instantiate(self, module, imports, instance::describe_mismatch)
    }

    pub fn bounds(&self) -> BoundsMode {
        self.bounds
    }

    pub(crate) fn id(&self) -> StoreId {
        self.id
    }

    pub(crate) fn ctx(&self) -> *mut VMStoreContext {
        // SAFETY: a field of the store's shared record, freed only on drop.
        unsafe { &raw mut (*self.shared.ptr()).ctx }
    }

    pub(crate) fn refs(&self) -> &RefCell<Refs> {
        // SAFETY: as in `ctx`.
        unsafe { &*self.refs_ptr() }
    }

    pub(crate) fn refs_ptr(&self) -> RefsPtr {
        // SAFETY: as in `ctx`.
        unsafe { &raw mut (*self.shared.ptr()).refs }
    }

    pub(crate) fn active_ptr(&self) -> ActivePtr {
        // SAFETY: as in `ctx`.
        unsafe { &raw mut (*self.shared.ptr()).active }
    }

    /// Calls into wasm with this store's stack limit in force, taken from the
    /// calling thread's stack (the store may have been created on another).
    ///
    /// Safety: as [`trap::enter`]; the code belongs to an instance of this store.
    pub(crate) unsafe fn enter_wasm(
        &mut self,
        tramp: *const u8,
        code: *const u8,
        vmctx: *mut u8,
        values: *mut crate::vm::ValRaw,
    ) -> Result<(), Trap> {
        let _guard = stack::enter(self.ctx(), self.max_wasm_stack, thread::state());
        let active = &*self.active_ptr();
        let this: *mut Store = self;
        let outer = active.replace(this);
        let result = trap::enter(tramp, code, vmctx, values.cast());
        active.set(outer);
        // An exception still pending here was not caught by any wasm frame; a
        // trap may also interrupt a throw. Either way it must not leak into the
        // next call.
        let uncaught = (*self.ctx()).take_pending_exception();
        match result {
            Ok(()) if uncaught => Err(Trap::new(rivet_descriptor::TrapKind::UncaughtException)),
            other => other,
        }
    }

    fn check(&self, store: StoreId, what: &str) {
        if store != self.id {
            wrong_store(what)
        }
    }

    pub(crate) fn add_memory(&mut self, data: MemoryData) -> Memory {
        Memory {
            store: self.id,
            index: self.memories.push(&mut self.bump, data),
        }
    }

    pub(crate) fn memory(&self, m: Memory) -> &MemoryData {
        self.check(m.store, "Memory");
        self.memories.get(m.index)
    }

    pub(crate) fn memory_mut(&mut self, m: Memory) -> &mut MemoryData {
        self.check(m.store, "Memory");
        self.memories.get_mut(m.index)
    }

    pub(crate) fn memory_ptr(&self, m: Memory) -> *mut MemoryData {
        self.memories.ptr(m.index)
    }

    pub(crate) fn add_table(&mut self, data: TableData) -> Table {
        Table {
            store: self.id,
            index: self.tables.push(&mut self.bump, data),
        }
    }

    pub(crate) fn table(&self, t: Table) -> &TableData {
        self.check(t.store, "Table");
        self.tables.get(t.index)
    }

    pub(crate) fn table_mut(&mut self, t: Table) -> &mut TableData {
        self.check(t.store, "Table");
        self.tables.get_mut(t.index)
    }

    pub(crate) fn table_ptr(&self, t: Table) -> *mut TableData {
        self.tables.ptr(t.index)
    }

    pub(crate) fn add_global(&mut self, data: GlobalData) -> Global {
        Global {
            store: self.id,
            index: self.globals.push(&mut self.bump, data),
        }
    }

    pub(crate) fn global(&self, g: Global) -> &GlobalData {
        self.check(g.store, "Global");
        self.globals.get(g.index)
    }

    pub(crate) fn add_tag(&mut self, data: TagData) -> Tag {
        Tag {
            store: self.id,
            index: self.tags.push(&mut self.bump, data),
        }
    }

    pub(crate) fn tag(&self, t: Tag) -> &TagData {
        self.check(t.store, "Tag");
        self.tags.get(t.index)
    }

    pub(crate) fn add_host_record(&mut self, record: VMHostFunc) -> *mut VMHostFunc {
        let i = self.hosts.push(&mut self.bump, record);
        self.hosts.ptr(i)
    }

    pub(crate) fn add_instance(&mut self, data: InstanceData) -> (Instance, *mut InstanceData) {
        let index = self.instances.push(&mut self.bump, data);
        let instance = Instance {
            store: self.id,
            index,
        };
        (instance, self.instances.ptr(index))
    }

    pub(crate) fn instance(&self, i: Instance) -> &InstanceData {
        self.check(i.store, "Instance");
        self.instances.get(i.index)
    }

    /// The raw element for reference `v` of type `ty`.
    pub(crate) fn ref_to_raw(&self, ty: ValType, v: Val) -> Result<usize, Error> {
        self.refs().borrow_mut().ref_to_raw(ty, v)
    }

    pub(crate) fn raw_to_ref(&self, ty: ValType, raw: usize) -> Val {
        self.refs().borrow().raw_to_ref(ty, raw)
    }
}

/// Panics for a handle (`what`) used with a store that does not own it: a
/// bug in the host. Out of line, so that the many checks stay a compare and a
/// branch.
#[cold]
#[inline(never)]
pub(crate) fn wrong_store(what: &str) -> ! {
    panic!("{what} used with a store that does not own it")
}
