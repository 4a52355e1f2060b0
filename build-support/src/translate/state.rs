//! The translator's state: the builder, the wasm value stack, the control
//! stack and the locals.

use crate::env::{clif_type, val_type, ModuleEnv};
use crate::Error;
use cranelift_codegen::ir::{self, types, Block, BlockArg, InstBuilder, SigRef, Type, Value};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::HashMap;

/// What kind of construct a control frame is, with what its end needs.
pub(super) enum FrameKind {
    /// The function body; its end returns.
    Function,
    /// A `block`.
    Block,
    /// A `loop`; branches go back to `header`.
    Loop { header: Block },
    /// An `if`; `else_block` is entered with `else_params` (the values the `if`
    /// consumed) when the condition is false. `has_else` records whether an
    /// `else` was seen, otherwise `end` routes the false edge itself.
    If {
        else_block: Block,
        else_params: Vec<Value>,
        has_else: bool,
    },
    /// A `try_table`: a block whose calls and throws are caught by `catches`
    /// (labels relative to the frame enclosing the `try_table`).
    TryTable { catches: Vec<wasmparser::Catch> },
}

/// One entered block, loop, if, or the function body.
pub(super) struct Frame {
    pub kind: FrameKind,
    /// Where execution continues after `end`; its parameters are the results.
    pub dest: Block,
    pub params: usize,
    pub results: usize,
    /// Height of the value stack below the frame's parameters.
    pub height: usize,
    /// Whether any edge reaches `dest` (otherwise the code after `end` is dead).
    pub dest_reachable: bool,
}

/// Translates one function body.
pub(super) struct FuncTranslator<'a, 'f> {
    pub env: &'a ModuleEnv<'a>,
    pub b: FunctionBuilder<'f>,
    /// The instance context parameter.
    pub vmctx: Value,
    pub locals: Vec<Variable>,
    pub stack: Vec<Value>,
    pub frames: Vec<Frame>,
    /// Whether the current position can execute.
    pub reachable: bool,
    /// Number of blocks entered inside unreachable code and not yet ended.
    pub dead_depth: usize,
    /// Imported signatures, by wasm type index.
    pub signatures: HashMap<u32, SigRef>,
    /// Imported signatures of builtins, by builtin number.
    pub builtin_signatures: HashMap<u32, SigRef>,
    /// Imported callees, by function index.
    pub callees: HashMap<u32, ir::FuncRef>,
}

impl<'a, 'f> FuncTranslator<'a, 'f> {
    /// Starts translating a function of wasm type `ty` into `func`: entry
    /// block, parameters as locals, stack limit, and the body's frame.
    pub fn new(
        env: &'a ModuleEnv<'a>,
        func: &'f mut ir::Function,
        ctx: &'f mut FunctionBuilderContext,
        ty: u32,
    ) -> Self {
        let mut b = FunctionBuilder::new(func, ctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let mut t = FuncTranslator {
            env,
            b,
            vmctx: params[0],
            locals: Vec::new(),
            stack: Vec::new(),
            frames: Vec::new(),
            reachable: true,
            dead_depth: 0,
            signatures: HashMap::new(),
            builtin_signatures: HashMap::new(),
            callees: HashMap::new(),
        };
        t.set_stack_limit();
        for &p in &params[1..] {
            let ty = t.b.func.dfg.value_type(p);
            let var = t.b.declare_var(ty);
            t.b.def_var(var, p);
            t.locals.push(var);
        }
        let results = t.clif_types(&env.types[ty as usize].results);
        let dest = t.block_with_params(&results);
        t.frames.push(Frame {
            kind: FrameKind::Function,
            dest,
            params: 0,
            results: results.len(),
            height: 0,
            dest_reachable: false,
        });
        t
    }

    /// Declares the body's locals, each initialised to zero.
    pub fn declare_locals(&mut self, body: &wasmparser::FunctionBody) -> Result<(), Error> {
        let mut reader = body.get_locals_reader()?;
        for _ in 0..reader.get_count() {
            let (count, ty) = reader.read()?;
            let ty = clif_type(self.env.pointer_type(), val_type(ty));
            for _ in 0..count {
                let var = self.b.declare_var(ty);
                let zero = self.zero(ty);
                self.b.def_var(var, zero);
                self.locals.push(var);
            }
        }
        Ok(())
    }

    /// Seals every block and hands the function back.
    pub fn finish(mut self) {
        self.b.seal_all_blocks();
        self.b.finalize(self.env.isa.frontend_config());
    }

    /// The zero value of a Cranelift type (null for references).
    pub fn zero(&mut self, ty: Type) -> Value {
        match ty {
            types::F32 => self.b.ins().f32const(0.0),
            types::F64 => self.b.ins().f64const(0.0),
            types::I8X16 => self.v128_const(&[0; 16]),
            _ => self.b.ins().iconst(ty, 0),
        }
    }

    /// The Cranelift types of wasm value types (parameters or results).
    pub fn clif_types(&self, tys: &[rivet_descriptor::ValType]) -> Vec<Type> {
        let ptr = self.env.pointer_type();
        tys.iter().map(|t| clif_type(ptr, *t)).collect()
    }

    /// A new block with parameters of the given types.
    pub fn block_with_params(&mut self, tys: &[Type]) -> Block {
        let block = self.b.create_block();
        for &ty in tys {
            self.b.append_block_param(block, ty);
        }
        block
    }

    pub fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// Pops one value; validation guarantees it is there.
    pub fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated wasm never underflows the stack")
    }

    pub fn pop2(&mut self) -> (Value, Value) {
        let y = self.pop();
        let x = self.pop();
        (x, y)
    }

    pub fn pop3(&mut self) -> (Value, Value, Value) {
        let z = self.pop();
        let (x, y) = self.pop2();
        (x, y, z)
    }

    /// Pops the top `n` values, in stack order.
    pub fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    /// The top `n` values, in stack order, left on the stack.
    pub fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Pushes the results of a call instruction, after handing a pending
    /// exception to its handler (every wasm call goes through here).
    pub fn push_results(&mut self, inst: ir::Inst) {
        self.check_pending_exception();
        let results = self.b.inst_results(inst).to_vec();
        self.stack.extend(results);
    }
}

/// Block arguments for a branch passing `values`.
pub(super) fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}
