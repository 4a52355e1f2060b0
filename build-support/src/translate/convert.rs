//! Conversions between value types. Cranelift's trapping `fcvt_to_*int` raise
//! BAD_CONVERSION_TO_INTEGER on NaN and INTEGER_OVERFLOW out of range, which
//! are the wasm traps; the `_sat` forms saturate and map NaN to 0 as wasm's do.

use super::state::FuncTranslator;
use cranelift_codegen::ir::types::{F32, F64, I32, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Opcode, Type};
use wasmparser::Operator;

impl FuncTranslator<'_, '_> {
    /// Translates a conversion operator; false if `op` is not one.
    pub(super) fn translate_convert(&mut self, op: &Operator) -> bool {
        let Some((opcode, to)) = conversion(op) else {
            return false;
        };
        let x = self.pop();
        let ins = self.b.ins();
        let v = match opcode {
            Opcode::Ireduce => ins.ireduce(to, x),
            Opcode::Sextend => ins.sextend(to, x),
            Opcode::Uextend => ins.uextend(to, x),
            Opcode::FcvtToSint => ins.fcvt_to_sint(to, x),
            Opcode::FcvtToUint => ins.fcvt_to_uint(to, x),
            Opcode::FcvtToSintSat => ins.fcvt_to_sint_sat(to, x),
            Opcode::FcvtToUintSat => ins.fcvt_to_uint_sat(to, x),
            Opcode::FcvtFromSint => ins.fcvt_from_sint(to, x),
            Opcode::FcvtFromUint => ins.fcvt_from_uint(to, x),
            Opcode::Fdemote => ins.fdemote(to, x),
            Opcode::Fpromote => ins.fpromote(to, x),
            // `conversion` yields nothing else: a reinterpretation.
            _ => ins.bitcast(to, MemFlagsData::new(), x),
        };
        self.push(v);
        true
    }
}

/// The Cranelift instruction and result type of a conversion operator.
fn conversion(op: &Operator) -> Option<(Opcode, Type)> {
    use Opcode::*;
    Some(match op {
        Operator::I32WrapI64 => (Ireduce, I32),
        Operator::I64ExtendI32S => (Sextend, I64),
        Operator::I64ExtendI32U => (Uextend, I64),
        Operator::I32TruncF32S | Operator::I32TruncF64S => (FcvtToSint, I32),
        Operator::I32TruncF32U | Operator::I32TruncF64U => (FcvtToUint, I32),
        Operator::I64TruncF32S | Operator::I64TruncF64S => (FcvtToSint, I64),
        Operator::I64TruncF32U | Operator::I64TruncF64U => (FcvtToUint, I64),
        Operator::I32TruncSatF32S | Operator::I32TruncSatF64S => (FcvtToSintSat, I32),
        Operator::I32TruncSatF32U | Operator::I32TruncSatF64U => (FcvtToUintSat, I32),
        Operator::I64TruncSatF32S | Operator::I64TruncSatF64S => (FcvtToSintSat, I64),
        Operator::I64TruncSatF32U | Operator::I64TruncSatF64U => (FcvtToUintSat, I64),
        Operator::F32ConvertI32S | Operator::F32ConvertI64S => (FcvtFromSint, F32),
        Operator::F32ConvertI32U | Operator::F32ConvertI64U => (FcvtFromUint, F32),
        Operator::F64ConvertI32S | Operator::F64ConvertI64S => (FcvtFromSint, F64),
        Operator::F64ConvertI32U | Operator::F64ConvertI64U => (FcvtFromUint, F64),
        Operator::F32DemoteF64 => (Fdemote, F32),
        Operator::F64PromoteF32 => (Fpromote, F64),
        Operator::I32ReinterpretF32 => (Bitcast, I32),
        Operator::I64ReinterpretF64 => (Bitcast, I64),
        Operator::F32ReinterpretI32 => (Bitcast, F32),
        Operator::F64ReinterpretI64 => (Bitcast, F64),
        _ => return None,
    })
}
