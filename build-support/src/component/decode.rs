//! Decoding and validation of a component into a tree of definitions.
//!
//! One pass validates the whole binary (nested modules and components included)
//! with the features Rivet decides validity with (core modules once more on
//! their own, see [`features`]), and records every section item
//! of every (nested) component in order, with the validator's type information
//! for that component, so that [`super::flatten`] can walk the definitions as
//! often as they are instantiated without parsing again.

use super::async_error;
pub use super::precheck::Renames;
use crate::{Error, ErrorKind};
use std::borrow::Cow;
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentDefinedType, ComponentExport,
    ComponentImport, ComponentInstance, ComponentStartFunction, ComponentType,
    ComponentTypeDeclaration, ComponentValType, Encoding, FuncValidatorAllocations, Instance,
    InstanceTypeDeclaration, Parser, Payload, PrimitiveValType, ValidPayload, Validator,
    WasmFeatures,
};

/// The features components are validated with: the core features of
/// [`crate::decode::features`] plus the component model, including its async
/// parts, so that the validator (not Rivet) decides whether an async construct is
/// valid; valid async constructs are then rejected as unsupported.
///
/// Plus GC and function references: a component's core type section holds
/// WebAssembly 3.0 `core:deftype`s (`Binary.md`, "Type Definitions"), e.g. a
/// non-final `sub`. Those are only types, never code; every core module is
/// also validated by itself with exactly the core features Rivet compiles
/// ([`validate_module`]), before the component validator reads it.
pub fn features(multi_memory: bool) -> WasmFeatures {
    crate::decode::features(multi_memory)
        | WasmFeatures::GC
        | WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::COMPONENT_MODEL
        | WasmFeatures::CM_ASYNC
        | WasmFeatures::CM_MORE_ASYNC_BUILTINS
        | WasmFeatures::CM_ASYNC_STACKFUL
        | WasmFeatures::CM_THREADING
        | WasmFeatures::CM_ERROR_CONTEXT
        | WasmFeatures::CM_IMPLEMENTS
        | WasmFeatures::CM_MAP
        | WasmFeatures::CM_FIXED_LENGTH_LISTS
        | WasmFeatures::CM_CANON_NAMES
}

/// A validated component: every component and core module definition it
/// contains, the root last.
pub struct Tree<'a> {
    pub components: Vec<ComponentDef<'a>>,
    pub modules: Vec<ModuleDef<'a>>,
    /// The root's `package-docs` custom section (WIT docs, see
    /// [`super::docs`]), if it has one.
    pub docs: Option<&'a [u8]>,
    /// Names the validator saw spelt anew: names read from
    /// [`ComponentDef::types`] go through [`Renames::original`].
    pub renames: Renames,
}

impl Tree<'_> {
    /// Index of the root component in [`Tree::components`].
    pub fn root(&self) -> usize {
        self.components.len() - 1
    }
}

/// A core module definition.
pub struct ModuleDef<'a> {
    /// The module's bytes.
    pub wasm: &'a [u8],
    /// Where they start in the input.
    pub offset: usize,
    /// `(module, name)` of every import, in order.
    pub imports: Vec<(String, String)>,
}

/// A component definition: its items in binary order, and the types the
/// validator resolved for its index spaces.
pub struct ComponentDef<'a> {
    pub items: Vec<Item<'a>>,
    pub types: Types,
}

/// One item of a component section, with its offset in the input.
pub enum Item<'a> {
    /// A nested core module: index into [`Tree::modules`].
    Module(usize),
    /// A nested component: index into [`Tree::components`].
    Component(usize),
    CoreInstance(Instance<'a>, usize),
    Type(ComponentType<'a>, usize),
    Instance(ComponentInstance<'a>, usize),
    Alias(ComponentAlias<'a>, usize),
    Canon(CanonicalFunction, usize),
    Start(ComponentStartFunction, usize),
    Import(ComponentImport<'a>, usize),
    Export(ComponentExport<'a>, usize),
}

/// What is being decoded at one nesting level.
enum Frame<'a> {
    Component(Vec<Item<'a>>),
    Module(ModuleDef<'a>),
}

/// The decoder's state across payloads.
#[derive(Default)]
struct Decoder<'a> {
    stack: Vec<Frame<'a>>,
    components: Vec<ComponentDef<'a>>,
    modules: Vec<ModuleDef<'a>>,
    /// Offset of the first async construct seen.
    first_async: Option<usize>,
    /// The root's `package-docs` section.
    docs: Option<&'a [u8]>,
}

/// A validation error, explained when it is about a component start function:
/// wasmparser accepts those only with the component-model values feature,
/// which Rivet does not enable (no suite test uses them).
fn start_error(payload: &Payload<'_>, e: wasmparser::BinaryReaderError) -> Error {
    let mut error = Error::from(e);
    if matches!(payload, Payload::ComponentStartSection { .. }) {
        error.kind = ErrorKind::Unsupported;
        error.message = format!(
            "not supported: component start functions (they need component-model values): {}",
            error.message
        );
    }
    error
}

/// Validates `wasm` as a component and records its definitions.
///
/// Where wasmparser 0.263 reads the spec differently (see `precheck`),
/// it validates a copy of the same length with the difference undone, while
/// the definitions are read from `wasm` itself:
/// - a `cancellable` immediate only occurs on async builtins: the component is
///   validated with the flags cleared and, when valid, refused as async;
/// - names that only the spec tells apart (`a1`, `a-1`) are validated with one
///   of them spelt anew, the names in the validator's types mapped back.
pub fn decode(wasm: &[u8], multi_memory: bool) -> Result<Tree<'_>, Error> {
    let cancellable = super::precheck::cancellable_immediates(wasm);
    let Some(&first) = cancellable.first() else {
        return decode_renaming(wasm, multi_memory);
    };
    let mut cleared = wasm.to_vec();
    for &at in &cancellable {
        cleared[at] = 0;
    }
    decode_renaming(&cleared, multi_memory)?;
    Err(async_error(first))
}

/// [`decode`] of bytes without `cancellable` flags: until wasmparser's only
/// objection is a conflict between names the spec tells apart, one of them
/// is spelt anew in the copy it validates.
fn decode_renaming(wasm: &[u8], multi_memory: bool) -> Result<Tree<'_>, Error> {
    // Copied only once a name needs a new spelling.
    let mut checked = Cow::Borrowed(wasm);
    let mut renames = Renames::default();
    loop {
        match decode_checked(wasm, &checked, multi_memory) {
            Ok(tree) => return Ok(Tree { renames, ..tree }),
            Err(mut e) => {
                let retry = renames.has_room()
                    && super::precheck::false_conflict(&e.message)
                        .and_then(|name| {
                            super::precheck::rename(checked.to_mut(), &name, &mut renames)
                        })
                        .is_some();
                if !retry {
                    e.message = renames.restore(&e.message);
                    return Err(e);
                }
            }
        }
    }
}

/// [`decode`] once: the validator reads `checked`, the decoder `wasm` (the
/// same length, the same structure).
fn decode_checked<'a>(
    wasm: &'a [u8],
    checked: &[u8],
    multi_memory: bool,
) -> Result<Tree<'a>, Error> {
    if !super::is_component(wasm) {
        return Err(Error::at(
            0,
            "not a component (a core module or no wasm header)",
        ));
    }
    let features = features(multi_memory);
    let mut validator = Validator::new_with_features(features);
    let mut allocs = FuncValidatorAllocations::default();
    let mut d = Decoder::default();
    for (seen, payload) in parse(checked, features).zip(parse(wasm, features)) {
        let (seen, payload) = (seen?, payload?);
        if let Payload::ModuleSection {
            unchecked_range, ..
        } = &payload
        {
            let (start, end) = (unchecked_range.start as usize, unchecked_range.end as usize);
            if let Some(bytes) = wasm.get(start..end) {
                validate_module(bytes, start, multi_memory, &mut allocs)?;
            }
        }
        match validator
            .payload(&seen)
            .map_err(|e| start_error(&seen, e))?
        {
            // Bodies were validated with the module, under the core features.
            ValidPayload::Func(..) => {}
            ValidPayload::End(types) => {
                if d.end(types)? {
                    break;
                }
            }
            ValidPayload::Ok | ValidPayload::Parser(_) => d.payload(wasm, payload)?,
        }
    }
    if let Some(offset) = d.first_async {
        return Err(async_error(offset));
    }
    if d.components.is_empty() {
        return Err(Error::at(wasm.len(), "unexpected end of component"));
    }
    Ok(Tree {
        components: d.components,
        modules: d.modules,
        docs: d.docs,
        renames: Renames::default(),
    })
}

/// Every payload of `wasm`, nested ones included.
fn parse(
    wasm: &[u8],
    features: WasmFeatures,
) -> impl Iterator<Item = wasmparser::Result<Payload<'_>>> {
    let mut parser = Parser::new(0);
    parser.set_features(features);
    parser.parse_all(wasm)
}

/// Validates a nested core module (at `offset` in the component) with the
/// core features Rivet compiles, function bodies included.
fn validate_module(
    wasm: &[u8],
    offset: usize,
    multi_memory: bool,
    allocs: &mut FuncValidatorAllocations,
) -> Result<(), Error> {
    let features = crate::decode::features(multi_memory);
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(offset as u64);
    parser.set_features(features);
    for payload in parser.parse_all(wasm) {
        match validator.payload(&payload?)? {
            ValidPayload::Func(func, body) => {
                let mut func = func.into_validator(std::mem::take(allocs));
                func.validate(&body)?;
                *allocs = func.into_allocations();
            }
            ValidPayload::End(_) => break,
            ValidPayload::Ok | ValidPayload::Parser(_) => {}
        }
    }
    Ok(())
}

impl<'a> Decoder<'a> {
    /// Closes the innermost definition; true when it was the root.
    fn end(&mut self, types: Types) -> Result<bool, Error> {
        let item = match self.stack.pop() {
            Some(Frame::Component(items)) => {
                self.components.push(ComponentDef { items, types });
                Item::Component(self.components.len() - 1)
            }
            Some(Frame::Module(module)) => {
                self.modules.push(module);
                Item::Module(self.modules.len() - 1)
            }
            None => {
                return Err(Error::new(
                    ErrorKind::Invalid,
                    "unbalanced component nesting",
                ))
            }
        };
        match self.stack.last_mut() {
            Some(Frame::Component(items)) => {
                items.push(item);
                Ok(false)
            }
            Some(Frame::Module(_)) => Err(Error::new(
                ErrorKind::Invalid,
                "a module cannot nest definitions",
            )),
            None => Ok(true),
        }
    }

    fn note_async(&mut self, offset: usize) {
        self.first_async.get_or_insert(offset);
    }

    /// Records one validated payload.
    fn payload(&mut self, wasm: &'a [u8], payload: Payload<'a>) -> Result<(), Error> {
        if let Some(Frame::Module(module)) = self.stack.last_mut() {
            if let Payload::ImportSection(s) = payload {
                for item in s.into_imports_with_offsets() {
                    let (_, import) = item?;
                    module
                        .imports
                        .push((import.module.to_string(), import.name.to_string()));
                }
            }
            return Ok(());
        }
        match payload {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } if self.stack.is_empty() => self.stack.push(Frame::Component(Vec::new())),
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                let (start, end) = (unchecked_range.start as usize, unchecked_range.end as usize);
                let Some(bytes) = wasm.get(start..end) else {
                    return Err(Error::at(start, "module section extends past the end"));
                };
                self.stack.push(Frame::Module(ModuleDef {
                    wasm: bytes,
                    offset: start,
                    imports: Vec::new(),
                }))
            }
            Payload::ComponentSection { .. } => self.stack.push(Frame::Component(Vec::new())),
            Payload::InstanceSection(s) => {
                for item in s.into_iter_with_offsets() {
                    let (offset, instance) = item?;
                    let offset = offset as usize;
                    self.push(Item::CoreInstance(instance, offset))?;
                }
            }
            Payload::ComponentInstanceSection(s) => {
                for item in s.into_iter_with_offsets() {
                    let (offset, instance) = item?;
                    let offset = offset as usize;
                    self.push(Item::Instance(instance, offset))?;
                }
            }
            Payload::ComponentAliasSection(s) => {
                for item in s.into_iter_with_offsets() {
                    let (offset, alias) = item?;
                    let offset = offset as usize;
                    self.push(Item::Alias(alias, offset))?;
                }
            }
            Payload::ComponentTypeSection(s) => {
                for item in s.into_iter_with_offsets() {
                    let (offset, ty) = item?;
                    let offset = offset as usize;
                    if type_is_async(&ty) {
                        self.note_async(offset);
                    }
                    self.push(Item::Type(ty, offset))?;
                }
            }
            Payload::ComponentCanonicalSection(s) => {
                for item in s.into_iter_with_offsets() {
                    let (offset, canon) = item?;
                    let offset = offset as usize;
                    if canon_is_async(&canon) {
                        self.note_async(offset);
                    }
                    self.push(Item::Canon(canon, offset))?;
                }
            }
            Payload::ComponentStartSection { start, range } => {
                self.push(Item::Start(start, range.start as usize))?
            }
            Payload::ComponentImportSection(s) => {
                for item in s.into_iter_with_offsets() {
                    let (offset, import) = item?;
                    let offset = offset as usize;
                    self.push(Item::Import(import, offset))?;
                }
            }
            Payload::ComponentExportSection(s) => {
                for item in s.into_iter_with_offsets() {
                    let (offset, export) = item?;
                    let offset = offset as usize;
                    self.push(Item::Export(export, offset))?;
                }
            }
            Payload::CustomSection(s)
                if self.stack.len() == 1 && s.name() == super::docs::SECTION =>
            {
                self.docs = Some(s.data());
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, item: Item<'a>) -> Result<(), Error> {
        match self.stack.last_mut() {
            Some(Frame::Component(items)) => {
                items.push(item);
                Ok(())
            }
            _ => Err(Error::new(
                ErrorKind::Invalid,
                "component item outside a component",
            )),
        }
    }
}

/// Whether a canonical function belongs to component-model async (tasks,
/// streams, futures, waitables, threads, backpressure, context, error-context)
/// or uses the async ABI.
fn canon_is_async(canon: &CanonicalFunction) -> bool {
    match canon {
        CanonicalFunction::Lift { options, .. } | CanonicalFunction::Lower { options, .. } => {
            options
                .iter()
                .any(|o| matches!(o, CanonicalOption::Async | CanonicalOption::Callback(_)))
        }
        CanonicalFunction::ResourceNew { .. }
        | CanonicalFunction::ResourceDrop { .. }
        | CanonicalFunction::ResourceRep { .. } => false,
        _ => true,
    }
}

/// Whether a type definition mentions an async function type, a stream, a
/// future or an error-context, at any depth of component and instance types.
fn type_is_async(ty: &ComponentType<'_>) -> bool {
    match ty {
        ComponentType::Defined(d) => defined_is_async(d),
        ComponentType::Func(f) => {
            f.async_
                || f.params.iter().any(|(_, t)| val_is_async(t))
                || f.result.as_ref().is_some_and(val_is_async)
        }
        ComponentType::Component(decls) => decls.iter().any(|d| match d {
            ComponentTypeDeclaration::Type(t) => type_is_async(t),
            _ => false,
        }),
        ComponentType::Instance(decls) => decls.iter().any(|d| match d {
            InstanceTypeDeclaration::Type(t) => type_is_async(t),
            _ => false,
        }),
        ComponentType::Resource { .. } => false,
    }
}

fn defined_is_async(d: &ComponentDefinedType<'_>) -> bool {
    match d {
        ComponentDefinedType::Future(_) | ComponentDefinedType::Stream(_) => true,
        ComponentDefinedType::Primitive(p) => *p == PrimitiveValType::ErrorContext,
        ComponentDefinedType::Record(fields) => fields.iter().any(|(_, t)| val_is_async(t)),
        ComponentDefinedType::Variant(cases) => cases
            .iter()
            .any(|c| c.ty.as_ref().is_some_and(val_is_async)),
        ComponentDefinedType::List(t)
        | ComponentDefinedType::Option(t)
        | ComponentDefinedType::FixedLengthList(t, _) => val_is_async(t),
        ComponentDefinedType::Map(k, v) => val_is_async(k) || val_is_async(v),
        ComponentDefinedType::Tuple(ts) => ts.iter().any(val_is_async),
        ComponentDefinedType::Result { ok, err } => {
            ok.as_ref().is_some_and(val_is_async) || err.as_ref().is_some_and(val_is_async)
        }
        ComponentDefinedType::Flags(_)
        | ComponentDefinedType::Enum(_)
        | ComponentDefinedType::Own(_)
        | ComponentDefinedType::Borrow(_) => false,
    }
}

/// Only an inline primitive can be async here; indexed types were checked where
/// they were defined.
fn val_is_async(t: &ComponentValType) -> bool {
    matches!(
        t,
        ComponentValType::Primitive(PrimitiveValType::ErrorContext)
    )
}
