//! SIMD operators run natively, on the cases where wasm's semantics differ
//! from a naive lane-wise reading: masked shift counts, saturation, NaN and
//! signed zeros, out-of-range swizzle indices, and partial memory accesses.

use super::run::{check_i64_results, Instance};
use rivet_descriptor::Builtin;

#[test]
fn v128_values_cross_locals_blocks_and_loops() {
    check_i64_results(&[
        (
            "(local v128)
             (local.set 0 (v128.const i32x4 1 2 3 4))
             (block (result v128) (i32x4.add (local.get 0) (local.get 0)))
             (i64.extend_i32_u (i32x4.extract_lane 3))",
            8,
        ),
        (
            "(local i32)
             (local.set 0 (i32.const 3))
             (v128.const i64x2 0 0)
             (loop (param v128) (result v128)
               (i64x2.add (i64x2.splat (i64.const 10)))
               (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))
               (br_if 0))
             (i64x2.extract_lane 1)",
            30,
        ),
    ]);
}

#[test]
fn shifts_take_the_count_modulo_the_lane_width() {
    check_i64_results(&[
        (
            "(i64x2.extract_lane 0 (i64x2.shl (i64x2.splat (i64.const 1)) (i32.const 65)))",
            2,
        ),
        (
            "(i64.extend_i32_s (i8x16.extract_lane_s 5
               (i8x16.shr_s (i8x16.splat (i32.const -128)) (i32.const 9))))",
            -64,
        ),
        (
            "(i64.extend_i32_u (i16x8.extract_lane_u 7
               (i16x8.shr_u (i16x8.splat (i32.const -1)) (i32.const 31))))",
            1,
        ),
    ]);
}

#[test]
fn integer_lanes_saturate_narrow_and_widen() {
    check_i64_results(&[
        (
            "(i64.extend_i32_u (i8x16.extract_lane_u 0
               (i8x16.narrow_i16x8_u (i16x8.splat (i32.const -1)) (i16x8.splat (i32.const 300)))))",
            0,
        ),
        (
            "(i64.extend_i32_u (i8x16.extract_lane_u 15
               (i8x16.narrow_i16x8_u (i16x8.splat (i32.const -1)) (i16x8.splat (i32.const 300)))))",
            255,
        ),
        (
            "(i64.extend_i32_s (i32x4.extract_lane 2 (i32x4.dot_i16x8_s
               (i16x8.splat (i32.const 0x8000)) (i16x8.splat (i32.const 0x8000)))))",
            -0x8000_0000,
        ),
        (
            "(i64.extend_i32_s (i16x8.extract_lane_s 1 (i16x8.q15mulr_sat_s
               (i16x8.splat (i32.const 0x8000)) (i16x8.splat (i32.const 0x8000)))))",
            0x7fff,
        ),
        (
            "(i64.extend_i32_u (i8x16.extract_lane_u 3 (i8x16.add_sat_u
               (i8x16.splat (i32.const 200)) (i8x16.splat (i32.const 100)))))",
            255,
        ),
        (
            "(i64x2.extract_lane 1 (i64x2.extmul_high_i32x4_u
               (i32x4.splat (i32.const -1)) (i32x4.splat (i32.const -1))))",
            0xffff_fffe_0000_0001_u64 as i64,
        ),
        (
            "(i64.extend_i32_s (i32x4.extract_lane 0
               (i32x4.extadd_pairwise_i16x8_s (i16x8.splat (i32.const -3)))))",
            -6,
        ),
    ]);
}

#[test]
fn reductions_and_swizzle() {
    check_i64_results(&[
        (
            "(i64.extend_i32_u (i8x16.bitmask
               (v128.const i8x16 -1 0 -1 0 -1 0 -1 0 -1 0 -1 0 -1 0 -1 0)))",
            0x5555,
        ),
        (
            "(i64.extend_i32_u (i32x4.all_true (v128.const i32x4 1 2 3 0)))",
            0,
        ),
        (
            "(i64.extend_i32_u (v128.any_true (v128.const i64x2 0 0x100)))",
            1,
        ),
        (
            "(i64x2.extract_lane 0 (i8x16.swizzle
               (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
               (v128.const i8x16 1 0 16 200 0 0 0 0 0 0 0 0 0 0 0 0)))",
            0x0101_0101_0000_0102,
        ),
        (
            "(i64.extend_i32_u (i8x16.extract_lane_u 0 (i8x16.shuffle
               31 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
               (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
               (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 99))))",
            99,
        ),
    ]);
}

#[test]
fn float_lanes_follow_wasm_nan_and_zero_rules() {
    let f32_bits = |x: f32| i64::from(x.to_bits());
    check_i64_results(&[
        // pmin keeps its first operand unless the second is strictly less.
        (
            "(i64.extend_i32_u (i32x4.extract_lane 0 (f32x4.pmin
               (f32x4.splat (f32.const 0)) (f32x4.splat (f32.const -0)))))",
            0,
        ),
        (
            "(i64.extend_i32_u (i32x4.extract_lane 0 (f32x4.min
               (f32x4.splat (f32.const 0)) (f32x4.splat (f32.const -0)))))",
            f32_bits(-0.0),
        ),
        (
            "(i64.extend_i32_u (i32x4.extract_lane 1 (f32x4.pmax
               (f32x4.splat (f32.const nan)) (f32x4.splat (f32.const 1)))))",
            f32_bits(f32::NAN),
        ),
        (
            "(i64.extend_i32_u (i32x4.extract_lane 1 (i32x4.trunc_sat_f64x2_s_zero
               (v128.const f64x2 nan 1e10))))",
            0x7fff_ffff,
        ),
        (
            "(i64.extend_i32_u (i32x4.extract_lane 2 (i32x4.trunc_sat_f64x2_u_zero
               (v128.const f64x2 1 1e10))))",
            0,
        ),
        (
            "(i64.reinterpret_f64 (f64x2.extract_lane 1
               (f64x2.convert_low_i32x4_u (v128.const i32x4 0 -1 5 5))))",
            4_294_967_295.0f64.to_bits() as i64,
        ),
        (
            "(i64.extend_i32_u (i32x4.extract_lane 0
               (f32x4.nearest (f32x4.splat (f32.const 2.5)))))",
            f32_bits(2.0),
        ),
    ]);
}

#[test]
fn partial_loads_and_lane_stores() {
    let inst = Instance::new(
        r#"(module
          (memory 1)
          (func (param i32 i64)
            (v128.store64_lane 1 (local.get 0) (i64x2.splat (local.get 1)))
            (v128.store8_lane offset=16 15 (local.get 0) (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 7)))
          (func (param i32) (result i64)
            (i64x2.extract_lane 1 (v128.load32_zero (local.get 0))))
          (func (param i32) (result i64)
            (i64x2.extract_lane 1 (v128.load16x4_s (local.get 0))))
          (func (param i32) (result i64)
            (i64x2.extract_lane 1 (v128.load64_lane 1 (local.get 0) (v128.const i64x2 0 0)))))"#,
        [0; Builtin::COUNT],
    );
    let vmctx = inst.vmctx();
    let store: extern "C" fn(*mut u8, i32, i64) = inst.func(0);
    store(vmctx, 100, 0x8001_0203_0405_0607_u64 as i64);
    assert_eq!(
        inst.record.memories[0][100..108],
        0x8001_0203_0405_0607_u64.to_le_bytes()
    );
    assert_eq!(inst.record.memories[0][116], 7);
    let load_zero: extern "C" fn(*mut u8, i32) -> i64 = inst.func(1);
    assert_eq!(load_zero(vmctx, 100), 0);
    // Lanes 2 and 3 are the 16-bit words 0x0203 and 0x8001, sign-extended.
    let load_extend: extern "C" fn(*mut u8, i32) -> i64 = inst.func(2);
    assert_eq!(load_extend(vmctx, 100), (-0x7fff_i64 << 32) | 0x0203);
    let load_lane: extern "C" fn(*mut u8, i32) -> i64 = inst.func(3);
    assert_eq!(load_lane(vmctx, 100), 0x8001_0203_0405_0607_u64 as i64);
}
