//! The fused adapter compiler: for a `canon lower` of a function that a `canon lift`
//! inside the same plan provides, generates a core wasm function (in an
//! [`AdapterGroup`]'s module, which several adapters may share) that
//! has the caller's lowered core signature, lifts the arguments out of the
//! caller's memory, lowers them into the callee's, calls the callee, and carries
//! the results back, exactly as the Canonical ABI says.
//!
//! [`layout`] gives sizes and flattenings, [`copy`] moves values, [`strings`]
//! transcodes, [`module`] assembles and validates; this file orders the whole
//! call: reentrance flags, arguments, the call, results, post-return.

mod copy;
mod layout;
mod module;
mod strings;

use crate::{Error, ErrorKind};
use copy::Loc;
use layout::Ty;
use module::{Body, ModuleBuilder};
use rivet_descriptor::abi::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use rivet_descriptor::component::{
    AbiTrap, CanonOptions, Component, CoreDef, Intrinsic, StringEncoding,
};
use wasm_encoder::ValType;

/// Instance flag bits (see `Intrinsic::InstanceFlags`).
const MAY_LEAVE: i32 = 1;
const MAY_ENTER: i32 = 2;
const POISONED: i32 = 4;
/// The export name of a module's `i`-th adapter is this prefix and `i`.
const EXPORT: &str = "adapter";

/// One adapter to generate.
pub struct AdapterRequest<'a> {
    /// The plan so far: its `types`, `func_types` and `resources` give meaning to
    /// the indices below.
    pub plan: &'a Component,
    /// The component function type (index into `plan.func_types`).
    pub ty: u32,
    /// The caller's `canon lower` options.
    pub lower: &'a CanonOptions,
    /// The component instance that calls.
    pub lower_instance: u32,
    /// The callee's `canon lift` options.
    pub lift: &'a CanonOptions,
    /// The component instance whose function is called.
    pub lift_instance: u32,
    /// The lifted core function.
    pub callee: &'a CoreDef,
}

/// A generated adapter module.
pub struct AdapterModule {
    /// The module, in the binary format (valid with multi-memory).
    pub wasm: Vec<u8>,
    /// What to wire each of the module's imports to, in import order.
    pub imports: Vec<CoreDef>,
    /// Name of the export that is the adapter function.
    pub export: String,
}

/// Generates the adapter for `request` alone in its module.
pub fn adapter_module(request: &AdapterRequest<'_>) -> Result<AdapterModule, Error> {
    let mut group = AdapterGroup::default();
    let export = group.add(request)?;
    let (wasm, imports) = group.finish()?;
    Ok(AdapterModule {
        wasm,
        imports,
        export,
    })
}

/// Adapters sharing one core module, and so one instantiation: every item
/// they import must exist before that instantiation, which is the caller's
/// business (the flatten stage groups adapters by that rule).
#[derive(Default)]
pub struct AdapterGroup {
    module: ModuleBuilder,
}

impl AdapterGroup {
    /// Generates the adapter for `request` into the module and returns the
    /// name it is exported under. On error the group is left unchanged.
    pub fn add(&mut self, request: &AdapterRequest<'_>) -> Result<String, Error> {
        let plan = request.plan;
        let ft = plan.func_types.get(request.ty as usize).ok_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                format!("unknown component function type {}", request.ty),
            )
        })?;
        let params = Ty::Record(
            ft.params
                .iter()
                .map(|(_, t)| Ty::resolve(plan, *t))
                .collect::<Result<_, _>>()?,
        );
        let result = ft.result.map(|t| Ty::resolve(plan, t)).transpose()?;
        let sig = Signature::new(&params, result.as_ref());
        let export = format!("{EXPORT}{}", self.module.function_count());
        let module = self.module.clone();
        self.module = Fuser::generate(module, request, &params, result.as_ref(), &sig, &export)?;
        Ok(export)
    }

    /// The module, in the binary format (valid with multi-memory), and what to
    /// wire each of its imports to, in import order.
    pub fn finish(self) -> Result<(Vec<u8>, Vec<CoreDef>), Error> {
        self.module.finish()
    }
}

/// The core signatures on both sides of the adapter.
struct Signature {
    flat_params: Vec<ValType>,
    flat_results: Vec<ValType>,
    params_spilled: bool,
    results_spilled: bool,
}

impl Signature {
    fn new(params: &Ty, result: Option<&Ty>) -> Signature {
        let flat_params = params.flatten();
        let flat_results = result.map(Ty::flatten).unwrap_or_default();
        Signature {
            params_spilled: flat_params.len() > MAX_FLAT_PARAMS,
            results_spilled: flat_results.len() > MAX_FLAT_RESULTS,
            flat_params,
            flat_results,
        }
    }

    fn params(&self) -> Vec<ValType> {
        if self.params_spilled {
            vec![ValType::I32]
        } else {
            self.flat_params.clone()
        }
    }

    /// The caller's (`canon lower`) core signature.
    fn lowered(&self) -> (Vec<ValType>, Vec<ValType>) {
        let mut params = self.params();
        if self.results_spilled {
            params.push(ValType::I32);
            (params, Vec::new())
        } else {
            (params, self.flat_results.clone())
        }
    }

    /// The callee's (`canon lift`) core signature.
    fn lifted(&self) -> (Vec<ValType>, Vec<ValType>) {
        if self.results_spilled {
            (self.params(), vec![ValType::I32])
        } else {
            (self.params(), self.flat_results.clone())
        }
    }
}

/// One side of the call, as the adapter's imports see it.
#[derive(Clone, Copy)]
struct Side {
    memory: Option<u32>,
    realloc: Option<u32>,
    encoding: StringEncoding,
    instance: u32,
    /// Global index of the instance's flags.
    flags: u32,
}

/// The generator's state: the module's imports, the body, and which side
/// values currently move from and to.
struct Fuser {
    module: ModuleBuilder,
    body: Body,
    from: Side,
    to: Side,
    trap: Option<u32>,
    /// Locals holding the caller's flat results, returned at the end.
    results_out: Vec<u32>,
}

impl Fuser {
    /// Adds the adapter for `request` to `module` as function `export`.
    fn generate(
        mut module: ModuleBuilder,
        request: &AdapterRequest<'_>,
        params: &Ty,
        result: Option<&Ty>,
        sig: &Signature,
        export: &str,
    ) -> Result<ModuleBuilder, Error> {
        let lifted = sig.lifted();
        let callee = module.import_func(request.callee, &lifted.0, &lifted.1);
        let result_needs_memory = result.is_some_and(Ty::needs_realloc);
        let uses_memory = |spilled| spilled || params.needs_realloc() || result_needs_memory;
        let spilled = sig.params_spilled || sig.results_spilled;
        let caller_memory = memory(&mut module, request.lower, uses_memory(spilled), "lower")?;
        let callee_memory = memory(&mut module, request.lift, uses_memory(spilled), "lift")?;
        let callee_realloc = realloc(
            &mut module,
            request.lift,
            params.needs_realloc() || sig.params_spilled,
            "lift",
        )?;
        let caller_realloc = realloc(&mut module, request.lower, result_needs_memory, "lower")?;
        let post_return = request
            .lift
            .post_return
            .as_ref()
            .map(|def| module.import_func(def, &lifted.1, &[]));
        let flags = |m: &mut ModuleBuilder, c| {
            m.import_global(&CoreDef::Intrinsic(Intrinsic::InstanceFlags(c)))
        };
        let caller = Side {
            memory: caller_memory,
            realloc: caller_realloc,
            encoding: request.lower.string_encoding,
            instance: request.lower_instance,
            flags: flags(&mut module, request.lower_instance),
        };
        let callee_side = Side {
            memory: callee_memory,
            realloc: callee_realloc,
            encoding: request.lift.string_encoding,
            instance: request.lift_instance,
            flags: flags(&mut module, request.lift_instance),
        };
        let entering = entering_set(request)?
            .into_iter()
            .map(|c| flags(&mut module, c))
            .collect::<Vec<_>>();
        let lowered = sig.lowered();
        let mut fuser = Fuser {
            module,
            body: Body::new(&lowered.0),
            from: caller,
            to: callee_side,
            trap: None,
            results_out: Vec::new(),
        };
        fuser.enter(&entering);
        let borrows = params.has_borrow();
        if borrows {
            fuser.call_intrinsic(Intrinsic::EnterCall(request.lift_instance));
        }
        let callee_results = fuser.call(params, sig, callee);
        if let Some(result) = result {
            fuser.results(result, sig, &callee_results);
        }
        if borrows {
            fuser.call_intrinsic(Intrinsic::ExitCall(request.lift_instance));
        }
        if let Some(post_return) = post_return {
            fuser.post_return(post_return, &callee_results);
        }
        fuser.leave(&entering);
        for local in std::mem::take(&mut fuser.results_out) {
            fuser.body.ins().local_get(local);
        }
        let mut module = fuser.module;
        module.add_function((&lowered.0, &lowered.1), fuser.body, export);
        Ok(module)
    }

    /// Index of the `Trap` intrinsic, imported on first use.
    fn trap_func(&mut self) -> u32 {
        *self.trap.get_or_insert_with(|| {
            self.module
                .import_func(&CoreDef::Intrinsic(Intrinsic::Trap), &[ValType::I32], &[])
        })
    }

    fn call_intrinsic(&mut self, intrinsic: Intrinsic) {
        let f = self
            .module
            .import_func(&CoreDef::Intrinsic(intrinsic), &[], &[]);
        self.body.ins().call(f);
    }

    /// Memory index of the side values move from (present whenever a
    /// location in memory is used: the imports are chosen by the same rule).
    fn source_memory(&self) -> u32 {
        self.from.memory.unwrap_or_default()
    }

    fn target_memory(&self) -> u32 {
        self.to.memory.unwrap_or_default()
    }

    /// Reentrance checks, then marks the entered instances.
    fn enter(&mut self, entering: &[u32]) {
        self.body
            .ins()
            .global_get(self.from.flags)
            .i32_const(MAY_LEAVE)
            .i32_and()
            .i32_eqz();
        self.trap_if(AbiTrap::CannotLeave);
        for &g in entering {
            self.body
                .ins()
                .global_get(g)
                .i32_const(MAY_ENTER | POISONED)
                .i32_and()
                .i32_const(MAY_ENTER)
                .i32_ne();
            self.trap_if(AbiTrap::CannotEnter);
        }
        for &g in entering {
            self.set_flag(g, MAY_ENTER, false);
        }
    }

    fn leave(&mut self, entering: &[u32]) {
        for &g in entering {
            self.set_flag(g, MAY_ENTER, true);
        }
    }

    fn set_flag(&mut self, global: u32, bit: i32, on: bool) {
        let mut ins = self.body.ins();
        ins.global_get(global);
        if on {
            ins.i32_const(bit).i32_or();
        } else {
            ins.i32_const(!bit).i32_and();
        }
        ins.global_set(global);
    }

    /// Moves the arguments into the callee (whose `may_leave` is clear while
    /// its `realloc` runs), calls it, and returns locals with its core results.
    fn call(&mut self, params: &Ty, sig: &Signature, callee: u32) -> Vec<u32> {
        let src = if sig.params_spilled {
            self.check_value_range(self.source_memory(), 0, params);
            Loc::Mem {
                memory: self.source_memory(),
                addr: 0,
                offset: 0,
            }
        } else {
            Loc::Flat(
                sig.flat_params
                    .iter()
                    .copied()
                    .zip(0..)
                    .map(|(t, i)| (i, t))
                    .collect(),
            )
        };
        let callee_flags = self.to.flags;
        self.set_flag(callee_flags, MAY_LEAVE, false);
        let args = if sig.params_spilled {
            let size = self.body.local(ValType::I32);
            self.body
                .ins()
                .i32_const(params.size() as i32)
                .local_set(size);
            let ptr = self.allocate(params.align(), size, AbiTrap::ListOutOfBounds);
            let dst = Loc::Mem {
                memory: self.target_memory(),
                addr: ptr,
                offset: 0,
            };
            self.translate(params, &src, &dst);
            vec![ptr]
        } else {
            let slots = self.flat_locals(&sig.flat_params);
            self.translate(params, &src, &Loc::Flat(slots.clone()));
            slots.into_iter().map(|(l, _)| l).collect()
        };
        self.set_flag(callee_flags, MAY_LEAVE, true);
        for arg in args {
            self.body.ins().local_get(arg);
        }
        self.body.ins().call(callee);
        let results = self.flat_locals(&sig.lifted().1);
        for &(local, _) in results.iter().rev() {
            self.body.ins().local_set(local);
        }
        results.into_iter().map(|(l, _)| l).collect()
    }

    /// Moves the callee's result back to the caller (whose `may_leave` is
    /// clear while its `realloc` runs) and leaves the caller's flat result,
    /// if any, on the stack at the end of the body.
    fn results(&mut self, result: &Ty, sig: &Signature, callee_results: &[u32]) {
        std::mem::swap(&mut self.from, &mut self.to);
        let src = if sig.results_spilled {
            let ptr = callee_results[0];
            self.check_value_range(self.source_memory(), ptr, result);
            Loc::Mem {
                memory: self.source_memory(),
                addr: ptr,
                offset: 0,
            }
        } else {
            Loc::Flat(
                callee_results
                    .iter()
                    .copied()
                    .zip(sig.flat_results.iter().copied())
                    .collect(),
            )
        };
        let caller_flags = self.to.flags;
        self.set_flag(caller_flags, MAY_LEAVE, false);
        if sig.results_spilled {
            let retptr = sig.params().len() as u32;
            self.check_value_range(self.target_memory(), retptr, result);
            let dst = Loc::Mem {
                memory: self.target_memory(),
                addr: retptr,
                offset: 0,
            };
            self.translate(result, &src, &dst);
            self.set_flag(caller_flags, MAY_LEAVE, true);
        } else {
            let slots = self.flat_locals(&sig.flat_results);
            self.translate(result, &src, &Loc::Flat(slots.clone()));
            self.set_flag(caller_flags, MAY_LEAVE, true);
            self.results_out = slots.into_iter().map(|(l, _)| l).collect();
        }
        std::mem::swap(&mut self.from, &mut self.to);
    }

    fn post_return(&mut self, func: u32, callee_results: &[u32]) {
        let callee_flags = self.to.flags;
        self.set_flag(callee_flags, MAY_LEAVE, false);
        for &r in callee_results {
            self.body.ins().local_get(r);
        }
        self.body.ins().call(func);
        self.set_flag(callee_flags, MAY_LEAVE, true);
    }

    fn flat_locals(&mut self, types: &[ValType]) -> Vec<(u32, ValType)> {
        types.iter().map(|&t| (self.body.local(t), t)).collect()
    }
}

/// The definition behind canonical option `option` of a `canon {which}`, which
/// the adapter needs.
fn required<'a>(def: Option<&'a CoreDef>, option: &str, which: &str) -> Result<&'a CoreDef, Error> {
    def.ok_or_else(|| {
        Error::new(
            ErrorKind::Invalid,
            format!("canonical option `{option}` is required on this `canon {which}`"),
        )
    })
}

/// Imports the memory of `options` if the adapter uses it.
fn memory(
    module: &mut ModuleBuilder,
    options: &CanonOptions,
    used: bool,
    which: &str,
) -> Result<Option<u32>, Error> {
    if !used {
        return Ok(None);
    }
    let def = required(options.memory.as_ref(), "memory", which)?;
    Ok(Some(module.import_memory(def)))
}

/// Imports the `realloc` of `options` if the adapter uses it.
fn realloc(
    module: &mut ModuleBuilder,
    options: &CanonOptions,
    used: bool,
    which: &str,
) -> Result<Option<u32>, Error> {
    if !used {
        return Ok(None);
    }
    let def = required(options.realloc.as_ref(), "realloc", which)?;
    let i32s = [ValType::I32; 4];
    Ok(Some(module.import_func(def, &i32s, &[ValType::I32])))
}

/// The component instances a call from the caller enters: the callee and its
/// ancestors that are not also the caller's.
fn entering_set(request: &AdapterRequest<'_>) -> Result<Vec<u32>, Error> {
    let caller = self_and_ancestors(request.plan, request.lower_instance)?;
    Ok(self_and_ancestors(request.plan, request.lift_instance)?
        .into_iter()
        .filter(|c| !caller.contains(c))
        .collect())
}

fn self_and_ancestors(plan: &Component, instance: u32) -> Result<Vec<u32>, Error> {
    let mut chain = vec![instance];
    let mut current = instance;
    loop {
        let Some(info) = plan.instances.get(current as usize) else {
            // A plan without instance records (e.g. a test) is flat.
            if plan.instances.is_empty() {
                return Ok(chain);
            }
            return Err(Error::new(
                ErrorKind::Internal,
                format!("unknown component instance {current}"),
            ));
        };
        match info.parent {
            Some(parent) if !chain.contains(&parent) => {
                chain.push(parent);
                current = parent;
            }
            Some(parent) => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!("component instance {parent} is its own ancestor"),
                ))
            }
            None => return Ok(chain),
        }
    }
}
