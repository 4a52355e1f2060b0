//! Readable types for composition errors: a mismatch between an import and
//! the export plugged into it is shown as both types, in a WIT-like notation,
//! so the user sees what to change without a disassembler.

use wasmparser::component_types::{ComponentDefinedType, ComponentEntityType, ComponentValType};
use wasmparser::types::Types;
use wasmparser::PrimitiveValType;

/// An import's or export's type, e.g. `func(s: string) -> string` or
/// `instance { upper: func(s: string) -> string }`.
pub fn entity(types: &Types, ty: &ComponentEntityType) -> String {
    match ty {
        ComponentEntityType::Func(f) => {
            let f = &types[*f];
            let params: Vec<String> = f
                .params
                .iter()
                .map(|(name, t)| format!("{}: {}", name.as_str(), val(types, *t)))
                .collect();
            let result = match f.result {
                Some(r) => format!(" -> {}", val(types, r)),
                None => String::new(),
            };
            format!("func({}){result}", params.join(", "))
        }
        ComponentEntityType::Instance(i) => {
            let items: Vec<String> = types[*i]
                .exports
                .iter()
                .map(|(name, item)| format!("{name}: {}", entity(types, &item.ty)))
                .collect();
            format!("instance {{ {} }}", items.join("; "))
        }
        ComponentEntityType::Type { referenced, .. } => match referenced {
            wasmparser::component_types::ComponentAnyTypeId::Defined(id) => {
                format!("type {}", defined(types, &types[*id]))
            }
            wasmparser::component_types::ComponentAnyTypeId::Resource(_) => "resource".into(),
            _ => "type".into(),
        },
        ComponentEntityType::Module(_) => "core module".into(),
        ComponentEntityType::Component(_) => "component".into(),
        ComponentEntityType::Value(v) => format!("value {}", val(types, *v)),
    }
}

/// A value type.
pub fn val(types: &Types, ty: ComponentValType) -> String {
    match ty {
        ComponentValType::Primitive(p) => primitive(p).to_string(),
        ComponentValType::Type(id) => defined(types, &types[id]),
    }
}

fn opt(types: &Types, ty: Option<ComponentValType>) -> String {
    ty.map_or_else(|| "_".to_string(), |t| val(types, t))
}

fn defined(types: &Types, ty: &ComponentDefinedType) -> String {
    use ComponentDefinedType as D;
    let list = |items: Vec<String>| items.join(", ");
    match ty {
        D::Primitive(p) => primitive(*p).to_string(),
        D::Record(r) => format!(
            "record {{ {} }}",
            list(
                r.fields
                    .iter()
                    .map(|(n, t)| format!("{}: {}", n.as_str(), val(types, *t)))
                    .collect()
            )
        ),
        D::Variant(v) => format!(
            "variant {{ {} }}",
            list(
                v.cases
                    .iter()
                    .map(|(n, c)| match c.ty {
                        Some(t) => format!("{}({})", n.as_str(), val(types, t)),
                        None => n.as_str().to_string(),
                    })
                    .collect()
            )
        ),
        D::List { element, .. } => format!("list<{}>", val(types, *element)),
        D::Map { key, value, .. } => format!("map<{}, {}>", val(types, *key), val(types, *value)),
        D::FixedLengthList {
            element, length, ..
        } => format!("list<{}, {length}>", val(types, *element)),
        D::Tuple(t) => format!(
            "tuple<{}>",
            list(t.types.iter().map(|t| val(types, *t)).collect())
        ),
        D::Flags(n) => format!(
            "flags {{ {} }}",
            list(n.iter().map(|n| n.as_str().into()).collect())
        ),
        D::Enum(n) => format!(
            "enum {{ {} }}",
            list(n.iter().map(|n| n.as_str().into()).collect())
        ),
        D::Option { ty, .. } => format!("option<{}>", val(types, *ty)),
        D::Result { ok, err, .. } => format!("result<{}, {}>", opt(types, *ok), opt(types, *err)),
        D::Own(_) => "own<resource>".into(),
        D::Borrow(_) => "borrow<resource>".into(),
        D::Future { ty, .. } => format!("future<{}>", opt(types, *ty)),
        D::Stream { ty, .. } => format!("stream<{}>", opt(types, *ty)),
    }
}

fn primitive(p: PrimitiveValType) -> &'static str {
    match p {
        PrimitiveValType::Bool => "bool",
        PrimitiveValType::S8 => "s8",
        PrimitiveValType::U8 => "u8",
        PrimitiveValType::S16 => "s16",
        PrimitiveValType::U16 => "u16",
        PrimitiveValType::S32 => "s32",
        PrimitiveValType::U32 => "u32",
        PrimitiveValType::S64 => "s64",
        PrimitiveValType::U64 => "u64",
        PrimitiveValType::F32 => "f32",
        PrimitiveValType::F64 => "f64",
        PrimitiveValType::Char => "char",
        PrimitiveValType::String => "string",
        PrimitiveValType::ErrorContext => "error-context",
    }
}
