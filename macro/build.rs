//! Records hand-built component plans in OUT_DIR, as rivet_build::Config
//! would, so `tests/bindings.rs` can expand `rivet::component!` and type-check
//! the generated code against the real runtime API, and `tests/ui.rs` can
//! check the errors of WASI commands' bindings.

use rivet_descriptor::component::{
    Component, ComponentExport, ComponentFuncType, ComponentImport, CoreDef, Lift, ResourceDef,
    ValueType as V,
};

fn main() {
    let lift = |ty| Lift {
        func: CoreDef::Export {
            instance: 0,
            name: "f".into(),
        },
        ty,
        options: Default::default(),
        instance: 0,
        layout: Default::default(),
    };
    let plan = Component {
        types: vec![
            V::String,
            V::Record(vec![("name".into(), 0), ("tags".into(), 2)].into()),
            V::List(0),
            V::Variant(vec![("off".into(), None), ("level".into(), Some(4))].into()),
            V::U8,
            V::Flags(vec!["bold".into(), "italic".into()].into()),
            V::Result {
                ok: Some(1),
                err: Some(0),
            },
            V::Own(0),
            V::Borrow(0),
            V::Map(0, 2),
            V::U32,
        ]
        .into(),
        resources: vec![ResourceDef {
            instance: 0,
            imported: false,
            dtor: None,
            name: "test:api/shapes#counter".into(),
        }]
        .into(),
        func_types: vec![
            ComponentFuncType {
                params: vec![("who".into(), 0)].into(),
                result: Some(0),
            },
            ComponentFuncType {
                params: vec![("v".into(), 3), ("f".into(), 5), ("names".into(), 2)].into(),
                result: Some(6),
            },
            ComponentFuncType {
                params: vec![("start".into(), 4)].into(),
                result: Some(7),
            },
            ComponentFuncType {
                params: vec![("self".into(), 8), ("step".into(), 4)].into(),
                result: Some(4),
            },
            ComponentFuncType {
                params: vec![("index".into(), 9)].into(),
                result: Some(10),
            },
        ]
        .into(),
        imports: vec![ComponentImport {
            name: "test:host/log#emit".into(),
            ty: 0,
        }]
        .into(),
        lifts: vec![lift(0), lift(1), lift(2), lift(3), lift(4)].into(),
        exports: vec![
            ComponentExport {
                name: "greet".into(),
                lift: 0,
            },
            ComponentExport {
                name: "test:api/shapes#make".into(),
                lift: 1,
            },
            ComponentExport {
                name: "test:api/shapes#[constructor]counter".into(),
                lift: 2,
            },
            ComponentExport {
                name: "test:api/shapes#[method]counter.add".into(),
                lift: 3,
            },
            ComponentExport {
                name: "count".into(),
                lift: 4,
            },
        ]
        .into(),
        ..Component::default()
    };
    record("fixture", &plan);
    record("wasi-command", &wasi_command(&[]));
    record(
        "wasi-mixed",
        &wasi_command(&["wasi:cli/stdout@0.3.0#get-stdout"]),
    );
    println!("cargo:rerun-if-changed=build.rs");
}

/// A WASI command's plan: `get-stdout` of WASI 0.2.6 returning an imported
/// `output-stream`, the export `wasi:cli/run@0.2.6#run`, and `extra`
/// imports of the same type.
fn wasi_command(extra: &[&str]) -> Component {
    let import = |name: &str| ComponentImport {
        name: name.to_string().into(),
        ty: 0,
    };
    let imports = std::iter::once("wasi:cli/stdout@0.2.6#get-stdout")
        .chain(extra.iter().copied())
        .map(import);
    Component {
        types: vec![
            V::Own(0),
            V::Result {
                ok: None,
                err: None,
            },
        ]
        .into(),
        resources: vec![ResourceDef {
            instance: 0,
            imported: true,
            dtor: None,
            name: "wasi:io/streams@0.2.6#output-stream".into(),
        }]
        .into(),
        func_types: vec![
            ComponentFuncType {
                params: vec![].into(),
                result: Some(0),
            },
            ComponentFuncType {
                params: vec![].into(),
                result: Some(1),
            },
        ]
        .into(),
        imports: imports.collect(),
        lifts: vec![Lift {
            func: CoreDef::Export {
                instance: 0,
                name: "run".into(),
            },
            ty: 1,
            options: Default::default(),
            instance: 0,
            layout: Default::default(),
        }]
        .into(),
        exports: vec![ComponentExport {
            name: "wasi:cli/run@0.2.6#run".into(),
            lift: 0,
        }]
        .into(),
        ..Component::default()
    }
}

/// Writes `plan` as component `name`'s, with the metadata statics the
/// bindings include: the fixtures' bindings are only type-checked, never
/// instantiated, so an empty unit serves.
fn record(name: &str, plan: &Component) {
    let dir = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("rivet");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.plan")),
        postcard::to_allocvec(plan).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("{name}.rs")),
        "pub static UNIT: rivet::__private::descriptor::Unit = rivet::__private::descriptor::Unit {\n\
         bounds: rivet::BoundsMode::Guard,\n\
         modules: rivet::__private::Cow::Borrowed(&[]),\n\
         component: None,\n\
         };\n\
         pub static PARTS: rivet::__private::Parts = rivet::__private::Parts::of(0);\n",
    )
    .unwrap();
}
