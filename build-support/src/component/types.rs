//! Conversion of the validator's resolved component types into the plan's
//! interned [`ValueType`]s and [`ComponentFuncType`]s.

use super::async_error;
use super::decode::Renames;
use crate::Error;
use rivet_descriptor::component::{Component, ComponentFuncType, ValueType};
use rivet_descriptor::Text;
use std::collections::HashMap;
use wasmparser::component_types::{
    ComponentDefinedType, ComponentFuncTypeId, ComponentValType, ResourceId,
};
use wasmparser::types::Types;
use wasmparser::PrimitiveValType;

/// Deduplicates the plan's value and function types.
#[derive(Default)]
pub struct Interner {
    values: HashMap<ValueType, u32>,
    funcs: HashMap<ComponentFuncType, u32>,
}

/// The context a type is converted in: the validator's types of one component
/// definition, and which plan resource each of its resource ids stands for in the
/// component instance being flattened.
pub struct TypeScope<'t> {
    pub types: &'t Types,
    pub resources: &'t HashMap<ResourceId, u32>,
    /// Names the validator saw spelt anew.
    pub renames: &'t Renames,
    /// Where the type is used, for errors.
    pub offset: usize,
}

impl TypeScope<'_> {
    /// A name from the validator's types, as the component spells it.
    fn name(&self, name: &str) -> String {
        self.renames.original(name).to_string()
    }
}

impl Interner {
    /// Interns the function type `id` into `plan.func_types`.
    pub fn func(
        &mut self,
        plan: &mut Component,
        scope: &TypeScope<'_>,
        id: ComponentFuncTypeId,
    ) -> Result<u32, Error> {
        let ty = &scope.types[id];
        if ty.async_ {
            return Err(async_error(scope.offset));
        }
        let mut params = Vec::with_capacity(ty.params.len());
        for (name, param) in ty.params.iter() {
            params.push((
                Text::from(scope.name(name)),
                self.value(plan, scope, param)?,
            ));
        }
        let result = match &ty.result {
            Some(t) => Some(self.value(plan, scope, t)?),
            None => None,
        };
        let func = ComponentFuncType {
            params: params.into(),
            result,
        };
        Ok(intern(&mut self.funcs, plan.func_types.to_mut(), func))
    }

    /// Interns a value type (and its components) into `plan.types`.
    pub fn value(
        &mut self,
        plan: &mut Component,
        scope: &TypeScope<'_>,
        ty: &ComponentValType,
    ) -> Result<u32, Error> {
        let value = match ty {
            ComponentValType::Primitive(p) => primitive(*p, scope.offset)?,
            ComponentValType::Type(id) => self.defined(plan, scope, &scope.types[*id])?,
        };
        Ok(intern(&mut self.values, plan.types.to_mut(), value))
    }

    fn defined(
        &mut self,
        plan: &mut Component,
        scope: &TypeScope<'_>,
        ty: &ComponentDefinedType,
    ) -> Result<ValueType, Error> {
        let mut value = |t: &ComponentValType| self.value(plan, scope, t);
        let name = |n: &str| Text::from(scope.name(n));
        Ok(match ty {
            ComponentDefinedType::Primitive(p) => primitive(*p, scope.offset)?,
            ComponentDefinedType::Record(r) => ValueType::Record(
                r.fields
                    .iter()
                    .map(|(n, t)| Ok((name(n), value(t)?)))
                    .collect::<Result<_, Error>>()?,
            ),
            ComponentDefinedType::Variant(v) => ValueType::Variant(
                v.cases
                    .iter()
                    .map(|(n, case)| {
                        let payload = case.ty.as_ref().map(&mut value).transpose()?;
                        Ok((name(n), payload))
                    })
                    .collect::<Result<_, Error>>()?,
            ),
            ComponentDefinedType::List { element, .. } => ValueType::List(value(element)?),
            ComponentDefinedType::Tuple(t) => {
                ValueType::Tuple(t.types.iter().map(value).collect::<Result<_, _>>()?)
            }
            ComponentDefinedType::Flags(names) => {
                ValueType::Flags(names.iter().map(|n| name(n)).collect())
            }
            ComponentDefinedType::Enum(names) => {
                ValueType::Enum(names.iter().map(|n| name(n)).collect())
            }
            ComponentDefinedType::Option { ty, .. } => ValueType::Option(value(ty)?),
            ComponentDefinedType::Result { ok, err, .. } => ValueType::Result {
                ok: ok.as_ref().map(&mut value).transpose()?,
                err: err.as_ref().map(&mut value).transpose()?,
            },
            ComponentDefinedType::Own(id) => ValueType::Own(resource(scope, id.resource())?),
            ComponentDefinedType::Borrow(id) => ValueType::Borrow(resource(scope, id.resource())?),
            ComponentDefinedType::Future { .. } | ComponentDefinedType::Stream { .. } => {
                return Err(async_error(scope.offset));
            }
            ComponentDefinedType::Map { key, value: v, .. } => {
                ValueType::Map(value(key)?, value(v)?)
            }
            ComponentDefinedType::FixedLengthList { .. } => {
                return Err(Error::unsupported(scope.offset, "fixed-length lists"));
            }
        })
    }
}

/// The plan resource a resource id stands for.
fn resource(scope: &TypeScope<'_>, id: ResourceId) -> Result<u32, Error> {
    scope
        .resources
        .get(&id)
        .copied()
        .ok_or_else(|| Error::unsupported(scope.offset, "resource types imported from the host"))
}

fn primitive(p: PrimitiveValType, offset: usize) -> Result<ValueType, Error> {
    Ok(match p {
        PrimitiveValType::Bool => ValueType::Bool,
        PrimitiveValType::S8 => ValueType::S8,
        PrimitiveValType::U8 => ValueType::U8,
        PrimitiveValType::S16 => ValueType::S16,
        PrimitiveValType::U16 => ValueType::U16,
        PrimitiveValType::S32 => ValueType::S32,
        PrimitiveValType::U32 => ValueType::U32,
        PrimitiveValType::S64 => ValueType::S64,
        PrimitiveValType::U64 => ValueType::U64,
        PrimitiveValType::F32 => ValueType::F32,
        PrimitiveValType::F64 => ValueType::F64,
        PrimitiveValType::Char => ValueType::Char,
        PrimitiveValType::String => ValueType::String,
        PrimitiveValType::ErrorContext => return Err(async_error(offset)),
    })
}

/// The index of `item` in `list`, appending it the first time.
fn intern<T: Clone + Eq + std::hash::Hash>(
    seen: &mut HashMap<T, u32>,
    list: &mut Vec<T>,
    item: T,
) -> u32 {
    *seen.entry(item).or_insert_with_key(|item| {
        list.push(item.clone());
        list.len() as u32 - 1
    })
}
