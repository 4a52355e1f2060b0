//! Inlining: a direct call from one of a unit's functions to another (within a
//! module, or across modules where the component plan wires an import to one
//! function at build time, as between a fused adapter and the components it
//! joins) is replaced by the callee's body before code generation, where that
//! pays.
//!
//! LLVM inlined what it chose within each crate, but a module is linked from many
//! crates without cross-crate optimisation (`core::fmt::write` and the allocator
//! are called, not inlined, from every crate that uses them), and a JIT such as
//! Wasmtime compiles each function alone by default. Rivet compiles the whole
//! module at build time, so it can take those calls in: the call, the callee's
//! prologue (stack check, saved registers) and the argument moves go away, and the
//! callee's code is optimised with the caller's constants and values.
//!
//! Across modules this is sound because an inlined body reaches its instance
//! only through its `vmctx` parameter, which becomes the value the call passed
//! (the callee instance's context); the one global value the translator
//! declares, the stack limit, is read in prologues only, which inlining drops.
//!
//! Functions are handled callees first, so a caller takes in bodies that already
//! have their own callees inlined. Cranelift does the splicing
//! ([`cranelift_codegen::Context::inline`]); this module decides what to splice.

use crate::env::ModuleEnv;
use crate::{Error, ErrorKind};
use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName, Opcode};
use cranelift_codegen::print_errors::pretty_error;
use cranelift_codegen::Context;
use std::borrow::Cow;
use wasmparser::Operator;

/// Callees of at most this many IR instructions are inlined wherever they are
/// called: wrappers and accessors, smaller than the call they replace.
const SMALL: usize = 12;
/// Callees called from two places or more are inlined up to this many
/// instructions...
const MEDIUM: usize = 100;
/// ...while the caller grows by at most this many, so that no function grows
/// without bound. Larger limits inlined `core::fmt::write` and the allocator
/// into every caller: `big.wasm` compiled 54% slower into a 30% larger object
/// for no measured gain.
const CALLER_BUDGET: usize = 1000;

/// Which unit function each direct call of each defined function of `env`
/// calls (one entry per call site, by the callee's declared name): its own
/// functions, and the functions of other modules its imports are wired to at
/// build time. Read from the bodies, so that the order of compilation is known
/// before anything is translated.
pub fn direct_calls(env: &ModuleEnv) -> Result<Vec<Vec<u32>>, Error> {
    let mut calls = Vec::with_capacity(env.bodies.len());
    for body in &env.bodies {
        let mut sites = Vec::new();
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            if let Operator::Call { function_index } = reader.read()? {
                let callee = match function_index.checked_sub(env.imported_functions) {
                    Some(defined) => env.callee_names.get(defined as usize).copied(),
                    None => env.direct_import(function_index),
                };
                sites.extend(callee);
            }
        }
        calls.push(sites);
    }
    Ok(calls)
}

/// A unit's functions on their way to code generation, taken one at a time in
/// [`Inlining::order`]: each is inlined into as it is compiled, and kept
/// (inlined itself) while later callers may take it in.
pub struct Inlining {
    /// The name index (`FuncId`) of unit function 0; the unit's functions
    /// have consecutive ones.
    first: u32,
    /// The distinct unit functions each one calls directly.
    callees: Vec<Vec<usize>>,
    /// How many direct calls each function receives, over the unit.
    sites: Vec<u32>,
    /// Whether each function is called directly from another module (a fused
    /// adapter calling into a component, or a component into its adapter).
    called_across: Vec<bool>,
    /// The inlinable functions compiled so far, with their own calls inlined.
    kept: Vec<Option<ir::Function>>,
}

impl Inlining {
    /// For unit functions named `first..` (the `FuncId`s they were declared
    /// with) whose direct calls are `calls`, by unit function index (see
    /// [`direct_calls`] for the names).
    /// `module[f]` is the unit module function `f` belongs to.
    pub fn new(first: u32, calls: Vec<Vec<usize>>, module: &[usize]) -> Inlining {
        let n = calls.len();
        let mut sites = vec![0u32; n];
        let mut called_across = vec![false; n];
        let mut callees = calls;
        for (caller, list) in callees.iter_mut().enumerate() {
            list.retain(|&callee| callee < n);
            for &callee in list.iter() {
                sites[callee] += 1;
                called_across[callee] |= module[callee] != module[caller];
            }
            list.sort_unstable();
            list.dedup();
        }
        Inlining {
            first,
            callees,
            sites,
            called_across,
            kept: (0..n).map(|_| None).collect(),
        }
    }

    /// Every function once, each after the functions it calls (a call that
    /// closes a cycle excepted), so that callers take in their callees'
    /// inlined bodies.
    pub fn order(&self) -> Vec<usize> {
        let n = self.callees.len();
        let mut order = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        // Depth-first, iteratively: (function, next callee to visit).
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for root in 0..n {
            if seen[root] {
                continue;
            }
            seen[root] = true;
            stack.push((root, 0));
            while let Some((f, next)) = stack.last_mut() {
                let f = *f;
                match self.callees[f].get(*next) {
                    Some(&callee) => {
                        *next += 1;
                        if !seen[callee] {
                            seen[callee] = true;
                            stack.push((callee, 0));
                        }
                    }
                    None => {
                        order.push(f);
                        stack.pop();
                    }
                }
            }
        }
        order
    }

    /// Inlines into `ctx.func`, unit function `f` as translated, the
    /// callees worth it, and keeps the result if `f` may be inlined in turn:
    /// it can return (a callee that only traps or panics is a cold path), and
    /// it is small, or called from two places or more (LLVM keeps a function
    /// with one caller out of line only when told to, by `#[cold]` or
    /// `#[inline(never)]`), or called from another module (which LLVM never
    /// saw: the call is the component model's, not the guest's).
    pub fn inline_into(&mut self, f: usize, ctx: &mut Context) -> Result<(), Error> {
        let size = ctx.func.dfg.num_insts();
        let shared = self.sites[f] >= 2 || self.called_across[f];
        let inlinable = returns(&ctx.func) && (size <= SMALL || (shared && size <= MEDIUM));
        let inliner = Inliner {
            first: self.first,
            kept: &self.kept,
            caller: f,
            limit: size + CALLER_BUDGET,
        };
        if let Err(e) = ctx.inline(inliner) {
            let detail = pretty_error(&ctx.func, e);
            return Err(Error::new(
                ErrorKind::Internal,
                format!("inlining into function {f}: {detail}"),
            ));
        }
        if inlinable {
            self.kept[f] = Some(ctx.func.clone());
        }
        Ok(())
    }
}

/// Whether `func` has a `return`.
fn returns(func: &ir::Function) -> bool {
    func.layout.blocks().any(|block| {
        func.layout
            .last_inst(block)
            .is_some_and(|inst| func.dfg.insts[inst].opcode() == Opcode::Return)
    })
}

/// The unit function (by index) that `callee` names in `func`, if it is one of
/// the unit's `n` functions.
fn defined(func: &ir::Function, callee: ir::FuncRef, first: u32, n: usize) -> Option<usize> {
    let ExternalName::User(name) = func.dfg.ext_funcs[callee].name else {
        return None;
    };
    let name = &func.params.user_named_funcs()[name];
    let index = name.index.checked_sub(first)? as usize;
    (name.namespace == 0 && index < n).then_some(index)
}

/// Directs Cranelift's inliner for one caller.
struct Inliner<'a> {
    first: u32,
    kept: &'a [Option<ir::Function>],
    caller: usize,
    /// The size the caller may grow to: its own plus [`CALLER_BUDGET`].
    limit: usize,
}

impl Inline for Inliner<'_> {
    fn inline(
        &mut self,
        caller: &ir::Function,
        _call: ir::Inst,
        _opcode: ir::Opcode,
        callee: ir::FuncRef,
        _args: &[ir::Value],
    ) -> InlineCommand<'_> {
        let found = defined(caller, callee, self.first, self.kept.len())
            .filter(|&f| f != self.caller)
            .and_then(|f| self.kept[f].as_ref());
        let Some(body) = found else {
            return InlineCommand::KeepCall;
        };
        let size = body.dfg.num_insts();
        if size > SMALL && (size > MEDIUM || caller.dfg.num_insts() + size > self.limit) {
            return InlineCommand::KeepCall;
        }
        InlineCommand::Inline {
            callee: Cow::Borrowed(body),
            // Its own calls were decided when it was compiled.
            visit_callee: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{types::I32, AbiParam, InstBuilder, Signature, UserFuncName};
    use cranelift_codegen::isa::CallConv;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// Names start here, as a unit's second module's would.
    const FIRST: u32 = 10;

    /// Defined function `index`: `(i32) -> i32`, `work` additions (as many IR
    /// instructions), then a call
    /// to each of `callees` (defined indices), then a return (or, for a
    /// function that never returns, a trap).
    fn function(index: u32, work: usize, callees: &[u32], returns: bool) -> ir::Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(I32));
        sig.returns.push(AbiParam::new(I32));
        let name = UserFuncName::user(0, FIRST + index);
        let mut func = ir::Function::with_name_signature(name, sig.clone());
        let mut ctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut ctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let mut v = b.block_params(block)[0];
        for _ in 0..work {
            v = b.ins().iadd(v, v);
        }
        for &callee in callees {
            let name = ir::UserExternalName::new(0, FIRST + callee);
            let name = b.func.declare_imported_user_function(name);
            let signature = b.import_signature(sig.clone());
            let callee = b.import_function(ir::ExtFuncData {
                name: ExternalName::user(name),
                signature,
                colocated: true,
                patchable: false,
            });
            let call = b.ins().call(callee, &[v]);
            v = b.inst_results(call)[0];
        }
        if returns {
            b.ins().return_(&[v]);
        } else {
            b.ins().trap(ir::TrapCode::unwrap_user(1));
        }
        b.seal_all_blocks();
        let isa = crate::emit::target_isa(None, &[]).unwrap();
        b.finalize(isa.frontend_config());
        func
    }

    /// A function as [`function`] builds it: (work, callees, returns).
    type Spec = (usize, &'static [u32], bool);

    /// Compiles `specs` as [`Emitter::define_functions`](crate::emit) does, up
    /// to the inlining: every function in order, inlined into; the calls left
    /// in each, by defined index.
    fn calls_left(specs: &[Spec]) -> Vec<usize> {
        calls_left_in(specs, &vec![0; specs.len()])
    }

    /// [`calls_left`] with function `f` in unit module `module[f]`.
    fn calls_left_in(specs: &[Spec], module: &[usize]) -> Vec<usize> {
        let calls = specs
            .iter()
            .map(|(_, callees, _)| callees.iter().map(|&c| c as usize).collect())
            .collect();
        let mut inlining = Inlining::new(FIRST, calls, module);
        let mut left = vec![0; specs.len()];
        for f in inlining.order() {
            let (work, callees, returns) = specs[f];
            let mut ctx = Context::new();
            ctx.func = function(f as u32, work, callees, returns);
            inlining.inline_into(f, &mut ctx).unwrap();
            let func = &ctx.func;
            left[f] = func
                .layout
                .blocks()
                .flat_map(|b| func.layout.block_insts(b))
                .filter(|i| func.dfg.insts[*i].opcode() == Opcode::Call)
                .count();
        }
        left
    }

    #[test]
    fn small_callees_are_inlined_callees_first() {
        // f0 -> f1 -> f2, all small: f1 takes in f2, then f0 takes in f1 whole.
        let left = calls_left(&[(1, &[1], true), (2, &[2], true), (3, &[], true)]);
        assert_eq!(left, [0, 0, 0]);
    }

    #[test]
    fn shared_callees_are_inlined_within_the_budget() {
        // f2 (about 50 instructions) is called by f0 and f1: inlined into
        // both. f3 (about 900) is too big to take in. It calls f4 (about 60)
        // twenty times and takes in calls until it has grown by the caller
        // budget, not all twenty.
        const F4_TWENTY_TIMES: &[u32] = &[4; 20];
        let left = calls_left(&[
            (1, &[2, 3], true),
            (1, &[2, 3], true),
            (50, &[], true),
            (900, F4_TWENTY_TIMES, true),
            (60, &[], true),
        ]);
        assert_eq!(left[..3], [1, 1, 0]);
        let inlined = 20 - left[3];
        assert!(
            (10..20).contains(&inlined),
            "{inlined} of the 20 calls inlined"
        );
    }

    #[test]
    fn cold_looking_callees_stay_calls() {
        // f1 (30 instructions) has one caller, which LLVM would have inlined
        // unless told not to; f2 never returns (a panic path).
        let left = calls_left(&[(1, &[1, 2], true), (30, &[], true), (1, &[], false)]);
        assert_eq!(left, [2, 0, 0]);
    }

    #[test]
    fn lone_callees_in_another_module_are_inlined() {
        // As above, but f1 is in another module (a component an adapter
        // calls): its one call site says nothing of how hot it is.
        let left = calls_left_in(
            &[(1, &[1, 2], true), (30, &[], true), (1, &[], false)],
            &[0, 1, 0],
        );
        assert_eq!(left, [1, 0, 0]);
    }

    #[test]
    fn cycles_and_recursion_terminate() {
        // f0 -> f1 -> f0 and f2 -> f2: every function is taken once, callee
        // before caller where no cycle forbids.
        let inlining = Inlining::new(FIRST, vec![vec![1], vec![0], vec![2]], &[0; 3]);
        let mut order = inlining.order();
        assert_eq!(order, [1, 0, 2]);
        order.sort_unstable();
        assert_eq!(order, [0, 1, 2]);
        // f1 comes first and keeps its call to f0, not compiled yet; f0 takes
        // in f1 and so calls itself; f2 keeps its call to itself.
        let left = calls_left(&[(1, &[1], true), (1, &[0], true), (1, &[2], true)]);
        assert_eq!(left, [1, 1, 1]);
    }
}
