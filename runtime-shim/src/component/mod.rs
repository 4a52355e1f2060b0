//! Components: loading a component unit, instantiating its plan, and the
//! dynamic host API (values checked against types, calls by export name).

mod abi;
pub(crate) mod convert;
pub(crate) mod instance;
pub(crate) mod intrinsics;
mod resources;
pub(crate) mod typed;
pub mod typed_import;
mod types;
mod values;

#[cfg(test)]
mod tests;

pub use convert::{Cx, Flat, FlatBuf};
pub use instance::ComponentInstance;
pub use types::{resource_type, FuncType, ResourceType, Type};
pub use values::{ResourceAny, Value};

use crate::error::{Error, Trap};
use crate::instance::Parts;
use crate::module::{self, LoadedUnit, Meta, MetaOwner, Module};
use crate::prelude::*;
use crate::HashMap;
use alloc::rc::Rc;
use alloc::sync::Arc;
use rivet_descriptor::component::{Component as Plan, CoreDef, Step};
use rivet_descriptor::RawDescriptor;

/// A compiled component, loaded from a descriptor whose unit has a plan.
#[derive(Clone)]
pub struct Component(pub(crate) Arc<ComponentInner>);

pub(crate) struct ComponentInner {
    pub plan: Meta<Plan>,
    /// Keeps the plan alive when it was decoded.
    _owner: MetaOwner,
    pub modules: Vec<Module>,
    /// The plan's types as trees ([`types::Trees`]), made on the first use of
    /// the dynamic API: a host that only makes typed calls never resolves them,
    /// and, the trees being owned through `dyn Any`, links neither their
    /// resolution nor their drop code.
    trees: spin::Once<Box<dyn core::any::Any + Send + Sync>>,
    /// Functions of all the core instances the plan makes, summed: the store
    /// sizes its function lists for them once per instantiation.
    pub core_functions: usize,
    /// The runtime parts its unit uses.
    pub parts: &'static Parts,
}

impl Component {
    /// Loads the unit behind a descriptor: its core modules and its plan.
    ///
    /// # Safety
    /// As [`Module::from_descriptor`].
    pub unsafe fn from_descriptor(desc: *const RawDescriptor) -> Result<Component, Error> {
        Component::from_unit(module::load_unit(desc)?)
    }

    /// A component from a loaded unit, which must have a plan.
    fn from_unit(unit: LoadedUnit) -> Result<Component, Error> {
        let plan = unit
            .plan
            .ok_or_else(|| Error::Format("the unit is a core module, not a component".into()))?;
        Ok(Component::from_parts(
            plan,
            unit.modules,
            unit.owner,
            unit.parts,
        ))
    }

    /// A component from a plan (checked, see [`rivet_descriptor::check`]) and
    /// the unit's modules (in unit order).
    pub(crate) fn from_parts(
        plan: Meta<Plan>,
        modules: Vec<Module>,
        owner: MetaOwner,
        parts: &'static Parts,
    ) -> Component {
        let core_functions = plan
            .steps
            .iter()
            .map(|Step::Instantiate { module, .. }| {
                modules[*module as usize].inner().meta.layout.functions as usize
            })
            .sum();
        Component(Arc::new(ComponentInner {
            plan,
            _owner: owner,
            modules,
            trees: spin::Once::new(),
            core_functions,
            parts,
        }))
    }

    /// Imported functions: (name, type).
    pub fn imports(&self) -> Vec<(String, FuncType)> {
        let c = &self.0;
        c.plan
            .imports
            .iter()
            .map(|i| (i.name.to_string(), c.func_type(i.ty).clone()))
            .collect()
    }

    /// The resource type named `name` (`iface#r` inside an interface): one the
    /// component imports (the host defines it; see
    /// [`ComponentImports::resource`]) or one it exports.
    pub fn resource_type(&self, name: &str) -> Option<ResourceType> {
        let r = self.0.plan.resources.iter().position(|r| r.name == name)?;
        Some(ResourceType(r as u32))
    }

    /// Names of the resource types the host must define (see
    /// [`ComponentImports::resource`]).
    pub fn imported_resources(&self) -> Vec<String> {
        let resources = &self.0.plan.resources;
        resources
            .iter()
            .filter(|r| r.imported)
            .map(|r| r.name.to_string())
            .collect()
    }

    /// Exported functions: (name, type). Functions of exported instances are
    /// named `iface#f`.
    pub fn exports(&self) -> Vec<(String, FuncType)> {
        let c = &self.0;
        c.plan
            .exports
            .iter()
            .map(|e| (e.name.to_string(), c.export_type(e.lift).clone()))
            .collect()
    }
}

impl ComponentInner {
    /// The trees of the plan's types, resolved on first use.
    pub fn trees(&self) -> &types::Trees {
        let trees = self
            .trees
            .call_once(|| Box::new(types::resolve(&self.plan)));
        match trees.downcast_ref() {
            Some(trees) => trees,
            None => unreachable!("the trees are the only value set"),
        }
    }

    /// Function type `index` of the plan, as a tree.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.trees().funcs[index as usize]
    }

    pub fn export_type(&self, lift: u32) -> &FuncType {
        self.func_type(self.plan.lifts[lift as usize].ty)
    }
}

/// A host implementation of an import.
pub(crate) type HostImportFn = dyn Fn(&[Value]) -> Result<Option<Value>, Trap>;

/// A host implementation of an import: one that gets and returns dynamic
/// values ([`ComponentImports::func`]) or one with Rust types
/// ([`ComponentImports::func_typed`]). One trait object for both, so that a
/// host supplying no imports drops its instances' (empty) lists of them
/// with the code it always had.
pub(crate) trait HostFunc {
    fn dynamic(&self) -> Option<&HostImportFn> {
        None
    }
    fn typed(&self) -> Option<&dyn typed_import::TypedImport> {
        None
    }
}

/// Shared by [`ComponentImports`] and every store instantiated with them,
/// which may be on other threads: hence `Arc`, and `Send + Sync` functions.
pub(crate) type HostImport = Arc<dyn HostFunc + Send + Sync>;

/// A host function of [`ComponentImports::func`].
struct Dynamic<F>(F);

impl<F: Fn(&[Value]) -> Result<Option<Value>, Trap> + Send + Sync + 'static> HostFunc
    for Dynamic<F>
{
    fn dynamic(&self) -> Option<&HostImportFn> {
        Some(&self.0)
    }
}

/// The host's destructor of a resource type it defines: gets the representation.
pub(crate) type HostDtor = Arc<dyn Fn(u32) -> Result<(), Trap> + Send + Sync>;

/// How a plan's host import becomes a core function (`intrinsics::host_lower`).
pub(crate) type LowerHost =
    fn(&mut crate::Store, &Rc<instance::ComponentState>, u32) -> Result<crate::Func, Error>;

/// How the host's imports are found for a plan (`instance::supply`).
pub(crate) type SupplyHost = fn(&Plan, &ComponentImports) -> Result<instance::Supplied, Error>;

/// How a plan's resource and adapter intrinsics become core items
/// (`intrinsics::resolve_intrinsic`).
pub(crate) type ResolveIntrinsic =
    fn(&mut crate::Store, &Rc<instance::ComponentState>, &CoreDef) -> Result<crate::Extern, Error>;

/// Host implementations of a component's imports, by import name: functions
/// and the resource types the host defines.
pub struct ComponentImports {
    /// Made by the first [`ComponentImports::func`] or
    /// [`ComponentImports::resource`]: bindings that supply nothing then
    /// leave the maps' code out of the host.
    pub(crate) funcs: Option<HashMap<String, HostImport>>,
    pub(crate) resources: Option<HashMap<String, HostDtor>>,
    /// Set by [`ComponentImports::func`]: only a host that supplies import
    /// functions refers to the code that lifts their arguments and lowers
    /// their results as dynamic [`Value`]s, so a host without imports does not
    /// link it (about a quarter of a small `no_std` host).
    pub(crate) lower: Option<LowerHost>,
    /// Unset only by [`imports_without_intrinsics`], so that bindings
    /// of a plan without resources or adapters leave their code out too.
    pub(crate) intrinsics: Option<ResolveIntrinsic>,
    /// Set by [`ComponentImports::func`] and [`ComponentImports::resource`]:
    /// only a host that supplies something links the lookup by name.
    pub(crate) supply: Option<SupplyHost>,
}

impl Default for ComponentImports {
    fn default() -> Self {
        Self::new()
    }
}

impl ComponentImports {
    /// No imports yet: add them with [`ComponentImports::func`] and
    /// [`ComponentImports::resource`].
    pub fn new() -> Self {
        ComponentImports {
            intrinsics: Some(intrinsics::resolve_intrinsic),
            ..imports_without_intrinsics()
        }
    }

    /// Provides import `name`: `f` gets the lifted arguments and returns the
    /// result (checked against the import's type) or a trap.
    pub fn func(
        &mut self,
        name: &str,
        f: impl Fn(&[Value]) -> Result<Option<Value>, Trap> + Send + Sync + 'static,
    ) -> &mut Self {
        let funcs = self.funcs.get_or_insert_with(HashMap::default);
        funcs.insert(name.to_string(), Arc::new(Dynamic(f)));
        self.lower = Some(intrinsics::host_lower);
        self.supply = Some(instance::supply);
        self
    }

    /// Defines imported resource type `name` (`iface#r` for resource `r` of an
    /// imported interface). Its handles carry a host representation (see
    /// [`ResourceAny::host`]); when the guest drops an owned handle, or the host
    /// drops one with [`ComponentInstance::resource_drop`], `dtor` gets the
    /// representation. An `Err` from it is a trap of the dropping call.
    pub fn resource(
        &mut self,
        name: &str,
        dtor: impl Fn(u32) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> &mut Self {
        let resources = self.resources.get_or_insert_with(HashMap::default);
        resources.insert(name.to_string(), Arc::new(dtor));
        self.supply = Some(instance::supply);
        self
    }
}

/// Loads the unit behind a descriptor, its metadata read in place from
/// `unit`, the static `rivet_build` writes beside the object, with the
/// runtime `parts` it writes beside that: what the `component!` bindings
/// load (nothing to decode, and no code for parts the component does not
/// need).
///
/// # Safety
/// As [`Module::from_descriptor`]; `unit` and `parts` come from the same
/// build as the descriptor.
pub unsafe fn component_from_static(
    desc: *const RawDescriptor,
    unit: &'static rivet_descriptor::Unit,
    parts: &'static Parts,
) -> Result<Component, Error> {
    Component::from_unit(unsafe { module::load_static(desc, unit, parts) }?)
}

/// The host of generated bindings, locked for one import call (the bindings
/// share it, behind a lock, between their import functions, which must be
/// `Send + Sync`). Calls into a store are one at a time, so the lock is only
/// ever found taken when an import re-enters the host through a nested call
/// into the component: a trap, where waiting would never end.
pub fn lock_host<T>(host: &spin::Mutex<T>) -> Result<spin::MutexGuard<'_, T>, Trap> {
    host.try_lock()
        .ok_or_else(|| Trap::fixed("host import re-entered while it is running"))
}

/// The imports of generated bindings whose plan, read when they were
/// compiled, defines no resource and fuses no adapter: the host then does not
/// link the code of the intrinsics those need. A plan that does need one
/// fails to instantiate with a format error.
pub fn imports_without_intrinsics() -> ComponentImports {
    ComponentImports {
        funcs: None,
        resources: None,
        lower: None,
        intrinsics: None,
        supply: None,
    }
}
