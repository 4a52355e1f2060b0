//! Component values the host passes and receives, and checking them against types.

use super::types::{ResourceType, Type};
use crate::error::Trap;
use crate::prelude::*;

/// A component value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    S8(i8),
    U8(u8),
    S16(i16),
    U16(u16),
    S32(i32),
    U32(u32),
    S64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
    Char(char),
    String(String),
    List(Vec<Value>),
    /// `map<k, v>` entries in order; duplicate keys are kept as the guest
    /// sent them (the Canonical ABI does not deduplicate).
    Map(Vec<(Value, Value)>),
    Record(Vec<(String, Value)>),
    Tuple(Vec<Value>),
    Variant(String, Option<Box<Value>>),
    Enum(String),
    Option(Option<Box<Value>>),
    Result(Result<Option<Box<Value>>, Option<Box<Value>>>),
    /// Names of the set flags.
    Flags(Vec<String>),
    Own(ResourceAny),
    Borrow(ResourceAny),
}

/// A handle the host holds to a resource.
///
/// For a resource a component defines, it is an entry of the host-side handle
/// table of one instantiation: the guest's representation stays hidden and the
/// spec's ownership rules are checked on every use. For a resource type the
/// host defines (one the component imports), the host is the one that gives
/// representations meaning, so the handle simply carries the host's `u32`
/// representation (an index into the host's own table, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceAny {
    /// The instantiation whose host table holds the handle (index of its state
    /// in the store); `None` for a host-defined resource.
    pub(crate) owner: Option<usize>,
    /// Index in that instantiation's host handle table, or the host's
    /// representation for a host-defined resource.
    pub(crate) index: u32,
    pub(crate) ty: ResourceType,
}

impl ResourceAny {
    /// A handle to a resource of host-defined type `ty` (see
    /// [`crate::Component::resource_type`]) with the host's representation
    /// `rep`. Passed as `own`, it moves into the guest's handle table; when
    /// the guest drops it, the destructor given to
    /// [`crate::ComponentImports::resource`] receives `rep`.
    pub fn host(ty: ResourceType, rep: u32) -> ResourceAny {
        ResourceAny {
            owner: None,
            index: rep,
            ty,
        }
    }

    /// The resource type of the handle.
    pub fn ty(&self) -> ResourceType {
        self.ty
    }

    /// The host's representation, for a handle to a host-defined resource.
    pub fn host_rep(&self) -> Option<u32> {
        self.owner.is_none().then_some(self.index)
    }
}

/// Checks that `v` has type `t`; the error names the path to the mismatch.
pub(crate) fn check(v: &Value, t: &Type) -> Result<(), Trap> {
    check_at(v, t, "value")
}

fn check_at(v: &Value, t: &Type, path: &str) -> Result<(), Trap> {
    let ok = match (v, t) {
        (Value::Bool(_), Type::Bool)
        | (Value::S8(_), Type::S8)
        | (Value::U8(_), Type::U8)
        | (Value::S16(_), Type::S16)
        | (Value::U16(_), Type::U16)
        | (Value::S32(_), Type::S32)
        | (Value::U32(_), Type::U32)
        | (Value::S64(_), Type::S64)
        | (Value::U64(_), Type::U64)
        | (Value::F32(_), Type::F32)
        | (Value::F64(_), Type::F64)
        | (Value::Char(_), Type::Char)
        | (Value::String(_), Type::String) => true,
        (Value::List(vs), Type::List(e)) => {
            for (i, v) in vs.iter().enumerate() {
                check_at(v, e, &format!("{path}[{i}]"))?;
            }
            true
        }
        (Value::Map(entries), Type::Map(kt, vt)) => {
            for (i, (k, v)) in entries.iter().enumerate() {
                check_at(k, kt, &format!("{path}[{i}].key"))?;
                check_at(v, vt, &format!("{path}[{i}].value"))?;
            }
            true
        }
        (Value::Record(fs), Type::Record(ts)) => {
            check_len(fs.len(), ts.len(), path)?;
            for ((n, v), (tn, t)) in fs.iter().zip(ts) {
                if n != tn {
                    return Err(mismatch(path, &format!("field `{tn}`"), &format!("`{n}`")));
                }
                check_at(v, t, &format!("{path}.{n}"))?;
            }
            true
        }
        (Value::Tuple(vs), Type::Tuple(ts)) => {
            check_len(vs.len(), ts.len(), path)?;
            for (i, (v, t)) in vs.iter().zip(ts).enumerate() {
                check_at(v, t, &format!("{path}.{i}"))?;
            }
            true
        }
        (Value::Variant(name, payload), Type::Variant(cases)) => {
            let case = cases.iter().find(|(n, _)| n == name).ok_or_else(|| {
                Trap::host(format!("{path}: `{name}` is not a case of the variant"))
            })?;
            check_payload(
                payload.as_deref(),
                case.1.as_ref(),
                &format!("{path}.{name}"),
            )?;
            true
        }
        (Value::Enum(name), Type::Enum(names)) => {
            names.contains(name) || return_err(path, &format!("`{name}` is not an enum case"))?
        }
        (Value::Option(o), Type::Option(t)) => {
            if let Some(v) = o {
                check_at(v, t, &format!("{path}.some"))?;
            }
            true
        }
        (Value::Result(r), Type::Result { ok, err }) => {
            match r {
                Ok(v) => check_payload(v.as_deref(), ok.as_deref(), &format!("{path}.ok"))?,
                Err(v) => check_payload(v.as_deref(), err.as_deref(), &format!("{path}.err"))?,
            }
            true
        }
        (Value::Flags(set), Type::Flags(names)) => {
            if let Some(bad) = set.iter().find(|f| !names.contains(f)) {
                return_err(path, &format!("`{bad}` is not a flag"))?;
            }
            true
        }
        (Value::Own(h), Type::Own(r)) | (Value::Borrow(h), Type::Borrow(r)) => h.ty == *r,
        (Value::Own(h), Type::Borrow(r)) => h.ty == *r,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(mismatch(path, &format!("{t:?}"), &format!("{v:?}")))
    }
}

fn check_payload(v: Option<&Value>, t: Option<&Type>, path: &str) -> Result<(), Trap> {
    match (v, t) {
        (None, None) => Ok(()),
        (Some(v), Some(t)) => check_at(v, t, path),
        (None, Some(_)) => Err(Trap::host(format!("{path}: payload missing"))),
        (Some(_), None) => Err(Trap::host(format!("{path}: case has no payload"))),
    }
}

fn check_len(got: usize, want: usize, path: &str) -> Result<(), Trap> {
    if got == want {
        Ok(())
    } else {
        Err(mismatch(path, &format!("{want} members"), &got.to_string()))
    }
}

fn return_err(path: &str, what: &str) -> Result<bool, Trap> {
    Err(Trap::host(format!("type mismatch at {path}: {what}")))
}

fn mismatch(path: &str, want: &str, got: &str) -> Trap {
    Trap::host(format!(
        "type mismatch at {path}: expected {want}, got {got}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_structure_and_names() {
        let t = Type::Record(vec![
            ("a".into(), Type::List(Box::new(Type::U8))),
            ("b".into(), Type::Option(Box::new(Type::String))),
        ]);
        let good = Value::Record(vec![
            ("a".into(), Value::List(vec![Value::U8(1)])),
            ("b".into(), Value::Option(None)),
        ]);
        assert!(check(&good, &t).is_ok());
        let bad = Value::Record(vec![
            ("a".into(), Value::List(vec![Value::U16(1)])),
            ("b".into(), Value::Option(None)),
        ]);
        let e = check(&bad, &t).unwrap_err();
        assert!(e.message.contains("value.a[0]"), "{}", e.message);
        let flags = Type::Flags(vec!["x".into()]);
        assert!(check(&Value::Flags(vec!["y".into()]), &flags).is_err());
        let var = Type::Variant(vec![("n".into(), None), ("s".into(), Some(Type::U32))]);
        assert!(check(
            &Value::Variant("s".into(), Some(Box::new(Value::U32(1)))),
            &var
        )
        .is_ok());
        assert!(check(
            &Value::Variant("n".into(), Some(Box::new(Value::U32(1)))),
            &var
        )
        .is_err());
        assert!(check(&Value::Variant("q".into(), None), &var).is_err());
    }

    #[test]
    fn checks_map_keys_and_values() {
        let t = Type::Map(Box::new(Type::String), Box::new(Type::U32));
        let entry = |k: &str, v| (Value::String(k.into()), v);
        let good = Value::Map(vec![entry("a", Value::U32(1)), entry("a", Value::U32(2))]);
        assert!(check(&good, &t).is_ok());
        let bad = Value::Map(vec![entry("a", Value::U32(1)), entry("b", Value::U8(2))]);
        let e = check(&bad, &t).unwrap_err();
        assert!(e.message.contains("value[1].value"), "{}", e.message);
        let pairs = Value::List(vec![Value::Tuple(vec![
            Value::String("a".into()),
            Value::U32(1),
        ])]);
        assert!(check(&pairs, &t).is_err(), "a list of pairs is not a map");
    }
}
