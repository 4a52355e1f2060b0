//! Translation of wasm function bodies to Cranelift IR.
//!
//! One [`state::FuncTranslator`] walks a body's operators once. The operators are
//! split by what they act on, one module each: [`control`] (blocks and branches),
//! [`call`] (direct and imported calls), [`exception`] (`throw`, `try_table`
//! and the test for a pending exception after calls), [`integer`], [`float`], [`convert`],
//! [`memory`], [`table`] (tables, references, `call_indirect`), [`vmctx`]
//! (globals, builtins, the stack limit: everything reached through the instance
//! context) and [`simd`] (with [`simd_arith`] and [`simd_memory`]).

mod call;
mod control;
mod convert;
mod exception;
mod float;
mod integer;
mod memory;
mod simd;
mod simd_arith;
mod simd_memory;
mod state;
mod table;
mod vmctx;

#[cfg(test)]
mod tests;

use crate::env::ModuleEnv;
use crate::{Error, ErrorKind};
use cranelift_codegen::ir;
use cranelift_frontend::FunctionBuilderContext;
use state::FuncTranslator;
use wasmparser::Operator;

/// Translates defined function `defined_index` of `env` into `func`, whose
/// signature is already set to the function's native signature.
///
/// The body must have been validated (the decode stage does so): the
/// translator relies on validation for stack and type invariants. On error
/// `func` is left half-built and must be discarded; `builder_ctx` is reset so
/// that it can be reused.
pub fn translate_function(
    env: &ModuleEnv,
    defined_index: u32,
    func: &mut ir::Function,
    builder_ctx: &mut FunctionBuilderContext,
) -> Result<(), Error> {
    let body = env.bodies.get(defined_index as usize).ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            format!("no body for defined function {defined_index}"),
        )
    })?;
    let index = env.imported_functions + defined_index;
    let ty = env.functions[index as usize];
    let mut t = FuncTranslator::new(env, func, builder_ctx, ty);
    match t.translate_body(body) {
        Ok(()) => {
            t.finish();
            Ok(())
        }
        Err(e) => {
            drop(t);
            *builder_ctx = FunctionBuilderContext::new();
            Err(e)
        }
    }
}

impl FuncTranslator<'_, '_> {
    /// Declares the locals and translates every operator of `body`.
    fn translate_body(&mut self, body: &wasmparser::FunctionBody) -> Result<(), Error> {
        self.declare_locals(body)?;
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let (op, offset) = reader.read_with_offset()?;
            self.translate_operator(op, offset as usize)?;
        }
        reader.finish()?;
        Ok(())
    }

    /// Translates one operator; in unreachable code only the structure of nested
    /// blocks is tracked, since nothing there can execute.
    fn translate_operator(&mut self, op: Operator, offset: usize) -> Result<(), Error> {
        if !self.reachable {
            return self.translate_unreachable(&op);
        }
        let handled = self.translate_control(&op)?
            || self.translate_call(&op)?
            || self.translate_exception(&op)
            || self.translate_integer(&op)
            || self.translate_float(&op)
            || self.translate_convert(&op)
            || self.translate_memory(&op, offset)?
            || self.translate_table(&op)?
            || self.translate_vmctx(&op)?
            || self.translate_simd(&op, offset)?;
        if handled {
            Ok(())
        } else {
            Err(Error::unsupported(offset, operator_feature(&op)))
        }
    }
}

/// Names an operator Rivet does not translate.
fn operator_feature(op: &Operator) -> String {
    let name = format!("{op:?}");
    let name = name.split([' ', '{', '(']).next().unwrap_or_default();
    format!("the `{name}` instruction")
}
