//! Re-encoding the types of imports that stay unwired: the composed component
//! must import them itself, so their types (resolved by the validator of the
//! component that declared them) are written out again as type definitions of
//! the composed component or of an instance type inside it.
//!
//! Named types (records, variants, enums, flags, resources) must be referred to
//! through the name they were imported or exported under, never redefined, or
//! the validator rejects the import; [`TypeMap`] remembers which index each
//! validator type id was bound to.

use crate::{Error, ErrorKind};
use std::collections::HashMap;
use wasm_encoder::{
    Alias, ComponentBuilder, ComponentOuterAliasKind, ComponentTypeEncoder, ComponentTypeRef,
    InstanceType, PrimitiveValType as P, TypeBounds,
};
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentDefinedType, ComponentEntityType, ComponentFuncTypeId,
    ComponentInstanceTypeId, ComponentValType, ResourceId,
};
use wasmparser::types::Types;
use wasmparser::PrimitiveValType;

/// Which type index each validator type id of one component is bound to in
/// the scope being written.
#[derive(Default)]
pub struct TypeMap {
    types: HashMap<ComponentAnyTypeId, u32>,
    resources: HashMap<ResourceId, u32>,
}

impl TypeMap {
    /// Binds the type `id` (and, for a resource, the resource it names) to `index`.
    pub fn bind(&mut self, id: ComponentAnyTypeId, index: u32) {
        if let ComponentAnyTypeId::Resource(r) = id {
            self.resources.insert(r.resource(), index);
        }
        self.types.insert(id, index);
    }

    fn lookup(&self, id: ComponentAnyTypeId) -> Option<u32> {
        match id {
            ComponentAnyTypeId::Resource(r) => self.resources.get(&r.resource()).copied(),
            _ => self.types.get(&id).copied(),
        }
    }
}

/// Where definitions are written: the composed component itself or an
/// instance type being declared in it.
pub trait Sink {
    /// Writes one type definition and returns its index.
    fn define(&mut self, write: impl FnOnce(ComponentTypeEncoder<'_>)) -> u32;
    /// Makes type `index` of the enclosing component available here, if this
    /// scope has an enclosing component.
    fn alias_outer(&mut self, index: u32) -> Option<u32>;
}

impl Sink for &mut ComponentBuilder {
    fn define(&mut self, write: impl FnOnce(ComponentTypeEncoder<'_>)) -> u32 {
        let (index, encoder) = self.ty(None);
        write(encoder);
        index
    }

    fn alias_outer(&mut self, _index: u32) -> Option<u32> {
        None
    }
}

impl Sink for InstanceType {
    fn define(&mut self, write: impl FnOnce(ComponentTypeEncoder<'_>)) -> u32 {
        let index = self.type_count();
        write(self.ty());
        index
    }

    fn alias_outer(&mut self, index: u32) -> Option<u32> {
        let local = self.type_count();
        self.alias(Alias::Outer {
            kind: ComponentOuterAliasKind::Type,
            count: 1,
            index,
        });
        Some(local)
    }
}

/// Writes types of one component (`types`) into `sink`, binding them in
/// `local`; ids bound only in `outer` are aliased from the enclosing component.
pub struct Retyper<'t, S> {
    pub types: &'t Types,
    pub sink: S,
    pub local: TypeMap,
    pub outer: Option<&'t TypeMap>,
}

impl<S: Sink> Retyper<'_, S> {
    /// The index of a named type, aliasing it from the enclosing scope if needed.
    pub fn named(&mut self, id: ComponentAnyTypeId) -> Option<u32> {
        if let Some(index) = self.local.lookup(id) {
            return Some(index);
        }
        let outer = self.outer?.lookup(id)?;
        let index = self.sink.alias_outer(outer)?;
        self.local.bind(id, index);
        Some(index)
    }

    /// A function type, defined here.
    pub fn func(&mut self, id: ComponentFuncTypeId) -> Result<u32, Error> {
        let ty = &self.types[id];
        if ty.async_ {
            return Err(unsupported("plugging async functions"));
        }
        let mut params = Vec::new();
        for (name, param) in ty.params.iter() {
            params.push((name.as_str(), self.val(*param)?));
        }
        let result = ty.result.map(|r| self.val(r)).transpose()?;
        Ok(self.sink.define(|e| {
            let mut f = e.function();
            f.params(params);
            f.result(result);
        }))
    }

    /// A value type: a primitive, a named type already bound, or a structural
    /// type defined here.
    pub fn val(&mut self, ty: ComponentValType) -> Result<wasm_encoder::ComponentValType, Error> {
        let id = match ty {
            ComponentValType::Primitive(p) => {
                return Ok(wasm_encoder::ComponentValType::Primitive(primitive(p)))
            }
            ComponentValType::Type(id) => id,
        };
        if let Some(index) = self.named(ComponentAnyTypeId::Defined(id)) {
            return Ok(wasm_encoder::ComponentValType::Type(index));
        }
        let types = self.types;
        let index = self.defined(&types[id])?;
        Ok(wasm_encoder::ComponentValType::Type(index))
    }

    fn opt(
        &mut self,
        ty: Option<ComponentValType>,
    ) -> Result<Option<wasm_encoder::ComponentValType>, Error> {
        ty.map(|t| self.val(t)).transpose()
    }

    /// Defines a structural type after its parts.
    fn defined(&mut self, ty: &ComponentDefinedType) -> Result<u32, Error> {
        use ComponentDefinedType as D;
        Ok(match ty {
            D::Primitive(p) => {
                let p = primitive(*p);
                self.sink.define(|e| e.defined_type().primitive(p))
            }
            D::Record(r) => {
                let mut fields = Vec::new();
                for (name, t) in r.fields.iter() {
                    fields.push((name.as_str(), self.val(*t)?));
                }
                self.sink.define(|e| e.defined_type().record(fields))
            }
            D::Variant(v) => {
                let mut cases = Vec::new();
                for (name, case) in v.cases.iter() {
                    cases.push((name.as_str(), self.opt(case.ty)?));
                }
                self.sink.define(|e| e.defined_type().variant(cases))
            }
            D::List { element, .. } => {
                let element = self.val(*element)?;
                self.sink.define(|e| e.defined_type().list(element))
            }
            D::Tuple(t) => {
                let mut items = Vec::new();
                for item in t.types.iter() {
                    items.push(self.val(*item)?);
                }
                self.sink.define(|e| e.defined_type().tuple(items))
            }
            D::Flags(names) => {
                let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
                self.sink.define(|e| e.defined_type().flags(names))
            }
            D::Enum(names) => {
                let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
                self.sink.define(|e| e.defined_type().enum_type(names))
            }
            D::Option { ty, .. } => {
                let ty = self.val(*ty)?;
                self.sink.define(|e| e.defined_type().option(ty))
            }
            D::Result { ok, err, .. } => {
                let (ok, err) = (self.opt(*ok)?, self.opt(*err)?);
                self.sink.define(|e| e.defined_type().result(ok, err))
            }
            D::Own(r) | D::Borrow(r) => {
                let Some(resource) = self.named(ComponentAnyTypeId::Resource(*r)) else {
                    return Err(unsupported(
                        "leaving an import unwired whose handle refers to a resource \
                         not imported by name",
                    ));
                };
                let own = matches!(ty, D::Own(_));
                self.sink.define(|e| {
                    if own {
                        e.defined_type().own(resource)
                    } else {
                        e.defined_type().borrow(resource)
                    }
                })
            }
            _ => {
                return Err(unsupported(
                    "leaving an import unwired whose type uses maps, fixed-length lists, \
                     futures or streams",
                ))
            }
        })
    }

    /// How a type import or export of `id` is declared: equal to a type bound
    /// already, or a fresh resource.
    pub fn type_bounds(
        &mut self,
        referenced: ComponentAnyTypeId,
        created: ComponentAnyTypeId,
    ) -> Result<TypeBounds, Error> {
        if let Some(index) = self.named(referenced) {
            return Ok(TypeBounds::Eq(index));
        }
        match (referenced, created) {
            (ComponentAnyTypeId::Resource(_), _) => Ok(TypeBounds::SubResource),
            (ComponentAnyTypeId::Defined(id), _) => {
                let types = self.types;
                Ok(TypeBounds::Eq(self.defined(&types[id])?))
            }
            _ => Err(unsupported(
                "leaving unwired a type import that is not a value type or resource",
            )),
        }
    }
}

impl<'t> Retyper<'t, InstanceType> {
    /// Declares the instance type `id` of an unwired instance import; nested
    /// instances are not supported yet.
    pub fn instance(
        types: &'t Types,
        outer: &'t TypeMap,
        id: ComponentInstanceTypeId,
    ) -> Result<InstanceType, Error> {
        let mut r = Retyper {
            types,
            sink: InstanceType::new(),
            local: TypeMap::default(),
            outer: Some(outer),
        };
        for (name, item) in types[id].exports.iter() {
            let ty = match item.ty {
                ComponentEntityType::Func(f) => ComponentTypeRef::Func(r.func(f)?),
                ComponentEntityType::Type {
                    referenced,
                    created,
                } => {
                    let bounds = r.type_bounds(referenced, created)?;
                    let index = r.sink.type_count();
                    r.sink.export(name.as_str(), ComponentTypeRef::Type(bounds));
                    r.local.bind(created, index);
                    r.local.bind(referenced, index);
                    continue;
                }
                _ => {
                    return Err(unsupported(format!(
                        "leaving unwired an imported instance whose export `{name}` is \
                             not a function or a type"
                    )))
                }
            };
            r.sink.export(name.as_str(), ty);
        }
        Ok(r.sink)
    }
}

fn primitive(p: PrimitiveValType) -> P {
    match p {
        PrimitiveValType::Bool => P::Bool,
        PrimitiveValType::S8 => P::S8,
        PrimitiveValType::U8 => P::U8,
        PrimitiveValType::S16 => P::S16,
        PrimitiveValType::U16 => P::U16,
        PrimitiveValType::S32 => P::S32,
        PrimitiveValType::U32 => P::U32,
        PrimitiveValType::S64 => P::S64,
        PrimitiveValType::U64 => P::U64,
        PrimitiveValType::F32 => P::F32,
        PrimitiveValType::F64 => P::F64,
        PrimitiveValType::Char => P::Char,
        PrimitiveValType::String => P::String,
        PrimitiveValType::ErrorContext => P::ErrorContext,
    }
}

/// A construct composition cannot re-encode yet.
fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Unsupported, format!("not supported yet: {what}"))
}
