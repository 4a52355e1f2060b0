//! Conversions between the runtime's [`Value`]s and the Rust types of the
//! WASI methods, and the component's WASI resource types.

use rivet::{Component, Error, ResourceAny, ResourceType, Trap, Value};
use std::collections::HashMap;

/// Every WASI 0.2 resource type, as `wasi:pkg/iface#resource`.
const RESOURCES: &[&str] = &[
    "wasi:io/error#error",
    "wasi:io/poll#pollable",
    "wasi:io/streams#input-stream",
    "wasi:io/streams#output-stream",
    "wasi:cli/terminal-input#terminal-input",
    "wasi:cli/terminal-output#terminal-output",
    "wasi:filesystem/types#descriptor",
    "wasi:filesystem/types#directory-entry-stream",
    "wasi:sockets/network#network",
    "wasi:sockets/tcp#tcp-socket",
    "wasi:sockets/udp#udp-socket",
    "wasi:sockets/udp#incoming-datagram-stream",
    "wasi:sockets/udp#outgoing-datagram-stream",
    "wasi:sockets/ip-name-lookup#resolve-address-stream",
];

/// Checks that `name` (of interface `iface`) is a WASI resource type.
pub(super) fn known_resource(iface: &str, name: &str) -> Result<(), Error> {
    let resource = name.rsplit_once('#').map_or("", |(_, r)| r);
    let known = RESOURCES
        .iter()
        .any(|r| r.split_once('#') == Some((iface, resource)));
    if known {
        return Ok(());
    }
    Err(Error::Link(format!(
        "WASI import `{name}`: not a resource type of WASI 0.2"
    )))
}

/// The component's WASI resource types, by unversioned name.
pub(crate) struct Types(HashMap<&'static str, ResourceType>);

impl Types {
    pub fn new(component: &Component) -> Result<Types, Error> {
        let mut map = HashMap::new();
        for name in component.imported_resources() {
            let unversioned = strip_version(&name);
            if let Some(known) = RESOURCES.iter().find(|r| **r == unversioned) {
                if let Some(ty) = component.resource_type(&name) {
                    map.insert(*known, ty);
                }
            }
        }
        Ok(Types(map))
    }

    /// An owned handle of resource `name` (unversioned) with `rep`.
    pub fn own(&self, name: &str, rep: u32) -> Result<Value, Trap> {
        let ty = self
            .0
            .get(name)
            .ok_or_else(|| Trap::host(format!("the component does not import `{name}`")))?;
        Ok(Value::Own(ResourceAny::host(*ty, rep)))
    }
}

/// `wasi:io/streams@0.2.6#input-stream` as `wasi:io/streams#input-stream`.
fn strip_version(name: &str) -> String {
    match (name.split_once('@'), name.rsplit_once('#')) {
        (Some((path, _)), Some((_, item))) => format!("{path}#{item}"),
        _ => name.to_string(),
    }
}

/// Argument `i`, or a trap when the call has fewer.
pub(super) fn arg(args: &[Value], i: usize) -> Result<&Value, Trap> {
    args.get(i)
        .ok_or_else(|| Trap::host(format!("WASI call: argument {i} missing")))
}

#[cold]
fn wrong(i: usize, want: &str) -> Trap {
    Trap::host(format!("WASI call: argument {i} is not a {want}"))
}

/// The host rep of a handle argument (`own` or `borrow`).
pub(super) fn rep(args: &[Value], i: usize) -> Result<u32, Trap> {
    match arg(args, i)? {
        Value::Own(h) | Value::Borrow(h) => h.host_rep().ok_or_else(|| wrong(i, "host resource")),
        _ => Err(wrong(i, "resource handle")),
    }
}

pub(super) fn u64_arg(args: &[Value], i: usize) -> Result<u64, Trap> {
    match arg(args, i)? {
        Value::U64(v) => Ok(*v),
        _ => Err(wrong(i, "u64")),
    }
}

pub(super) fn u8_arg(args: &[Value], i: usize) -> Result<u8, Trap> {
    match arg(args, i)? {
        Value::U8(v) => Ok(*v),
        _ => Err(wrong(i, "u8")),
    }
}

pub(super) fn string_arg(args: &[Value], i: usize) -> Result<&str, Trap> {
    match arg(args, i)? {
        Value::String(s) => Ok(s),
        _ => Err(wrong(i, "string")),
    }
}

pub(super) fn bytes_arg(args: &[Value], i: usize) -> Result<Vec<u8>, Trap> {
    match arg(args, i)? {
        Value::List(items) => items
            .iter()
            .map(|v| match v {
                Value::U8(b) => Ok(*b),
                _ => Err(wrong(i, "list<u8>")),
            })
            .collect(),
        _ => Err(wrong(i, "list<u8>")),
    }
}

/// The names of the set flags of a `flags` argument.
pub(super) fn flags_arg(args: &[Value], i: usize) -> Result<&[String], Trap> {
    match arg(args, i)? {
        Value::Flags(names) => Ok(names),
        _ => Err(wrong(i, "flags")),
    }
}

/// The case name and payload of a variant or enum argument.
pub(super) fn case_arg(args: &[Value], i: usize) -> Result<(&str, Option<&Value>), Trap> {
    match arg(args, i)? {
        Value::Variant(name, payload) => Ok((name, payload.as_deref())),
        Value::Enum(name) => Ok((name, None)),
        _ => Err(wrong(i, "variant")),
    }
}

/// The list of handle reps of a `list<borrow<…>>` argument.
pub(super) fn reps_arg(args: &[Value], i: usize) -> Result<Vec<u32>, Trap> {
    match arg(args, i)? {
        Value::List(items) => (0..items.len()).map(|j| rep(items, j)).collect(),
        _ => Err(wrong(i, "list of handles")),
    }
}

pub(super) fn bytes(b: Vec<u8>) -> Value {
    Value::List(b.into_iter().map(Value::U8).collect())
}

pub(super) fn strings(v: Vec<String>) -> Value {
    Value::List(v.into_iter().map(Value::String).collect())
}

/// `result` `ok` with an optional payload.
pub(super) fn ok(v: Option<Value>) -> Option<Value> {
    Some(Value::Result(Ok(v.map(Box::new))))
}

/// `result` `err` with a payload.
pub(super) fn err(v: Value) -> Option<Value> {
    Some(Value::Result(Err(Some(Box::new(v)))))
}

/// `option` of a payload.
pub(super) fn option(v: Option<Value>) -> Value {
    Value::Option(v.map(Box::new))
}

/// `record` with fields in order.
pub(super) fn record(fields: Vec<(&str, Value)>) -> Value {
    Value::Record(
        fields
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
    )
}
