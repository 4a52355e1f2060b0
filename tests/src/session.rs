//! Running the directives of one script in one bounds mode, in one store.

use crate::loader::Loader;
use crate::pipeline::{Pipeline, Rejection, Target};
use crate::prepare::Prepared;
use crate::spectest;
use crate::traps::check_trap;
use crate::values::{arg_to_val, check_results, show_vals};
use rivet::{Extern, Instance, Module, Store, Trap, TrapKind, Val};
use std::collections::HashMap;
use wast::token::Id;
use wast::{QuoteWat, WastDirective, WastExecute, WastInvoke};

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

/// The state of one script run. Field order matters: the store (and everything
/// that refers into it) is dropped before the loader unloads the code.
pub struct Session<'p> {
    store: Store,
    spectest: HashMap<String, Extern>,
    current: Option<Instance>,
    named: HashMap<String, Instance>,
    registered: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
    target: Target,
    pipeline: &'p Pipeline,
    loader: Loader,
}

impl<'p> Session<'p> {
    /// A fresh store for `target` with the `spectest` module in it.
    pub fn new(target: Target, pipeline: &'p Pipeline) -> Result<Session<'p>, String> {
        let mut store = Store::new(target.bounds);
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

    /// Runs one directive; `module` is its prepared module, if it has one.
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
                let values = self.execute(exec, prepared)?.map_err(unexpected)?;
                check_results(&values, results).map(|()| None)
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

    fn module(&mut self, wat: &QuoteWat<'_>, prepared: &Prepared) -> Result<Note, String> {
        self.current = None;
        let module = self.compile(prepared)?;
        let instance = self.instantiate(&module).map_err(|e| e.to_string())?;
        if let Some(id) = wat.name() {
            self.named.insert(id.name().to_string(), instance);
        }
        self.current = Some(instance);
        Ok(None)
    }

    fn define(&mut self, wat: &QuoteWat<'_>, prepared: &Prepared) -> Result<Note, String> {
        self.last_definition = None;
        let module = self.compile(prepared)?;
        if let Some(id) = wat.name() {
            self.definitions
                .insert(id.name().to_string(), module.clone());
        }
        self.last_definition = Some(module);
        Ok(None)
    }

    fn instance(&mut self, name: Option<Id<'_>>, module: Option<Id<'_>>) -> Result<Note, String> {
        self.current = None;
        let module = match module {
            Some(id) => self.definitions.get(id.name()),
            None => self.last_definition.as_ref(),
        }
        .cloned()
        .ok_or_else(|| format!("no module definition {}", show_id(module)))?;
        let instance = self.instantiate(&module).map_err(|e| e.to_string())?;
        if let Some(id) = name {
            self.named.insert(id.name().to_string(), instance);
        }
        self.current = Some(instance);
        Ok(None)
    }

    fn register(&mut self, name: &str, module: Option<Id<'_>>) -> Result<Note, String> {
        let instance = self.instance_named(module)?;
        self.registered.insert(name.to_string(), instance);
        Ok(None)
    }

    /// Calls an export; the outer error is a failure to call at all.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Result<Vec<Val>, Trap>, String> {
        let instance = self.instance_named(invoke.module)?;
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
        Ok(func.call(&mut self.store, &args))
    }

    /// Runs what an assertion checks: a call, a global read, or an instantiation.
    fn execute(
        &mut self,
        exec: &WastExecute<'_>,
        prepared: Option<&Prepared>,
    ) -> Result<Result<Vec<Val>, Trap>, String> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance_named(*module)?;
                match instance.export(&self.store, global) {
                    Some(Extern::Global(g)) => Ok(Ok(vec![g.get(&self.store)])),
                    Some(other) => Err(format!("export \"{global}\" is not a global: {other:?}")),
                    None => Err(format!("no export \"{global}\"")),
                }
            }
            WastExecute::Wat(_) => {
                let module = self.compile(prepared.ok_or_else(missing_module)?)?;
                match self.instantiate(&module) {
                    Ok(_) => Ok(Ok(Vec::new())),
                    Err(InstantiateError::Trap(trap)) => Ok(Err(trap)),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }

    /// `assert_invalid` / `assert_malformed`: any rejection before running passes.
    fn reject(&mut self, prepared: &Prepared, expected: &str) -> Result<Note, String> {
        let bytes = match prepared {
            Prepared::Rejected(reason) => return Ok(Some(format!("text rejected: {reason}"))),
            Prepared::Unsupported(reason) => return Err(reason.clone()),
            Prepared::Binary(bytes) => bytes,
        };
        if let Err(e) = rivet_build::validate_module(bytes, &self.target.options()) {
            return Ok(Some(format!("rejected by validation: {e}")));
        }
        match self.pipeline.get(bytes, self.target) {
            Err(Rejection::Compile(reason)) => Ok(Some(format!("rejected by compiler: {reason}"))),
            Err(Rejection::Link(reason)) => Err(format!(
                "module compiled although \"{expected}\" was expected (then failed to link: {reason})"
            )),
            Ok(_) => Err(format!("module was accepted; expected rejection \"{expected}\"")),
        }
    }

    fn unlinkable(&mut self, prepared: &Prepared, expected: &str) -> Result<Note, String> {
        let module = self.compile(prepared)?;
        match self.instantiate(&module) {
            Err(InstantiateError::Link(reason)) => Ok(Some(format!("link error: {reason}"))),
            Err(e) => Err(format!("expected link error \"{expected}\", got {e}")),
            Ok(_) => Err(format!("module linked; expected link error \"{expected}\"")),
        }
    }

    /// Compiles (or fetches) a module and loads it into this session.
    fn compile(&mut self, prepared: &Prepared) -> Result<Module, String> {
        let bytes = match prepared {
            Prepared::Binary(bytes) => bytes,
            Prepared::Rejected(reason) => {
                return Err(format!("module text did not encode: {reason}"))
            }
            Prepared::Unsupported(reason) => return Err(reason.clone()),
        };
        let library = self
            .pipeline
            .get(bytes, self.target)
            .map_err(|e| e.to_string())?;
        self.loader.load(&library)
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, InstantiateError> {
        let mut imports = Vec::new();
        for (module_name, name, _) in module.imports() {
            let item = self.lookup(&module_name, &name).ok_or_else(|| {
                InstantiateError::Link(format!("unknown import \"{module_name}\" \"{name}\""))
            })?;
            imports.push(item);
        }
        self.store
            .instantiate(module, &imports)
            .map_err(|e| match e {
                rivet::Error::Link(m) => InstantiateError::Link(m),
                rivet::Error::Trap(t) => InstantiateError::Trap(t),
                other => InstantiateError::Other(other.to_string()),
            })
    }

    /// Resolves an import: registered instances first, then the spectest module.
    fn lookup(&self, module: &str, name: &str) -> Option<Extern> {
        match self.registered.get(module) {
            Some(instance) => instance.export(&self.store, name),
            None if module == spectest::MODULE_NAME => self.spectest.get(name).copied(),
            None => None,
        }
    }

    fn instance_named(&self, id: Option<Id<'_>>) -> Result<Instance, String> {
        match id {
            Some(id) => self.named.get(id.name()).copied(),
            None => self.current,
        }
        .ok_or_else(|| format!("no instance {}", show_id(id)))
    }
}

/// Checks the outcome of something that should have trapped.
fn expect_trap(result: Result<Vec<Val>, Trap>, message: &str) -> Result<Note, String> {
    match result {
        Err(trap) => check_trap(&trap, message).map(|()| None),
        Ok(values) => Err(format!(
            "expected trap \"{message}\", got {}",
            show_vals(&values)
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
