//! Assembling an adapter module: deduplicated imports (each remembered with
//! the `CoreDef` the runtime wires it to), one function body and export per
//! adapter, and validation of the result. Adapters only call and access their
//! imports, never each other, so several share a module without their code
//! changing: an import they both use is imported once.

use crate::{Error, ErrorKind};
use rivet_descriptor::component::CoreDef;
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType,
    ImportSection, InstructionSink, MemoryType, Module, TypeSection, ValType,
};
use wasmparser::{Validator, WasmFeatures};

/// The import module name every adapter import uses; the field name is its
/// position, since wiring goes by `AdapterModule::imports` order.
const IMPORT_MODULE: &str = "adapter";

/// What kind of item an import is.
#[derive(Clone, PartialEq)]
enum Kind {
    Func(u32),
    Memory,
    Global,
}

/// Imports, types and functions of the module being built.
#[derive(Default, Clone)]
pub struct ModuleBuilder {
    types: Vec<(Vec<ValType>, Vec<ValType>)>,
    imports: Vec<(CoreDef, Kind)>,
    funcs: u32,
    memories: u32,
    globals: u32,
    /// Index of each import in its own index space, parallel to `imports`.
    indices: Vec<u32>,
    /// Each defined function: its type index, body and export name.
    functions: Vec<(u32, Body, String)>,
}

impl ModuleBuilder {
    /// Index of the function type `params -> results`, added if new.
    pub fn func_type(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let key = (params.to_vec(), results.to_vec());
        match self.types.iter().position(|t| *t == key) {
            Some(i) => i as u32,
            None => {
                self.types.push(key);
                self.types.len() as u32 - 1
            }
        }
    }

    /// Function index of an imported function, imported once per definition.
    pub fn import_func(&mut self, def: &CoreDef, params: &[ValType], results: &[ValType]) -> u32 {
        let ty = self.func_type(params, results);
        self.import(def, Kind::Func(ty))
    }

    /// Memory index of an imported memory.
    pub fn import_memory(&mut self, def: &CoreDef) -> u32 {
        self.import(def, Kind::Memory)
    }

    /// Global index of an imported `(mut i32)` global.
    pub fn import_global(&mut self, def: &CoreDef) -> u32 {
        self.import(def, Kind::Global)
    }

    fn import(&mut self, def: &CoreDef, kind: Kind) -> u32 {
        if let Some(i) = self
            .imports
            .iter()
            .position(|(d, k)| d == def && *k == kind)
        {
            return self.indices[i];
        }
        let counter = match kind {
            Kind::Func(_) => &mut self.funcs,
            Kind::Memory => &mut self.memories,
            Kind::Global => &mut self.globals,
        };
        let index = *counter;
        *counter += 1;
        self.imports.push((def.clone(), kind));
        self.indices.push(index);
        index
    }

    /// Adds `body` as a defined function of type `signature`, exported as
    /// `export`.
    pub fn add_function(&mut self, signature: (&[ValType], &[ValType]), body: Body, export: &str) {
        let ty = self.func_type(signature.0, signature.1);
        self.functions.push((ty, body, export.to_string()));
    }

    /// How many functions the module defines.
    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    /// Encodes and validates the module and returns it with its import
    /// wiring. Defined functions follow every import in the function index
    /// space, so their indices are only known now.
    pub fn finish(self) -> Result<(Vec<u8>, Vec<CoreDef>), Error> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        for (params, results) in &self.types {
            types
                .ty()
                .function(params.iter().copied(), results.iter().copied());
        }
        module.section(&types);
        let mut imports = ImportSection::new();
        for (i, (_, kind)) in self.imports.iter().enumerate() {
            imports.import(IMPORT_MODULE, &i.to_string(), entity(kind));
        }
        module.section(&imports);
        let mut funcs = FunctionSection::new();
        let mut exports = ExportSection::new();
        let mut code = CodeSection::new();
        for (i, (ty, body, export)) in self.functions.into_iter().enumerate() {
            funcs.function(ty);
            exports.export(&export, ExportKind::Func, self.funcs + i as u32);
            code.function(&body.finish());
        }
        module.section(&funcs);
        module.section(&exports);
        module.section(&code);
        let wasm = module.finish();
        Validator::new_with_features(WasmFeatures::WASM2 | WasmFeatures::MULTI_MEMORY)
            .validate_all(&wasm)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!(
                        "internal error: generated adapter is invalid at offset {:#x}: {}",
                        e.offset(),
                        e.message()
                    ),
                )
            })?;
        Ok((wasm, self.imports.into_iter().map(|(d, _)| d).collect()))
    }
}

fn entity(kind: &Kind) -> EntityType {
    match kind {
        Kind::Func(ty) => EntityType::Function(*ty),
        Kind::Memory => EntityType::Memory(MemoryType {
            minimum: 0,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        }),
        Kind::Global => EntityType::Global(GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        }),
    }
}

/// The adapter function's body under construction: its locals and code.
#[derive(Clone)]
pub struct Body {
    params: u32,
    locals: Vec<ValType>,
    code: Vec<u8>,
}

impl Body {
    /// A body for a function with these parameters.
    pub fn new(params: &[ValType]) -> Body {
        Body {
            params: params.len() as u32,
            locals: Vec::new(),
            code: Vec::new(),
        }
    }

    /// A fresh local of type `ty`.
    pub fn local(&mut self, ty: ValType) -> u32 {
        self.locals.push(ty);
        self.params + self.locals.len() as u32 - 1
    }

    /// Where instructions go.
    pub fn ins(&mut self) -> InstructionSink<'_> {
        InstructionSink::new(&mut self.code)
    }

    fn finish(mut self) -> Function {
        self.ins().end();
        let mut f = Function::new_with_locals_types(self.locals.iter().copied());
        f.raw(self.code);
        f
    }
}
