//! Running the directives of one script in one bounds mode, in one store.

use crate::component_values::{arg_to_value, check_value_results, show_value};
use crate::loader::Loader;
use crate::pipeline::{Kind, Pipeline, Rejection, Target};
use crate::prepare::Prepared;
use crate::script::is_skip;
use crate::spectest;
use crate::traps::check_trap;
use crate::values::{arg_to_val, check_results, show_vals};
use rivet::{
    Component, ComponentImports, ComponentInstance, Extern, Instance, Module, Store, Trap,
    TrapKind, Val, Value,
};
use std::collections::HashMap;
use wast::token::Id;
use wast::{QuoteWat, WastDirective, WastExecute, WastInvoke, WastRet};

/// What a directive that passed has to say (e.g. why a module was rejected).
pub type Note = Option<String>;

/// Why instantiating failed.
enum InstantiateError {
    /// An import is missing or has the wrong type.
    Link(String),
    /// Instantiation trapped (a segment out of bounds, a trap in the start function).
    Trap(Trap),
    /// Anything else: the runner or the runtime could not try.
    Other(String),
}

impl std::fmt::Display for InstantiateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstantiateError::Link(m) => write!(f, "link error: {m}"),
            InstantiateError::Trap(t) => write!(f, "trap during instantiation ({:?}): {t}", t.kind),
            InstantiateError::Other(m) => write!(f, "instantiation failed: {m}"),
        }
    }
}

/// A compiled module or component of the script.
#[derive(Clone)]
enum Definition {
    Module(Module),
    Component(Component),
    /// A component refused as out of scope (the reason contains the skip marker):
    /// what depends on it is skipped too.
    Skipped(String),
}

/// An instance of the script: core, component, or of a skipped component.
#[derive(Clone)]
enum Live {
    Core(Instance),
    Component(ComponentInstance),
    Skipped(String),
}

/// What a call, global read or instantiation returned.
enum Returned {
    Core(Vec<Val>),
    Component(Option<Value>),
}

/// The state of one script run. Field order matters: the store (and everything
/// that refers into it) is dropped before the loader unloads the code.
pub struct Session<'p> {
    store: Store,
    spectest: HashMap<String, Extern>,
    current: Option<Live>,
    named: HashMap<String, Live>,
    registered: HashMap<String, Instance>,
    definitions: HashMap<String, Definition>,
    last_definition: Option<Definition>,
    target: Target,
    pipeline: &'p Pipeline,
    loader: Loader,
}

impl<'p> Session<'p> {
    /// A fresh store for `target` with the `spectest` module in it.
    pub fn new(target: Target, pipeline: &'p Pipeline) -> Result<Session<'p>, String> {
        let mut store = Store::new(target.mode.bounds());
        let spectest = spectest::instantiate(&mut store)
            .map_err(|e| format!("creating the spectest module: {e}"))?;
        Ok(Session {
            store,
            spectest,
            current: None,
            named: HashMap::new(),
            registered: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            target,
            pipeline,
            loader: Loader::default(),
        })
    }

    /// Runs one directive; `module` is its prepared module or component, if it
    /// has one. An `Err` whose text [`is_skip`] counts as skipped, not failed.
    pub fn run(
        &mut self,
        directive: &WastDirective<'_>,
        module: Option<&Prepared>,
    ) -> Result<Note, String> {
        let prepared = module;
        let module = || prepared.ok_or_else(missing_module);
        match directive {
            WastDirective::Module(wat) => self.module(wat, module()?),
            WastDirective::ModuleDefinition(wat) => self.define(wat, module()?),
            WastDirective::ModuleInstance {
                instance, module, ..
            } => self.instance(*instance, *module),
            WastDirective::Register { name, module, .. } => self.register(name, *module),
            WastDirective::Invoke(invoke) => self.invoke(invoke)?.map(|_| None).map_err(unexpected),
            WastDirective::AssertReturn { exec, results, .. } => {
                let returned = self.execute(exec, prepared)?.map_err(unexpected)?;
                check_returned(&returned, results).map(|()| None)
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                expect_trap(self.execute(exec, prepared)?, message)
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let result = self.invoke(call)?;
                if let Err(trap) = &result {
                    if trap.kind != TrapKind::StackOverflow {
                        return Err(format!(
                            "expected stack exhaustion, got {}",
                            show_trap(trap)
                        ));
                    }
                }
                expect_trap(result, message)
            }
            WastDirective::AssertInvalid { message, .. }
            | WastDirective::AssertMalformed { message, .. } => self.reject(module()?, message),
            WastDirective::AssertUnlinkable { message, .. } => self.unlinkable(module()?, message),
            other => Err(format!(
                "not supported yet: directive {}",
                directive_kind(other)
            )),
        }
    }

    /// `(module …)` / `(component …)`: compile, instantiate, make current.
    fn module(&mut self, wat: &QuoteWat<'_>, prepared: &Prepared) -> Result<Note, String> {
        self.current = None;
        let name = wat.name().map(|id| id.name().to_string());
        if let Some(name) = &name {
            self.named.remove(name);
        }
        let definition = self.compile(prepared)?;
        let live = self.instantiate(&definition).map_err(|e| e.to_string())?;
        if let Some(name) = name {
            self.named.insert(name, live.clone());
        }
        self.current = Some(live.clone());
        skipped_if(&live)
    }

    fn define(&mut self, wat: &QuoteWat<'_>, prepared: &Prepared) -> Result<Note, String> {
        self.last_definition = None;
        if let Some(id) = wat.name() {
            self.definitions.remove(id.name());
        }
        let definition = self.compile(prepared)?;
        if let Some(id) = wat.name() {
            self.definitions
                .insert(id.name().to_string(), definition.clone());
        }
        self.last_definition = Some(definition.clone());
        match definition {
            Definition::Skipped(reason) => Err(reason),
            _ => Ok(None),
        }
    }

    fn instance(&mut self, name: Option<Id<'_>>, module: Option<Id<'_>>) -> Result<Note, String> {
        self.current = None;
        if let Some(id) = name {
            self.named.remove(id.name());
        }
        let definition = match module {
            Some(id) => self.definitions.get(id.name()),
            None => self.last_definition.as_ref(),
        }
        .cloned()
        .ok_or_else(|| format!("no module or component definition {}", show_id(module)))?;
        let live = self.instantiate(&definition).map_err(|e| e.to_string())?;
        if let Some(id) = name {
            self.named.insert(id.name().to_string(), live.clone());
        }
        self.current = Some(live.clone());
        skipped_if(&live)
    }

    fn register(&mut self, name: &str, module: Option<Id<'_>>) -> Result<Note, String> {
        let instance = match self.instance_named(module)? {
            Live::Core(instance) => instance,
            Live::Component(_) => {
                return Err("not supported yet: registering a component instance".to_string())
            }
            Live::Skipped(reason) => return Err(skipped_instance(&reason)),
        };
        self.registered.insert(name.to_string(), instance);
        Ok(None)
    }

    /// Calls an export; the outer error is a failure to call at all.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Result<Returned, Trap>, String> {
        let instance = match self.instance_named(invoke.module)? {
            Live::Core(instance) => instance,
            Live::Component(instance) => return self.invoke_component(instance, invoke),
            Live::Skipped(reason) => return Err(skipped_instance(&reason)),
        };
        let func = match instance.export(&self.store, invoke.name) {
            Some(Extern::Func(f)) => f,
            Some(other) => {
                return Err(format!(
                    "export \"{}\" is not a function: {other:?}",
                    invoke.name
                ))
            }
            None => return Err(format!("no export \"{}\"", invoke.name)),
        };
        let args = invoke
            .args
            .iter()
            .map(arg_to_val)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(func.call(&mut self.store, &args).map(Returned::Core))
    }

    /// Calls a component export with component-model values.
    fn invoke_component(
        &mut self,
        instance: ComponentInstance,
        invoke: &WastInvoke<'_>,
    ) -> Result<Result<Returned, Trap>, String> {
        if instance.func_type(&self.store, invoke.name).is_none() {
            return Err(format!("no exported function \"{}\"", invoke.name));
        }
        let args = invoke
            .args
            .iter()
            .map(arg_to_value)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(instance
            .call(&mut self.store, invoke.name, &args)
            .map(Returned::Component))
    }

    /// Runs what an assertion checks: a call, a global read, or an instantiation.
    fn execute(
        &mut self,
        exec: &WastExecute<'_>,
        prepared: Option<&Prepared>,
    ) -> Result<Result<Returned, Trap>, String> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = match self.instance_named(*module)? {
                    Live::Core(instance) => instance,
                    Live::Component(_) => {
                        return Err(format!("a component instance has no global \"{global}\""))
                    }
                    Live::Skipped(reason) => return Err(skipped_instance(&reason)),
                };
                match instance.export(&self.store, global) {
                    Some(Extern::Global(g)) => Ok(Ok(Returned::Core(vec![g.get(&self.store)]))),
                    Some(other) => Err(format!("export \"{global}\" is not a global: {other:?}")),
                    None => Err(format!("no export \"{global}\"")),
                }
            }
            WastExecute::Wat(_) => {
                let definition = self.compile(prepared.ok_or_else(missing_module)?)?;
                match self.instantiate(&definition) {
                    Ok(Live::Core(_)) => Ok(Ok(Returned::Core(Vec::new()))),
                    Ok(Live::Component(_)) => Ok(Ok(Returned::Component(None))),
                    Ok(Live::Skipped(reason)) => Err(reason),
                    Err(InstantiateError::Trap(trap)) => Ok(Err(trap)),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }

    /// `assert_invalid` / `assert_malformed`: any rejection before running passes,
    /// except a refusal of component-model async, which is skipped.
    fn reject(&mut self, prepared: &Prepared, expected: &str) -> Result<Note, String> {
        let (kind, bytes) = match prepared {
            Prepared::Rejected(reason) => return Ok(Some(format!("text rejected: {reason}"))),
            Prepared::Binary(kind, bytes) => (*kind, bytes),
        };
        let options = self.target.options();
        let validated = match kind {
            Kind::Module => rivet_build::validate_module(bytes, &options),
            Kind::Component => rivet_build::validate_component(bytes, &options),
        };
        if let Err(e) = validated {
            return rejection(format!("rejected by validation: {e}"));
        }
        match self.pipeline.get(kind, bytes, self.target) {
            Err(Rejection::Compile(reason)) => rejection(format!("rejected by compiler: {reason}")),
            Err(Rejection::Link(reason)) => Err(format!(
                "{kind} compiled although \"{expected}\" was expected (then failed to link: {reason})"
            )),
            Ok(_) => Err(format!("{kind} was accepted; expected rejection \"{expected}\"")),
        }
    }

    fn unlinkable(&mut self, prepared: &Prepared, expected: &str) -> Result<Note, String> {
        let definition = self.compile(prepared)?;
        match self.instantiate(&definition) {
            Err(InstantiateError::Link(reason)) => Ok(Some(format!("link error: {reason}"))),
            Err(e) => Err(format!("expected link error \"{expected}\", got {e}")),
            Ok(Live::Skipped(reason)) => Err(reason),
            Ok(_) => Err(format!(
                "instance linked; expected link error \"{expected}\""
            )),
        }
    }

    /// Compiles (or fetches) a module or component and loads it into this
    /// session. A component refused as out of scope is a [`Definition::Skipped`].
    fn compile(&mut self, prepared: &Prepared) -> Result<Definition, String> {
        let (kind, bytes) = match prepared {
            Prepared::Binary(kind, bytes) => (*kind, bytes),
            Prepared::Rejected(reason) => return Err(format!("text did not encode: {reason}")),
        };
        let library = match self.pipeline.get(kind, bytes, self.target) {
            Ok(library) => library,
            Err(e) if is_skip(&e.to_string()) => return Ok(Definition::Skipped(e.to_string())),
            Err(e) => return Err(e.to_string()),
        };
        match kind {
            Kind::Module => self.loader.load(&library).map(Definition::Module),
            Kind::Component => self
                .loader
                .load_component(&library)
                .map(Definition::Component),
        }
    }

    fn instantiate(&mut self, definition: &Definition) -> Result<Live, InstantiateError> {
        match definition {
            Definition::Module(module) => self.instantiate_module(module).map(Live::Core),
            Definition::Component(component) => {
                self.instantiate_component(component).map(Live::Component)
            }
            Definition::Skipped(reason) => Ok(Live::Skipped(reason.clone())),
        }
    }

    fn instantiate_module(&mut self, module: &Module) -> Result<Instance, InstantiateError> {
        let mut imports = Vec::new();
        for (module_name, name, _) in module.imports() {
            let item = self.lookup(&module_name, &name).ok_or_else(|| {
                InstantiateError::Link(format!("unknown import \"{module_name}\" \"{name}\""))
            })?;
            imports.push(item);
        }
        self.store
            .instantiate(module, &imports)
            .map_err(instantiate_error)
    }

    /// Instantiates a component. Scripts have no way to supply a component's
    /// imports, so any import makes it unlinkable.
    fn instantiate_component(
        &mut self,
        component: &Component,
    ) -> Result<ComponentInstance, InstantiateError> {
        if let Some((name, _)) = component.imports().first() {
            return Err(InstantiateError::Link(format!(
                "unknown import \"{name}\" (the runner provides no component imports)"
            )));
        }
        self.store
            .instantiate_component(component, &ComponentImports::new())
            .map_err(instantiate_error)
    }

    /// Resolves an import: registered instances first, then the spectest module.
    fn lookup(&self, module: &str, name: &str) -> Option<Extern> {
        match self.registered.get(module) {
            Some(instance) => instance.export(&self.store, name),
            None if module == spectest::MODULE_NAME => self.spectest.get(name).copied(),
            None => None,
        }
    }

    fn instance_named(&self, id: Option<Id<'_>>) -> Result<Live, String> {
        match id {
            Some(id) => self.named.get(id.name()).cloned(),
            None => self.current.clone(),
        }
        .ok_or_else(|| format!("no instance {}", show_id(id)))
    }
}

fn instantiate_error(e: rivet::Error) -> InstantiateError {
    match e {
        rivet::Error::Link(m) => InstantiateError::Link(m),
        rivet::Error::Trap(t) => InstantiateError::Trap(t),
        other => InstantiateError::Other(other.to_string()),
    }
}

/// A directive that produced an instance of a skipped component is itself skipped.
fn skipped_if(live: &Live) -> Result<Note, String> {
    match live {
        Live::Skipped(reason) => Err(reason.clone()),
        _ => Ok(None),
    }
}

/// The reason a directive using an instance of a skipped component is skipped.
fn skipped_instance(reason: &str) -> String {
    format!("uses an instance of a skipped component: {reason}")
}

/// A rejection expected by `assert_invalid` / `assert_malformed` passes, unless
/// it only says the component is out of scope (then the directive is skipped).
fn rejection(note: String) -> Result<Note, String> {
    if is_skip(&note) {
        Err(note)
    } else {
        Ok(Some(note))
    }
}

/// Checks what an `assert_return` got against its expectations.
fn check_returned(returned: &Returned, results: &[WastRet<'_>]) -> Result<(), String> {
    match returned {
        Returned::Core(values) => check_results(values, results),
        Returned::Component(value) => check_value_results(value.as_ref(), results),
    }
}

fn show_returned(returned: &Returned) -> String {
    match returned {
        Returned::Core(values) => show_vals(values),
        Returned::Component(None) => "no result".to_string(),
        Returned::Component(Some(value)) => show_value(value),
    }
}

/// Checks the outcome of something that should have trapped.
fn expect_trap(result: Result<Returned, Trap>, message: &str) -> Result<Note, String> {
    match result {
        Err(trap) => check_trap(&trap, message).map(|()| None),
        Ok(returned) => Err(format!(
            "expected trap \"{message}\", got {}",
            show_returned(&returned)
        )),
    }
}

fn missing_module() -> String {
    "internal error: the directive's module was not prepared".to_string()
}

fn unexpected(trap: Trap) -> String {
    format!("unexpected {}", show_trap(&trap))
}

fn show_trap(trap: &Trap) -> String {
    format!("{:?} trap \"{}\"", trap.kind, trap.message)
}

fn show_id(id: Option<Id<'_>>) -> String {
    id.map_or_else(|| "(current)".to_string(), |id| format!("${}", id.name()))
}

/// The directive's keyword, for messages about directives the runner cannot run.
pub fn directive_kind(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}
