//! A component case from its seed: the function type, each side's string
//! encoding and `post-return`, the fault if any, the value the host passes
//! (`v`) and the value it returns (`w`), and the outcome the Canonical ABI
//! prescribes where it can be told without running.

use super::super::generate::SplitMix64;
use super::super::outcome::Outcome;
use super::super::value::fnv1a;
use super::compose::{self, Encoding, Half, Parts};
use super::fault::{self, Fault, Side};
use super::ty::{below, FuncTy, Names};
use super::val::{self, Val};

/// One generated case.
pub struct Case {
    pub seed: u64,
    pub func: FuncTy,
    /// A's string encoding, then B's.
    pub encodings: [Encoding; 2],
    pub fault: Option<Fault>,
    /// The arguments the host passes to `g`.
    pub args: Vec<Val>,
    /// The result the host's `h` returns.
    pub result: Option<Val>,
    pub parts: Parts,
}

/// Case `seed`: everything drawn from one SplitMix64 stream, so the seed
/// alone reproduces it.
pub fn generate(seed: u64) -> Case {
    let mut rng = SplitMix64::new(seed);
    let func = FuncTy::arbitrary(&mut rng);
    let encodings = [0, 1].map(|_| Encoding::ALL[below(&mut rng, 3) as usize]);
    let fault = fault::arbitrary(&mut rng, &func);
    let post_return = [Side::A, Side::B].map(|side| {
        let needed = fault
            .as_ref()
            .is_some_and(|f| f.side() == side && f.needs_post_return());
        needed || rng.next_u64() & 1 == 0
    });
    let args = func
        .params
        .iter()
        .map(|t| val::arbitrary(&mut rng, t))
        .collect();
    let result = func.result.as_ref().map(|t| val::arbitrary(&mut rng, t));
    let names = Names::of(&func);
    let half = |side: Side, i: usize| Half {
        func: &func,
        names: &names,
        encoding: encodings[i],
        fault: fault.as_ref().filter(|f| f.side() == side),
        post_return: post_return[i],
    };
    let a = compose::component(Side::A, &half(Side::A, 0));
    let b = compose::component(Side::B, &half(Side::B, 1));
    Case {
        seed,
        encodings,
        parts: Parts {
            names,
            a,
            b,
            reenter: match fault {
                Some(Fault::Reenter(side)) => Some(side),
                _ => None,
            },
        },
        func,
        fault,
        args,
        result,
    }
}

impl Case {
    /// A digest of everything the case is: its components and its values.
    /// The recording keeps it, so a changed generator fails loudly.
    pub fn hash(&self) -> u64 {
        let text = format!(
            "{}\n{}\n{}\n{}",
            self.parts.a,
            self.parts.b,
            h_line(&self.args),
            g_line(Ok(self.result.as_ref()))
        );
        fnv1a(text.bytes())
    }

    /// The outcome the Canonical ABI prescribes, where the generator can tell
    /// it: every case without a fault (`h` gets `v`, `g` returns `w`), a
    /// trapping or clobbering `post-return`, a bad pointer to spilled
    /// parameters or results that the spec's checks refuse (before `h` for
    /// parameters, after it for results), and a `realloc` returning a
    /// pointer whose range wraps, which traps at the first allocation
    /// (`store_string`, `store_list`, spilled parameters; even an empty
    /// string or list is allocated), and a side that calls itself or A
    /// again, which traps before anything reaches `h`.
    pub fn expected(&self) -> Option<Outcome> {
        let normal = [h_line(&self.args), g_line(Ok(self.result.as_ref()))];
        let trap = g_line(Err(()));
        let result_traps =
            |bad: fault::BadPtr| self.func.result.as_ref().is_some_and(|t| bad.traps(t));
        let lines = match &self.fault {
            None | Some(Fault::PostClobber(_)) => normal.to_vec(),
            Some(Fault::PostTrap(_)) => vec![normal[0].clone(), trap],
            Some(Fault::Recurse(_) | Fault::Reenter(_)) => vec![trap],
            Some(Fault::ParamsPtr(_, bad)) if bad.traps(&self.func.params_tuple()) => vec![trap],
            Some(Fault::RetPtr(_, bad) | Fault::ReturnPtr(_, bad)) if result_traps(*bad) => {
                vec![normal[0].clone(), trap]
            }
            Some(Fault::Realloc(_, fault::BadPtr::Wrap)) => {
                let params = self.func.params_spill() || self.args.iter().any(Val::allocates);
                let result = self.result.as_ref().is_some_and(Val::allocates);
                match (params, result) {
                    (true, _) => vec![trap],
                    (false, true) => vec![normal[0].clone(), trap],
                    (false, false) => normal.to_vec(),
                }
            }
            Some(_) => return None,
        };
        let mut outcome = Outcome::default();
        outcome.lines.push(INSTANTIATED.to_string());
        outcome.lines.extend(lines);
        Some(outcome)
    }

    /// What the case exercises, for a run's closing counts: handles passed,
    /// and the kind of its fault.
    pub fn features(&self) -> Vec<String> {
        let mut features = Vec::new();
        let values = self.args.iter().chain(&self.result);
        if values.clone().any(Val::holds_own) {
            features.push("pass own handles".to_string());
        }
        if values.clone().any(Val::holds_borrow) {
            features.push("pass borrowed handles".to_string());
        }
        if let Some(fault) = &self.fault {
            let kind = format!("{fault:?}");
            let kind = kind.split('(').next().unwrap_or_default();
            features.push(format!("inject fault {kind}"));
        }
        features
    }

    /// A short description for reports: the type, the encodings, the
    /// fault and the values.
    pub fn describe(&self) -> String {
        let [a, b] = self.encodings.map(Encoding::name);
        format!(
            "{} encodings A {a}, B {b}; fault {:?}; {}, {}",
            self.parts.names.func(&self.func),
            self.fault,
            h_line(&self.args),
            g_line(Ok(self.result.as_ref()))
        )
    }
}

/// The outcome line of a successful instantiation.
pub const INSTANTIATED: &str = "instantiate: ok";

/// The outcome line of `h`'s arguments as an engine gave them: converted to
/// the case's values, or why one is not one.
pub fn h_received<E: std::fmt::Display>(args: Result<Vec<Val>, E>) -> String {
    args.map_or_else(|e| format!("h: unexpected value {e}"), |a| h_line(&a))
}

/// The outcome line of the host's `h` receiving `args`.
pub fn h_line(args: &[Val]) -> String {
    let args: Vec<String> = args.iter().map(Val::to_string).collect();
    format!("h: ({})", args.join(", "))
}

/// The outcome line of the host's call of `g`: its result, or a trap.
pub fn g_line(result: Result<Option<&Val>, ()>) -> String {
    match result {
        Ok(Some(v)) => format!("g: {v}"),
        Ok(None) => "g: returned".to_string(),
        Err(()) => "g: trap".to_string(),
    }
}

/// The composition of `cases` (a batch), as component text.
pub fn batch_text(cases: &[&Case]) -> String {
    let parts: Vec<(&FuncTy, &Parts)> = cases.iter().map(|c| (&c.func, &c.parts)).collect();
    compose::batch(&parts)
}

/// The composition of `cases` (a batch), as a binary both engines load.
pub fn batch_wasm(cases: &[&Case]) -> Result<Vec<u8>, String> {
    wat::parse_str(batch_text(cases)).map_err(|e| {
        let seeds: Vec<u64> = cases.iter().map(|c| c.seed).collect();
        format!("seeds {seeds:?}: the generated text does not parse: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_reproducible_and_valid() {
        for seed in 0..40 {
            let case = generate(seed);
            assert_eq!(case.hash(), generate(seed).hash());
            let wasm = batch_wasm(&[&case]).unwrap();
            rivet_build::validate_component(&wasm, &Default::default())
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", case.parts.a));
        }
        assert_ne!(generate(1).hash(), generate(2).hash());
    }

    #[test]
    fn faultless_cases_expect_the_values_through() {
        let case = (0..).map(generate).find(|c| c.fault.is_none()).unwrap();
        let expected = case.expected().unwrap();
        assert_eq!(expected.lines[0], INSTANTIATED);
        assert_eq!(expected.lines[1], h_line(&case.args));
        assert_eq!(expected.lines[2], g_line(Ok(case.result.as_ref())));
    }
}
