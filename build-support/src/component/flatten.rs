//! Flattening: walks a validated component tree as the runtime would instantiate
//! it and records the result as one flat plan.
//!
//! Each (nested) component instantiation gets a [`Scope`] holding its index
//! spaces; nested component instantiations are inlined, with their imports bound
//! to the instantiation arguments. Core instantiations become
//! [`Step::Instantiate`]s in execution order; each distinct core module is put in
//! the unit once however often it is instantiated. Lowers of lifted functions get
//! a fused adapter, put in the oldest adapter group whose instantiation step
//! comes after every core instance the adapter imports from, or in a new group
//! instantiated right after the newest core instance so far: as few adapter
//! modules as their dependencies allow. Groups are encoded at the end, when no
//! more adapters can join them.

use super::async_error;
use super::decode::{Item, Tree};
use super::types::{Interner, TypeScope};
use crate::fuse::{AdapterGroup, AdapterRequest};
use crate::{Error, ErrorKind};
use rivet_descriptor::abi::call_layout;
use rivet_descriptor::component::{
    CanonOptions, Component, ComponentExport, ComponentImport, ComponentInstance, CoreDef,
    HostLower, Lift, ResourceDef, Step, StringEncoding,
};
use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentDefinedType, ComponentEntityType, ComponentValType, ResourceId,
};
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind,
    ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, Instance, TypeBounds,
};

/// The flattened component: the unit's core modules and the plan.
pub struct Flattened<'a> {
    pub modules: Vec<PlanModule<'a>>,
    pub plan: Component,
}

/// A core module of the unit: a module of the component or a generated adapter.
pub struct PlanModule<'a> {
    pub wasm: Cow<'a, [u8]>,
    /// Where the module starts in the component (0 for adapters).
    pub offset: usize,
    /// Whether it is a generated adapter: its calls cross component
    /// boundaries, where an uncaught exception traps.
    pub adapter: bool,
}

/// Flattens a validated component.
pub fn flatten<'a>(tree: &Tree<'a>) -> Result<Flattened<'a>, Error> {
    let mut f = Flattener {
        tree,
        plan: Component::default(),
        modules: Vec::new(),
        module_index: HashMap::new(),
        interner: Interner::default(),
        groups: Vec::new(),
    };
    f.plan
        .instances
        .to_mut()
        .push(ComponentInstance { parent: None });
    let mut root = Scope::new(0, tree.root(), Rc::new(Closure::default()), None);
    f.run(&mut root)?;
    f.finish_groups()?;
    Ok(Flattened {
        modules: f.modules,
        plan: f.plan,
    })
}

/// The error for instantiating a core module the host would supply: that
/// needs a compiler at run time. (Only importing one stays valid, as the
/// reference tests require; the runtime then refuses the plan.)
const MODULE_IMPORT: &str =
    "not supported: importing a core module (Rivet compiles ahead of time; \
     embed the module in the component instead)";

/// A component-level function.
#[derive(Clone)]
enum Func {
    /// A `canon lift` of a core function.
    Lifted(Rc<Lift>),
    /// A function the host provides: index into the plan's imports.
    Import(u32),
}

/// A component type, as far as flattening cares: resources have an identity.
#[derive(Clone, Copy)]
enum TypeDef {
    Resource(u32),
    Other,
}

/// An item of a component-level index space.
#[derive(Clone)]
enum Def {
    Func(Func),
    Instance(Rc<Exports>),
    Type(TypeDef),
    Module(ModuleDef),
    Component(ComponentRef),
}

/// A core module of a component-level index space.
#[derive(Clone, Copy)]
enum ModuleDef {
    /// Defined in the component: index into the tree's modules.
    Defined(usize),
    /// Imported by the root from the host (named in the plan's `module_imports`).
    /// Valid, but instantiating it is a build error ([`MODULE_IMPORT`]).
    Imported,
}

/// The named items of a component instance.
type Exports = Vec<(String, Def)>;

/// A component definition with the enclosing index spaces it may alias.
#[derive(Clone)]
struct ComponentRef {
    def: usize,
    outer: Rc<Closure>,
}

/// The static index spaces of an enclosing component at the point a nested
/// component was defined: what `alias outer` can reach.
#[derive(Default)]
struct Closure {
    modules: Vec<ModuleDef>,
    components: Vec<ComponentRef>,
    types: Vec<TypeDef>,
    parent: Option<Rc<Closure>>,
}

/// A core instance.
#[derive(Clone)]
enum CoreInstance {
    /// Created by step `i`.
    Step(u32),
    /// Bundled from existing items.
    Exports(Rc<HashMap<String, CoreDef>>),
}

/// The index spaces of one component instance being flattened.
struct Scope {
    /// Its plan component instance.
    instance: u32,
    /// Its definition in the tree.
    def: usize,
    outer: Rc<Closure>,
    /// Instantiation arguments; `None` for the root, whose imports come from the host.
    args: Option<HashMap<String, Def>>,
    core_funcs: Vec<CoreDef>,
    core_memories: Vec<CoreDef>,
    core_tables: Vec<CoreDef>,
    core_globals: Vec<CoreDef>,
    core_tags: Vec<CoreDef>,
    core_instances: Vec<CoreInstance>,
    modules: Vec<ModuleDef>,
    components: Vec<ComponentRef>,
    funcs: Vec<Func>,
    instances: Vec<Rc<Exports>>,
    types: Vec<TypeDef>,
    /// The plan resource each resource id of this definition stands for here.
    resources: HashMap<ResourceId, u32>,
    exports: Exports,
}

impl Scope {
    fn new(
        instance: u32,
        def: usize,
        outer: Rc<Closure>,
        args: Option<HashMap<String, Def>>,
    ) -> Scope {
        Scope {
            instance,
            def,
            outer,
            args,
            core_funcs: Vec::new(),
            core_memories: Vec::new(),
            core_tables: Vec::new(),
            core_globals: Vec::new(),
            core_tags: Vec::new(),
            core_instances: Vec::new(),
            modules: Vec::new(),
            components: Vec::new(),
            funcs: Vec::new(),
            instances: Vec::new(),
            types: Vec::new(),
            resources: HashMap::new(),
            exports: Vec::new(),
        }
    }

    /// The core index space of `kind`.
    fn core_space(
        &mut self,
        kind: ExternalKind,
        offset: usize,
    ) -> Result<&mut Vec<CoreDef>, Error> {
        Ok(match kind {
            ExternalKind::Func => &mut self.core_funcs,
            ExternalKind::Memory => &mut self.core_memories,
            ExternalKind::Table => &mut self.core_tables,
            ExternalKind::Global => &mut self.core_globals,
            ExternalKind::Tag => &mut self.core_tags,
            ExternalKind::FuncExact => {
                return Err(Error::unsupported(offset, "exact function exports"))
            }
        })
    }

    fn core_item(
        &mut self,
        kind: ExternalKind,
        index: u32,
        offset: usize,
    ) -> Result<CoreDef, Error> {
        get(self.core_space(kind, offset)?, index, offset)
    }

    /// Export `name` of core instance `index`.
    fn core_export(&self, index: u32, name: &str, offset: usize) -> Result<CoreDef, Error> {
        match get(&self.core_instances, index, offset)? {
            CoreInstance::Step(step) => Ok(CoreDef::Export {
                instance: step,
                name: name.to_string().into(),
            }),
            CoreInstance::Exports(items) => items
                .get(name)
                .cloned()
                .ok_or_else(|| Error::at(offset, format!("core instance has no export `{name}`"))),
        }
    }

    /// Item `index` of the component-level index space of `kind`.
    fn item(&self, kind: ComponentExternalKind, index: u32, offset: usize) -> Result<Def, Error> {
        Ok(match kind {
            ComponentExternalKind::Func => Def::Func(get(&self.funcs, index, offset)?),
            ComponentExternalKind::Instance => Def::Instance(get(&self.instances, index, offset)?),
            ComponentExternalKind::Type => Def::Type(get(&self.types, index, offset)?),
            ComponentExternalKind::Module => Def::Module(get(&self.modules, index, offset)?),
            ComponentExternalKind::Component => {
                Def::Component(get(&self.components, index, offset)?)
            }
            ComponentExternalKind::Value => {
                return Err(Error::unsupported(offset, "component values"))
            }
        })
    }

    /// The enclosing index spaces `count` levels out, as a closure.
    fn closure_at(&self, count: u32, offset: usize) -> Result<Rc<Closure>, Error> {
        if count == 0 {
            return Ok(Rc::new(self.snapshot()));
        }
        let mut closure = self.outer.clone();
        for _ in 1..count {
            closure = closure
                .parent
                .clone()
                .ok_or_else(|| Error::at(offset, "outer alias count too large"))?;
        }
        Ok(closure)
    }

    /// What a component defined now may alias from this scope.
    fn snapshot(&self) -> Closure {
        Closure {
            modules: self.modules.clone(),
            components: self.components.clone(),
            types: self.types.clone(),
            parent: Some(self.outer.clone()),
        }
    }
}

/// Item `index` of an index space, or an error at `offset`.
fn get<T: Clone>(space: &[T], index: u32, offset: usize) -> Result<T, Error> {
    space
        .get(index as usize)
        .cloned()
        .ok_or_else(|| Error::at(offset, format!("index {index} out of bounds")))
}

/// The plan under construction.
struct Flattener<'t, 'a> {
    tree: &'t Tree<'a>,
    plan: Component,
    modules: Vec<PlanModule<'a>>,
    /// Unit module index of each module already added, by its bytes: a module
    /// instantiated several times, or defined twice with the same bytes, is
    /// compiled once.
    module_index: HashMap<&'a [u8], u32>,
    interner: Interner,
    /// Adapter groups, oldest first, each with the step that instantiates it
    /// (a placeholder until [`Flattener::finish_groups`]).
    groups: Vec<(u32, AdapterGroup)>,
}

impl<'a> Flattener<'_, 'a> {
    /// Runs every item of the scope's definition in order.
    fn run(&mut self, scope: &mut Scope) -> Result<(), Error> {
        let tree = self.tree;
        for item in &tree.components[scope.def].items {
            match item {
                Item::Module(m) => scope.modules.push(ModuleDef::Defined(*m)),
                Item::Component(c) => {
                    let outer = Rc::new(scope.snapshot());
                    scope.components.push(ComponentRef { def: *c, outer });
                }
                Item::CoreInstance(instance, offset) => {
                    self.core_instance(scope, instance, *offset)?
                }
                Item::Type(ty, offset) => self.type_def(scope, ty, *offset)?,
                Item::Instance(instance, offset) => self.instance(scope, instance, *offset)?,
                Item::Alias(alias, offset) => self.alias(scope, alias, *offset)?,
                Item::Canon(canon, offset) => self.canon(scope, canon, *offset)?,
                Item::Start(_, offset) => {
                    return Err(Error::unsupported(*offset, "component start functions"))
                }
                Item::Import(import, offset) => {
                    self.import(scope, import.name.name, import.ty, *offset)?
                }
                Item::Export(export, offset) => {
                    self.export(scope, export.name.name, export.kind, export.index, *offset)?
                }
            }
        }
        Ok(())
    }

    /// A type definition; a resource gets a new plan resource, owned by this
    /// component instance.
    fn type_def(
        &mut self,
        scope: &mut Scope,
        ty: &wasmparser::ComponentType<'_>,
        offset: usize,
    ) -> Result<(), Error> {
        let def = match ty {
            wasmparser::ComponentType::Resource { dtor, .. } => {
                let dtor = match dtor {
                    Some(f) => Some(get(&scope.core_funcs, *f, offset)?),
                    None => None,
                };
                self.plan.resources.to_mut().push(ResourceDef {
                    instance: scope.instance,
                    imported: false,
                    dtor,
                    name: String::new().into(),
                });
                TypeDef::Resource(self.plan.resources.len() as u32 - 1)
            }
            _ => TypeDef::Other,
        };
        self.push_type(scope, def, offset)
    }

    /// Appends a type to the scope's type index space, binding its resource id
    /// (if it is a resource) to the plan resource it stands for.
    fn push_type(&mut self, scope: &mut Scope, def: TypeDef, offset: usize) -> Result<(), Error> {
        let index = scope.types.len() as u32;
        let types = &self.tree.components[scope.def].types;
        let mut def = def;
        if let ComponentAnyTypeId::Resource(id) = any_type(types, index, offset)? {
            match def {
                TypeDef::Resource(r) => {
                    scope.resources.insert(id.resource(), r);
                }
                TypeDef::Other => {
                    if let Some(r) = scope.resources.get(&id.resource()) {
                        def = TypeDef::Resource(*r);
                    }
                }
            }
        }
        scope.types.push(def);
        Ok(())
    }

    /// Appends `def` to the index space of `kind`.
    fn push_def(&mut self, scope: &mut Scope, def: Def, offset: usize) -> Result<(), Error> {
        match def {
            Def::Func(f) => scope.funcs.push(f),
            Def::Instance(i) => scope.instances.push(i),
            Def::Type(t) => self.push_type(scope, t, offset)?,
            Def::Module(m) => scope.modules.push(m),
            Def::Component(c) => scope.components.push(c),
        }
        Ok(())
    }

    /// A core instance: a module instantiation (a new step) or a bundle of items.
    fn core_instance(
        &mut self,
        scope: &mut Scope,
        instance: &Instance<'_>,
        offset: usize,
    ) -> Result<(), Error> {
        let created = match instance {
            Instance::Instantiate { module_index, args } => {
                let tree_module = match get(&scope.modules, *module_index, offset)? {
                    ModuleDef::Defined(m) => m,
                    ModuleDef::Imported => {
                        let e = Error::new(ErrorKind::Unsupported, MODULE_IMPORT);
                        return Err(e.at_offset(offset));
                    }
                };
                let named: HashMap<&str, u32> = args.iter().map(|a| (a.name, a.index)).collect();
                let mut defs = Vec::new();
                for (module, name) in &self.tree.modules[tree_module].imports {
                    let Some(instance) = named.get(module.as_str()) else {
                        return Err(Error::at(
                            offset,
                            format!("missing instantiation argument `{module}`"),
                        ));
                    };
                    defs.push(scope.core_export(*instance, name, offset)?);
                }
                let module = self.unit_module(tree_module);
                CoreInstance::Step(self.step(module, defs))
            }
            Instance::FromExports(exports) => {
                let mut items = HashMap::new();
                for export in exports.iter() {
                    let def = scope.core_item(export.kind, export.index, offset)?;
                    items.insert(export.name.to_string(), def);
                }
                CoreInstance::Exports(Rc::new(items))
            }
        };
        scope.core_instances.push(created);
        Ok(())
    }

    /// The unit module index of a tree module, adding it on first use.
    fn unit_module(&mut self, tree_module: usize) -> u32 {
        let def = &self.tree.modules[tree_module];
        if let Some(index) = self.module_index.get(def.wasm) {
            return *index;
        }
        self.modules.push(PlanModule {
            wasm: Cow::Borrowed(def.wasm),
            offset: def.offset,
            adapter: false,
        });
        let index = self.modules.len() as u32 - 1;
        self.module_index.insert(def.wasm, index);
        index
    }

    /// Appends an instantiation step and returns its core instance index.
    fn step(&mut self, module: u32, args: Vec<CoreDef>) -> u32 {
        self.plan.steps.to_mut().push(Step::Instantiate {
            module,
            args: args.into(),
        });
        self.plan.steps.len() as u32 - 1
    }

    /// A component instance: an inlined instantiation or a bundle of items.
    fn instance(
        &mut self,
        scope: &mut Scope,
        instance: &wasmparser::ComponentInstance<'_>,
        offset: usize,
    ) -> Result<(), Error> {
        let exports = match instance {
            wasmparser::ComponentInstance::Instantiate {
                component_index,
                args,
            } => {
                let component = get(&scope.components, *component_index, offset)?;
                let mut named = HashMap::new();
                for arg in args.iter() {
                    named.insert(
                        arg.name.to_string(),
                        scope.item(arg.kind, arg.index, offset)?,
                    );
                }
                self.plan.instances.to_mut().push(ComponentInstance {
                    parent: Some(scope.instance),
                });
                let instance = self.plan.instances.len() as u32 - 1;
                let mut child = Scope::new(instance, component.def, component.outer, Some(named));
                self.run(&mut child)?;
                child.exports
            }
            wasmparser::ComponentInstance::FromExports(exports) => {
                let mut items = Vec::new();
                for export in exports.iter() {
                    let def = scope.item(export.kind, export.index, offset)?;
                    items.push((export.name.name.to_string(), def));
                }
                items
            }
        };
        scope.instances.push(Rc::new(exports));
        Ok(())
    }

    fn alias(
        &mut self,
        scope: &mut Scope,
        alias: &ComponentAlias<'_>,
        offset: usize,
    ) -> Result<(), Error> {
        match alias {
            ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let def = scope.core_export(*instance_index, name, offset)?;
                scope.core_space(*kind, offset)?.push(def);
            }
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let instance = get(&scope.instances, *instance_index, offset)?;
                let Some((_, def)) = instance.iter().find(|(n, _)| n == name) else {
                    return Err(Error::at(
                        offset,
                        format!("instance has no export `{name}`"),
                    ));
                };
                if *kind == ComponentExternalKind::Value {
                    return Err(Error::unsupported(offset, "component values"));
                }
                self.push_def(scope, def.clone(), offset)?;
            }
            ComponentAlias::Outer { kind, count, index } => {
                let closure = scope.closure_at(*count, offset)?;
                let def = match kind {
                    ComponentOuterAliasKind::CoreModule => {
                        Def::Module(get(&closure.modules, *index, offset)?)
                    }
                    ComponentOuterAliasKind::Component => {
                        Def::Component(get(&closure.components, *index, offset)?)
                    }
                    ComponentOuterAliasKind::Type => {
                        Def::Type(get(&closure.types, *index, offset)?)
                    }
                    ComponentOuterAliasKind::CoreType => return Ok(()),
                };
                self.push_def(scope, def, offset)?;
            }
        }
        Ok(())
    }

    fn canon(
        &mut self,
        scope: &mut Scope,
        canon: &CanonicalFunction,
        offset: usize,
    ) -> Result<(), Error> {
        let instance = scope.instance;
        match canon {
            CanonicalFunction::Lift {
                core_func_index,
                type_index,
                options,
            } => {
                let types = &self.tree.components[scope.def].types;
                let ComponentAnyTypeId::Func(id) = any_type(types, *type_index, offset)? else {
                    return Err(Error::at(offset, "canon lift of a non-function type"));
                };
                let type_scope = TypeScope {
                    types,
                    resources: &scope.resources,
                    renames: &self.tree.renames,
                    offset,
                };
                let ty = self.interner.func(&mut self.plan, &type_scope, id)?;
                let layout = call_layout(&self.plan, &self.plan.func_types[ty as usize]);
                let lift = Lift {
                    func: get(&scope.core_funcs, *core_func_index, offset)?,
                    ty,
                    options: canon_options(scope, options, offset)?,
                    instance,
                    layout,
                };
                scope.funcs.push(Func::Lifted(Rc::new(lift)));
            }
            CanonicalFunction::Lower {
                func_index,
                options,
            } => {
                let options = canon_options(scope, options, offset)?;
                let def = match get(&scope.funcs, *func_index, offset)? {
                    Func::Import(import) => {
                        self.plan.host_lowers.to_mut().push(HostLower {
                            import,
                            options,
                            instance,
                        });
                        CoreDef::HostLower(self.plan.host_lowers.len() as u32 - 1)
                    }
                    Func::Lifted(lift) => self.adapter(&lift, &options, instance, offset)?,
                };
                scope.core_funcs.push(def);
            }
            CanonicalFunction::ResourceNew { resource } => {
                let resource = resource_of(scope, *resource, offset)?;
                scope
                    .core_funcs
                    .push(CoreDef::ResourceNew { resource, instance });
            }
            CanonicalFunction::ResourceDrop { resource } => {
                let resource = resource_of(scope, *resource, offset)?;
                scope
                    .core_funcs
                    .push(CoreDef::ResourceDrop { resource, instance });
            }
            CanonicalFunction::ResourceRep { resource } => {
                let resource = resource_of(scope, *resource, offset)?;
                scope
                    .core_funcs
                    .push(CoreDef::ResourceRep { resource, instance });
            }
            _ => return Err(async_error(offset)),
        }
        Ok(())
    }

    /// Generates the fused adapter for lowering `lift` into `instance` in the
    /// first group instantiated after everything it imports, and returns the
    /// lowered core function.
    fn adapter(
        &mut self,
        lift: &Lift,
        lower: &CanonOptions,
        instance: u32,
        offset: usize,
    ) -> Result<CoreDef, Error> {
        let needs = newest_instance(lift, lower);
        let position = self
            .groups
            .iter()
            .position(|(step, _)| needs.is_none_or(|n| *step > n));
        let position = position.unwrap_or(self.groups.len());
        if position == self.groups.len() {
            let step = self.step(u32::MAX, Vec::new());
            self.groups.push((step, AdapterGroup::default()));
        }
        let request = AdapterRequest {
            plan: &self.plan,
            ty: lift.ty,
            lower,
            lower_instance: instance,
            lift: &lift.options,
            lift_instance: lift.instance,
            callee: &lift.func,
        };
        let (step, group) = &mut self.groups[position];
        let export = group.add(&request).map_err(|mut e| {
            e.offset = e.offset.or(Some(offset));
            e
        })?;
        Ok(CoreDef::Export {
            instance: *step,
            name: export.into(),
        })
    }

    /// Encodes every adapter group as a unit module and fills in its
    /// placeholder step.
    fn finish_groups(&mut self) -> Result<(), Error> {
        for (step, group) in std::mem::take(&mut self.groups) {
            let (wasm, imports) = group.finish()?;
            self.modules.push(PlanModule {
                wasm: Cow::Owned(wasm),
                offset: 0,
                adapter: true,
            });
            let module = self.modules.len() as u32 - 1;
            self.plan.steps.to_mut()[step as usize] = Step::Instantiate {
                module,
                args: imports.into(),
            };
        }
        Ok(())
    }

    fn import(
        &mut self,
        scope: &mut Scope,
        name: &str,
        ty: ComponentTypeRef,
        offset: usize,
    ) -> Result<(), Error> {
        if let Some(args) = &scope.args {
            let Some(def) = args.get(name).cloned() else {
                return Err(Error::at(
                    offset,
                    format!("missing instantiation argument `{name}`"),
                ));
            };
            return self.push_def(scope, def, offset);
        }
        let def = match ty {
            ComponentTypeRef::Func(index) => {
                let types = &self.tree.components[scope.def].types;
                let ComponentAnyTypeId::Func(id) = any_type(types, index, offset)? else {
                    return Err(Error::at(offset, "function import of a non-function type"));
                };
                Def::Func(self.host_func(scope, name.to_string(), id, offset)?)
            }
            ComponentTypeRef::Instance(_) => {
                // The imported instance's own type, in which the validator gave
                // the resources it defines fresh identities.
                let types = self.tree.components[scope.def].types.as_ref();
                let index = scope.instances.len() as u32;
                if index >= types.component_instance_count() {
                    return Err(Error::at(
                        offset,
                        "instance index out of sync with the validator",
                    ));
                }
                let id = types.component_instance_at(index);
                Def::Instance(self.host_instance(scope, name, id, offset)?)
            }
            ComponentTypeRef::Type(TypeBounds::SubResource) => {
                Def::Type(TypeDef::Resource(self.host_resource(name)))
            }
            // Equal to a type already bound: `push_type` resolves it.
            ComponentTypeRef::Type(TypeBounds::Eq(_)) => {
                let index = scope.types.len() as u32;
                let types = &self.tree.components[scope.def].types;
                let id = any_type(types, index, offset)?;
                self.name_type(scope, id, name, offset);
                Def::Type(TypeDef::Other)
            }
            ComponentTypeRef::Module(_) => {
                self.plan
                    .module_imports
                    .to_mut()
                    .push(name.to_string().into());
                Def::Module(ModuleDef::Imported)
            }
            ComponentTypeRef::Component(_) => {
                return Err(Error::unsupported(offset, "component imports"))
            }
            ComponentTypeRef::Value(_) => return Err(Error::unsupported(offset, "value imports")),
        };
        self.push_def(scope, def, offset)
    }

    /// A resource type the root imports from the host under `name`.
    fn host_resource(&mut self, name: &str) -> u32 {
        self.plan.resources.to_mut().push(ResourceDef {
            instance: 0,
            imported: true,
            dtor: None,
            name: name.to_string().into(),
        });
        self.plan.resources.len() as u32 - 1
    }

    /// A resource type exported by an instance the root imports: one bound
    /// already (`eq` to an outer resource) or a fresh one the host supplies.
    fn instance_resource(&mut self, scope: &mut Scope, id: ResourceId, name: &str) -> TypeDef {
        if let Some(r) = scope.resources.get(&id) {
            return TypeDef::Resource(*r);
        }
        let r = self.host_resource(name);
        scope.resources.insert(id, r);
        TypeDef::Resource(r)
    }

    /// An instance imported from the host under `name`: its functions become
    /// imports named `name#f` (`name#inner#f` for nested instances).
    fn host_instance(
        &mut self,
        scope: &mut Scope,
        name: &str,
        id: wasmparser::component_types::ComponentInstanceTypeId,
        offset: usize,
    ) -> Result<Rc<Exports>, Error> {
        let types = &self.tree.components[scope.def].types;
        let mut exports = Vec::new();
        for (export, item) in types[id].exports.iter() {
            let export = self.tree.renames.original(export);
            let full = format!("{name}#{export}");
            let def = match item.ty {
                ComponentEntityType::Func(f) => Def::Func(self.host_func(scope, full, f, offset)?),
                ComponentEntityType::Instance(i) => {
                    Def::Instance(self.host_instance(scope, &full, i, offset)?)
                }
                ComponentEntityType::Type {
                    created: ComponentAnyTypeId::Resource(r),
                    ..
                } => Def::Type(self.instance_resource(scope, r.resource(), &full)),
                ComponentEntityType::Type { created, .. } => {
                    self.name_type(scope, created, &full, offset);
                    Def::Type(TypeDef::Other)
                }
                _ => {
                    return Err(Error::unsupported(
                        offset,
                        format!("imported instance `{name}` exporting `{export}`: only functions, instances and types"),
                    ))
                }
            };
            exports.push((export.to_string(), def));
        }
        Ok(Rc::new(exports))
    }

    /// A host function import named `name` of function type `id`.
    fn host_func(
        &mut self,
        scope: &Scope,
        name: String,
        id: wasmparser::component_types::ComponentFuncTypeId,
        offset: usize,
    ) -> Result<Func, Error> {
        let type_scope = TypeScope {
            types: &self.tree.components[scope.def].types,
            resources: &scope.resources,
            renames: &self.tree.renames,
            offset,
        };
        let ty = self.interner.func(&mut self.plan, &type_scope, id)?;
        self.plan.imports.to_mut().push(ComponentImport {
            name: name.into(),
            ty,
        });
        Ok(Func::Import(self.plan.imports.len() as u32 - 1))
    }

    fn export(
        &mut self,
        scope: &mut Scope,
        name: &str,
        kind: ComponentExternalKind,
        index: u32,
        offset: usize,
    ) -> Result<(), Error> {
        let def = scope.item(kind, index, offset)?;
        if let Def::Type(TypeDef::Resource(r)) = def {
            let resource = &mut self.plan.resources.to_mut()[r as usize];
            if resource.name.is_empty() {
                resource.name = name.to_string().into();
            }
        }
        if scope.args.is_none() {
            self.host_export(name, &def, offset)?;
        }
        scope.exports.push((name.to_string(), def.clone()));
        self.push_def(scope, def, offset)?;
        if scope.args.is_none() && kind == ComponentExternalKind::Type {
            let index = scope.types.len() as u32 - 1;
            let id = any_type(&self.tree.components[scope.def].types, index, offset)?;
            self.name_type(scope, id, name, offset);
        }
        if scope.args.is_none() && kind == ComponentExternalKind::Instance {
            self.name_instance_types(scope, name, offset);
        }
        Ok(())
    }

    /// Records the WIT names of the types an instance the root exports as
    /// `name` exports in its type (`name#point`): the types declared in an
    /// exported interface. (A name the validator saw spelt anew is not found:
    /// its types keep numbered names, which only costs the courtesy.)
    fn name_instance_types(&mut self, scope: &Scope, name: &str, offset: usize) {
        let tree = self.tree;
        let types = &tree.components[scope.def].types;
        let Some(ComponentEntityType::Instance(id)) =
            types.component_item_for_export(name).map(|item| item.ty)
        else {
            return;
        };
        let named: Vec<(String, ComponentAnyTypeId)> = types[id]
            .exports
            .iter()
            .filter_map(|(export, item)| match item.ty {
                ComponentEntityType::Type { created, .. } => {
                    let export = tree.renames.original(export);
                    Some((format!("{name}#{export}"), created))
                }
                _ => None,
            })
            .collect();
        for (full, id) in named {
            self.name_type(scope, id, &full, offset);
        }
    }

    /// Records the WIT name of a record, variant, enum or flags type the root
    /// imports or exports (also inside an interface), for the bindings' Rust type names. Names are only a
    /// courtesy: a type the plan cannot hold is refused where a function uses
    /// it, so here it is skipped, as are the other kinds of types.
    fn name_type(&mut self, scope: &Scope, id: ComponentAnyTypeId, name: &str, offset: usize) {
        let ComponentAnyTypeId::Defined(id) = id else {
            return;
        };
        let types = &self.tree.components[scope.def].types;
        if !matches!(
            types[id],
            ComponentDefinedType::Record(_)
                | ComponentDefinedType::Variant(_)
                | ComponentDefinedType::Enum(_)
                | ComponentDefinedType::Flags(_)
        ) {
            return;
        }
        let type_scope = TypeScope {
            types,
            resources: &scope.resources,
            renames: &self.tree.renames,
            offset,
        };
        let value = ComponentValType::Type(id);
        if let Ok(index) = self.interner.value(&mut self.plan, &type_scope, &value) {
            if !self.plan.type_names.iter().any(|(i, _)| *i == index) {
                self.plan
                    .type_names
                    .to_mut()
                    .push((index, name.to_string().into()));
            }
        }
    }

    /// Records what a root export makes callable by the host: functions, and
    /// the functions of exported instances as `name#f` (`name#inner#f` for
    /// nested instances). A resource takes the name the root exports it
    /// under (`name#r`), over one a nested component gave it, as the host
    /// knows it by that name; one the root imports keeps its import's name,
    /// by which the host defines it.
    fn host_export(&mut self, name: &str, def: &Def, offset: usize) -> Result<(), Error> {
        match def {
            Def::Type(TypeDef::Resource(r)) => {
                let resource = &mut self.plan.resources.to_mut()[*r as usize];
                if !resource.imported {
                    resource.name = name.to_string().into();
                }
                Ok(())
            }
            Def::Func(func) => self.export_func(name.to_string(), func, offset),
            Def::Instance(items) => {
                for (item, def) in items.iter() {
                    self.host_export(&format!("{name}#{item}"), def, offset)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn export_func(&mut self, name: String, func: &Func, offset: usize) -> Result<(), Error> {
        let Func::Lifted(lift) = func else {
            return Err(Error::unsupported(offset, "re-exporting a host import"));
        };
        self.plan.lifts.to_mut().push((**lift).clone());
        let lift = self.plan.lifts.len() as u32 - 1;
        self.plan.exports.to_mut().push(ComponentExport {
            name: name.into(),
            lift,
        });
        Ok(())
    }
}

/// The validator's type at component type index `index`, checked so that an
/// index space out of sync with the validator's is an error, not a panic.
fn any_type(types: &Types, index: u32, offset: usize) -> Result<ComponentAnyTypeId, Error> {
    if index < types.as_ref().component_type_count() {
        Ok(types.component_any_type_at(index))
    } else {
        Err(Error::at(
            offset,
            format!("type index {index} out of sync with the validator"),
        ))
    }
}

/// The newest core instance an adapter between `lift` and `lower` may import
/// from (intrinsics, host lowers and resource intrinsics need none).
fn newest_instance(lift: &Lift, lower: &CanonOptions) -> Option<u32> {
    let options = [&lift.options, lower];
    let defs = options
        .iter()
        .flat_map(|o| [&o.memory, &o.realloc, &o.post_return])
        .flatten()
        .chain([&lift.func]);
    defs.filter_map(|d| match d {
        CoreDef::Export { instance, .. } => Some(*instance),
        _ => None,
    })
    .max()
}

/// The plan resource of type index `index`.
fn resource_of(scope: &Scope, index: u32, offset: usize) -> Result<u32, Error> {
    match get(&scope.types, index, offset)? {
        TypeDef::Resource(r) => Ok(r),
        TypeDef::Other => Err(Error::unsupported(
            offset,
            "resource intrinsics of resource types imported from the host",
        )),
    }
}

/// Converts `canon` options, resolving memories and functions in `scope`.
fn canon_options(
    scope: &Scope,
    options: &[CanonicalOption],
    offset: usize,
) -> Result<CanonOptions, Error> {
    let mut out = CanonOptions::default();
    for option in options {
        match option {
            CanonicalOption::UTF8 => out.string_encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => out.string_encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => out.string_encoding = StringEncoding::CompactUtf16,
            CanonicalOption::Memory(m) => out.memory = Some(get(&scope.core_memories, *m, offset)?),
            CanonicalOption::Realloc(f) => out.realloc = Some(get(&scope.core_funcs, *f, offset)?),
            CanonicalOption::PostReturn(f) => {
                out.post_return = Some(get(&scope.core_funcs, *f, offset)?)
            }
            CanonicalOption::Async | CanonicalOption::Callback(_) => {
                return Err(async_error(offset))
            }
            CanonicalOption::CoreType(_) | CanonicalOption::Gc => {
                return Err(Error::unsupported(offset, "the GC canonical ABI"))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{decode, docs};
    use rivet_descriptor::component::ValueType;

    /// A component exporting the interface `my:pkg/api` with a type `point`
    /// and a function using it, and a top-level enum `color`; its
    /// `package-docs` section documents them.
    const COMPONENT: &str = r#"(component
        (core module $m
            (func (export "check") (param i32 i32) (result i32) i32.const 0)
            (func (export "paint") (param i32) (result i32) local.get 0))
        (core instance $i (instantiate $m))
        (type $point' (record (field "x" u32) (field "y" u32)))
        (type $color' (enum "red" "green"))
        (export $color "color" (type $color'))
        (func $check (param "p" $point') (result bool) (canon lift (core func $i "check")))
        (func $paint (param "c" $color) (result $color) (canon lift (core func $i "paint")))
        (instance $api (export "point" (type $point')) (export "check" (func $check)))
        (export "my:pkg/api" (instance $api))
        (export "paint" (func $paint))
        (@custom "package-docs" "\01{\"interfaces\": {\"api\": {\"docs\": \"Geometry.\", \"funcs\": {\"check\": {\"docs\": \"Checks a point.\"}}, \"types\": {\"point\": {\"docs\": \"A point.\"}}}}, \"worlds\": {\"w\": {\"func_exports\": {\"paint\": {\"docs\": \"Paints.\"}}, \"types\": {\"color\": {\"docs\": \"A color.\"}}}}}")
    )"#;

    #[test]
    fn types_of_exported_interfaces_keep_their_wit_names_and_docs() {
        let wasm = wat::parse_str(COMPONENT).unwrap();
        let tree = decode::decode(&wasm, false).unwrap();
        let plan = super::flatten(&tree).unwrap().plan;
        let name_of = |kind: fn(&ValueType) -> bool| {
            plan.type_names
                .iter()
                .find(|(i, _)| kind(&plan.types[*i as usize]))
                .map(|(_, n)| n.as_ref())
        };
        assert_eq!(
            name_of(|t| matches!(t, ValueType::Record(_))),
            Some("my:pkg/api#point")
        );
        assert_eq!(name_of(|t| matches!(t, ValueType::Enum(_))), Some("color"));
        let section = tree.docs.expect("the package-docs section");
        let docs = docs::collect(&plan, section);
        let doc = |n: &str| docs.iter().find(|(k, _)| k == n).map(|(_, d)| d.as_str());
        assert_eq!(doc("my:pkg/api#check"), Some("Checks a point."));
        assert_eq!(doc("my:pkg/api#point"), Some("A point."));
        assert_eq!(doc("my:pkg/api"), Some("Geometry."));
        assert_eq!(doc("paint"), Some("Paints."));
        assert_eq!(doc("color"), Some("A color."));
    }
}
