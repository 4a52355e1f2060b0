//! Decoding and validation of core modules.
//!
//! One pass over the binary both validates it (with exactly the features Rivet
//! accepts) and collects what the later stages need: the [`ModuleEnv`] for the
//! translator and the descriptor's [`Module`] metadata for the runtime.

use crate::env::{val_type, ModuleEnv};
use crate::Error;
use cranelift_codegen::isa::TargetIsa;
use rivet_descriptor::{
    BoundsMode, ConstExpr, ConstOp, DataSegment, ElementSegment, Export, ExternIndex, FuncType,
    GlobalType, Import, ImportType, MemoryType, Module, ModuleCounts, SegmentMode, TableType,
    ValType, VmctxLayout,
};
use std::collections::HashMap;
use std::sync::Arc;
use wasmparser::{
    CompositeInnerType, ElementItems, ElementKind, FuncValidatorAllocations, KnownCustom, Name,
    Operator, Parser, Payload, TypeRef, ValidPayload, Validator, WasmFeatures,
};

/// The features Rivet compiles: WebAssembly 2.0 (which includes fixed-width
/// SIMD) plus, when `multi_memory` is set (everything but strict 2.0
/// validation), multi-memory, which fused adapters need, exception handling
/// (tags, `throw`, `throw_ref`, `try_table`, `exnref`) and extended constant
/// expressions (`add`, `sub`, `mul` of `i32` and `i64`, which componentize-py's
/// dynamically linked CPython uses). Everything else (memory64, threads, GC,
/// tail calls, legacy exceptions, function references, …) is rejected by
/// validation.
pub fn features(multi_memory: bool) -> WasmFeatures {
    if multi_memory {
        WasmFeatures::WASM2
            | WasmFeatures::MULTI_MEMORY
            | WasmFeatures::EXCEPTIONS
            | WasmFeatures::EXTENDED_CONST
    } else {
        WasmFeatures::WASM2
    }
}

/// A decoded, validated module: the translator's input, the runtime's metadata,
/// and the concatenated bytes of the data segments.
pub struct Decoded<'data> {
    /// Input of the translator.
    pub env: ModuleEnv<'data>,
    /// Descriptor metadata. Code-related fields (`code`, trampolines,
    /// `defined_function_base`) are left empty for the emitter to fill in.
    pub module: Module,
    /// Bytes of every data segment, at the offsets recorded in `module.data`.
    pub data: Vec<u8>,
}

/// Validates `wasm` without keeping anything.
pub fn validate(wasm: &[u8], multi_memory: bool) -> Result<(), Error> {
    read_module(wasm, multi_memory).map(drop)
}

/// Validates and decodes `wasm` for code generation on `isa`.
pub fn decode<'data>(
    wasm: &'data [u8],
    isa: Arc<dyn TargetIsa>,
    bounds: BoundsMode,
    multi_memory: bool,
) -> Result<Decoded<'data>, Error> {
    let m = read_module(wasm, multi_memory)?;
    let module = m.module();
    let env = ModuleEnv {
        isa,
        bounds,
        types: m.types,
        functions: m.functions,
        imported_functions: m.imported.functions,
        tables: m.tables,
        imported_tables: m.imported.tables,
        memories: m.memories,
        imported_memories: m.imported.memories,
        globals: m.globals,
        imported_globals: m.imported.globals,
        tags: m.tags,
        exceptions: false,
        exception_boundary: false,
        layout: module.layout,
        bodies: m.bodies,
        names: m.names,
        callee_names: Vec::new(),
        direct_imports: Vec::new(),
    };
    Ok(Decoded {
        env,
        module,
        data: m.blob,
    })
}

/// Number of imports of each kind.
#[derive(Default)]
struct ImportCounts {
    functions: u32,
    tables: u32,
    memories: u32,
    globals: u32,
    tags: u32,
}

/// Everything collected from the sections, before it is split into the
/// translator's and the runtime's views.
#[derive(Default)]
struct RawModule<'data> {
    types: Vec<FuncType>,
    imports: Vec<Import>,
    imported: ImportCounts,
    functions: Vec<u32>,
    tables: Vec<TableType>,
    memories: Vec<MemoryType>,
    globals: Vec<GlobalType>,
    global_inits: Vec<ConstExpr>,
    tags: Vec<u32>,
    exports: Vec<Export>,
    start: Option<u32>,
    elements: Vec<ElementSegment>,
    data: Vec<DataSegment>,
    blob: Vec<u8>,
    bodies: Vec<wasmparser::FunctionBody<'data>>,
    names: HashMap<u32, String>,
}

impl RawModule<'_> {
    /// The descriptor metadata (code fields empty).
    fn module(&self) -> Module {
        let imported = &self.imported;
        let counts = ModuleCounts {
            types: self.types.len() as u32,
            imported_functions: imported.functions,
            memories: self.memories.len() as u32,
            tables: self.tables.len() as u32,
            globals: self.globals.len() as u32,
            defined_memories: self.memories.len() as u32 - imported.memories,
            defined_tables: self.tables.len() as u32 - imported.tables,
            defined_globals: self.globals.len() as u32 - imported.globals,
            functions: self.functions.len() as u32,
            tags: self.tags.len() as u32,
            defined_tags: self.tags.len() as u32 - imported.tags,
        };
        Module {
            types: self.types.clone().into(),
            imports: self.imports.clone().into(),
            functions: self.functions.clone().into(),
            defined_function_base: 0,
            tables: self.tables.clone().into(),
            memories: self.memories.clone().into(),
            globals: self.globals.clone().into(),
            global_inits: self.global_inits.clone().into(),
            tags: self.tags.clone().into(),
            exports: self.exports.clone().into(),
            start: self.start,
            elements: self.elements.clone().into(),
            data: self.data.clone().into(),
            array_trampolines: Vec::new().into(),
            host_trampolines: Vec::new().into(),
            code: Vec::new().into(),
            layout: VmctxLayout::new(&counts),
        }
    }
}

/// Validates the whole binary, function bodies included, and collects its contents.
fn read_module(wasm: &[u8], multi_memory: bool) -> Result<RawModule<'_>, Error> {
    let features = features(multi_memory);
    let mut validator = Validator::new_with_features(features);
    let mut allocs = FuncValidatorAllocations::default();
    let mut m = RawModule::default();
    // The parser must know the features too: it decides how wide memory limits are.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(wasm) {
        let payload = payload?;
        match validator.payload(&payload)? {
            ValidPayload::Func(func, body) => {
                let mut func = func.into_validator(std::mem::take(&mut allocs));
                func.validate(&body)?;
                allocs = func.into_allocations();
                m.bodies.push(body);
                continue;
            }
            ValidPayload::End(_) => break,
            ValidPayload::Ok | ValidPayload::Parser(_) => {}
        }
        read_payload(&mut m, payload)?;
    }
    Ok(m)
}

/// Records one validated section.
fn read_payload<'data>(m: &mut RawModule<'data>, payload: Payload<'data>) -> Result<(), Error> {
    match payload {
        Payload::TypeSection(s) => read_types(m, s)?,
        Payload::ImportSection(s) => read_imports(m, s)?,
        Payload::FunctionSection(s) => {
            for ty in s {
                m.functions.push(ty?);
            }
        }
        Payload::TableSection(s) => {
            for item in s.into_iter_with_offsets() {
                let (offset, table) = item?;
                if !matches!(table.init, wasmparser::TableInit::RefNull) {
                    let offset = offset as usize;
                    return Err(Error::unsupported(offset, "table initializer expressions"));
                }
                m.tables.push(table_type(&table.ty));
            }
        }
        Payload::MemorySection(s) => {
            for ty in s {
                m.memories.push(memory_type(&ty?));
            }
        }
        Payload::GlobalSection(s) => {
            for global in s {
                let global = global?;
                m.globals.push(global_type(&global.ty));
                m.global_inits.push(const_expr(&global.init_expr)?);
            }
        }
        Payload::ExportSection(s) => read_exports(m, s)?,
        Payload::StartSection { func, .. } => m.start = Some(func),
        Payload::ElementSection(s) => read_elements(m, s)?,
        Payload::DataSection(s) => read_data(m, s)?,
        Payload::CustomSection(s) => {
            if let KnownCustom::Name(names) = s.as_known() {
                read_names(m, names);
            }
        }
        Payload::TagSection(s) => {
            for tag in s {
                m.tags.push(tag?.func_type_idx);
            }
        }
        _ => {}
    }
    Ok(())
}

fn read_types(m: &mut RawModule, s: wasmparser::TypeSectionReader) -> Result<(), Error> {
    for group in s.into_iter_with_offsets() {
        let (offset, group) = group?;
        for sub in group.into_types() {
            match &sub.composite_type.inner {
                CompositeInnerType::Func(f) => m.types.push(FuncType {
                    params: f.params().iter().map(|t| val_type(*t)).collect(),
                    results: f.results().iter().map(|t| val_type(*t)).collect(),
                }),
                _ => return Err(Error::unsupported(offset as usize, "non-function types")),
            }
        }
    }
    Ok(())
}

fn read_imports(m: &mut RawModule, s: wasmparser::ImportSectionReader) -> Result<(), Error> {
    for item in s.into_imports_with_offsets() {
        let (offset, import) = item?;
        let ty = import_type(m, offset as usize, import.ty)?;
        m.imports.push(Import {
            module: import.module.to_string().into(),
            name: import.name.to_string().into(),
            ty,
        });
    }
    Ok(())
}

/// Converts an import's type and appends the imported item to its index space.
fn import_type(m: &mut RawModule, offset: usize, ty: TypeRef) -> Result<ImportType, Error> {
    Ok(match ty {
        TypeRef::Func(ty) => {
            m.imported.functions += 1;
            m.functions.push(ty);
            ImportType::Func(ty)
        }
        TypeRef::Table(t) => {
            m.imported.tables += 1;
            m.tables.push(table_type(&t));
            ImportType::Table(table_type(&t))
        }
        TypeRef::Memory(t) => {
            m.imported.memories += 1;
            m.memories.push(memory_type(&t));
            ImportType::Memory(memory_type(&t))
        }
        TypeRef::Global(t) => {
            m.imported.globals += 1;
            m.globals.push(global_type(&t));
            ImportType::Global(global_type(&t))
        }
        TypeRef::Tag(t) => {
            m.imported.tags += 1;
            m.tags.push(t.func_type_idx);
            ImportType::Tag(t.func_type_idx)
        }
        TypeRef::FuncExact(_) => {
            return Err(Error::unsupported(offset, "exact function imports"));
        }
    })
}

fn read_exports(m: &mut RawModule, s: wasmparser::ExportSectionReader) -> Result<(), Error> {
    use wasmparser::ExternalKind;
    for item in s.into_iter_with_offsets() {
        let (offset, export) = item?;
        let index = match export.kind {
            ExternalKind::Func => ExternIndex::Func(export.index),
            ExternalKind::Table => ExternIndex::Table(export.index),
            ExternalKind::Memory => ExternIndex::Memory(export.index),
            ExternalKind::Global => ExternIndex::Global(export.index),
            ExternalKind::Tag => ExternIndex::Tag(export.index),
            other => {
                let offset = offset as usize;
                return Err(Error::unsupported(offset, format!("{other:?} exports")));
            }
        };
        m.exports.push(Export {
            name: export.name.to_string().into(),
            index,
        });
    }
    Ok(())
}

fn read_elements(m: &mut RawModule, s: wasmparser::ElementSectionReader) -> Result<(), Error> {
    for element in s {
        let element = element?;
        let mode = match &element.kind {
            ElementKind::Passive => SegmentMode::Passive,
            ElementKind::Declared => SegmentMode::Declared,
            ElementKind::Active {
                table_index,
                offset_expr,
            } => SegmentMode::Active {
                index: table_index.unwrap_or(0),
                offset: const_expr(offset_expr)?,
            },
        };
        let (element_ty, items) = match element.items {
            ElementItems::Functions(funcs) => {
                let items = funcs
                    .into_iter()
                    .map(|f| f.map(ConstExpr::RefFunc))
                    .collect::<Result<Vec<_>, _>>()?;
                (ValType::FuncRef, items)
            }
            ElementItems::Expressions(ty, exprs) => {
                let mut items = Vec::new();
                for expr in exprs {
                    items.push(const_expr(&expr?)?);
                }
                (val_type(wasmparser::ValType::Ref(ty)), items)
            }
        };
        m.elements.push(ElementSegment {
            element: element_ty,
            mode,
            items: items.into(),
        });
    }
    Ok(())
}

fn read_data(m: &mut RawModule, s: wasmparser::DataSectionReader) -> Result<(), Error> {
    for data in s {
        let data = data?;
        let mode = match &data.kind {
            wasmparser::DataKind::Passive => SegmentMode::Passive,
            wasmparser::DataKind::Active {
                memory_index,
                offset_expr,
            } => SegmentMode::Active {
                index: *memory_index,
                offset: const_expr(offset_expr)?,
            },
        };
        m.data.push(DataSegment {
            mode,
            start: m.blob.len() as u64,
            len: data.data.len() as u64,
        });
        m.blob.extend_from_slice(data.data);
    }
    Ok(())
}

/// Collects function names. A malformed name section is ignored rather than
/// reported: custom sections cannot make a module invalid.
fn read_names(m: &mut RawModule, names: wasmparser::NameSectionReader) {
    for name in names {
        let Ok(Name::Function(map)) = name else {
            continue;
        };
        for naming in map.into_iter().map_while(Result::ok) {
            m.names.insert(naming.index, naming.name.to_string());
        }
    }
}

/// Converts a constant expression: one instruction into its own variant;
/// integer arithmetic (extended-const) into its value when it reads no
/// global, else into the [`ConstOp`]s the runtime evaluates at instantiation.
fn const_expr(expr: &wasmparser::ConstExpr) -> Result<ConstExpr, Error> {
    let mut reader = expr.get_operators_reader();
    let start = reader.original_position() as usize;
    let mut ops = Vec::new();
    loop {
        let offset = reader.original_position() as usize;
        match reader.read()? {
            Operator::End => break,
            op => ops.push((offset, op)),
        }
    }
    match ops.as_slice() {
        [(offset, op)] => single(op, *offset),
        _ => arith(&ops, start),
    }
}

/// A constant expression of one instruction.
fn single(op: &Operator, offset: usize) -> Result<ConstExpr, Error> {
    Ok(match *op {
        Operator::I32Const { value } => ConstExpr::I32(value),
        Operator::I64Const { value } => ConstExpr::I64(value),
        Operator::F32Const { value } => ConstExpr::F32(value.bits()),
        Operator::F64Const { value } => ConstExpr::F64(value.bits()),
        Operator::V128Const { value } => ConstExpr::V128(u128::from_le_bytes(*value.bytes())),
        Operator::RefNull { .. } => ConstExpr::RefNull,
        Operator::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        _ => return Err(Error::unsupported(offset, "this constant expression")),
    })
}

/// A constant expression of several instructions (at `start`), which
/// (validated) are `i32` or `i64` arithmetic: folded to its value unless it
/// reads a global.
fn arith(ops: &[(usize, Operator)], start: usize) -> Result<ConstExpr, Error> {
    let mut steps = Vec::with_capacity(ops.len());
    let mut wide = false;
    for (offset, op) in ops {
        let Some((step, is_i64)) = arith_op(op) else {
            return Err(Error::unsupported(*offset, "this constant expression"));
        };
        steps.push(step);
        wide |= is_i64;
    }
    if steps.iter().any(|s| matches!(s, ConstOp::GlobalGet(_))) {
        let steps = steps.into();
        return Ok(if wide {
            ConstExpr::I64Arith(steps)
        } else {
            ConstExpr::I32Arith(steps)
        });
    }
    let value = ConstOp::eval(&steps, |_| 0)
        .ok_or_else(|| Error::at(start, "constant arithmetic does not leave one value"))?;
    Ok(if wide {
        ConstExpr::I64(value as i64)
    } else {
        ConstExpr::I32(value as i32)
    })
}

/// An instruction of constant arithmetic as a [`ConstOp`], and whether it is
/// an `i64` instruction; `None` for any other.
fn arith_op(op: &Operator) -> Option<(ConstOp, bool)> {
    Some(match *op {
        Operator::I32Const { value } => (ConstOp::Const(value.into()), false),
        Operator::I64Const { value } => (ConstOp::Const(value), true),
        Operator::GlobalGet { global_index } => (ConstOp::GlobalGet(global_index), false),
        Operator::I32Add => (ConstOp::Add, false),
        Operator::I32Sub => (ConstOp::Sub, false),
        Operator::I32Mul => (ConstOp::Mul, false),
        Operator::I64Add => (ConstOp::Add, true),
        Operator::I64Sub => (ConstOp::Sub, true),
        Operator::I64Mul => (ConstOp::Mul, true),
        _ => return None,
    })
}

fn table_type(t: &wasmparser::TableType) -> TableType {
    TableType {
        element: val_type(wasmparser::ValType::Ref(t.element_type)),
        minimum: t.initial,
        maximum: t.maximum,
    }
}

fn memory_type(t: &wasmparser::MemoryType) -> MemoryType {
    MemoryType {
        minimum: t.initial,
        maximum: t.maximum,
    }
}

fn global_type(t: &wasmparser::GlobalType) -> GlobalType {
    GlobalType {
        content: val_type(t.content_type),
        mutable: t.mutable,
    }
}
