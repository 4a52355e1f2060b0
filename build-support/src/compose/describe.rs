//! Readable types for composition errors: a mismatch between an import and
//! the export plugged into it names the first item that differs with both of
//! its types, then shows both whole types one item per line, in a WIT-like
//! notation, so the user sees what to change without a disassembler.

use wasmparser::component_types::{ComponentDefinedType, ComponentEntityType, ComponentValType};
use wasmparser::types::Types;
use wasmparser::PrimitiveValType;

/// An import's or export's type, as a tree of the items an instance type
/// exports, so that two types can be compared item by item and shown one
/// item per line.
#[derive(Debug, PartialEq, Eq)]
pub enum Shape {
    /// An instance type: its exports, in order.
    Instance(Vec<(String, Shape)>),
    /// Any other type, on one line: e.g. `func(s: string) -> string`.
    Leaf(String),
}

impl Shape {
    /// The type on one line, e.g. `instance { upper: func(s: string) -> string }`.
    pub fn line(&self) -> String {
        match self {
            Shape::Leaf(text) => text.clone(),
            Shape::Instance(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|(name, shape)| format!("{name}: {}", shape.line()))
                    .collect();
                format!("instance {{ {} }}", items.join("; "))
            }
        }
    }

    /// The type with one instance item per line, each nested level indented
    /// two spaces more; lines after the first start with `indent`.
    pub fn wrapped(&self, indent: &str) -> String {
        let Shape::Instance(items) = self else {
            return self.line();
        };
        let inner = format!("{indent}  ");
        let mut out = "instance {\n".to_string();
        for (name, shape) in items {
            out += &format!("{inner}{name}: {}\n", shape.wrapped(&inner));
        }
        out + indent + "}"
    }
}

/// An item of an import's type that the type wired to it lacks, or has with
/// another type.
pub struct Difference<'s> {
    /// Its name: the import's own, or `import#item` inside an instance.
    pub path: String,
    pub want: &'s Shape,
    /// `None` where the item is missing.
    pub have: Option<&'s Shape>,
}

/// The first item of `want` (the type of import `path`) that `have` lacks or
/// types differently. Items `have` has beyond `want` do no harm (an instance
/// may export more than is imported), so `None` means this pair is not
/// where the types disagree.
pub fn first_difference<'s>(
    path: &str,
    want: &'s Shape,
    have: &'s Shape,
) -> Option<Difference<'s>> {
    match (want, have) {
        (Shape::Instance(wants), Shape::Instance(haves)) => wants.iter().find_map(|(name, w)| {
            let path = format!("{path}#{name}");
            match haves.iter().find(|(n, _)| n == name) {
                Some((_, h)) => first_difference(&path, w, h),
                None => Some(Difference {
                    path,
                    want: w,
                    have: None,
                }),
            }
        }),
        _ if want == have => None,
        _ => Some(Difference {
            path: path.to_string(),
            want,
            have: Some(have),
        }),
    }
}

/// The type of an import or export.
pub fn entity(types: &Types, ty: &ComponentEntityType) -> Shape {
    let ComponentEntityType::Instance(i) = ty else {
        return Shape::Leaf(leaf(types, ty));
    };
    let items = types[*i]
        .exports
        .iter()
        .map(|(name, item)| (name.to_string(), entity(types, &item.ty)))
        .collect();
    Shape::Instance(items)
}

/// A type other than an instance's, on one line.
fn leaf(types: &Types, ty: &ComponentEntityType) -> String {
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
        ComponentEntityType::Instance(_) => entity(types, ty).line(),
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
