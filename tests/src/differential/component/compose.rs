//! The component text of a case: components A and B, each a generic
//! pass-through, and the composition of a batch of cases.
//!
//! Each side imports an instance whose function `x` has the case's type and
//! exports a function `y` of the same type. Its core glue forwards the flat
//! parameters of the lifted `y` to the lowered `x` unchanged; where the result
//! spills, it allocates the return area, passes it as the return pointer and
//! returns it. B's `x` is the host's `h`, A's `x` is B's `f` (so A calls B
//! through a fused adapter), and the host calls A's `g`. A [`Fault`] changes
//! one side's glue.

use super::fault::{Fault, Side, MEMORY_BYTES};
use super::ty::{alignment, size, Flat, FuncTy, Names};
use std::fmt::Write;

/// A canonical `string-encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Latin1Utf16,
}

impl Encoding {
    pub const ALL: [Encoding; 3] = [Encoding::Utf8, Encoding::Utf16, Encoding::Latin1Utf16];

    /// The alignment `realloc` is given for a string in this encoding.
    pub fn string_alignment(self) -> u32 {
        match self {
            Encoding::Utf8 => 1,
            Encoding::Utf16 | Encoding::Latin1Utf16 => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf8",
            Encoding::Utf16 => "utf16",
            Encoding::Latin1Utf16 => "latin1+utf16",
        }
    }
}

/// What one side is made of.
pub struct Half<'a> {
    pub func: &'a FuncTy,
    pub names: &'a Names,
    pub encoding: Encoding,
    /// The fault, if it is this side's.
    pub fault: Option<&'a Fault>,
    /// Whether the lift of `y` names a `post-return` function.
    pub post_return: bool,
}

/// The names a side imports and exports: B imports the host's `h` and
/// exports `f`; A imports B's `f` and exports `g`.
pub fn names(side: Side) -> (&'static str, &'static str) {
    match side {
        Side::A => ("f", "g"),
        Side::B => ("h", "f"),
    }
}

/// The instance type the side imports: the named types, then function `x`.
pub fn instance_type(names: &Names, func: &FuncTy, x: &str) -> String {
    format!(
        "(instance\n{}\n(export \"{x}\" {}))",
        names.instance_decls(),
        names.func(func)
    )
}

/// The text of one side's component.
pub fn component(side: Side, s: &Half) -> String {
    let (x, y) = names(side);
    let options = options(s.encoding);
    let post = if s.post_return {
        " (post-return (core func $glue \"post\"))"
    } else {
        ""
    };
    let alignments = s.func.realloc_alignments(s.encoding.string_alignment());
    format!(
        "(component\n{head}\
         (core func $x (canon lower (func $in \"{x}\") {options}))\n\
         {glue}\n\
         (func $y (type $ft) (canon lift (core func $glue \"y\") {options}{post}))\n\
         {recurse}\
         (export \"{y}\" (func $y)))",
        head = head(s.names, s.func, x, &libc(s.fault, &alignments)),
        glue = glue_instance(s, "$x"),
        recurse = match s.fault {
            Some(Fault::Recurse(_)) => recurse(s.func, &options),
            _ => String::new(),
        },
    )
}

/// The start of a component around glue: its import `in` (an instance with
/// function `x` of type `func`), the named types, the function type `$ft`,
/// and the allocator module `libc` instantiated as `$libc`.
fn head(names: &Names, func: &FuncTy, x: &str, libc: &str) -> String {
    format!(
        "(import \"in\" {})\n{}\n(type $ft {})\n{libc}\n\
         (core instance $libc (instantiate $Libc))\n",
        instance_type(names, func, x).replacen("(instance", "(instance $in", 1),
        names.component_decls(),
        names.func(func),
    )
}

/// The canonical options of a side: its encoding, memory and `realloc`.
fn options(encoding: Encoding) -> String {
    format!(
        "string-encoding={} (memory (core memory $libc \"mem\")) \
         (realloc (core func $libc \"realloc\"))",
        encoding.name()
    )
}

/// The glue module of `s` instantiated as `$glue`, its `x` being core
/// function `x_core` (and `resource.drop` of `r` if it receives borrows).
fn glue_instance(s: &Half, x_core: &str) -> String {
    let (drop, drop_export) = if s.func.borrows().is_empty() {
        ("", "")
    } else {
        (
            "(core func $drop (canon resource.drop $r))\n",
            " (export \"drop\" (func $drop))",
        )
    };
    format!(
        "{drop}{}\n\
         (core instance $glue (instantiate $Glue (with \"\" (instance \
           (export \"mem\" (memory $libc \"mem\")) (export \"alloc\" (func $libc \"alloc\")) \
           (export \"x\" (func {x_core})){drop_export}))))",
        glue(s)
    )
}

/// For a [`Fault::Reenter`]: the case's B and A inside a component that
/// lifts a pass-through `back` and gives it to the faulty side in place of
/// its import; `back`'s own import is, through a table set once A exists,
/// A's `g` lowered, so a call of `back` re-enters A. Exports `g` with the
/// case's type, as A's instance does.
fn reentering(func: &FuncTy, parts: &Parts, side: Side) -> String {
    let names = &parts.names;
    let pass = Half {
        func,
        names,
        encoding: Encoding::Utf8,
        fault: None,
        post_return: false,
    };
    let sig = signatures(func);
    let core_sig = format!(
        "(param {}) (result {})",
        flats(&sig.lower_params),
        flats(&sig.lower_results)
    );
    let forward: String = (0..sig.lower_params.len())
        .map(|i| format!("(local.get {i}) "))
        .collect();
    let options = options(Encoding::Utf8);
    let x = self::names(side).0;
    let given = |s: Side, normal: &str| match s == side {
        true => "$given".to_string(),
        false => normal.to_string(),
    };
    format!(
        "(component\n{head}\
         (core module $Stub (type $xt (func {core_sig})) (table (export \"t\") 1 funcref) \
           (func (export \"x\") (type $xt) (call_indirect (type $xt) {forward}(i32.const 0))))\n\
         (core instance $stub (instantiate $Stub))\n\
         {glue}\n\
         (func $back (type $ft) (canon lift (core func $glue \"y\") {options}))\n\
         (instance $given {types} (export \"{x}\" (func $back)))\n\
         (component $B {b}\n(component $A {a}\n\
         (instance $b (instantiate $B (with \"in\" (instance {in_b}))))\n\
         (instance $a (instantiate $A (with \"in\" (instance {in_a}))))\n\
         (core func $g (canon lower (func $a \"g\") {options}))\n\
         (core module $Patch (import \"\" \"t\" (table 1 funcref)) \
           (import \"\" \"g\" (func $g {core_sig})) (elem (i32.const 0) func $g))\n\
         (core instance (instantiate $Patch (with \"\" (instance \
           (export \"t\" (table $stub \"t\")) (export \"g\" (func $g))))))\n\
         (export \"g\" (func $a \"g\") (func (type $ft))))",
        head = head(names, func, "h", &libc(None, &func.realloc_alignments(1))),
        glue = glue_instance(&pass, "$stub \"x\""),
        b = parts.b.trim_start_matches("(component"),
        a = parts.a.trim_start_matches("(component"),
        types = names.exports(),
        in_b = given(Side::B, "$in"),
        in_a = given(Side::A, "$b"),
    )
}

/// For a [`Fault::Recurse`]: `y` lowered back into its own component and
/// put in the glue's table, where the glue calls it instead of `x` (a core
/// instance cannot import what is lifted from it, so a third one links them).
fn recurse(func: &FuncTy, options: &str) -> String {
    let sig = signatures(func);
    format!(
        "(core func $self (canon lower (func $y) {options}))\n\
         (core module $Patch (import \"\" \"t\" (table 1 funcref)) \
           (import \"\" \"self\" (func $self (param {}) (result {}))) \
           (elem (i32.const 0) func $self))\n\
         (core instance (instantiate $Patch (with \"\" (instance \
           (export \"t\" (table $glue \"t\")) (export \"self\" (func $self))))))\n",
        flats(&sig.lower_params),
        flats(&sig.lower_results),
    )
}

/// The allocator module: memory, a bump allocator `alloc` for the glue's
/// own use, and the canonical `realloc` (which a [`Fault::Realloc`] breaks).
/// `realloc` traps when asked for an alignment other than `alignments`, the
/// ones the spec passes for the side's types, so that an engine passing
/// another (such as 1 for a `latin1+utf16` string) fails the case.
fn libc(fault: Option<&Fault>, alignments: &[u32]) -> String {
    let good = "(call $alloc (local.get 0) (local.get 1) (local.get 2) (local.get 3))";
    let realloc = match fault {
        Some(Fault::Realloc(_, bad)) => bad.wat(good),
        Some(Fault::ReallocMoved(_)) => format!(
            "(if (result i32) (local.get 0) (then (i32.add {good} (i32.const 1))) (else {good}))"
        ),
        _ => good.to_string(),
    };
    let other: String = alignments
        .iter()
        .map(|a| format!("(i32.ne (local.get 2) (i32.const {a})) "))
        .fold("(i32.const 1) ".to_string(), |all, ne| {
            format!("(i32.and {all}{ne})")
        });
    let realloc = format!("(if {other}(then unreachable))\n{realloc}");
    format!(
        "(core module $Libc\n\
         (memory (export \"mem\") {pages})\n\
         (global $next (mut i32) (i32.const 1024))\n\
         (func $alloc (export \"alloc\") (param $old i32) (param $osize i32) (param $align i32) \
           (param $nsize i32) (result i32) (local $r i32)\n\
           (local.set $r (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1))) \
             (i32.sub (i32.const 0) (local.get $align))))\n\
           (global.set $next (i32.add (local.get $r) (local.get $nsize)))\n\
           (if (local.get $old) (then (memory.copy (local.get $r) (local.get $old) \
             (select (local.get $osize) (local.get $nsize) \
               (i32.lt_u (local.get $osize) (local.get $nsize))))))\n\
           (local.get $r))\n\
         (func (export \"realloc\") (param i32 i32 i32 i32) (result i32) {realloc}))",
        pages = MEMORY_BYTES >> 16,
    )
}

fn flats(types: &[Flat]) -> String {
    types.iter().map(|t| t.wat()).collect::<Vec<_>>().join(" ")
}

/// The core signatures of the lifted `y` and the lowered `x` (CanonicalABI.md,
/// `flatten_functype`): spilled parameters are one pointer; a spilled result
/// is a returned pointer for the lift and a trailing return pointer for the
/// lower.
struct Signatures {
    lift_params: Vec<Flat>,
    lift_results: Vec<Flat>,
    lower_params: Vec<Flat>,
    lower_results: Vec<Flat>,
}

fn signatures(func: &FuncTy) -> Signatures {
    let params = if func.params_spill() {
        vec![Flat::I32]
    } else {
        func.flat_params()
    };
    let (lift_results, lower_results, retptr) = if func.result_spills() {
        (vec![Flat::I32], vec![], vec![Flat::I32])
    } else {
        (func.flat_result(), func.flat_result(), vec![])
    };
    Signatures {
        lower_params: [params.clone(), retptr].concat(),
        lift_params: params,
        lift_results,
        lower_results,
    }
}

/// The glue module: `y` forwards to `x`, as the module doc says, and
/// `post` (the `post-return`) checks it gets what `y` returned.
fn glue(s: &Half) -> String {
    let sig = signatures(s.func);
    let last = match sig.lift_results[..] {
        [t] => format!("(global $last (mut {0}) ({0}.const 0))", t.wat()),
        _ => String::new(),
    };
    let drop = if s.func.borrows().is_empty() {
        ""
    } else {
        "(import \"\" \"drop\" (func $drop (param i32)))\n"
    };
    let table = match s.fault {
        Some(Fault::Recurse(_)) => "(table $t (export \"t\") 1 funcref)\n",
        _ => "",
    };
    format!(
        "(core module $Glue\n\
         (import \"\" \"mem\" (memory 1))\n\
         (import \"\" \"alloc\" (func $alloc (param i32 i32 i32 i32) (result i32)))\n\
         (type $xt (func (param {params}) (result {results})))\n\
         (import \"\" \"x\" (func $x (type $xt)))\n\
         {drop}{table}{last}\n{}\n{})",
        forward(s, &sig),
        post_return(s, &sig),
        params = flats(&sig.lower_params),
        results = flats(&sig.lower_results),
    )
}

/// The function `y`.
fn forward(s: &Half, sig: &Signatures) -> String {
    let fault = s.fault;
    let mut body = String::new();
    let spilled = s.func.result_spills();
    if let [t] = sig.lift_results[..] {
        if !spilled {
            let _ = writeln!(body, "(local $v {})", t.wat());
        }
    }
    body.push_str(&before_call(s));
    if spilled {
        let t = s.func.result.as_ref().expect("a spilled result exists");
        let _ = writeln!(
            body,
            "(local.set $r (call $alloc (i32.const 0) (i32.const 0) (i32.const {}) (i32.const {})))",
            alignment(t),
            size(t)
        );
    }
    let mut args: Vec<String> = (sig.lift_params.iter().enumerate())
        .map(|(i, t)| argument(fault, i, *t))
        .collect();
    if spilled {
        args.push(match fault {
            Some(Fault::RetPtr(_, bad)) => bad.wat("(local.get $r)"),
            _ => "(local.get $r)".into(),
        });
    }
    let call = match fault {
        Some(Fault::Recurse(_)) => format!(
            "(call_indirect $t (type $xt) {} (i32.const 0))",
            args.join(" ")
        ),
        _ => format!("(call $x {})", args.join(" ")),
    };
    let drops = drop_borrows(s.func);
    match (&sig.lift_results[..], spilled) {
        (_, true) => {
            let ret = match fault {
                Some(Fault::ReturnPtr(_, bad)) => bad.wat("(local.get $r)"),
                _ => "(local.get $r)".into(),
            };
            let _ = write!(
                body,
                "{call}\n{drops}{}(global.set $last {ret})\n(global.get $last)",
                after_call(s)
            );
        }
        ([t], false) => {
            let value = match fault {
                Some(Fault::FlatResult(_, mask)) => {
                    format!("({0}.xor (local.get $v) ({0}.const {mask}))", t.wat())
                }
                _ => "(local.get $v)".into(),
            };
            let _ = write!(
                body,
                "(local.set $v {call})\n{drops}(global.set $last {value})\n(global.get $last)"
            );
        }
        _ => {
            let _ = write!(body, "{call}\n{drops}");
        }
    }
    format!(
        "(func (export \"y\") (param {}) (result {}) (local $r i32)\n{body})",
        flats(&sig.lift_params),
        flats(&sig.lift_results)
    )
}

/// Code that drops the borrows the side received, after its call: the spec
/// traps a call that returns with borrows of its own left.
fn drop_borrows(func: &FuncTy) -> String {
    let spilled = func.params_spill();
    func.borrows()
        .into_iter()
        .map(|at| match spilled {
            true => format!("(call $drop (i32.load offset={at} (local.get 0)))\n"),
            false => format!("(call $drop (local.get {at}))\n"),
        })
        .collect()
}

/// Flat parameter `i`, of type `t`, as the glue passes it on.
fn argument(fault: Option<&Fault>, i: usize, t: Flat) -> String {
    let get = format!("(local.get {i})");
    match fault {
        Some(Fault::FlatParam(_, index, mask)) if *index == i => {
            format!("({0}.xor {get} ({0}.const {mask}))", t.wat())
        }
        Some(Fault::ParamsPtr(_, bad)) if i == 0 => bad.wat(&get),
        _ => get,
    }
}

/// What the glue does to its parameters before the call.
fn before_call(s: &Half) -> String {
    match s.fault {
        Some(Fault::SpilledParam(_, offset, mask)) => flip_byte("(local.get 0)", *offset, *mask),
        Some(Fault::BadStringParam(_, index)) => {
            let at: usize = s.func.params[..*index]
                .iter()
                .map(|t| super::ty::flatten(t).len())
                .sum();
            let (ptr, len) = (
                format!("(local.get {at})"),
                format!("(local.get {})", at + 1),
            );
            bad_string(s.encoding, &ptr, &len)
        }
        _ => String::new(),
    }
}

/// What the glue does to its spilled result after the call.
fn after_call(s: &Half) -> String {
    match s.fault {
        Some(Fault::ResultByte(_, offset, mask)) => flip_byte("(local.get $r)", *offset, *mask),
        Some(Fault::BadStringResult(_)) => bad_string(
            s.encoding,
            "(i32.load (local.get $r))",
            "(i32.load offset=4 (local.get $r))",
        ),
        _ => String::new(),
    }
}

fn flip_byte(base: &str, offset: u32, mask: u8) -> String {
    format!(
        "(i32.store8 offset={offset} {base} (i32.xor (i32.load8_u offset={offset} {base}) \
         (i32.const {mask})))\n"
    )
}

/// Code that makes the string at `ptr`, `len` (in the encoding's units)
/// invalid: a 0xff byte first in UTF-8, an unpaired leading surrogate last
/// in UTF-16. A Latin-1 string (untagged, in latin1+utf16) has no invalid
/// form and is left alone, as is an empty one.
fn bad_string(encoding: Encoding, ptr: &str, len: &str) -> String {
    let last_unit = |units: &str| {
        format!(
            "(i32.store16 (i32.add {ptr} (i32.shl (i32.sub {units} (i32.const 1)) (i32.const 1))) \
             (i32.const 0xd800))"
        )
    };
    match encoding {
        Encoding::Utf8 => {
            format!(
                "(if (i32.ne {len} (i32.const 0)) (then (i32.store8 {ptr} (i32.const 0xff))))\n"
            )
        }
        Encoding::Utf16 => format!(
            "(if (i32.ne {len} (i32.const 0)) (then {}))\n",
            last_unit(len)
        ),
        Encoding::Latin1Utf16 => format!(
            "(if (i32.gt_u {len} (i32.const 0x80000000)) (then {}))\n",
            last_unit(&format!("(i32.and {len} (i32.const 0x7fffffff))"))
        ),
    }
}

/// The `post-return` function: traps unless its parameter is what `y`
/// returned (compared by bits), then does what a post-return fault says.
fn post_return(s: &Half, sig: &Signatures) -> String {
    let check = match sig.lift_results[..] {
        [t] => {
            let bits = |v: &str| match t {
                Flat::F32 => format!("(i32.reinterpret_f32 {v})"),
                Flat::F64 => format!("(i64.reinterpret_f64 {v})"),
                _ => v.to_string(),
            };
            let int = if matches!(t, Flat::I64 | Flat::F64) {
                "i64"
            } else {
                "i32"
            };
            format!(
                "(if ({int}.ne {} {}) (then unreachable))",
                bits("(local.get 0)"),
                bits("(global.get $last)")
            )
        }
        _ => String::new(),
    };
    let fault = match s.fault {
        Some(Fault::PostTrap(_)) => "unreachable".to_string(),
        Some(Fault::PostClobber(_)) => {
            format!("(memory.fill (i32.const 0) (i32.const 0xaa) (i32.const {MEMORY_BYTES}))")
        }
        _ => String::new(),
    };
    format!(
        "(func (export \"post\") (param {})\n{check}\n{fault})",
        flats(&sig.lift_results)
    )
}

/// One case as the batch composition holds it: its two components, and
/// the side that re-enters A, if one does ([`Fault::Reenter`]).
pub struct Parts {
    pub names: Names,
    pub b: String,
    pub a: String,
    pub reenter: Option<Side>,
}

/// The composition of a batch: per case `i`, the host's instance `hosti`,
/// B instantiated with it, A with B, and A's instance exported as `apii`
/// (for a re-entering case, the component around them, [`reentering`]).
pub fn batch(cases: &[(&FuncTy, &Parts)]) -> String {
    let mut text = "(component\n".to_string();
    for (i, (func, parts)) in cases.iter().enumerate() {
        let itype = instance_type(&parts.names, func, "h");
        let _ = writeln!(
            text,
            "(import \"host{i}\" (instance $host{i} {})",
            itype.trim_start_matches("(instance")
        );
        let _ = match parts.reenter {
            Some(side) => write!(
                text,
                "(component $W{i} {}\n\
                 (instance $a{i} (instantiate $W{i} (with \"in\" (instance $host{i}))))\n",
                reentering(func, parts, side).trim_start_matches("(component"),
            ),
            None => write!(
                text,
                "(component $B{i} {}\n(component $A{i} {}\n\
                 (instance $b{i} (instantiate $B{i} (with \"in\" (instance $host{i}))))\n\
                 (instance $a{i} (instantiate $A{i} (with \"in\" (instance $b{i}))))\n",
                parts.b.trim_start_matches("(component"),
                parts.a.trim_start_matches("(component"),
            ),
        };
        let _ = writeln!(text, "(export \"api{i}\" (instance $a{i}))");
    }
    text.push(')');
    text
}

#[cfg(test)]
mod tests {
    use super::super::ty::Ty;
    use super::*;

    /// The side's `realloc` returns for the alignments the spec passes for
    /// its types and traps for any other.
    #[test]
    fn realloc_traps_on_an_alignment_the_spec_never_passes() {
        let func = FuncTy {
            params: vec![Ty::String, Ty::List(Box::new(Ty::U64))],
            result: None,
        };
        let alignments = func.realloc_alignments(Encoding::Latin1Utf16.string_alignment());
        assert_eq!(alignments, [2, 8]);
        let text = libc(None, &alignments).replacen("(core module $Libc", "(module", 1);
        let wasm = wat::parse_str(&text).unwrap();
        let loaded = crate::loader::compile_and_load(&wasm, &Default::default()).unwrap();
        let mut store = rivet::Store::new(rivet::BoundsMode::Guard);
        let instance = store.instantiate(&loaded.module, &[]).unwrap();
        let Some(rivet::Extern::Func(realloc)) = instance.export(&store, "realloc") else {
            panic!("no export `realloc`");
        };
        for (align, allowed) in [(1, false), (2, true), (4, false), (8, true)] {
            let args = [0, 0, align, 16].map(rivet::Val::I32);
            let called = realloc.call(&mut store, &args);
            assert_eq!(called.is_ok(), allowed, "alignment {align}: {called:?}");
        }
    }

    #[test]
    fn signatures_spill_as_flatten_functype_says() {
        let many = FuncTy {
            params: vec![Ty::Tuple(vec![Ty::U8; 17])],
            result: Some(Ty::String),
        };
        let sig = signatures(&many);
        assert_eq!(sig.lift_params, vec![Flat::I32]);
        assert_eq!(sig.lift_results, vec![Flat::I32]);
        assert_eq!(sig.lower_params, vec![Flat::I32, Flat::I32]);
        assert!(sig.lower_results.is_empty());
        let few = FuncTy {
            params: vec![Ty::U64, Ty::F32],
            result: Some(Ty::Char),
        };
        let sig = signatures(&few);
        assert_eq!(sig.lift_params, vec![Flat::I64, Flat::F32]);
        assert_eq!(sig.lower_results, vec![Flat::I32]);
    }
}
