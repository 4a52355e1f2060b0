//! The corpus's test code, as Rust source: per case, the host's `h` as an
//! impl of the bindings' host trait, and a test calling `g` through the
//! bindings. Values are written as Rust expressions of the bindings' types,
//! so that the bindings lower and lift them, not the dynamic API.

use crate::corpus::{type_name, Entry, Expect};
use rivet_descriptor::component::Component as Plan;
use rivet_tests::differential::component::ty::Ty;
use rivet_tests::differential::component::val::Val;

/// The struct name `rivet::component!` is given (`src/lib.rs`): the prefix
/// of every generated name.
const PREFIX: &str = "Corpus";

/// The Rust names the bindings give the corpus's records, variants, enums
/// and flags, and the handle types of the cases' resources.
pub struct RustNames {
    /// Each named type, the case whose resource its handles are of (if it
    /// holds any: the bindings tell apart types equal but for the
    /// resource), and its Rust name.
    named: Vec<(Ty, Option<usize>, String)>,
    /// Per case, the handle type of its host's resource `r`, if it has
    /// handles.
    handles: Vec<Option<String>>,
}

impl RustNames {
    /// The names as the bindings choose them (rivet-macro's `types.rs`): a
    /// type is named after the first of the plan's type names whose type is
    /// structurally equal to it, as `<Struct><CamelCase name>`; the corpus
    /// names each `case{i}-t{N}` ([`type_name`]), so none clash.
    pub fn of(plan: &Plan, corpus: &[Entry]) -> RustNames {
        let mut named: Vec<(Ty, Option<usize>, String)> = Vec::new();
        for (_, full) in plan.type_names.iter() {
            let name = full.rsplit('#').next().unwrap_or(full);
            let (i, n) = parse_type_name(name)
                .unwrap_or_else(|| panic!("the plan names a type `{full}` the corpus did not"));
            assert_eq!(name, type_name(i, n));
            let t = &corpus[i].case.parts.names.named()[n];
            let owner = t.has_handles().then_some(i);
            if !named.iter().any(|(u, o, _)| u == t && *o == owner) {
                named.push((t.clone(), owner, format!("{PREFIX}Case{i}T{n}")));
            }
        }
        RustNames {
            named,
            handles: handle_names(plan, corpus),
        }
    }

    /// The names as case `i` of the corpus sees them.
    pub fn case(&self, i: usize) -> CaseNames<'_> {
        CaseNames {
            names: self,
            case: i,
        }
    }

    /// The Rust name of `t`, a record, variant, enum or flags type of case
    /// `case`.
    fn name(&self, t: &Ty, case: usize) -> &str {
        let owner = t.has_handles().then_some(case);
        let found = self.named.iter().find(|(u, o, _)| u == t && *o == owner);
        &found
            .unwrap_or_else(|| panic!("the plan names no type equal to {t:?} of case {case}"))
            .2
    }
}

/// The handle type of each case's resource, named as the bindings name a
/// resource's handles (rivet-macro's `Types::new`): `<Struct><Resource>`
/// for the plan's first resource of that name, `<Struct><Resource><index
/// in the plan>` for the others. Every resource of the corpus is a case's
/// `r`, imported from the host as `host{i}#r`, and only a case with
/// handles has one.
fn handle_names(plan: &Plan, corpus: &[Entry]) -> Vec<Option<String>> {
    let mut handles = vec![None; corpus.len()];
    for (k, r) in plan.resources.iter().enumerate() {
        let i = (r.name.strip_prefix("host"))
            .and_then(|rest| rest.strip_suffix("#r"))
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|_| r.imported)
            .unwrap_or_else(|| panic!("the plan has a resource `{}` of no case", r.name));
        let name = match k {
            0 => format!("{PREFIX}R"),
            _ => format!("{PREFIX}R{k}"),
        };
        assert!(handles[i].replace(name).is_none(), "case {i} has two `r`s");
    }
    for (i, (entry, handle)) in corpus.iter().zip(&handles).enumerate() {
        let (has, found) = (entry.case.func.has_handles(), handle.is_some());
        assert_eq!(has, found, "case {i}: has handles, the plan has its `r`");
    }
    handles
}

/// The Rust names of one case: its named types and its resource's handle
/// type.
pub struct CaseNames<'a> {
    names: &'a RustNames,
    case: usize,
}

impl CaseNames<'_> {
    /// The Rust name of `t`, a record, variant, enum or flags type.
    fn name(&self, t: &Ty) -> &str {
        self.names.name(t, self.case)
    }

    /// The handle type of the case's resource `r`.
    fn handle(&self) -> &str {
        let handle = self.names.handles[self.case].as_deref();
        handle.unwrap_or_else(|| panic!("case {} has no resource", self.case))
    }

    /// The owned Rust type of `t` in the bindings.
    fn rust_type(&self, t: &Ty) -> String {
        let payload = |p: &Option<Box<Ty>>| p.as_ref().map_or("()".into(), |t| self.rust_type(t));
        match t {
            Ty::Bool => "bool".into(),
            Ty::S8 => "i8".into(),
            Ty::U8 => "u8".into(),
            Ty::S16 => "i16".into(),
            Ty::U16 => "u16".into(),
            Ty::S32 => "i32".into(),
            Ty::U32 => "u32".into(),
            Ty::S64 => "i64".into(),
            Ty::U64 => "u64".into(),
            Ty::F32 => "f32".into(),
            Ty::F64 => "f64".into(),
            Ty::Char => "char".into(),
            Ty::String => "String".into(),
            Ty::List(e) => format!("Vec<{}>", self.rust_type(e)),
            Ty::Option(e) => format!("Option<{}>", self.rust_type(e)),
            Ty::Result(ok, err) => format!("Result<{}, {}>", payload(ok), payload(err)),
            Ty::Tuple(ts) => format!("({})", tuple(ts.iter().map(|t| self.rust_type(t)))),
            Ty::Record(_) | Ty::Variant(_) | Ty::Enum(_) | Ty::Flags(_) => self.name(t).into(),
            Ty::Own | Ty::Borrow => self.handle().into(),
            #[allow(unreachable_patterns)]
            _ => unreachable!("{t:?} is not supported (see `bindable`)"),
        }
    }

    /// The Rust expression of value `v` of type `t`, owned.
    fn value(&self, t: &Ty, v: &Val) -> String {
        let payload = |t: Option<&Ty>, p: &Option<Box<Val>>| match (t, p) {
            (Some(t), Some(v)) => self.value(t, v),
            (None, None) => "()".into(),
            _ => panic!("a payload of {t:?} is {p:?}"),
        };
        match (t, v) {
            (_, Val::Bool(x)) => x.to_string(),
            (_, Val::S8(x)) => format!("{x}i8"),
            (_, Val::U8(x)) => format!("{x}u8"),
            (_, Val::S16(x)) => format!("{x}i16"),
            (_, Val::U16(x)) => format!("{x}u16"),
            (_, Val::S32(x)) => format!("{x}i32"),
            (_, Val::U32(x)) => format!("{x}u32"),
            (_, Val::S64(x)) => format!("{x}i64"),
            (_, Val::U64(x)) => format!("{x}u64"),
            (_, Val::F32(bits)) => format!("f32::from_bits({bits:#x})"),
            (_, Val::F64(bits)) => format!("f64::from_bits({bits:#x})"),
            (_, Val::Char(c)) => format!("'\\u{{{:x}}}'", u32::from(*c)),
            (_, Val::String(s)) => format!("String::from({s:?})"),
            (Ty::List(e), Val::List(vs)) => {
                format!("vec![{}]", joined(vs.iter().map(|v| self.value(e, v))))
            }
            (Ty::Tuple(ts), Val::Tuple(vs)) => {
                format!(
                    "({})",
                    tuple(ts.iter().zip(vs).map(|(t, v)| self.value(t, v)))
                )
            }
            (Ty::Record(ts), Val::Record(fs)) => {
                let fields = ts.iter().zip(fs);
                let fields = fields.map(|(t, (f, v))| format!("{f}: {}", self.value(t, v)));
                format!("{} {{ {} }}", self.name(t), joined(fields))
            }
            (Ty::Variant(cs), Val::Variant(c, p)) => {
                let case = format!("{}::{}", self.name(t), camel(c));
                match (&cs[label_number(c, 'c')], p) {
                    (Some(t), Some(v)) => format!("{case}({})", self.value(t, v)),
                    (None, None) => case,
                    _ => panic!("case {c} of {t:?} has payload {p:?}"),
                }
            }
            (Ty::Enum(_), Val::Enum(e)) => format!("{}::{}", self.name(t), camel(e)),
            (Ty::Flags(n), Val::Flags(set)) => {
                let flags = (0..*n).map(|i| {
                    let flag = format!("g{i}");
                    format!("{flag}: {}", set.contains(&flag))
                });
                format!("{} {{ {} }}", self.name(t), joined(flags))
            }
            (Ty::Option(_), Val::Option(None)) => "None".into(),
            (Ty::Option(e), Val::Option(Some(v))) => format!("Some({})", self.value(e, v)),
            (Ty::Result(ok, _), Val::Result(Ok(p))) => format!("Ok({})", payload(ok.as_deref(), p)),
            (Ty::Result(_, err), Val::Result(Err(p))) => {
                format!("Err({})", payload(err.as_deref(), p))
            }
            // One handle type for own and borrow: the function's type says
            // which the runtime passes.
            (Ty::Own, Val::Own(rep)) | (Ty::Borrow, Val::Borrow(rep)) => {
                format!("{}::new({rep})", self.handle())
            }
            _ => panic!("{v:?} is no value of {t:?}"),
        }
    }

    /// The Rust expression of `v` as an argument of an export call: strings
    /// and lists borrowed (`&str`, `&[T]`), the rest owned.
    fn argument(&self, t: &Ty, v: &Val) -> String {
        match (t, v) {
            (Ty::String, Val::String(s)) => format!("{s:?}"),
            (Ty::List(e), Val::List(vs)) => {
                format!("&[{}]", joined(vs.iter().map(|v| self.value(e, v))))
            }
            _ => self.value(t, v),
        }
    }
}

/// `case3-t0` → `(3, 0)`.
fn parse_type_name(name: &str) -> Option<(usize, usize)> {
    let (case, t) = name.strip_prefix("case")?.split_once("-t")?;
    Some((case.parse().ok()?, t.parse().ok()?))
}

/// The number of a positional label: `c2` → 2.
fn label_number(label: &str, letter: char) -> usize {
    let digits = label.strip_prefix(letter).and_then(|n| n.parse().ok());
    digits.unwrap_or_else(|| panic!("`{label}` is no `{letter}N` label"))
}

/// A positional label as the bindings name a case: `c2` → `C2`.
fn camel(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map_or(String::new(), |c| {
        c.to_ascii_uppercase().to_string() + chars.as_str()
    })
}

fn joined(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// Tuple members: a one-element tuple needs its trailing comma.
fn tuple(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    match &items[..] {
        [one] => format!("{one},"),
        _ => items.join(", "),
    }
}

/// The Rust source of the corpus's tests: the host's `h` of every case, and
/// one test per case.
pub fn tests(corpus: &[Entry], names: &RustNames) -> String {
    let mut out = String::new();
    for (i, entry) in corpus.iter().enumerate() {
        out.push_str(&host(i, entry, &names.case(i)));
        out.push_str(&test(i, entry, &names.case(i)));
    }
    out
}

/// Case `i`'s host trait: `h` records whether it received exactly the
/// case's arguments (a handle's rep compared), and returns the case's
/// result; where the case has handles, the destructor of its resource `r`
/// records each call.
fn host(i: usize, entry: &Entry, names: &CaseNames) -> String {
    let func = &entry.case.func;
    let params = func.params.iter().enumerate();
    let params: Vec<String> = params
        .map(|(p, t)| format!("p{p}: {}", names.rust_type(t)))
        .collect();
    let checks = func.params.iter().zip(&entry.case.args).enumerate();
    let checks = checks.map(|(p, (t, v))| format!("same(\"p{p}\", &p{p}, {})", names.value(t, v)));
    let (result_ty, result) = match (&func.result, &entry.case.result) {
        (Some(t), Some(v)) => (names.rust_type(t), names.value(t, v)),
        (None, None) => ("()".into(), "()".into()),
        _ => panic!("seed {}: the result does not fit the type", entry.case.seed),
    };
    let drop = match func.has_handles() {
        true => format!(
            "fn r_drop(&mut self, handle: {}) -> Result<(), rivet::Trap> {{\n\
             self.dropped({i}, handle.rep());\n\
             Ok(())\n}}\n",
            names.handle()
        ),
        false => String::new(),
    };
    format!(
        "impl {PREFIX}Host{i}Host for Host {{\n\
         fn h(&mut self, {}) -> Result<{result_ty}, rivet::Trap> {{\n\
         self.reached({i}, vec![{}]);\n\
         Ok({result})\n}}\n{drop}}}\n",
        params.join(", "),
        joined(checks),
    )
}

/// The test of case `i`: `g` called with the case's arguments, then what the
/// spec prescribes ([`Expect`]) asserted; for a case with handles, also
/// that the host's destructor never ran (see `Run::nothing_dropped`).
fn test(i: usize, entry: &Entry, names: &CaseNames) -> String {
    let case = &entry.case;
    let args = case.func.params.iter().zip(&case.args);
    let args = joined(args.map(|(t, v)| names.argument(t, v)));
    let args = if args.is_empty() {
        args
    } else {
        format!(", {args}")
    };
    let Expect { h, returns } = entry.expect;
    let reached = match h {
        true => format!("run.h_reached({i});"),
        false => "run.h_not_reached();".into(),
    };
    let outcome = match (returns, &case.func.result, &case.result) {
        (true, Some(t), Some(v)) => format!("returned(got, {});", names.value(t, v)),
        (true, ..) => "returned(got, ());".into(),
        (false, ..) => "trapped(got);".into(),
    };
    let drops = match case.func.has_handles() {
        true => "\nrun.nothing_dropped();",
        false => "",
    };
    let doc = format!(
        "Seed {} (case {i} of the batch): `{}`.",
        case.seed,
        case.describe()
    );
    format!(
        "#[doc = {doc:?}]\n#[test]\nfn seed_{}() {{\n\
         let mut run = Run::new();\n\
         let got = run.corpus.api{i}().g(&mut run.store{args});\n\
         {reached}\n{outcome}{drops}\n}}\n",
        case.seed
    )
}
