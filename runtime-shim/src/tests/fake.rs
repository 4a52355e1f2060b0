//! In-memory descriptors for tests.

use crate::prelude::*;
use crate::Module;
use rivet_descriptor::{
    BoundsMode, FuncType, FunctionCode, ImportType, ModuleCounts, RawDescriptor, Unit, ValType,
    VmctxLayout, FORMAT_VERSION, MAGIC,
};

/// A descriptor and everything it points at, kept alive together.
pub struct FakeUnit {
    _metadata: Vec<u8>,
    _functions: Vec<*const u8>,
    _trampolines: Vec<*const u8>,
    _data: Vec<u8>,
    pub desc: Box<RawDescriptor>,
}

impl FakeUnit {
    pub fn new(
        unit: &Unit,
        functions: Vec<*const u8>,
        trampolines: Vec<*const u8>,
        data: Vec<u8>,
    ) -> FakeUnit {
        let metadata = unit.encode();
        let desc = Box::new(RawDescriptor {
            magic: MAGIC,
            version: FORMAT_VERSION,
            reserved: 0,
            metadata: metadata.as_ptr(),
            metadata_len: metadata.len(),
            functions: functions.as_ptr(),
            function_count: functions.len(),
            trampolines: trampolines.as_ptr(),
            trampoline_count: trampolines.len(),
            data: data.as_ptr(),
            data_len: data.len(),
            c_code_start: core::ptr::null(),
            c_code_end: core::ptr::null(),
        });
        FakeUnit {
            _metadata: metadata,
            _functions: functions,
            _trampolines: trampolines,
            _data: data,
            desc,
        }
    }

    pub fn load(&self) -> Result<Vec<Module>, crate::Error> {
        // SAFETY: the descriptor and its arrays live as long as `self`; tests
        // keep `self` alive while they use the modules.
        unsafe { Module::from_descriptor(&*self.desc) }
    }
}

/// A module with nothing in it; tests fill in fields then call [`finish`].
pub fn empty() -> rivet_descriptor::Module {
    rivet_descriptor::Module {
        types: vec![].into(),
        imports: vec![].into(),
        functions: vec![].into(),
        defined_function_base: 0,
        tables: vec![].into(),
        memories: vec![].into(),
        globals: vec![].into(),
        global_inits: vec![].into(),
        tags: vec![].into(),
        exports: vec![].into(),
        start: None,
        elements: vec![].into(),
        data: vec![].into(),
        array_trampolines: vec![].into(),
        host_trampolines: vec![].into(),
        code: vec![].into(),
        layout: VmctxLayout::new(&ModuleCounts::default()),
    }
}

/// Computes the layout, code entries and trampoline indices (all types share
/// trampolines 0 and 1) of a module.
pub fn finish(mut m: rivet_descriptor::Module) -> rivet_descriptor::Module {
    let count = |f: fn(&ImportType) -> bool| m.imports.iter().filter(|i| f(&i.ty)).count() as u32;
    let counts = ModuleCounts {
        types: m.types.len() as u32,
        imported_functions: count(|t| matches!(t, ImportType::Func(_))),
        memories: m.memories.len() as u32,
        tables: m.tables.len() as u32,
        globals: m.globals.len() as u32,
        defined_memories: m.memories.len() as u32 - count(|t| matches!(t, ImportType::Memory(_))),
        defined_tables: m.tables.len() as u32 - count(|t| matches!(t, ImportType::Table(_))),
        defined_globals: m.globals.len() as u32 - count(|t| matches!(t, ImportType::Global(_))),
        functions: m.functions.len() as u32,
        tags: m.tags.len() as u32,
        defined_tags: m.tags.len() as u32 - count(|t| matches!(t, ImportType::Tag(_))),
    };
    m.layout = VmctxLayout::new(&counts);
    let defined = (counts.functions - counts.imported_functions) as usize;
    if m.code.len() != defined {
        m.code = vec![FunctionCode::default(); defined].into();
    }
    m.array_trampolines = vec![0; m.types.len()].into();
    m.host_trampolines = vec![1; m.types.len()].into();
    m
}

/// Loads modules that never run code: function and trampoline addresses are
/// dummies that are never called.
pub fn load_inert(
    bounds: BoundsMode,
    modules: Vec<rivet_descriptor::Module>,
    data: Vec<u8>,
) -> (FakeUnit, Vec<Module>) {
    let mut functions = Vec::new();
    let mut modules: Vec<_> = modules.into_iter().map(finish).collect();
    for m in &mut modules {
        m.defined_function_base = functions.len() as u32;
        for _ in 0..m.code.len() {
            functions.push(std::ptr::dangling::<u8>());
        }
        // Inert functions have no code length, so they register no range.
    }
    let unit = Unit {
        bounds,
        modules: modules.into(),
        component: None,
    };
    let fake = FakeUnit::new(&unit, functions, vec![std::ptr::dangling(); 2], data);
    let loaded = fake.load().expect("fake unit loads");
    (fake, loaded)
}

pub fn func_type(params: &[ValType], results: &[ValType]) -> FuncType {
    FuncType {
        params: params.to_vec().into(),
        results: results.to_vec().into(),
    }
}
