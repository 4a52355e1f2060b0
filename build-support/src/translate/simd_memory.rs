//! SIMD loads and stores. Each accesses as many bytes as it reads or writes
//! (8 for `load8x8_s`, 1 for `load8_lane`…), and goes through the same
//! address computation and bounds check as the scalar accesses in
//! [`super::memory`].

use super::memory::{wasm_memory_flags, Access};
use super::state::FuncTranslator;
use crate::Error;
use cranelift_codegen::ir::types::{I16, I16X8, I32, I32X4, I64, I64X2, I8, I8X16};
use cranelift_codegen::ir::{InstBuilder, Type, Value};
use wasmparser::{MemArg, Operator};

/// What a SIMD load makes of the bytes it reads.
#[derive(Clone, Copy)]
enum Load {
    /// All 16 bytes.
    Full,
    /// 8 bytes, each half-width lane extended (`load8x8_s` and the like),
    /// into the given vector type.
    Extend { signed: bool, to: Type },
    /// One scalar copied into every lane of the vector type.
    Splat(Type),
    /// One scalar into lane 0 of the vector type, the others zero.
    Zero(Type),
}

impl FuncTranslator<'_, '_> {
    /// Translates a SIMD load or store; false if `op` is not one.
    pub(super) fn translate_simd_memory(
        &mut self,
        op: &Operator,
        at: usize,
    ) -> Result<bool, Error> {
        if let Some((memarg, mem_ty, load)) = simd_load(op) {
            let access = Access::new(memarg, mem_ty, at)?;
            let index = self.pop();
            let v = self.simd_load(access, index, load);
            self.push_v128(v);
        } else if let Some((memarg, ty, lane)) = load_lane(op) {
            let access = Access::new(memarg, ty.lane_type(), at)?;
            let v = self.pop_lanes(ty);
            let index = self.pop();
            let addr = self.effective_address(access, index);
            let x = self
                .b
                .ins()
                .load(ty.lane_type(), wasm_memory_flags(), addr, 0);
            let v = self.b.ins().insertlane(v, x, lane);
            self.push_v128(v);
        } else if let Some((memarg, ty, lane)) = store_lane(op) {
            let access = Access::new(memarg, ty.lane_type(), at)?;
            let v = self.pop_lanes(ty);
            let index = self.pop();
            let x = self.b.ins().extractlane(v, lane);
            let addr = self.effective_address(access, index);
            self.b.ins().store(wasm_memory_flags(), x, addr, 0);
        } else if let Operator::V128Store { memarg } = op {
            let access = Access::new(memarg, I8X16, at)?;
            let (index, v) = self.pop2();
            let addr = self.effective_address(access, index);
            self.b.ins().store(wasm_memory_flags(), v, addr, 0);
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// Reads what `load` needs at `index` and builds the vector.
    fn simd_load(&mut self, access: Access, index: Value, load: Load) -> Value {
        let addr = self.effective_address(access, index);
        let flags = wasm_memory_flags();
        let ins = self.b.ins();
        match load {
            Load::Full => ins.load(I8X16, flags, addr, 0),
            Load::Extend { signed, to } => match (signed, to) {
                (true, I16X8) => ins.sload8x8(flags, addr, 0),
                (false, I16X8) => ins.uload8x8(flags, addr, 0),
                (true, I32X4) => ins.sload16x4(flags, addr, 0),
                (false, I32X4) => ins.uload16x4(flags, addr, 0),
                (true, _) => ins.sload32x2(flags, addr, 0),
                (false, _) => ins.uload32x2(flags, addr, 0),
            },
            Load::Splat(ty) => {
                let x = ins.load(ty.lane_type(), flags, addr, 0);
                self.b.ins().splat(ty, x)
            }
            Load::Zero(ty) => {
                let x = ins.load(ty.lane_type(), flags, addr, 0);
                self.b.ins().scalar_to_vector(ty, x)
            }
        }
    }
}

/// Memory argument, accessed type and kind of a SIMD load.
fn simd_load<'a>(op: &'a Operator) -> Option<(&'a MemArg, Type, Load)> {
    use Operator::*;
    let ext = |signed, to| Load::Extend { signed, to };
    Some(match op {
        V128Load { memarg } => (memarg, I8X16, Load::Full),
        V128Load8x8S { memarg } => (memarg, I64, ext(true, I16X8)),
        V128Load8x8U { memarg } => (memarg, I64, ext(false, I16X8)),
        V128Load16x4S { memarg } => (memarg, I64, ext(true, I32X4)),
        V128Load16x4U { memarg } => (memarg, I64, ext(false, I32X4)),
        V128Load32x2S { memarg } => (memarg, I64, ext(true, I64X2)),
        V128Load32x2U { memarg } => (memarg, I64, ext(false, I64X2)),
        V128Load8Splat { memarg } => (memarg, I8, Load::Splat(I8X16)),
        V128Load16Splat { memarg } => (memarg, I16, Load::Splat(I16X8)),
        V128Load32Splat { memarg } => (memarg, I32, Load::Splat(I32X4)),
        V128Load64Splat { memarg } => (memarg, I64, Load::Splat(I64X2)),
        V128Load32Zero { memarg } => (memarg, I32, Load::Zero(I32X4)),
        V128Load64Zero { memarg } => (memarg, I64, Load::Zero(I64X2)),
        _ => return None,
    })
}

/// Memory argument, vector type and lane of a `load*_lane`.
fn load_lane<'a>(op: &'a Operator) -> Option<(&'a MemArg, Type, u8)> {
    use Operator::*;
    Some(match op {
        V128Load8Lane { memarg, lane } => (memarg, I8X16, *lane),
        V128Load16Lane { memarg, lane } => (memarg, I16X8, *lane),
        V128Load32Lane { memarg, lane } => (memarg, I32X4, *lane),
        V128Load64Lane { memarg, lane } => (memarg, I64X2, *lane),
        _ => return None,
    })
}

/// Memory argument, vector type and lane of a `store*_lane`.
fn store_lane<'a>(op: &'a Operator) -> Option<(&'a MemArg, Type, u8)> {
    use Operator::*;
    Some(match op {
        V128Store8Lane { memarg, lane } => (memarg, I8X16, *lane),
        V128Store16Lane { memarg, lane } => (memarg, I16X8, *lane),
        V128Store32Lane { memarg, lane } => (memarg, I32X4, *lane),
        V128Store64Lane { memarg, lane } => (memarg, I64X2, *lane),
        _ => return None,
    })
}
