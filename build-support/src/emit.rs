//! Compiles a module's functions and trampolines into one object file, with the
//! data objects the runtime reads through the descriptor symbol.

use crate::codegen::{self, Code, Job, LOOP_ALIGN};
use crate::decode::{self, Decoded};
use crate::env::ModuleEnv;
use crate::inline::{self, Inlining};
use crate::trampoline::{self, Plan};
use crate::{c_backend, package, translate, BoundsMode, Error, ErrorKind, Options};
use cranelift_codegen::ir::{self, Endianness, UserFuncName};
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{default_libcall_names, DataDescription, DataId, FuncId, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use rayon::prelude::*;
use rivet_descriptor::component::Component;
use rivet_descriptor::{raw_offsets, FunctionCode, Unit, FORMAT_VERSION, MAGIC};
use std::str::FromStr;
use target_lexicon::Triple;

/// See [`crate::compile_module`].
pub fn compile_module(wasm: &[u8], options: &Options) -> Result<Vec<u8>, Error> {
    let module = UnitModule {
        wasm,
        offset: 0,
        direct: Vec::new(),
        boundary: false,
    };
    compile_unit(&[module], None, options).map(|(object, _)| object)
}

/// One core module of a unit and where its bytes start in the input file, so that
/// errors found while compiling it point into that file.
pub struct UnitModule<'a> {
    pub wasm: &'a [u8],
    pub offset: usize,
    /// The static target of each imported function, in function index order
    /// (missing entries: none): calls to it become direct calls.
    pub direct: Vec<Option<DirectTarget>>,
    /// Whether the module's calls cross a component boundary (a fused
    /// adapter): an exception a callee leaves pending traps there instead of
    /// propagating, as the Canonical ABI requires.
    pub boundary: bool,
}

/// A defined function of a unit module that a function import is wired to in
/// every instantiation of the importing module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectTarget {
    /// Index of the defining module in the unit.
    pub module: u32,
    /// Its function index in that module.
    pub func: u32,
}

/// A module decoded and with its functions declared, so that other modules'
/// direct calls can name them before any is compiled.
struct Declared<'data> {
    decoded: Decoded<'data>,
    prefix: String,
    functions: Vec<FuncId>,
}

/// Compiles several core modules into one object with one descriptor: every
/// module's functions go into the shared functions table (at its
/// `defined_function_base`), its trampolines into the shared trampolines table,
/// and its data segments into the shared data blob. A unit of one module names
/// its symbols `rivet_f…`; a unit of several prefixes them with `rivet_m<i>_`.
/// Returns the object and the metadata its descriptor carries.
pub fn compile_unit(
    modules: &[UnitModule<'_>],
    component: Option<Component>,
    options: &Options,
) -> Result<(Vec<u8>, Unit), Error> {
    check_symbol(&options.symbol)?;
    let isa = target_isa(options.target.as_deref(), &options.target_features)?;
    if isa.pointer_bytes() != 8 {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "not supported yet: {}-bit target {}",
                isa.pointer_bits(),
                isa.triple()
            ),
        ));
    }
    let builder =
        ObjectBuilder::new(isa.clone(), "rivet", default_libcall_names()).map_err(backend)?;
    if options.c_backend {
        check_c_backend(options, &isa)?;
    }
    let mut e = Emitter {
        object: ObjectModule::new(builder),
        inline: options.inline,
        // With the C backend a function is defined by one of two objects,
        // merged before the final link: each is declared as an import and
        // made hidden when Cranelift defines it (see `define_function`).
        linkage: if options.c_backend {
            Linkage::Import
        } else {
            Linkage::Local
        },
    };
    let mut declared = Vec::with_capacity(modules.len());
    for (index, m) in modules.iter().enumerate() {
        // Symbols another object refers to must be unique in the program.
        let unit = if options.c_backend {
            format!("{}_", options.symbol)
        } else {
            String::new()
        };
        let prefix = if modules.len() == 1 {
            format!("rivet_{unit}")
        } else {
            format!("rivet_{unit}m{index}_")
        };
        let module = e
            .declare_one(m.wasm, prefix, &isa, options)
            .map_err(|err| shift(err, m.offset))?;
        declared.push(module);
    }
    // Exceptions only exist where a tag does, so a unit without tags keeps the
    // code it had before exception handling (no test after calls).
    let exceptions = declared.iter().any(|d| !d.decoded.env.tags.is_empty());
    for (d, m) in declared.iter_mut().zip(modules) {
        d.decoded.env.exceptions = exceptions;
        d.decoded.env.exception_boundary = m.boundary;
    }
    link_direct(&mut declared, modules);
    let c = if options.c_backend {
        e.translate_c(&declared, &options.symbol)
    } else {
        c_backend::Translated::none(declared.iter().map(|d| d.functions.len()))
    };
    let code = e.define_functions(&declared, modules, &c.chosen)?;
    let mut tables = Tables::default();
    let mut descriptors = Vec::with_capacity(modules.len());
    for ((module, m), code) in declared.into_iter().zip(modules).zip(code) {
        let module = e
            .compile_one(module, code, &mut tables)
            .map_err(|err| shift(err, m.offset))?;
        descriptors.push(module);
    }
    let unit = Unit {
        bounds: options.bounds,
        modules: descriptors.into(),
        component,
    };
    check_unit(&unit, &tables)?;
    let c_section = (!c.sources.is_empty()).then(|| c_backend::section(&options.symbol));
    e.define_descriptor(&options.symbol, &unit.encode(), &tables, c_section)?;
    let object = e
        .object
        .finish()
        .emit()
        .map_err(|err| Error::new(ErrorKind::Internal, format!("writing the object: {err}")))?;
    let object = if c.sources.is_empty() {
        object
    } else {
        package::merge_c(&object, &c.sources, options)?
    };
    Ok((object, unit))
}

/// Runs the runtime's consistency check on the compiled metadata: the static
/// that `rivet_build` writes from it is read in place, without the check, so
/// the build must not hand over metadata the runtime would refuse.
fn check_unit(unit: &Unit, tables: &Tables) -> Result<(), Error> {
    let limits = rivet_descriptor::check::Limits {
        functions: tables.functions.len(),
        trampolines: tables.trampolines.len(),
        data: tables.data.len() as u64,
    };
    rivet_descriptor::check::unit(unit, &limits).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("internal error: the compiled metadata is inconsistent: {e}"),
        )
    })
}

/// The C backend's requirements (see [`crate::c_backend`]).
fn check_c_backend(options: &Options, isa: &OwnedTargetIsa) -> Result<(), Error> {
    let triple = isa.triple();
    if triple.architecture != target_lexicon::Architecture::X86_64
        || triple.operating_system != target_lexicon::OperatingSystem::Linux
    {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("not supported yet: the C backend for target {triple} (x86-64 Linux only)"),
        ));
    }
    if options.bounds != BoundsMode::Guard {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "not supported yet: the C backend with explicit bounds checks",
        ));
    }
    Ok(())
}

/// Gives each module's env the declared name of every direct target of its
/// imports. A target that is not a defined function of the same type is left
/// indirect: instantiation then reports the mismatch as it would anyway.
fn link_direct(declared: &mut [Declared<'_>], modules: &[UnitModule<'_>]) {
    for (i, m) in modules.iter().enumerate() {
        let env = &declared[i].decoded.env;
        let names: Vec<Option<u32>> = (0..env.imported_functions)
            .map(|index| {
                let target = m.direct.get(index as usize).copied().flatten()?;
                let callee = declared.get(target.module as usize)?;
                let callee_env = &callee.decoded.env;
                let defined = target.func.checked_sub(callee_env.imported_functions)?;
                let id = callee.functions.get(defined as usize)?;
                (func_type(env, index) == func_type(callee_env, target.func)).then_some(id.as_u32())
            })
            .collect();
        declared[i].decoded.env.direct_imports = names;
    }
}

/// The type of function `index` of a module.
fn func_type<'e>(env: &'e ModuleEnv<'_>, index: u32) -> &'e rivet_descriptor::FuncType {
    &env.types[env.functions[index as usize] as usize]
}

/// Moves an error's offset from a module's own bytes to the enclosing input.
fn shift(mut err: Error, base: usize) -> Error {
    err.offset = err.offset.map(|o| o + base);
    err
}

/// The unit-wide tables every module appends to.
#[derive(Default)]
struct Tables {
    functions: Vec<FuncId>,
    trampolines: Vec<FuncId>,
    data: Vec<u8>,
}

/// The descriptor symbol is looked up by name from Rust and C, so it must be a
/// plain C identifier.
fn check_symbol(symbol: &str) -> Result<(), Error> {
    let mut chars = symbol.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if valid_start && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Config,
            format!("descriptor symbol `{symbol}` is not a C identifier"),
        ))
    }
}

/// The target ISA with the flags every Rivet object is compiled with: the host's
/// CPU features for `None`, else the triple's baseline plus `features` (rustc
/// names).
pub fn target_isa(target: Option<&str>, features: &[String]) -> Result<OwnedTargetIsa, Error> {
    let builder = match target {
        None => cranelift_native::builder().map_err(|e| {
            Error::new(
                ErrorKind::Unsupported,
                format!("host target not supported: {e}"),
            )
        })?,
        Some(name) => {
            let triple = Triple::from_str(name).map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!("bad target triple `{name}`: {e}"),
                )
            })?;
            let mut builder = isa::lookup(triple).map_err(|e| {
                Error::new(
                    ErrorKind::Unsupported,
                    format!("target `{name}` not supported: {e}"),
                )
            })?;
            enable_features(&mut builder, features);
            builder
        }
    };
    builder
        .finish(settings::Flags::new(shared_flags()?))
        .map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("configuring the code generator: {e}"),
            )
        })
}

/// Turns on the Cranelift flag of each rustc feature name it has one for
/// (`sse4.1` is `has_sse41`, `bmi2` is `has_bmi2`, ...). A feature of another
/// architecture, or one Cranelift does not use, is not an error: rustc lists
/// every feature it enables, most of which no code generator flag stands for.
fn enable_features(builder: &mut isa::Builder, features: &[String]) {
    for feature in features {
        let flag = format!("has_{}", feature.replace('.', ""));
        // Unknown flags are rejected by `enable`; skipping them is the point.
        let _ = builder.enable(&flag);
    }
}

/// Position-independent code (objects go into shared and static libraries),
/// inline stack probes (no runtime helper to link), implicit struct return for
/// any number of results, frame pointers so profilers and debuggers can walk
/// wasm frames, and functions on 32-byte boundaries: the alignment Cranelift
/// prefers for x86-64 and aarch64 (and Wasmtime gives wasm functions), where
/// the minimum (one byte on x86-64) lets hot loops straddle fetch blocks; and
/// the code's block layout, for [`codegen`] to find loop heads.
fn shared_flags() -> Result<settings::Builder, Error> {
    let mut flags = settings::builder();
    let verifier = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    for (name, value) in [
        ("opt_level", "speed"),
        ("is_pic", "true"),
        ("enable_probestack", "true"),
        ("probestack_strategy", "inline"),
        ("enable_multi_ret_implicit_sret", "true"),
        ("preserve_frame_pointers", "true"),
        ("log2_min_function_alignment", "5"),
        ("machine_code_cfg_info", "true"),
        ("enable_verifier", verifier),
    ] {
        flags
            .set(name, value)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("setting {name}={value}: {e}")))?;
    }
    Ok(flags)
}

/// Puts `len` bytes of padding (`int3`s on x86-64, never executed) at the
/// next [`LOOP_ALIGN`] boundary of the code section, so that function `id`,
/// defined next and byte-aligned, starts `len` bytes past it. The padding is
/// a local symbol named after that function.
fn pad(object: &mut ObjectModule, id: FuncId, len: u64) -> Result<(), Error> {
    let name = format!("rivet_pad_{}", id.as_u32());
    let signature = ir::Signature::new(isa::CallConv::SystemV);
    let id = object
        .declare_function(&name, Linkage::Local, &signature)
        .map_err(backend)?;
    object
        .define_function_bytes(id, LOOP_ALIGN, &vec![0xcc; len as usize], &[])
        .map_err(backend)
}

fn backend(e: cranelift_module::ModuleError) -> Error {
    Error::new(ErrorKind::Internal, format!("object backend: {e}"))
}

/// The object under construction.
struct Emitter {
    object: ObjectModule,
    /// [`Options::inline`].
    inline: bool,
    /// How wasm functions are declared: local, or imports until defined when
    /// the C backend may define them.
    linkage: Linkage,
}

impl Emitter {
    /// Decodes one module of the unit and declares its functions.
    fn declare_one<'data>(
        &mut self,
        wasm: &'data [u8],
        prefix: String,
        isa: &OwnedTargetIsa,
        options: &Options,
    ) -> Result<Declared<'data>, Error> {
        let mut decoded = decode::decode(wasm, isa.clone(), options.bounds, options.multi_memory)?;
        let functions = self.declare_functions(&mut decoded.env, &prefix)?;
        Ok(Declared {
            decoded,
            prefix,
            functions,
        })
    }

    /// Finishes one declared module of the unit, whose functions are compiled
    /// (`code`, by defined index): appends its functions, trampolines and data
    /// to `tables`, and returns its descriptor metadata with the shared-table
    /// indices filled in.
    fn compile_one(
        &mut self,
        declared: Declared<'_>,
        code: Vec<FunctionCode>,
        tables: &mut Tables,
    ) -> Result<rivet_descriptor::Module, Error> {
        let Declared {
            decoded:
                Decoded {
                    env,
                    mut module,
                    data,
                },
            prefix,
            functions,
        } = declared;
        let prefix = prefix.as_str();
        module.code = code.into();
        module.defined_function_base = tables.functions.len() as u32;
        tables.functions.extend(functions);

        let plan = Plan::new(&env.types);
        let base = tables.trampolines.len() as u32;
        tables
            .trampolines
            .extend(self.define_trampolines(&env, &plan, prefix)?);
        module.array_trampolines = plan.array_indices(base).into();
        module.host_trampolines = plan.host_indices(base).into();

        let data_base = tables.data.len() as u64;
        for segment in module.data.to_mut() {
            segment.start += data_base;
        }
        tables.data.extend_from_slice(&data);
        Ok(module)
    }

    /// Declares every defined function and records in `env.callee_names` the
    /// `FuncId` each one got, so the translator's direct calls resolve.
    fn declare_functions(
        &mut self,
        env: &mut ModuleEnv,
        prefix: &str,
    ) -> Result<Vec<FuncId>, Error> {
        let mut ids = Vec::new();
        for (index, ty) in env.functions.iter().enumerate() {
            let index = index as u32;
            if env.is_imported_function(index) {
                continue;
            }
            let name = function_symbol(index, env.names.get(&index).map(String::as_str));
            let name = format!("{prefix}{}", &name["rivet_".len()..]);
            let sig = env.wasm_signature(*ty);
            let id = self
                .object
                .declare_function(&name, self.linkage, &sig)
                .map_err(backend)?;
            ids.push(id);
        }
        env.callee_names = ids.iter().map(|id| id.as_u32()).collect();
        Ok(ids)
    }

    /// Translates, inlines into and compiles every defined function of the
    /// unit, callees first, across modules where a call is direct (see
    /// [`crate::inline`]); returns each module's code by defined index.
    fn define_functions(
        &mut self,
        declared: &[Declared<'_>],
        modules: &[UnitModule<'_>],
        in_c: &[Vec<bool>],
    ) -> Result<Vec<Vec<FunctionCode>>, Error> {
        let graph = CallGraph::new(declared, modules)?;
        let mut inlining = graph.inlining();
        // Functions the C object defines: no trap sites to record, and never
        // inlined into Cranelift code.
        let (c_functions, cranelift_functions): (Vec<usize>, Vec<usize>) = inlining
            .order()
            .into_iter()
            .partition(|&f| in_c[graph.owner[f].0][graph.owner[f].1 as usize]);
        let mut placed = Vec::with_capacity(cranelift_functions.len());
        for batch in cranelift_functions.chunks(BATCH) {
            let jobs = self.jobs(declared, modules, &graph, batch, &mut inlining)?;
            placed.extend(self.place_all(codegen::generate(self.object.isa(), jobs))?);
        }
        let mut code: Vec<Vec<Option<FunctionCode>>> = declared
            .iter()
            .map(|d| (0..d.functions.len()).map(|_| None).collect())
            .collect();
        let in_c = c_functions
            .into_iter()
            .map(|f| (f, FunctionCode::default()));
        for (f, function) in cranelift_functions.into_iter().zip(placed).chain(in_c) {
            let (i, defined) = graph.owner[f];
            let env = &declared[i].decoded.env;
            let index = env.imported_functions + defined;
            let name = env.names.get(&index).cloned().map(Into::into);
            code[i][defined as usize] = Some(FunctionCode { name, ..function });
        }
        code.into_iter()
            .map(|module| module.into_iter().collect::<Option<Vec<_>>>())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Internal,
                    "a defined function was left out of the call graph",
                )
            })
    }

    /// The IR of unit functions `functions`, in that order (callees first):
    /// translated in parallel, then inlined into one after the other, since
    /// a caller takes in its callees' inlined bodies.
    fn jobs(
        &mut self,
        declared: &[Declared<'_>],
        modules: &[UnitModule<'_>],
        graph: &CallGraph,
        functions: &[usize],
        inlining: &mut Inlining,
    ) -> Result<Vec<Job>, Error> {
        let translated = translate_all(declared, graph, functions);
        let mut jobs = Vec::with_capacity(functions.len());
        for (&f, func) in functions.iter().zip(translated) {
            let offset = modules[graph.owner[f].0].offset;
            let mut func = func.map_err(|e| shift(e, offset))?;
            if self.inline {
                let mut ctx = Context::for_function(func);
                inlining.inline_into(f, &mut ctx)?;
                func = ctx.func;
            }
            let id = graph.ids[f];
            let symbol = self.symbol(id);
            if self.linkage == Linkage::Import {
                // Defined here, called by name from the C object too.
                self.object
                    .declare_function(&symbol, Linkage::Hidden, &func.signature)
                    .map_err(backend)?;
            }
            jobs.push(Job { id, symbol, func });
        }
        Ok(jobs)
    }

    /// Places compiled functions in the object in their order, stopping at
    /// the first that failed to compile; returns each one's size and trap
    /// sites.
    fn place_all(
        &mut self,
        generated: Vec<Result<Code, Error>>,
    ) -> Result<Vec<FunctionCode>, Error> {
        generated
            .into_iter()
            .map(|code| self.place(code?))
            .collect()
    }

    /// Puts `code` into the object, after the padding its innermost loop
    /// asks for (see [`codegen::LOOP_ALIGN`]).
    fn place(&mut self, code: Code) -> Result<FunctionCode, Error> {
        let alignment = match code.loop_padding {
            Some(0) => LOOP_ALIGN,
            Some(len) => {
                pad(&mut self.object, code.id, len)?;
                1
            }
            None => code.alignment,
        };
        self.object
            .define_function_bytes(code.id, alignment, &code.bytes, &code.relocs)
            .map_err(backend)?;
        Ok(FunctionCode {
            len: code.bytes.len() as u32,
            traps: code.traps.into(),
            name: None,
        })
    }

    /// Compiles the array and host trampoline of every distinct signature, in
    /// trampoline-table order.
    fn define_trampolines(
        &mut self,
        env: &ModuleEnv,
        plan: &Plan,
        prefix: &str,
    ) -> Result<Vec<FuncId>, Error> {
        let isa = &*env.isa;
        let mut builder_ctx = FunctionBuilderContext::new();
        let mut jobs = Vec::with_capacity(2 * plan.signatures.len());
        for (i, ty) in plan.signatures.iter().enumerate() {
            let symbol = format!("{prefix}array_trampoline{i}");
            let id = self.declare_local(&symbol, &trampoline::array_signature(isa))?;
            let func = trampoline::array_trampoline(isa, ty, name_of(id), &mut builder_ctx);
            jobs.push(Job { id, symbol, func });

            let symbol = format!("{prefix}host_trampoline{i}");
            let id = self.declare_local(&symbol, &crate::env::wasm_signature(isa, ty))?;
            let func = trampoline::host_trampoline(isa, ty, name_of(id), &mut builder_ctx);
            jobs.push(Job { id, symbol, func });
        }
        let ids = jobs.iter().map(|job| job.id).collect();
        self.place_all(codegen::generate(isa, jobs))?;
        Ok(ids)
    }

    /// Declares a function local to the object.
    fn declare_local(&mut self, symbol: &str, signature: &ir::Signature) -> Result<FuncId, Error> {
        self.object
            .declare_function(symbol, Linkage::Local, signature)
            .map_err(backend)
    }

    /// The symbol function `id` was declared under.
    fn symbol(&self, id: FuncId) -> String {
        let decl = self.object.declarations().get_function_decl(id);
        decl.linkage_name(id).into_owned()
    }

    /// Translates to C what the C backend handles, under the names the
    /// functions were declared with.
    fn translate_c(&self, declared: &[Declared<'_>], symbol: &str) -> c_backend::Translated {
        let name = |id: u32| self.symbol(FuncId::from_u32(id));
        let modules: Vec<c_backend::Module> = declared
            .iter()
            .map(|d| c_backend::Module {
                env: &d.decoded.env,
                module: &d.decoded.module,
                symbols: c_backend::Symbols {
                    defined: d.functions.iter().map(|id| name(id.as_u32())).collect(),
                    imports: (0..d.decoded.env.imported_functions)
                        .map(|i| d.decoded.env.direct_import(i).map(name))
                        .collect(),
                },
            })
            .collect();
        c_backend::translate_unit(&modules, symbol)
    }

    /// Emits the metadata, the data blob, the function and trampoline tables, and
    /// the exported descriptor pointing at all of them; with C code, the
    /// bounds of its section.
    fn define_descriptor(
        &mut self,
        symbol: &str,
        metadata: &[u8],
        tables: &Tables,
        c_section: Option<String>,
    ) -> Result<(), Error> {
        let (data, functions, trampolines) = (&tables.data, &tables.functions, &tables.trampolines);
        let metadata_id = self.define_bytes("rivet_metadata", metadata, 1)?;
        let data_id = self.define_bytes("rivet_data", data, 16)?;
        let functions_id = self.define_code_table("rivet_functions", functions)?;
        let trampolines_id = self.define_code_table("rivet_trampolines", trampolines)?;

        let little = self.object.isa().endianness() == Endianness::Little;
        let word = |v: u64| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let version = if little {
            FORMAT_VERSION.to_le_bytes()
        } else {
            FORMAT_VERSION.to_be_bytes()
        };
        let mut bytes = vec![0u8; raw_offsets::SIZE as usize];
        bytes[..8].copy_from_slice(&MAGIC);
        bytes[8..12].copy_from_slice(&version);
        for (offset, value) in [
            (raw_offsets::METADATA_LEN, metadata.len()),
            (raw_offsets::FUNCTION_COUNT, functions.len()),
            (raw_offsets::TRAMPOLINE_COUNT, trampolines.len()),
            (raw_offsets::DATA_LEN, data.len()),
        ] {
            let offset = offset as usize;
            bytes[offset..offset + 8].copy_from_slice(&word(value as u64));
        }

        let mut desc = DataDescription::new();
        desc.define(bytes.into_boxed_slice());
        desc.set_align(16);
        for (offset, id) in [
            (raw_offsets::METADATA, metadata_id),
            (raw_offsets::FUNCTIONS, functions_id),
            (raw_offsets::TRAMPOLINES, trampolines_id),
            (raw_offsets::DATA, data_id),
        ] {
            let gv = self.object.declare_data_in_data(id, &mut desc);
            desc.write_data_addr(offset, gv, 0);
        }
        if let Some(section) = c_section {
            for (offset, bound) in [
                (raw_offsets::C_CODE_START, "__start_"),
                (raw_offsets::C_CODE_END, "__stop_"),
            ] {
                let id = self
                    .object
                    .declare_data(&format!("{bound}{section}"), Linkage::Import, false, false)
                    .map_err(backend)?;
                let gv = self.object.declare_data_in_data(id, &mut desc);
                desc.write_data_addr(offset, gv, 0);
            }
        }
        let id = self
            .object
            .declare_data(symbol, Linkage::Export, false, false)
            .map_err(backend)?;
        self.object.define_data(id, &desc).map_err(backend)
    }

    /// A read-only local data object holding `bytes`.
    fn define_bytes(&mut self, name: &str, bytes: &[u8], align: u64) -> Result<DataId, Error> {
        let mut desc = DataDescription::new();
        desc.define(bytes.into());
        desc.set_align(align);
        self.define_local(name, &desc)
    }

    /// A read-only local array of code addresses, one relocation per entry.
    fn define_code_table(&mut self, name: &str, funcs: &[FuncId]) -> Result<DataId, Error> {
        let mut desc = DataDescription::new();
        desc.define(vec![0u8; 8 * funcs.len()].into_boxed_slice());
        desc.set_align(8);
        for (i, id) in funcs.iter().enumerate() {
            let func = self.object.declare_func_in_data(*id, &mut desc);
            desc.write_function_addr(8 * i as u32, func);
        }
        self.define_local(name, &desc)
    }

    fn define_local(&mut self, name: &str, desc: &DataDescription) -> Result<DataId, Error> {
        let id = self
            .object
            .declare_data(name, Linkage::Local, false, false)
            .map_err(backend)?;
        self.object.define_data(id, desc).map_err(backend)?;
        Ok(id)
    }
}

/// How many functions are translated and compiled together: their IR is held
/// at once, so a batch bounds the memory a large module takes (all of
/// `big.wasm`'s IR at once nearly tripled the compiler's peak), while keeping
/// every thread busy.
const BATCH: usize = 256;

/// The unit's functions and their direct calls, numbered in declaration
/// order (their `FuncId`s are consecutive).
struct CallGraph {
    /// The declaration of each unit function.
    ids: Vec<FuncId>,
    /// The module and defined index of each.
    owner: Vec<(usize, u32)>,
    /// The unit functions each one calls directly, one entry per call site.
    calls: Vec<Vec<usize>>,
}

impl CallGraph {
    fn new(declared: &[Declared<'_>], modules: &[UnitModule<'_>]) -> Result<CallGraph, Error> {
        let ids: Vec<FuncId> = declared
            .iter()
            .flat_map(|d| d.functions.iter().copied())
            .collect();
        let first = ids.first().map_or(0, |id| id.as_u32());
        if ids
            .iter()
            .enumerate()
            .any(|(k, id)| id.as_u32() != first + k as u32)
        {
            return Err(Error::new(
                ErrorKind::Internal,
                "the unit's functions were not declared consecutively",
            ));
        }
        let mut owner = Vec::with_capacity(ids.len());
        let mut calls = Vec::with_capacity(ids.len());
        for (i, (d, m)) in declared.iter().zip(modules).enumerate() {
            let names = inline::direct_calls(&d.decoded.env).map_err(|e| shift(e, m.offset))?;
            for (defined, callees) in names.into_iter().enumerate() {
                owner.push((i, defined as u32));
                let callees = callees
                    .into_iter()
                    .filter_map(|name| name.checked_sub(first));
                calls.push(callees.map(|f| f as usize).collect());
            }
        }
        Ok(CallGraph { ids, owner, calls })
    }

    /// The inliner's view of the graph.
    fn inlining(&self) -> Inlining {
        let first = self.ids.first().map_or(0, |id| id.as_u32());
        let module: Vec<usize> = self.owner.iter().map(|&(i, _)| i).collect();
        Inlining::new(first, self.calls.clone(), &module)
    }
}

/// Translates unit functions `functions` to IR, in parallel; the results
/// are in the order of `functions`.
fn translate_all(
    declared: &[Declared<'_>],
    graph: &CallGraph,
    functions: &[usize],
) -> Vec<Result<ir::Function, Error>> {
    functions
        .par_iter()
        .map_init(FunctionBuilderContext::new, |builder_ctx, &f| {
            let (i, defined) = graph.owner[f];
            let env = &declared[i].decoded.env;
            let index = env.imported_functions + defined;
            let sig = env.wasm_signature(env.functions[index as usize]);
            let mut func = ir::Function::with_name_signature(name_of(graph.ids[f]), sig);
            translate::translate_function(env, defined, &mut func, builder_ctx).map(|()| func)
        })
        .collect()
}

/// The IR name of a declared function: cranelift-module's function namespace (0)
/// and the `FuncId`, which is how `ObjectModule` resolves relocations.
fn name_of(id: FuncId) -> UserFuncName {
    UserFuncName::user(0, id.as_u32())
}

/// A unique, valid symbol for wasm function `index`, carrying its name-section
/// name (if any) so profilers and debuggers show it.
pub fn function_symbol(index: u32, name: Option<&str>) -> String {
    let mut symbol = format!("rivet_f{index}");
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        symbol.push('_');
        symbol.extend(name.chars().take(MAX_NAME_CHARS).map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        }));
    }
    symbol
}

/// Longest part of a wasm name copied into a symbol; long mangled names are
/// truncated (the index prefix keeps symbols unique).
const MAX_NAME_CHARS: usize = 120;

#[cfg(test)]
mod tests {
    use super::*;
    use object::{Object, ObjectSymbol};

    #[test]
    fn padded_functions_start_right_after_their_padding() {
        // Functions of several sizes before one with a loop, so its start
        // moves; each padding symbol starts on the boundary and is followed
        // by the function it shifts.
        let adds = "i32.const 1 i32.add ".repeat(11);
        let wat = format!(
            r#"(module
                (func (param i32) (result i32) local.get 0 {adds})
                (func (param i32) (result i32)
                  (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                  local.get 0)
                (func (param i32) (result i32)
                  (loop $l (br_if $l (local.tee 0 (i32.mul (local.get 0) (local.get 0)))))
                  local.get 0))"#
        );
        let object = compile_module(&wat::parse_str(&wat).unwrap(), &Options::default()).unwrap();
        let file = object::File::parse(&*object).unwrap();
        let mut symbols: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| s.kind() == object::SymbolKind::Text)
            .map(|s| (s.address(), s.size(), s.name().unwrap().to_string()))
            .collect();
        symbols.sort();
        let pads: Vec<usize> = (0..symbols.len())
            .filter(|&i| symbols[i].2.starts_with("rivet_pad"))
            .collect();
        assert!(!pads.is_empty(), "{symbols:?}");
        for i in pads {
            let (address, size, _) = &symbols[i];
            assert_eq!(address % LOOP_ALIGN, 0, "{symbols:?}");
            assert!(*size > 0 && *size < LOOP_ALIGN);
            let (next, _, name) = &symbols[i + 1];
            assert_eq!(*next, address + size, "{name} follows its padding");
        }
    }

    #[test]
    fn symbols_are_sanitized_and_indexed() {
        assert_eq!(function_symbol(3, None), "rivet_f3");
        assert_eq!(function_symbol(3, Some("")), "rivet_f3");
        assert_eq!(
            function_symbol(12, Some("a::b<c> é")),
            "rivet_f12_a__b_c___"
        );
        assert_eq!(
            function_symbol(1, Some(&"x".repeat(500))).len(),
            "rivet_f1_".len() + 120
        );
    }

    /// Whether the ISA built for `features` has Cranelift flag `flag` on.
    fn x64_flag(features: &[&str], flag: &str) -> bool {
        let features: Vec<String> = features.iter().map(|f| f.to_string()).collect();
        let isa = target_isa(Some("x86_64-unknown-linux-gnu"), &features).unwrap();
        let value = isa.isa_flags().into_iter().find(|v| v.name == flag);
        value.and_then(|v| v.as_bool()).unwrap()
    }

    #[test]
    fn rustc_target_features_become_cranelift_flags() {
        assert!(!x64_flag(&[], "has_bmi2"));
        assert!(!x64_flag(&[], "has_sse41"));
        // `fxsr` has no Cranelift flag and `neon` is another architecture's.
        let listed = ["fxsr", "sse2", "sse3", "ssse3", "sse4.1", "bmi2", "neon"];
        assert!(x64_flag(&listed, "has_bmi2"));
        assert!(x64_flag(&listed, "has_sse41"));
        assert!(!x64_flag(&listed, "has_avx2"));
    }

    #[test]
    fn descriptor_symbol_must_be_an_identifier() {
        assert!(check_symbol("rivet_unit_2").is_ok());
        assert!(check_symbol("_x").is_ok());
        for bad in ["", "2x", "a-b", "a b", "é"] {
            assert!(check_symbol(bad).is_err(), "{bad:?}");
        }
    }
}
