//! The WASI types as the runtime's typed host imports see them: each Rust
//! type of the [`WasiCtx`](crate::WasiCtx) methods says which component type
//! it stands for (checked when a component is instantiated) and lifts from
//! or lowers into the guest directly, without dynamic values.

use crate::filesystem::{DescriptorFlags, DescriptorStat, DescriptorType, NewTimestamp, OpenFlags};
use crate::{ErrorCode, SocketError};
use rivet::typed_import::{
    typecheck_record, typecheck_variant, Check, ComponentType, Cx, EnumCase, Fields, FlagBits,
    Flat, FlatBuf, Lift, Lower, Payload, Rep, TypeRef, Variant,
};
use rivet::{Error, Trap};
use std::time::Duration;

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

/// Lowers a Rust type through another that stands for the same component
/// type (`$via`, made by `|$v| $make`), checked with `$check`.
macro_rules! lower_via {
    ($t:ty, |$ty:ident| $check:expr, |$v:ident| $make:expr) => {
        impl ComponentType for $t {
            fn typecheck($ty: TypeRef) -> bool {
                $check
            }
        }
        impl Lower for $t {
            fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
                let $v = self;
                $make.lower(cx, ty, out)
            }
            fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
                let $v = self;
                $make.store(cx, ty, ptr)
            }
        }
    };
}

/// Lifts a Rust type through another that stands for the same component
/// type (`$via`, turned into it by `|$v| $make`), checked with `$check`.
macro_rules! lift_via {
    ($t:ty, |$ty:ident| $check:expr, |$v:ident: $via:ty| $make:expr) => {
        impl ComponentType for $t {
            fn typecheck($ty: TypeRef) -> bool {
                $check
            }
        }
        impl Lift for $t {
            fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
                let $v = <$via>::lift(cx, ty, flat)?;
                Ok($make)
            }
            fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
                let $v = <$via>::load(cx, ty, ptr)?;
                Ok($make)
            }
        }
    };
}

lower_via!(
    ErrorCode,
    |ty| EnumCase::typecheck_names(ty, ErrorCode::NAMES),
    |c| EnumCase(*c as u32)
);

const DESCRIPTOR_TYPES: &[&str] = &[
    "unknown",
    "block-device",
    "character-device",
    "directory",
    "fifo",
    "symbolic-link",
    "regular-file",
    "socket",
];

// Declared in WIT order, so the case index is the discriminant.
lower_via!(
    DescriptorType,
    |ty| EnumCase::typecheck_names(ty, DESCRIPTOR_TYPES),
    |t| EnumCase(*t as u32)
);

const SOCKET_ERROR_CODES: &[&str] = &[
    "unknown",
    "access-denied",
    "not-supported",
    "invalid-argument",
    "out-of-memory",
    "timeout",
    "concurrency-conflict",
    "not-in-progress",
    "would-block",
    "invalid-state",
    "new-socket-limit",
    "address-not-bindable",
    "address-in-use",
    "remote-unreachable",
    "connection-refused",
    "connection-reset",
    "connection-aborted",
    "datagram-too-large",
    "name-unresolvable",
    "temporary-resolver-failure",
    "permanent-resolver-failure",
];

lower_via!(
    SocketError,
    |ty| EnumCase::typecheck_names(ty, SOCKET_ERROR_CODES),
    |e| {
        EnumCase(match e {
            SocketError::AccessDenied => 1,
        })
    }
);

/// `wasi:sockets/network.ip-address-family`: taken, and ignored (no socket
/// is ever made).
pub(super) struct AddressFamily;

lift_via!(
    AddressFamily,
    |ty| EnumCase::typecheck_names(ty, &["ipv4", "ipv6"]),
    |_c: EnumCase| AddressFamily
);

/// `wasi:filesystem/types.advice`: taken, and ignored (advice is optional).
pub(super) struct Advice;

const ADVICE: &[&str] = &[
    "normal",
    "sequential",
    "random",
    "will-need",
    "dont-need",
    "no-reuse",
];

lift_via!(
    Advice,
    |ty| EnumCase::typecheck_names(ty, ADVICE),
    |_c: EnumCase| Advice
);

/// The labels of `descriptor-flags`, in bit order. The three sync flags are
/// never reported and ignored when opening: writes reach the host's file
/// system as they are made.
const DESCRIPTOR_FLAGS: &[&str] = &[
    "read",
    "write",
    "file-integrity-sync",
    "data-integrity-sync",
    "requested-write-sync",
    "mutate-directory",
];

lower_via!(
    DescriptorFlags,
    |ty| FlagBits::typecheck_labels(ty, DESCRIPTOR_FLAGS),
    |f| FlagBits(f.read as u32 | (f.write as u32) << 1 | (f.mutate_directory as u32) << 5)
);

/// `descriptor-flags` as `open-at` takes them (a type implements one
/// direction only through these macros).
pub(super) struct OpenDescriptorFlags(pub DescriptorFlags);

lift_via!(
    OpenDescriptorFlags,
    |ty| FlagBits::typecheck_labels(ty, DESCRIPTOR_FLAGS),
    |b: FlagBits| OpenDescriptorFlags(DescriptorFlags {
        read: b.has(0),
        write: b.has(1),
        mutate_directory: b.has(5),
    })
);

lift_via!(
    OpenFlags,
    |ty| FlagBits::typecheck_labels(ty, &["create", "directory", "exclusive", "truncate"]),
    |b: FlagBits| OpenFlags {
        create: b.has(0),
        directory: b.has(1),
        exclusive: b.has(2),
        truncate: b.has(3),
    }
);

/// `path-flags`: whether to follow a symlink at the end of the path.
pub(super) struct Follow(pub bool);

lift_via!(
    Follow,
    |ty| FlagBits::typecheck_labels(ty, &["symlink-follow"]),
    |b: FlagBits| Follow(b.has(0))
);

/// `wasi:clocks/wall-clock.datetime`: seconds and nanoseconds since an epoch.
pub(super) struct Datetime(pub Duration);

fn datetime_type(ty: TypeRef) -> bool {
    typecheck_record(
        ty,
        &[
            ("seconds", u64::typecheck as Check),
            ("nanoseconds", u32::typecheck),
        ],
    )
}

impl ComponentType for Datetime {
    fn typecheck(ty: TypeRef) -> bool {
        datetime_type(ty)
    }
}

impl Lift for Datetime {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        let mut f = Fields::new(ty, 0);
        let (secs, nanos) = (f.lift(cx, flat)?, f.lift::<u32>(cx, flat)?);
        Ok(Datetime(Duration::new(secs, nanos)))
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        let mut f = Fields::new(ty, ptr);
        let (secs, nanos) = (f.load(cx)?, f.load::<u32>(cx)?);
        Ok(Datetime(Duration::new(secs, nanos)))
    }
}

impl Lower for Datetime {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        let mut f = Fields::new(ty, 0);
        f.lower(cx, &self.0.as_secs(), out)?;
        f.lower(cx, &self.0.subsec_nanos(), out)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let mut f = Fields::new(ty, ptr);
        f.store(cx, &self.0.as_secs())?;
        f.store(cx, &self.0.subsec_nanos())
    }
}

impl ComponentType for NewTimestamp {
    fn typecheck(ty: TypeRef) -> bool {
        let at: Check = datetime_type;
        typecheck_variant(
            ty,
            &[("no-change", None), ("now", None), ("timestamp", Some(at))],
        )
    }
}

fn new_timestamp(cx: &mut Cx, v: &Variant, i: u32, p: Payload) -> Result<NewTimestamp, Trap> {
    Ok(match i {
        0 => NewTimestamp::NoChange,
        1 => NewTimestamp::Now,
        _ => NewTimestamp::At(p.get::<Datetime>(cx, v.payload_type(2))?.0),
    })
}

impl Lift for NewTimestamp {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        Variant::lift_case(cx, ty, flat, new_timestamp)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        Variant::load_case(cx, ty, ptr, new_timestamp)
    }
}

/// `wasi:io/streams.stream-error`, its `error` resource already made.
pub(super) enum StreamErr {
    Failed(Rep),
    Closed,
}

impl StreamErr {
    fn case(&self) -> (u32, Option<&dyn Lower>) {
        match self {
            StreamErr::Failed(e) => (0, Some(e)),
            StreamErr::Closed => (1, None),
        }
    }
}

impl ComponentType for StreamErr {
    fn typecheck(ty: TypeRef) -> bool {
        let error: Check = Rep::typecheck;
        typecheck_variant(
            ty,
            &[("last-operation-failed", Some(error)), ("closed", None)],
        )
    }
}

impl Lower for StreamErr {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        let (i, p) = self.case();
        Variant::new(ty).lower(cx, out, i, p)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        let (i, p) = self.case();
        Variant::new(ty).store(cx, ptr, i, p)
    }
}

/// Lowers a record's fields in order, as its field types come.
macro_rules! record {
    ($t:ty, [$($name:literal: $check:expr),*], |$v:ident| [$($field:expr),*]) => {
        impl ComponentType for $t {
            fn typecheck(ty: TypeRef) -> bool {
                typecheck_record(ty, &[$(($name, $check as Check)),*])
            }
        }
        impl Lower for $t {
            fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
                let $v = self;
                let mut f = Fields::new(ty, 0);
                $(f.lower(cx, &$field, out)?;)*
                Ok(())
            }
            fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
                let $v = self;
                let mut f = Fields::new(ty, ptr);
                $(f.store(cx, &$field)?;)*
                Ok(())
            }
        }
    };
}

fn time(t: Option<Duration>) -> Option<Datetime> {
    t.map(Datetime)
}

record!(
    DescriptorStat,
    [
        "type": DescriptorType::typecheck,
        "link-count": u64::typecheck,
        "size": u64::typecheck,
        "data-access-timestamp": Option::<Datetime>::typecheck,
        "data-modification-timestamp": Option::<Datetime>::typecheck,
        "status-change-timestamp": Option::<Datetime>::typecheck
    ],
    |s| [
        s.type_,
        s.link_count,
        s.size,
        time(s.accessed),
        time(s.modified),
        time(s.status_changed)
    ]
);

/// `directory-entry`: the type and name of an entry.
pub(super) struct DirectoryEntry(pub DescriptorType, pub String);

record!(
    DirectoryEntry,
    ["type": DescriptorType::typecheck, "name": String::typecheck],
    |e| [e.0, e.1]
);

/// `metadata-hash-value`, from `(upper, lower)`.
pub(super) struct MetadataHash(pub (u64, u64));

record!(
    MetadataHash,
    ["lower": u64::typecheck, "upper": u64::typecheck],
    |h| [h.0 .1, h.0 .0]
);
