//! Fixed-width SIMD: `v128` values, constants, lanes, shuffles and the
//! operators that reduce a vector to a scalar.
//!
//! Every `v128` on the value stack, in a local, a block parameter or a global
//! is an `I8X16`, so that control flow never has to reconcile vector types.
//! Each operator reinterprets its operands as the lane type it works on and
//! its result back as `I8X16`; these `bitcast`s cost nothing in registers.
//! The arithmetic lives in [`super::simd_arith`], memory accesses in
//! [`super::simd_memory`].

use super::simd_arith::Binary;
use super::state::FuncTranslator;
use crate::Error;
use cranelift_codegen::ir::types::{F32X4, F64X2, I16, I16X8, I32, I32X4, I64X2, I8, I8X16};
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value};
use wasmparser::Operator;

/// How a lane is read into a scalar.
#[derive(Clone, Copy)]
enum LaneRead {
    /// The lane is already a wasm value (`i32`, `i64`, `f32`, `f64`).
    Whole,
    /// A narrow lane, sign-extended to `i32`.
    Signed,
    /// A narrow lane, zero-extended to `i32`.
    Unsigned,
}

impl FuncTranslator<'_, '_> {
    /// Translates a SIMD operator; false if `op` is not one.
    pub(super) fn translate_simd(&mut self, op: &Operator, at: usize) -> Result<bool, Error> {
        Ok(self.translate_simd_memory(op, at)?
            || self.translate_simd_arith(op)
            || self.translate_simd_lanes(op)
            || self.translate_simd_reduce(op))
    }

    /// `v` seen as a vector of `ty` lanes (the same 128 bits).
    pub(super) fn as_lanes(&mut self, v: Value, ty: Type) -> Value {
        if self.b.func.dfg.value_type(v) == ty {
            v
        } else {
            self.b.ins().bitcast(ty, lane_order(), v)
        }
    }

    /// Pops a `v128` as a vector of `ty` lanes.
    pub(super) fn pop_lanes(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.as_lanes(v, ty)
    }

    /// Pushes a vector of any lane type as a `v128`.
    pub(super) fn push_v128(&mut self, v: Value) {
        let v = self.as_lanes(v, I8X16);
        self.push(v);
    }

    /// The `v128` whose little-endian bytes are `bytes`.
    pub(super) fn v128_const(&mut self, bytes: &[u8; 16]) -> Value {
        let constant = self
            .b
            .func
            .dfg
            .constants
            .insert(ConstantData::from(&bytes[..]));
        self.b.ins().vconst(I8X16, constant)
    }

    /// Constants, shuffles, splats and lane accesses.
    fn translate_simd_lanes(&mut self, op: &Operator) -> bool {
        match op {
            Operator::V128Const { value } => {
                let v = self.v128_const(value.bytes());
                self.push(v);
            }
            Operator::I8x16Shuffle { lanes } => {
                let (x, y) = self.pop2();
                let mask = ConstantData::from(&lanes[..]);
                let mask = self.b.func.dfg.immediates.push(mask);
                let v = self.b.ins().shuffle(x, y, mask);
                self.push(v);
            }
            _ => {
                return self.translate_splat(op)
                    || self.translate_extract_lane(op)
                    || self.translate_replace_lane(op)
            }
        }
        true
    }

    /// `*.splat`: a scalar copied into every lane.
    fn translate_splat(&mut self, op: &Operator) -> bool {
        let (ty, narrow) = match op {
            Operator::I8x16Splat => (I8X16, Some(I8)),
            Operator::I16x8Splat => (I16X8, Some(I16)),
            Operator::I32x4Splat => (I32X4, None),
            Operator::I64x2Splat => (I64X2, None),
            Operator::F32x4Splat => (F32X4, None),
            Operator::F64x2Splat => (F64X2, None),
            _ => return false,
        };
        let mut x = self.pop();
        if let Some(lane) = narrow {
            x = self.b.ins().ireduce(lane, x);
        }
        let v = self.b.ins().splat(ty, x);
        self.push_v128(v);
        true
    }

    /// `*.extract_lane*`: one lane as a scalar.
    fn translate_extract_lane(&mut self, op: &Operator) -> bool {
        use LaneRead::*;
        let (ty, lane, read) = match *op {
            Operator::I8x16ExtractLaneS { lane } => (I8X16, lane, Signed),
            Operator::I8x16ExtractLaneU { lane } => (I8X16, lane, Unsigned),
            Operator::I16x8ExtractLaneS { lane } => (I16X8, lane, Signed),
            Operator::I16x8ExtractLaneU { lane } => (I16X8, lane, Unsigned),
            Operator::I32x4ExtractLane { lane } => (I32X4, lane, Whole),
            Operator::I64x2ExtractLane { lane } => (I64X2, lane, Whole),
            Operator::F32x4ExtractLane { lane } => (F32X4, lane, Whole),
            Operator::F64x2ExtractLane { lane } => (F64X2, lane, Whole),
            _ => return false,
        };
        let v = self.pop_lanes(ty);
        let x = self.b.ins().extractlane(v, lane);
        let x = match read {
            Whole => x,
            Signed => self.b.ins().sextend(I32, x),
            Unsigned => self.b.ins().uextend(I32, x),
        };
        self.push(x);
        true
    }

    /// `*.replace_lane`: a vector with one lane replaced by a scalar.
    fn translate_replace_lane(&mut self, op: &Operator) -> bool {
        let (ty, lane) = match *op {
            Operator::I8x16ReplaceLane { lane } => (I8X16, lane),
            Operator::I16x8ReplaceLane { lane } => (I16X8, lane),
            Operator::I32x4ReplaceLane { lane } => (I32X4, lane),
            Operator::I64x2ReplaceLane { lane } => (I64X2, lane),
            Operator::F32x4ReplaceLane { lane } => (F32X4, lane),
            Operator::F64x2ReplaceLane { lane } => (F64X2, lane),
            _ => return false,
        };
        let mut x = self.pop();
        let v = self.pop_lanes(ty);
        if self.b.func.dfg.value_type(x) != ty.lane_type() {
            x = self.b.ins().ireduce(ty.lane_type(), x);
        }
        let v = self.b.ins().insertlane(v, x, lane);
        self.push_v128(v);
        true
    }

    /// The operators whose result is an `i32`: `any_true`, `all_true` and
    /// `bitmask`.
    fn translate_simd_reduce(&mut self, op: &Operator) -> bool {
        let (ty, all_true) = match op {
            Operator::V128AnyTrue => {
                let v = self.pop();
                let c = self.b.ins().vany_true(v);
                let c = self.b.ins().uextend(I32, c);
                self.push(c);
                return true;
            }
            Operator::I8x16AllTrue => (I8X16, true),
            Operator::I16x8AllTrue => (I16X8, true),
            Operator::I32x4AllTrue => (I32X4, true),
            Operator::I64x2AllTrue => (I64X2, true),
            Operator::I8x16Bitmask => (I8X16, false),
            Operator::I16x8Bitmask => (I16X8, false),
            Operator::I32x4Bitmask => (I32X4, false),
            Operator::I64x2Bitmask => (I64X2, false),
            _ => return false,
        };
        let v = self.pop_lanes(ty);
        let x = if all_true {
            let c = self.b.ins().vall_true(v);
            self.b.ins().uextend(I32, c)
        } else {
            self.b.ins().vhigh_bits(I32, v)
        };
        self.push(x);
        true
    }

    /// A shift of every lane of a `ty` vector by the popped `i32` count,
    /// taken modulo the lane width as wasm requires.
    pub(super) fn lane_shift(&mut self, ty: Type, shift: Binary) {
        let count = self.pop();
        let bits = i64::from(ty.lane_bits());
        let count = self.b.ins().band_imm_u(count, bits - 1);
        let v = self.pop_lanes(ty);
        let v = shift(&mut self.b, v, count);
        self.push_v128(v);
    }
}

/// Flags of a vector reinterpretation: lanes are numbered in little-endian
/// order, as in wasm.
pub(super) fn lane_order() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}
