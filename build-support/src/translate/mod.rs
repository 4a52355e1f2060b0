//! Translation of wasm function bodies to Cranelift IR.

use crate::env::ModuleEnv;
use crate::Error;
use cranelift_codegen::ir;
use cranelift_frontend::FunctionBuilderContext;

/// Translates defined function `defined_index` of `env` into `func`, whose
/// signature is already set to the function's native signature.
pub fn translate_function(
    env: &ModuleEnv,
    defined_index: u32,
    func: &mut ir::Function,
    builder_ctx: &mut FunctionBuilderContext,
) -> Result<(), Error> {
    let _ = (env, defined_index, func, builder_ctx);
    Err(Error::msg("not supported yet: function translation"))
}
