/* Rivet's C backend: what every generated file starts with.
 *
 * Values are unsigned (i32: uint32_t, i64: uint64_t) so that wrapping is
 * defined; signed operations cast. Linear memory is read and written with
 * memcpy, which compiles to one unaligned move. Traps call the runtime's
 * rivet_trap, which jumps back to where the host entered wasm. */
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;
typedef float f32;
typedef double f64;

/* A pointer-sized field of a runtime structure. */
#define FIELD(base, offset) (*(u8 **)((u8 *)(base) + (offset)))
#define AT(type, base, offset) (*(type *)((u8 *)(base) + (offset)))

/* Traps through the runtime's trap builtin (BUILTINS and TRAP_BUILTIN are
 * defined before this file), which never returns. */
static void __attribute__((noreturn, cold, noinline)) CODE trap(u8 *vmctx, u32 kind) {
    ((void (*)(u8 *, u32))((void **)FIELD(vmctx, BUILTINS))[TRAP_BUILTIN])(vmctx, kind);
    __builtin_unreachable();
}
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TRAP_IF(cond, kind) \
    do { if (UNLIKELY(cond)) trap(vmctx, kind); } while (0)

/* `name` reads memory; `name_keep` reads it even when the value is never
 * used, because the read must still trap when out of bounds. */
#define LOAD(name, type)                                                        \
    static inline type name(const u8 *p) { type v; memcpy(&v, p, sizeof v); return v; } \
    static inline type name##_keep(const u8 *p) {                               \
        type v = name(p);                                                       \
        __asm__ volatile("" : : "r"(v));                                        \
        return v;                                                               \
    }
LOAD(ld_u8, u8)
LOAD(ld_u16, uint16_t)
LOAD(ld_u32, u32)
LOAD(ld_u64, u64)
LOAD(ld_f32, f32)
LOAD(ld_f64, f64)
#define STORE(name, type) \
    static inline void name(u8 *p, type v) { memcpy(p, &v, sizeof v); }
STORE(st_u8, u8)
STORE(st_u16, uint16_t)
STORE(st_u32, u32)
STORE(st_u64, u64)
STORE(st_f32, f32)
STORE(st_f64, f64)

/* An entry of a table known at build time: the callee's code, and the
 * index of its type's first occurrence in the module's type section. */
struct entry {
    void *code;
    u32 type;
};

/* The stack pointer, compared with the store's limit on entry. */
static inline uintptr_t stack_pointer(void) {
    uintptr_t sp;
    __asm__("mov %%rsp, %0" : "=r"(sp));
    return sp;
}

#define DIV_REM(bits, ty, sty, min)                                             \
    static inline ty i##bits##_div_s(u8 *vmctx, ty a, ty b, u32 zero, u32 overflow) {      \
        TRAP_IF(b == 0, zero);                                                  \
        TRAP_IF(a == (ty)(min) && b == (ty)-1, overflow);                       \
        return (ty)((sty)a / (sty)b);                                           \
    }                                                                           \
    static inline ty i##bits##_div_u(u8 *vmctx, ty a, ty b, u32 zero) {                 \
        TRAP_IF(b == 0, zero);                                                  \
        return a / b;                                                           \
    }                                                                           \
    static inline ty i##bits##_rem_s(u8 *vmctx, ty a, ty b, u32 zero) {                 \
        TRAP_IF(b == 0, zero);                                                  \
        return b == (ty)-1 ? 0 : (ty)((sty)a % (sty)b);                         \
    }                                                                           \
    static inline ty i##bits##_rem_u(u8 *vmctx, ty a, ty b, u32 zero) {                 \
        TRAP_IF(b == 0, zero);                                                  \
        return a % b;                                                           \
    }                                                                           \
    static inline ty i##bits##_rotl(ty a, ty b) {                               \
        b &= bits - 1;                                                          \
        return (a << b) | (a >> ((bits - b) & (bits - 1)));                     \
    }                                                                           \
    static inline ty i##bits##_rotr(ty a, ty b) {                               \
        b &= bits - 1;                                                          \
        return (a >> b) | (a << ((bits - b) & (bits - 1)));                    \
    }
DIV_REM(32, u32, s32, 0x80000000u)
DIV_REM(64, u64, s64, 0x8000000000000000ull)

static inline u32 i32_clz(u32 a) { return a ? (u32)__builtin_clz(a) : 32; }
static inline u32 i32_ctz(u32 a) { return a ? (u32)__builtin_ctz(a) : 32; }
static inline u64 i64_clz(u64 a) { return a ? (u64)__builtin_clzll(a) : 64; }
static inline u64 i64_ctz(u64 a) { return a ? (u64)__builtin_ctzll(a) : 64; }

/* Floats: bit patterns, and what C leaves undefined or defines otherwise. */
static inline f32 f32_of(u32 b) { f32 v; memcpy(&v, &b, 4); return v; }
static inline f64 f64_of(u64 b) { f64 v; memcpy(&v, &b, 8); return v; }
static inline u32 bits_f32(f32 v) { u32 b; memcpy(&b, &v, 4); return b; }
static inline u64 bits_f64(f64 v) { u64 b; memcpy(&b, &v, 8); return b; }

/* Promotion and demotion, which GCC would fold into nothing when they meet
 * (wasm requires a signalling NaN to come out quiet). */
static inline f64 f64_promote(f32 a) {
    f64 r = a;
    __asm__("" : "+x"(r));
    return r;
}
static inline f32 f32_demote(f64 a) {
    f32 r = (f32)a;
    __asm__("" : "+x"(r));
    return r;
}

/* A NaN operand gives a NaN (`a + b` propagates it); -0 is below +0. */
#define MIN_MAX(t)                                                              \
    static inline t t##_min(t a, t b) {                                         \
        if (a != a || b != b) return a + b;                                     \
        if (a == b) return __builtin_signbit(a) ? a : b;                        \
        return a < b ? a : b;                                                   \
    }                                                                           \
    static inline t t##_max(t a, t b) {                                         \
        if (a != a || b != b) return a + b;                                     \
        if (a == b) return __builtin_signbit(a) ? b : a;                        \
        return a > b ? a : b;                                                   \
    }
MIN_MAX(f32)
MIN_MAX(f64)

/* Float to integer: `name` traps on NaN and on values whose truncation is
 * out of range (`lo < a < hi`, or `lo <= a` where `lo` itself converts);
 * `name_sat` saturates instead. */
#define TRUNC(name, ity, cty, fty, lo_ok, hi, min, max)                         \
    static inline ity name(u8 *vmctx, fty a, u32 nan, u32 overflow) {           \
        TRAP_IF(a != a, nan);                                                   \
        TRAP_IF(!((lo_ok) && a < (hi)), overflow);                              \
        return (ity)(cty)a;                                                     \
    }                                                                           \
    static inline ity name##_sat(fty a) {                                       \
        if (a != a) return 0;                                                   \
        if (!(lo_ok)) return (ity)(min);                                        \
        if (!(a < (hi))) return (ity)(max);                                     \
        return (ity)(cty)a;                                                     \
    }
TRUNC(i32_trunc_f32_s, u32, s32, f32, a >= -2147483648.0f, 2147483648.0f, INT32_MIN, INT32_MAX)
TRUNC(i32_trunc_f32_u, u32, u32, f32, a > -1.0f, 4294967296.0f, 0, UINT32_MAX)
TRUNC(i32_trunc_f64_s, u32, s32, f64, a > -2147483649.0, 2147483648.0, INT32_MIN, INT32_MAX)
TRUNC(i32_trunc_f64_u, u32, u32, f64, a > -1.0, 4294967296.0, 0, UINT32_MAX)
TRUNC(i64_trunc_f32_s, u64, s64, f32, a >= -9223372036854775808.0f, 9223372036854775808.0f,
      INT64_MIN, INT64_MAX)
TRUNC(i64_trunc_f32_u, u64, u64, f32, a > -1.0f, 18446744073709551616.0f, 0, UINT64_MAX)
TRUNC(i64_trunc_f64_s, u64, s64, f64, a >= -9223372036854775808.0, 9223372036854775808.0,
      INT64_MIN, INT64_MAX)
TRUNC(i64_trunc_f64_u, u64, u64, f64, a > -1.0, 18446744073709551616.0, 0, UINT64_MAX)
