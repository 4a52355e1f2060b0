//! Build-time composition: wires a socket component's imports to the exports
//! of separately built plug components and yields one component.
//!
//! The composition is a synthesized component binary that nests the plugs
//! and the socket unchanged, instantiates each plug (its imports wired to the
//! exports of earlier plugs or, when none exports the name, imported from the
//! host), instantiates the socket the same way, and re-exports the socket's
//! exports. Synthesizing a binary rather than joining plans inside the
//! flattener was chosen because the binary then goes through the very same
//! validation, flattening and adapter generation as any nested component: the
//! validator checks every wired export against its import (subtyping,
//! resources and all), calls between the components become fused adapters,
//! and `rivet inspect` shows the composition like any component. The one piece
//! composition adds is re-encoding the types of imports left to the host
//! ([`retype`]), since the composed component must declare them itself.
//!
//! Rules: a plug's export satisfies an import of the same name of the socket
//! or of a later plug; two plugs exporting the same name is an error (which
//! one was meant is not knowable); a plug none of whose exports is used is an
//! error too, as it is almost always a wrong file or a misspelt interface.

mod describe;
mod retype;

use crate::component::decode::{decode, Item, Tree};
use crate::input::read_wasm;
use crate::{Error, ErrorKind};
use describe::{Difference, Shape};
use retype::{Retyper, TypeMap};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use wasm_encoder::{ComponentBuilder, ComponentExportKind, ComponentTypeRef};
use wasmparser::component_types::ComponentEntityType;
use wasmparser::types::Types;

/// One input of a composition: a component's file (for messages) and bytes.
pub struct Part<'a> {
    pub path: &'a Path,
    pub wasm: &'a [u8],
}

/// A composed component, with where each input sits inside it so that errors
/// found later can name the input file and an offset in it.
pub struct Composed {
    pub wasm: Vec<u8>,
    embedded: Vec<(PathBuf, Range<usize>)>,
}

impl Composed {
    /// The error of a composition that failed validation outside every input:
    /// an offset in the synthesized binary means nothing to the user, so the
    /// error names the socket and says the wiring is at fault.
    fn invalid(&self, e: Error, socket: &Path) -> Error {
        let e = self.locate(e);
        if e.file.is_some() {
            return e;
        }
        Error::new(
            ErrorKind::TypeMismatch,
            format!(
                "wiring the plugs into this component: {}: check that each plug exports what \
             the imports of the same name expect",
                e.message
            ),
        )
        .in_file(socket)
    }

    /// Rewrites an error at an offset of the composed binary into one at the
    /// offset of the input file the byte belongs to.
    pub fn locate(&self, mut e: Error) -> Error {
        let Some(offset) = e.offset else { return e };
        if let Some((path, range)) = self.embedded.iter().find(|(_, r)| r.contains(&offset)) {
            e.offset = Some(offset - range.start);
            e.file = Some(path.clone());
            return e.within(&self.wasm[range.clone()]);
        }
        e
    }
}

/// Reads `socket` and `plugs` (`.wasm` or `.wat` each) and composes them.
pub fn compose_files(socket: &Path, plugs: &[PathBuf]) -> Result<Composed, Error> {
    let socket_wasm = read_wasm(socket)?;
    let plug_wasm = plugs
        .iter()
        .map(|p| read_wasm(p))
        .collect::<Result<Vec<_>, Error>>()?;
    let parts: Vec<Part<'_>> = plugs
        .iter()
        .zip(&plug_wasm)
        .map(|(path, wasm)| Part { path, wasm })
        .collect();
    let socket = Part {
        path: socket,
        wasm: &socket_wasm,
    };
    compose(socket, &parts)
}

/// Composes `socket` with `plugs` (in order: a plug may import from earlier
/// plugs). See the module documentation for the rules.
pub fn compose(socket: Part<'_>, plugs: &[Part<'_>]) -> Result<Composed, Error> {
    let mut inputs = Vec::new();
    for part in plugs.iter().chain([&socket]) {
        let tree = decode(part.wasm, true).map_err(|e| e.within(part.wasm).in_file(part.path))?;
        inputs.push(Input::new(part, tree));
    }
    let mut c = Composer {
        inputs: &inputs,
        builder: ComponentBuilder::default(),
        host: HashMap::new(),
        provided: HashMap::new(),
        used: vec![false; inputs.len()],
        wires: Vec::new(),
    };
    for (k, input) in inputs.iter().enumerate() {
        c.part(k).map_err(|e| e.in_file(input.path))?;
    }
    c.check_used()?;
    let wires = std::mem::take(&mut c.wires);
    let wasm = c.builder.finish();
    let embedded = inputs
        .iter()
        .filter_map(|i| Some((i.path.to_path_buf(), find(&wasm, i.wasm)?)))
        .collect();
    let composed = Composed { wasm, embedded };
    if let Err(e) = decode(&composed.wasm, true) {
        return Err(mismatch(&inputs, &wires).unwrap_or_else(|| composed.invalid(e, socket.path)));
    }
    Ok(composed)
}

/// A decoded input and its root's import and export names, in order.
struct Input<'a> {
    path: &'a Path,
    wasm: &'a [u8],
    tree: Tree<'a>,
    imports: Vec<String>,
    exports: Vec<String>,
}

impl<'a> Input<'a> {
    fn new(part: &Part<'a>, tree: Tree<'a>) -> Input<'a> {
        let mut imports = Vec::new();
        let mut exports = Vec::new();
        for item in &tree.components[tree.root()].items {
            match item {
                Item::Import(i, _) => imports.push(i.name.name.to_string()),
                Item::Export(e, _) => exports.push(e.name.name.to_string()),
                _ => {}
            }
        }
        Input {
            path: part.path,
            wasm: part.wasm,
            tree,
            imports,
            exports,
        }
    }

    fn types(&self) -> &Types {
        &self.tree.components[self.tree.root()].types
    }

    fn import_type(&self, name: &str) -> Result<ComponentEntityType, Error> {
        let item = self.types().as_ref().component_item_for_import(name);
        item.map(|i| i.ty)
            .ok_or_else(|| Error::new(ErrorKind::Internal, format!("import `{name}` has no type")))
    }

    fn export_type(&self, name: &str) -> Result<ComponentEntityType, Error> {
        let item = self.types().as_ref().component_item_for_export(name);
        item.map(|i| i.ty)
            .ok_or_else(|| Error::new(ErrorKind::Internal, format!("export `{name}` has no type")))
    }
}

/// An import of input `consumer` wired to the export of input `provider`, or
/// (`shared`) to the host import that `provider` declared first.
struct Wire {
    consumer: usize,
    provider: usize,
    name: String,
    shared: bool,
}

struct Composer<'i, 'a> {
    /// The plugs in order, then the socket.
    inputs: &'i [Input<'a>],
    builder: ComponentBuilder,
    /// Imports of the composed component so far: kind and index, by name.
    host: HashMap<String, (usize, u32)>,
    /// Exports of the plugs instantiated so far: input and instance, by name.
    provided: HashMap<String, (usize, u32)>,
    /// Whether each input's exports satisfied some import.
    used: Vec<bool>,
    wires: Vec<Wire>,
}

impl Composer<'_, '_> {
    /// Wires, nests and instantiates input `k`; the socket (the last input)
    /// also has its exports re-exported.
    fn part(&mut self, k: usize) -> Result<(), Error> {
        let inputs = self.inputs;
        let input = &inputs[k];
        let mut map = TypeMap::default();
        let mut args = Vec::new();
        for name in &input.imports {
            let ty = input.import_type(name)?;
            let kind = export_kind(&ty);
            let index = match self.provided.get(name) {
                Some(&(provider, instance)) => self.wire(k, name, kind, provider, instance),
                None => self.host_import(k, &mut map, name, &ty)?,
            };
            self.bind(input.types(), &mut map, &ty, index);
            args.push((name.as_str(), kind, index));
        }
        let component = self.builder.component_raw(None, input.wasm);
        let instance = self.builder.instantiate(None, component, args);
        if k + 1 == self.inputs.len() {
            return self.reexport(input, instance);
        }
        self.provide(k, instance)
    }

    /// Wires import `name` of input `k` to the export of plug `provider`
    /// (instantiated as `instance`); returns the aliased export's index.
    fn wire(
        &mut self,
        k: usize,
        name: &str,
        kind: ComponentExportKind,
        provider: usize,
        instance: u32,
    ) -> u32 {
        self.used[provider] = true;
        self.wires.push(Wire {
            consumer: k,
            provider,
            name: name.to_string(),
            shared: false,
        });
        self.builder.alias_export(instance, name, kind)
    }

    /// Offers the exports of plug `k` (instantiated as `instance`) to the
    /// inputs after it.
    fn provide(&mut self, k: usize, instance: u32) -> Result<(), Error> {
        let input = &self.inputs[k];
        for name in &input.exports {
            if let Some(&(other, _)) = self.provided.get(name) {
                return Err(Error::new(
                    ErrorKind::Unresolved,
                    format!(
                        "plugs `{}` and `{}` both export `{name}`: plug only one of them",
                        self.inputs[other].path.display(),
                        input.path.display()
                    ),
                ));
            }
            self.provided.insert(name.clone(), (k, instance));
        }
        Ok(())
    }

    /// Imports `name` into the composed component (once, however many inputs
    /// import it), declaring its type there.
    fn host_import(
        &mut self,
        k: usize,
        map: &mut TypeMap,
        name: &str,
        ty: &ComponentEntityType,
    ) -> Result<u32, Error> {
        if let Some(&(first, index)) = self.host.get(name) {
            self.wires.push(Wire {
                consumer: k,
                provider: first,
                name: name.to_string(),
                shared: true,
            });
            return Ok(index);
        }
        let types = self.inputs[k].types();
        let in_import = |e: Error| Error {
            message: format!("import `{name}`: {}", e.message),
            ..e
        };
        let type_ref = match *ty {
            ComponentEntityType::Instance(id) => {
                let instance = Retyper::instance(types, map, id).map_err(in_import)?;
                ComponentTypeRef::Instance(self.builder.type_instance(None, &instance))
            }
            _ => {
                let mut r = Retyper {
                    types,
                    sink: &mut self.builder,
                    local: std::mem::take(map),
                    outer: None,
                };
                let type_ref = match *ty {
                    ComponentEntityType::Func(f) => r.func(f).map(ComponentTypeRef::Func),
                    ComponentEntityType::Type {
                        referenced,
                        created,
                    } => r
                        .type_bounds(referenced, created)
                        .map(ComponentTypeRef::Type),
                    _ => Err(Error::new(
                        ErrorKind::Unsupported,
                        "not supported yet: leaving unwired an import that is not a \
                         function, an instance or a type",
                    )),
                };
                *map = r.local;
                type_ref.map_err(in_import)?
            }
        };
        let index = self.builder.import(name, type_ref);
        self.host.insert(name.to_string(), (k, index));
        Ok(index)
    }

    /// Binds the validator ids of the types an import of type `ty`, now at
    /// `index`, brings in: the type itself, or the types an instance exports
    /// (aliased out of it so that later imports can refer to them).
    fn bind(&mut self, types: &Types, map: &mut TypeMap, ty: &ComponentEntityType, index: u32) {
        match *ty {
            ComponentEntityType::Type {
                referenced,
                created,
            } => {
                map.bind(created, index);
                map.bind(referenced, index);
            }
            ComponentEntityType::Instance(id) => {
                for (name, item) in types[id].exports.iter() {
                    if let ComponentEntityType::Type { created, .. } = item.ty {
                        let alias =
                            self.builder
                                .alias_export(index, name, ComponentExportKind::Type);
                        map.bind(created, alias);
                    }
                }
            }
            _ => {}
        }
    }

    /// Re-exports every export of the socket's instance, in order.
    fn reexport(&mut self, socket: &Input<'_>, instance: u32) -> Result<(), Error> {
        for name in &socket.exports {
            let kind = export_kind(&socket.export_type(name)?);
            let index = self.builder.alias_export(instance, name, kind);
            self.builder.export(name.as_str(), kind, index, None);
        }
        Ok(())
    }

    /// Refuses a plug none of whose exports satisfies an import.
    fn check_used(&self) -> Result<(), Error> {
        let socket = &self.inputs[self.inputs.len() - 1];
        for (k, plug) in self.inputs[..self.inputs.len() - 1].iter().enumerate() {
            if !self.used[k] {
                return Err(Error::new(
                    ErrorKind::Unresolved,
                    format!(
                        "plug `{}` is not used: none of its exports ({}) is imported by `{}` \
                     (imports: {}) or by a later plug; check the interface names, or remove \
                     the plug",
                        plug.path.display(),
                        list(&plug.exports),
                        socket.path.display(),
                        list(&socket.imports),
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// After the composed component failed validation: the first wire whose
/// two types differ, explained with both files and types.
fn mismatch(inputs: &[Input<'_>], wires: &[Wire]) -> Option<Error> {
    wires.iter().find_map(|w| {
        let consumer = &inputs[w.consumer];
        let provider = &inputs[w.provider];
        let want = describe::entity(consumer.types(), &consumer.import_type(&w.name).ok()?);
        let have = match w.shared {
            true => provider.import_type(&w.name).ok()?,
            false => provider.export_type(&w.name).ok()?,
        };
        let have = describe::entity(provider.types(), &have);
        let difference = describe::first_difference(&w.name, &want, &have)?;
        let sides = [(consumer.path, &want), (provider.path, &have)];
        let message = explain(w, sides, &difference);
        Some(Error::new(ErrorKind::TypeMismatch, message))
    })
}

/// The message for wire `w`, whose consumer's and provider's (file, type)
/// are `sides`: what differs first, with both of its types, what to do, and
/// then both whole types, one item per line.
fn explain(w: &Wire, sides: [(&Path, &Shape); 2], difference: &Difference<'_>) -> String {
    let [(consumer, want), (provider, have)] =
        sides.map(|(path, shape)| (path.display(), shape.wrapped("    ")));
    let name = &w.name;
    let (headline, have_label, advice, whole) = if w.shared {
        (
            format!(
                "`{consumer}` and `{provider}` both import `{name}` with different types; \
                 an import left to the host is shared, so its types must agree"
            ),
            format!("imported by `{provider}`"),
            "rebuild one of them against the same interface".to_string(),
            format!(
                "`{provider}` imports `{name}` as\n    {have}\n\
                 but `{consumer}` imports it as\n    {want}"
            ),
        )
    } else {
        (
            format!(
                "`{consumer}` imports `{name}` with another type than the plug \
                 `{provider}` exports"
            ),
            format!("exported by `{provider}`"),
            format!(
                "rebuild one of them against the same interface, or do not plug \
                 `{provider}`"
            ),
            format!(
                "`{consumer}` imports `{name}` as\n    {want}\n\
                 but the plug `{provider}` exports it as\n    {have}"
            ),
        )
    };
    let want_label = format!("imported by `{consumer}`");
    let width = want_label.len().max(have_label.len());
    let have_item = difference.have.map_or("(missing)".to_string(), Shape::line);
    format!(
        "{headline}; the first item that differs is `{}`:\n    \
         {want_label:<width$}  {}\n    {have_label:<width$}  {have_item}\n{advice}\n{whole}",
        difference.path,
        difference.want.line(),
    )
}

/// How an item of type `ty` is exported or aliased.
fn export_kind(ty: &ComponentEntityType) -> ComponentExportKind {
    match ty {
        ComponentEntityType::Module(_) => ComponentExportKind::Module,
        ComponentEntityType::Func(_) => ComponentExportKind::Func,
        ComponentEntityType::Value(_) => ComponentExportKind::Value,
        ComponentEntityType::Type { .. } => ComponentExportKind::Type,
        ComponentEntityType::Instance(_) => ComponentExportKind::Instance,
        ComponentEntityType::Component(_) => ComponentExportKind::Component,
    }
}

/// Where `needle` (an input embedded unchanged) sits in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<Range<usize>> {
    let start = haystack.windows(needle.len()).position(|w| w == needle)?;
    Some(start..start + needle.len())
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
