//! Component value types of generated cases: drawn from a seeded stream, laid
//! out by the Canonical ABI (flattening, size, alignment) and written as
//! component text.
//!
//! The layout here is written from CanonicalABI.md alone, not taken from
//! Rivet: the glue a case's core modules are made of follows it, so a layout
//! Rivet got wrong shows up as a component one engine refuses or a value that
//! arrives changed.

use super::super::generate::SplitMix64;
use std::fmt::Write;

/// A component value type. Labels are positional: record fields `f0…`,
/// variant cases `c0…`, enum cases `e0…`, flags `g0…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(Box<Ty>),
    Record(Vec<Ty>),
    Tuple(Vec<Ty>),
    Variant(Vec<Option<Ty>>),
    /// The number of cases.
    Enum(u32),
    /// The number of flags (1 to 32, the spec's limit).
    Flags(u32),
    Option(Box<Ty>),
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    /// An owned handle to the host's resource `r`.
    Own,
    /// A borrowed handle to the host's resource `r`: only where a
    /// pass-through side finds it without walking memory, so it can drop
    /// it after its call as the spec requires (a parameter, or a record or
    /// tuple field of one; see [`Place`]).
    Borrow,
}

/// Where a type is drawn: borrows may only be where the glue can find them
/// again (a borrow received must be dropped before the call returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A parameter, or a record or tuple field of one.
    Param,
    /// Anywhere else: results, and inside lists and variant-like types.
    Other,
}

/// A core value type of a flattened component type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flat {
    I32,
    I64,
    F32,
    F64,
}

impl Flat {
    pub fn wat(self) -> &'static str {
        match self {
            Flat::I32 => "i32",
            Flat::I64 => "i64",
            Flat::F32 => "f32",
            Flat::F64 => "f64",
        }
    }
}

/// Nesting depth of generated types: deep enough for lists of lists of
/// records, shallow enough that values stay small.
const MAX_DEPTH: u32 = 3;

/// A random type drawn at `place`; `depth` is how many more levels it may
/// nest.
pub fn arbitrary(rng: &mut SplitMix64, depth: u32, place: Place) -> Ty {
    let leaf = depth == 0 || below(rng, 3) == 0;
    if leaf {
        return scalar(rng, place);
    }
    let sub = |rng: &mut SplitMix64| arbitrary(rng, depth - 1, Place::Other);
    let many = |rng: &mut SplitMix64, min: u64| {
        let n = min + below(rng, 5 - min);
        (0..n)
            .map(|_| arbitrary(rng, depth - 1, place))
            .collect::<Vec<_>>()
    };
    match below(rng, 9) {
        0 | 1 => Ty::List(Box::new(sub(rng))),
        2 => Ty::Record(many(rng, 1)),
        3 => Ty::Tuple(many(rng, 1)),
        4 => Ty::Variant(
            (0..1 + below(rng, 4))
                .map(|_| (below(rng, 3) != 0).then(|| sub(rng)))
                .collect(),
        ),
        5 => Ty::Option(Box::new(sub(rng))),
        6 => {
            let side = |rng: &mut SplitMix64| (below(rng, 3) != 0).then(|| Box::new(sub(rng)));
            Ty::Result(side(rng), side(rng))
        }
        7 => Ty::Enum(1 + below(rng, 5) as u32),
        _ => Ty::Flags(flags_width(rng)),
    }
}

/// A flags width from each of the three representations (one, two or four
/// bytes), edges included.
fn flags_width(rng: &mut SplitMix64) -> u32 {
    const WIDTHS: [u32; 9] = [1, 3, 8, 9, 16, 17, 24, 31, 32];
    WIDTHS[below(rng, WIDTHS.len() as u64) as usize]
}

/// A type with no parts: a scalar, a string, or a handle (one draw in
/// twelve, a borrow only at a [`Place::Param`]).
fn scalar(rng: &mut SplitMix64, place: Place) -> Ty {
    const SCALARS: [Ty; 13] = [
        Ty::Bool,
        Ty::S8,
        Ty::U8,
        Ty::S16,
        Ty::U16,
        Ty::S32,
        Ty::U32,
        Ty::S64,
        Ty::U64,
        Ty::F32,
        Ty::F64,
        Ty::Char,
        Ty::String,
    ];
    // Strings are what transcoding is about: one draw in four.
    if below(rng, 4) == 0 {
        return Ty::String;
    }
    if below(rng, 12) == 0 {
        return match place {
            Place::Param if rng.next_u64() & 1 == 0 => Ty::Borrow,
            _ => Ty::Own,
        };
    }
    SCALARS[below(rng, SCALARS.len() as u64) as usize].clone()
}

/// A uniform draw below `n` (`n > 0`).
pub fn below(rng: &mut SplitMix64, n: u64) -> u64 {
    rng.next_u64() % n
}

/// A function type's parameters and result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncTy {
    pub params: Vec<Ty>,
    pub result: Option<Ty>,
}

impl FuncTy {
    /// A random function type: up to seven parameters (sometimes many
    /// flat values, so that parameters spill to memory) and a result in four
    /// cases out of five.
    pub fn arbitrary(rng: &mut SplitMix64) -> FuncTy {
        let params = (0..below(rng, 8))
            .map(|_| arbitrary(rng, MAX_DEPTH, Place::Param))
            .collect();
        let result = (below(rng, 5) != 0).then(|| arbitrary(rng, MAX_DEPTH, Place::Other));
        FuncTy { params, result }
    }

    /// The alignments the Canonical ABI passes to `realloc` in a memory this
    /// type's values are lowered into, sorted: `string_align` for strings (1
    /// in UTF-8, 2 in either UTF-16 encoding: `store_string`), each list's
    /// element alignment (`store_list`), and the parameters' tuple when they
    /// spill (`lower_flat_values`).
    pub fn realloc_alignments(&self, string_align: u32) -> Vec<u32> {
        let mut all = Vec::new();
        for t in self.params.iter().chain(&self.result) {
            t.allocations(string_align, &mut all);
        }
        if self.params_spill() {
            all.push(alignment(&self.params_tuple()));
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Whether the type passes handles, so the case's host defines the
    /// resource `r`.
    pub fn has_handles(&self) -> bool {
        self.params.iter().chain(&self.result).any(Ty::has_handles)
    }

    /// Where each borrow of the parameters is, in order: the index of its
    /// flat value, or its offset in the spilled parameters.
    pub fn borrows(&self) -> Vec<u32> {
        if self.params_spill() {
            let mut offsets = Vec::new();
            borrow_offsets(&self.params_tuple(), 0, &mut offsets);
            return offsets;
        }
        let flat: Vec<bool> = self.params.iter().flat_map(flat_borrows).collect();
        (0..flat.len() as u32)
            .filter(|&i| flat[i as usize])
            .collect()
    }

    pub fn flat_params(&self) -> Vec<Flat> {
        self.params.iter().flat_map(flatten).collect()
    }

    pub fn flat_result(&self) -> Vec<Flat> {
        self.result.iter().flat_map(flatten).collect()
    }

    /// Whether the parameters are passed in memory (MAX_FLAT_PARAMS).
    pub fn params_spill(&self) -> bool {
        self.flat_params().len() > MAX_FLAT_PARAMS
    }

    /// Whether the result is returned in memory (MAX_FLAT_RESULTS).
    pub fn result_spills(&self) -> bool {
        self.flat_result().len() > MAX_FLAT_RESULTS
    }

    /// The parameters as one tuple: how spilled parameters are laid out.
    pub fn params_tuple(&self) -> Ty {
        Ty::Tuple(self.params.clone())
    }
}

impl Ty {
    /// The alignments lowering a value of this type passes to `realloc`
    /// (see [`FuncTy::realloc_alignments`]), added to `out`.
    fn allocations(&self, string_align: u32, out: &mut Vec<u32>) {
        let mut parts = |ts: &mut dyn Iterator<Item = &Ty>| {
            ts.for_each(|t| t.allocations(string_align, out));
        };
        match self {
            Ty::String => out.push(string_align),
            Ty::List(e) => {
                out.push(alignment(e));
                e.allocations(string_align, out);
            }
            Ty::Option(t) => t.allocations(string_align, out),
            Ty::Record(ts) | Ty::Tuple(ts) => parts(&mut ts.iter()),
            Ty::Variant(cs) => parts(&mut cs.iter().flatten()),
            Ty::Result(ok, err) => parts(&mut ok.iter().chain(err).map(|t| &**t)),
            _ => {}
        }
    }

    /// Whether a value of this type may hold a handle.
    pub fn has_handles(&self) -> bool {
        match self {
            Ty::Own | Ty::Borrow => true,
            Ty::List(t) | Ty::Option(t) => t.has_handles(),
            Ty::Record(ts) | Ty::Tuple(ts) => ts.iter().any(Ty::has_handles),
            Ty::Variant(cs) => cs.iter().flatten().any(Ty::has_handles),
            Ty::Result(ok, err) => ok.iter().chain(err).any(|t| t.has_handles()),
            _ => false,
        }
    }
}

/// Which flat values of `t` are borrows (found only in records and tuples:
/// see [`Place`]).
fn flat_borrows(t: &Ty) -> Vec<bool> {
    match t {
        Ty::Borrow => vec![true],
        Ty::Record(ts) | Ty::Tuple(ts) => ts.iter().flat_map(flat_borrows).collect(),
        _ => vec![false; flatten(t).len()],
    }
}

/// The offsets of the borrows of `t` stored at `at`.
fn borrow_offsets(t: &Ty, at: u32, out: &mut Vec<u32>) {
    match t {
        Ty::Borrow => out.push(at),
        Ty::Record(ts) | Ty::Tuple(ts) => {
            let mut offset = at;
            for part in ts {
                offset = align_to(offset, alignment(part));
                borrow_offsets(part, offset, out);
                offset += size(part);
            }
        }
        _ => {}
    }
}

pub const MAX_FLAT_PARAMS: usize = 16;
pub const MAX_FLAT_RESULTS: usize = 1;

/// `flatten_type` of the Canonical ABI.
pub fn flatten(t: &Ty) -> Vec<Flat> {
    match t {
        Ty::Bool
        | Ty::S8
        | Ty::U8
        | Ty::S16
        | Ty::U16
        | Ty::S32
        | Ty::U32
        | Ty::Char
        | Ty::Own
        | Ty::Borrow => vec![Flat::I32],
        Ty::S64 | Ty::U64 => vec![Flat::I64],
        Ty::F32 => vec![Flat::F32],
        Ty::F64 => vec![Flat::F64],
        Ty::String | Ty::List(_) => vec![Flat::I32, Flat::I32],
        Ty::Record(ts) | Ty::Tuple(ts) => ts.iter().flat_map(flatten).collect(),
        Ty::Enum(_) | Ty::Flags(_) => vec![Flat::I32],
        _ => flatten_variant(&cases(t)),
    }
}

/// The cases of a variant-like type (variant, option, result), by payload.
fn cases(t: &Ty) -> Vec<Option<&Ty>> {
    match t {
        Ty::Variant(cs) => cs.iter().map(Option::as_ref).collect(),
        Ty::Option(t) => vec![None, Some(t)],
        Ty::Result(ok, err) => vec![ok.as_deref(), err.as_deref()],
        Ty::Enum(n) => vec![None; *n as usize],
        _ => unreachable!("{t:?} has no cases"),
    }
}

fn flatten_variant(cases: &[Option<&Ty>]) -> Vec<Flat> {
    let mut flat: Vec<Flat> = Vec::new();
    for payload in cases.iter().flatten() {
        for (i, ft) in flatten(payload).into_iter().enumerate() {
            match flat.get_mut(i) {
                Some(have) => *have = join(*have, ft),
                None => flat.push(ft),
            }
        }
    }
    let mut all = vec![Flat::I32];
    all.extend(flat);
    all
}

fn join(a: Flat, b: Flat) -> Flat {
    match (a, b) {
        _ if a == b => a,
        (Flat::I32, Flat::F32) | (Flat::F32, Flat::I32) => Flat::I32,
        _ => Flat::I64,
    }
}

/// `alignment` of the Canonical ABI.
pub fn alignment(t: &Ty) -> u32 {
    match t {
        Ty::Bool | Ty::S8 | Ty::U8 => 1,
        Ty::S16 | Ty::U16 => 2,
        Ty::S32 | Ty::U32 | Ty::F32 | Ty::Char | Ty::String | Ty::List(_) => 4,
        Ty::Own | Ty::Borrow => 4,
        Ty::S64 | Ty::U64 | Ty::F64 => 8,
        Ty::Record(ts) | Ty::Tuple(ts) => ts.iter().map(alignment).max().unwrap_or(1),
        Ty::Flags(n) => flags_size(*n),
        _ => {
            let cs = cases(t);
            let payload = cs.iter().flatten().map(|t| alignment(t)).max();
            discriminant_size(cs.len()).max(payload.unwrap_or(1))
        }
    }
}

/// `elem_size` of the Canonical ABI.
pub fn size(t: &Ty) -> u32 {
    match t {
        Ty::Bool | Ty::S8 | Ty::U8 => 1,
        Ty::S16 | Ty::U16 => 2,
        Ty::S32 | Ty::U32 | Ty::F32 | Ty::Char | Ty::Own | Ty::Borrow => 4,
        Ty::S64 | Ty::U64 | Ty::F64 | Ty::String | Ty::List(_) => 8,
        Ty::Record(ts) | Ty::Tuple(ts) => {
            let end = ts
                .iter()
                .fold(0, |s, t| align_to(s, alignment(t)) + size(t));
            align_to(end, alignment(t))
        }
        Ty::Flags(n) => flags_size(*n),
        _ => {
            let cs = cases(t);
            let payload_align = cs.iter().flatten().map(|t| alignment(t)).max();
            let start = align_to(discriminant_size(cs.len()), payload_align.unwrap_or(1));
            let payload = cs.iter().flatten().map(|t| size(t)).max().unwrap_or(0);
            align_to(start + payload, alignment(t))
        }
    }
}

/// What a flat value or a byte of a value may hold, for faults that flip
/// bits: flipping some would make an outcome the spec leaves to each engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Anything else: flipping it is the spec's business alone.
    Data,
    /// A pointer or a length (of a string or list), or a handle index:
    /// flipped within bounds, what is found there depends on each engine's
    /// allocations, so faults push it only out of bounds.
    Address,
    /// A float: a NaN's payload is each engine's choice when it is lowered
    /// (`maybe_scramble_nan`), so faults leave it alone.
    Float,
}

/// The role of each flat value of `t`: in a variant, the strongest of any
/// case's at that place.
pub fn flat_roles(t: &Ty) -> Vec<Role> {
    match t {
        Ty::String | Ty::List(_) => vec![Role::Address; 2],
        Ty::Own | Ty::Borrow => vec![Role::Address],
        Ty::F32 | Ty::F64 => vec![Role::Float],
        Ty::Record(ts) | Ty::Tuple(ts) => ts.iter().flat_map(flat_roles).collect(),
        Ty::Variant(_) | Ty::Option(_) | Ty::Result(..) => {
            let mut slots = vec![Role::Data];
            for payload in cases(t).into_iter().flatten() {
                for (i, role) in flat_roles(payload).into_iter().enumerate() {
                    match slots.get_mut(i + 1) {
                        Some(slot) => *slot = (*slot).max(role),
                        None => slots.push(role),
                    }
                }
            }
            slots
        }
        _ => vec![Role::Data],
    }
}

/// The role of each byte of `t` in memory (as [`flat_roles`]); padding
/// and discriminants are data.
pub fn byte_roles(t: &Ty) -> Vec<Role> {
    let mut bytes = vec![Role::Data; size(t) as usize];
    let mut mark = |offset: u32, part: &Ty| {
        for (i, role) in byte_roles(part).into_iter().enumerate() {
            let byte = &mut bytes[offset as usize + i];
            *byte = (*byte).max(role);
        }
    };
    match t {
        Ty::String | Ty::List(_) => return vec![Role::Address; 8],
        Ty::Own | Ty::Borrow => return vec![Role::Address; 4],
        Ty::F32 => return vec![Role::Float; 4],
        Ty::F64 => return vec![Role::Float; 8],
        Ty::Record(ts) | Ty::Tuple(ts) => {
            let mut offset = 0;
            for part in ts {
                offset = align_to(offset, alignment(part));
                mark(offset, part);
                offset += size(part);
            }
        }
        Ty::Variant(_) | Ty::Option(_) | Ty::Result(..) => {
            let cs = cases(t);
            let payload_align = cs.iter().flatten().map(|t| alignment(t)).max();
            let offset = align_to(discriminant_size(cs.len()), payload_align.unwrap_or(1));
            cs.into_iter().flatten().for_each(|part| mark(offset, part));
        }
        _ => {}
    }
    bytes
}

pub fn align_to(n: u32, align: u32) -> u32 {
    n.div_ceil(align) * align
}

fn discriminant_size(cases: usize) -> u32 {
    match cases {
        0..=256 => 1,
        257..=65536 => 2,
        _ => 4,
    }
}

fn flags_size(n: u32) -> u32 {
    match n {
        0..=8 => 1,
        9..=16 => 2,
        _ => 4,
    }
}

/// The named (nominal) types a function type refers to, each after the
/// types it is made of: records, variants, enums and flags must be named by
/// an import or export to appear in one (the component model's validation).
/// A function type with handles names the host's resource `r` too.
#[derive(Default)]
pub struct Names {
    named: Vec<Ty>,
    resource: bool,
}

impl Names {
    pub fn of(func: &FuncTy) -> Names {
        let mut names = Names {
            resource: func.has_handles(),
            ..Names::default()
        };
        for t in func.params.iter().chain(&func.result) {
            names.visit(t);
        }
        names
    }

    /// The named types, in the order of their numbers (`tN` is `named()[N]`):
    /// bindings name their Rust types after them.
    pub fn named(&self) -> &[Ty] {
        &self.named
    }

    fn visit(&mut self, t: &Ty) {
        match t {
            Ty::List(e) | Ty::Option(e) => self.visit(e),
            Ty::Tuple(ts) => ts.iter().for_each(|t| self.visit(t)),
            Ty::Result(ok, err) => ok.iter().chain(err).for_each(|t| self.visit(t)),
            Ty::Record(ts) => {
                ts.iter().for_each(|t| self.visit(t));
                self.name(t);
            }
            Ty::Variant(cs) => {
                cs.iter().flatten().for_each(|t| self.visit(t));
                self.name(t);
            }
            Ty::Enum(_) | Ty::Flags(_) => self.name(t),
            _ => {}
        }
    }

    fn name(&mut self, t: &Ty) {
        if !self.named.contains(t) {
            self.named.push(t.clone());
        }
    }

    /// The text of `t`: a named type by its `$tN`, the others spelled out.
    pub fn wat(&self, t: &Ty) -> String {
        if let Some(i) = self.named.iter().position(|n| n == t) {
            return format!("$t{i}");
        }
        match t {
            Ty::Bool => "bool".into(),
            Ty::S8 => "s8".into(),
            Ty::U8 => "u8".into(),
            Ty::S16 => "s16".into(),
            Ty::U16 => "u16".into(),
            Ty::S32 => "s32".into(),
            Ty::U32 => "u32".into(),
            Ty::S64 => "s64".into(),
            Ty::U64 => "u64".into(),
            Ty::F32 => "f32".into(),
            Ty::F64 => "f64".into(),
            Ty::Char => "char".into(),
            Ty::String => "string".into(),
            Ty::Own => "(own $r)".into(),
            Ty::Borrow => "(borrow $r)".into(),
            Ty::List(e) => format!("(list {})", self.wat(e)),
            Ty::Tuple(ts) => format!("(tuple {})", self.list(ts)),
            Ty::Option(e) => format!("(option {})", self.wat(e)),
            Ty::Result(ok, err) => {
                let ok = ok
                    .as_ref()
                    .map_or(String::new(), |t| format!(" {}", self.wat(t)));
                let err = err
                    .as_ref()
                    .map_or(String::new(), |t| format!(" (error {})", self.wat(t)));
                format!("(result{ok}{err})")
            }
            _ => self.definition(t),
        }
    }

    fn list(&self, ts: &[Ty]) -> String {
        ts.iter().map(|t| self.wat(t)).collect::<Vec<_>>().join(" ")
    }

    /// The definition of a named type, its parts by name.
    fn definition(&self, t: &Ty) -> String {
        let mut text = String::new();
        match t {
            Ty::Record(ts) => {
                text.push_str("(record");
                for (i, t) in ts.iter().enumerate() {
                    let _ = write!(text, " (field \"f{i}\" {})", self.wat(t));
                }
            }
            Ty::Variant(cs) => {
                text.push_str("(variant");
                for (i, t) in cs.iter().enumerate() {
                    let payload = t
                        .as_ref()
                        .map_or(String::new(), |t| format!(" {}", self.wat(t)));
                    let _ = write!(text, " (case \"c{i}\"{payload})");
                }
            }
            Ty::Enum(n) => {
                text.push_str("(enum");
                for i in 0..*n {
                    let _ = write!(text, " \"e{i}\"");
                }
            }
            Ty::Flags(n) => {
                text.push_str("(flags");
                for i in 0..*n {
                    let _ = write!(text, " \"g{i}\"");
                }
            }
            _ => unreachable!("{t:?} is not a named type"),
        }
        text.push(')');
        text
    }

    /// The named types as declarations of an instance type: the resource
    /// `r` if any, then each type defined and exported with an equality
    /// bound as `tN`, binding `$tN`.
    pub fn instance_decls(&self) -> String {
        let r = "(export \"r\" (type $r (sub resource)))";
        self.decls(r, |i, def| {
            format!("(type $t{i}' {def}) (export \"t{i}\" (type $t{i} (eq $t{i}')))")
        })
    }

    /// The named types as a component with an import `$in` declares them:
    /// the imported resource `r` if any, exported again (so a component
    /// importing this one's instance finds it), then each type defined and
    /// exported as `tN`, the export binding `$tN`.
    pub fn component_decls(&self) -> String {
        let r = "(alias export $in \"r\" (type $r')) (export $r \"r\" (type $r'))";
        self.decls(r, |i, def| {
            format!("(type $t{i}' {def}) (export $t{i} \"t{i}\" (type $t{i}'))")
        })
    }

    /// The types [`Names::component_decls`] binds, as the exports of an
    /// instance made of them.
    pub fn exports(&self) -> String {
        let r = self
            .resource
            .then(|| "(export \"r\" (type $r))".to_string());
        let named = (0..self.named.len()).map(|i| format!("(export \"t{i}\" (type $t{i}))"));
        r.into_iter().chain(named).collect::<Vec<_>>().join(" ")
    }

    fn decls(&self, resource: &str, each: impl Fn(usize, String) -> String) -> String {
        let named = (0..self.named.len()).map(|i| each(i, self.definition(&self.named[i])));
        let lines: Vec<String> = (self.resource.then(|| resource.to_string()))
            .into_iter()
            .chain(named)
            .collect();
        lines.join("\n")
    }

    /// A function type in component text.
    pub fn func(&self, func: &FuncTy) -> String {
        let mut text = "(func".to_string();
        for (i, t) in func.params.iter().enumerate() {
            let _ = write!(text, " (param \"p{i}\" {})", self.wat(t));
        }
        if let Some(t) = &func.result {
            let _ = write!(text, " (result {})", self.wat(t));
        }
        text.push(')');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_the_canonical_abi() {
        // CanonicalABI.md's worked cases.
        let rec = Ty::Record(vec![Ty::U8, Ty::U32, Ty::U16]);
        assert_eq!((size(&rec), alignment(&rec)), (12, 4));
        let opt = Ty::Option(Box::new(Ty::U64));
        assert_eq!((size(&opt), alignment(&opt)), (16, 8));
        assert_eq!(flatten(&opt), vec![Flat::I32, Flat::I64]);
        let mixed = Ty::Variant(vec![Some(Ty::F32), Some(Ty::U32), None]);
        assert_eq!(flatten(&mixed), vec![Flat::I32, Flat::I32]);
        let wide = Ty::Result(Some(Box::new(Ty::F32)), Some(Box::new(Ty::F64)));
        assert_eq!(flatten(&wide), vec![Flat::I32, Flat::I64]);
        assert_eq!((size(&Ty::Flags(17)), size(&Ty::Flags(8))), (4, 1));
        assert_eq!(size(&Ty::Enum(3)), 1);
        assert_eq!(size(&Ty::Tuple(vec![])), 0);
    }

    #[test]
    fn roles_are_the_strongest_of_every_case() {
        let t = Ty::Tuple(vec![
            Ty::U8,
            Ty::Option(Box::new(Ty::String)),
            Ty::Variant(vec![
                Some(Ty::F32),
                Some(Ty::List(Box::new(Ty::U8))),
                Some(Ty::U32),
            ]),
        ]);
        let (d, a, f) = (Role::Data, Role::Address, Role::Float);
        assert_eq!(flat_roles(&t), vec![d, d, a, a, d, f, a]);
        let bytes = byte_roles(&t);
        assert_eq!(bytes.len(), 28);
        let of = |role| (0..28).filter(|&i| bytes[i] == role).collect::<Vec<_>>();
        assert_eq!(
            of(a),
            [(8..16).collect::<Vec<_>>(), (24..28).collect()].concat()
        );
        assert_eq!(of(f), (20..24).collect::<Vec<_>>());
    }

    #[test]
    fn named_types_are_declared_after_their_parts() {
        let inner = Ty::Enum(2);
        let outer = Ty::Record(vec![Ty::List(Box::new(inner.clone())), Ty::String]);
        let func = FuncTy {
            params: vec![outer.clone(), inner],
            result: Some(Ty::Option(Box::new(outer))),
        };
        let names = Names::of(&func);
        assert_eq!(
            names.component_decls(),
            "(type $t0' (enum \"e0\" \"e1\")) (export $t0 \"t0\" (type $t0'))\n\
             (type $t1' (record (field \"f0\" (list $t0)) (field \"f1\" string))) \
             (export $t1 \"t1\" (type $t1'))"
        );
        assert_eq!(
            names.func(&func),
            "(func (param \"p0\" $t1) (param \"p1\" $t0) (result (option $t1)))"
        );
    }
}
