//! Code generation: Cranelift turns each function's IR into machine code,
//! independently of every other function, on all threads of the current
//! [`rayon`] pool.
//!
//! This is where a build spends most of its time (register allocation, the
//! e-graph optimiser and instruction selection: about 85% of compiling
//! `guests/big.wasm`), so it is what runs in parallel. Results come back in
//! the order of the input, and the emitter places them in the object in that
//! order, so the object's bytes do not depend on how many threads compiled
//! it or which thread compiled what.

use crate::env::trap_kind;
use crate::{Error, ErrorKind};
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir;
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::print_errors::pretty_error;
use cranelift_codegen::{CompiledCode, Context};
use cranelift_module::{FuncId, ModuleReloc};
use rayon::prelude::*;
use rivet_descriptor::TrapKind;

/// A function ready for code generation.
pub struct Job {
    /// What the function is declared as in the object.
    pub id: FuncId,
    /// Its symbol, for error messages.
    pub symbol: String,
    pub func: ir::Function,
}

/// One function's machine code, ready to be placed in the object.
pub struct Code {
    pub id: FuncId,
    pub bytes: Vec<u8>,
    /// Relative to the function's start.
    pub relocs: Vec<ModuleReloc>,
    /// The alignment the code asks for.
    pub alignment: u64,
    /// See [`loop_padding`].
    pub loop_padding: Option<u64>,
    /// Offsets of the instructions that may trap, sorted.
    pub traps: Vec<(u32, TrapKind)>,
}

/// Compiles every job for `isa`, as many at once as the current rayon pool
/// has threads; the results are in the order of `jobs`.
pub fn generate(isa: &dyn TargetIsa, jobs: Vec<Job>) -> Vec<Result<Code, Error>> {
    jobs.into_par_iter()
        .map_init(Context::new, |ctx, job| generate_one(isa, ctx, job))
        .collect()
}

/// Compiles one job in `ctx` (reused between the jobs of one thread).
fn generate_one(isa: &dyn TargetIsa, ctx: &mut Context, job: Job) -> Result<Code, Error> {
    let Job { id, symbol, func } = job;
    // Every failure here is Cranelift's or the translator's, not the input's.
    let fail =
        |detail: String| Error::new(ErrorKind::Internal, format!("compiling {symbol}: {detail}"));
    ctx.clear();
    ctx.func = func;
    if let Err(e) = ctx.compile(isa, &mut ControlPlane::default()) {
        // The inner error owns nothing of `ctx`; the outer one borrows it.
        let e = e.inner;
        return Err(fail(pretty_error(&ctx.func, e)));
    }
    let Some(compiled) = ctx.compiled_code() else {
        return Err(fail("no code produced".to_string()));
    };
    let buffer = &compiled.buffer;
    let mut traps = Vec::with_capacity(buffer.traps().len());
    for trap in buffer.traps() {
        let Some(kind) = trap_kind(trap.code) else {
            return Err(fail(format!(
                "unknown trap code {} at {:#x}",
                trap.code, trap.offset
            )));
        };
        traps.push((trap.offset, kind));
    }
    traps.sort_by_key(|(offset, _)| *offset);
    Ok(Code {
        id,
        bytes: buffer.data().to_vec(),
        relocs: buffer
            .relocs()
            .iter()
            .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
            .collect(),
        alignment: u64::from(buffer.alignment),
        loop_padding: loop_padding(compiled),
        traps,
    })
}

/// The boundary a function's innermost loop starts on. Cranelift aligns
/// functions, not loop heads, so where a hot loop falls within its cache line
/// changes with the code before it: SHA-256's round loop ran 7.88–7.90 ms or
/// 7.68–7.74 ms by that alone. On 32 bytes it ran 7.68–7.71 ms in every build
/// measured, on 16 bytes 7.71–7.81 ms, on 64 bytes 7.72–8.00 ms.
pub const LOOP_ALIGN: u64 = 32;

/// How many bytes to put before a function so that its innermost loop (the
/// back edge spanning the fewest bytes: its head is the block the edge jumps
/// back to) starts on a [`LOOP_ALIGN`] boundary; `None` for a function
/// without loops.
fn loop_padding(code: &CompiledCode) -> Option<u64> {
    let (_, edges) = code.get_code_bb_layout();
    let (_, head) = edges
        .into_iter()
        .filter(|(from, to)| to <= from)
        .min_by_key(|(from, to)| from - to)?;
    let align = LOOP_ALIGN as usize;
    Some(((align - head % align) % align) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::target_isa;
    use cranelift_codegen::ir::{types::I32, AbiParam, InstBuilder, UserFuncName};
    use cranelift_codegen::isa::CallConv;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// `(i32) -> i32` named `index`: a countdown loop, or straight-line code.
    fn function(index: u32, with_loop: bool) -> ir::Function {
        let isa = target_isa(None, &[]).unwrap();
        let mut sig = ir::Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(I32));
        sig.returns.push(AbiParam::new(I32));
        let mut func = ir::Function::with_name_signature(UserFuncName::user(0, index), sig);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let n = b.block_params(entry)[0];
        let n = b.ins().imul(n, n);
        if with_loop {
            let head = b.create_block();
            let exit = b.create_block();
            b.append_block_param(head, I32);
            b.ins().jump(head, &[n.into()]);
            b.switch_to_block(head);
            let i = b.block_params(head)[0];
            let one = b.ins().iconst(I32, 1);
            let next = b.ins().isub(i, one);
            b.ins().brif(next, head, &[next.into()], exit, &[]);
            b.switch_to_block(exit);
            b.ins().return_(&[next]);
        } else {
            b.ins().return_(&[n]);
        }
        b.seal_all_blocks();
        b.finalize(isa.frontend_config());
        func
    }

    /// `function(0, with_loop)`, compiled.
    fn compiled(with_loop: bool) -> Context {
        let isa = target_isa(None, &[]).unwrap();
        let mut ctx = Context::for_function(function(0, with_loop));
        ctx.compile(&*isa, &mut ControlPlane::default()).unwrap();
        ctx
    }

    #[test]
    fn loop_padding_puts_the_loop_head_on_the_boundary() {
        let ctx = compiled(true);
        let code = ctx.compiled_code().unwrap();
        let pad = loop_padding(code).expect("a loop");
        let (_, edges) = code.get_code_bb_layout();
        let (_, head) = edges.into_iter().find(|(from, to)| to <= from).unwrap();
        assert!(head > 0, "the loop starts after the entry block");
        assert_eq!((head as u64 + pad) % LOOP_ALIGN, 0);
        assert_eq!(loop_padding(compiled(false).compiled_code().unwrap()), None);
    }

    /// Forty jobs, alternately with and without a loop.
    fn jobs() -> Vec<Job> {
        (0..40u32)
            .map(|i| Job {
                id: FuncId::from_u32(i),
                symbol: format!("f{i}"),
                func: function(i, i % 2 == 0),
            })
            .collect()
    }

    /// What a result is compared on.
    fn summary(code: &Result<Code, Error>) -> (u32, Vec<u8>, Option<u64>) {
        let code = code.as_ref().unwrap();
        (code.id.as_u32(), code.bytes.clone(), code.loop_padding)
    }

    #[test]
    fn results_come_back_in_job_order_whatever_the_threads() {
        let isa = target_isa(None, &[]).unwrap();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let codes = pool.install(|| generate(&*isa, jobs()));
            codes.iter().map(summary).collect::<Vec<_>>()
        };
        let one = on(1);
        let ids: Vec<u32> = one.iter().map(|(id, _, _)| *id).collect();
        assert_eq!(ids, (0..40).collect::<Vec<_>>());
        assert!(one[0].2.is_some() && one[1].2.is_none());
        assert_eq!(on(3), one);
    }

    #[test]
    fn a_trap_the_runtime_cannot_name_is_an_error_naming_the_function() {
        let isa = target_isa(None, &[]).unwrap();
        let mut jobs = jobs();
        // No trap kind has user code 200.
        let mut func = ir::Function::with_name_signature(
            UserFuncName::user(0, 7),
            ir::Signature::new(CallConv::SystemV),
        );
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        b.switch_to_block(entry);
        b.ins().trap(ir::TrapCode::unwrap_user(200));
        b.seal_all_blocks();
        b.finalize(isa.frontend_config());
        jobs[7].func = func;
        let codes = generate(&*isa, jobs);
        let e = codes[7].as_ref().err().expect("an error");
        assert!(
            e.to_string().contains("compiling f7: unknown trap code"),
            "{e}"
        );
        assert!(codes[6].is_ok() && codes[8].is_ok());
    }
}
