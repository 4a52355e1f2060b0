//! The `wasi:sockets` types as typed host imports see them (see
//! [`super::convert`]): addresses, address families, error codes, shutdown
//! types and datagrams.

use super::convert::{lift_via, lower_via, record, record_lift, record_lower, record_type};
use crate::{AddressFamily, IncomingDatagram, OutgoingDatagram, SocketError};
use rivet::typed_import::{
    typecheck_record, typecheck_variant, Check, ComponentType, Cx, EnumCase, Fields, Flat, FlatBuf,
    Lift, Lower, Payload, TypeRef, Variant,
};
use rivet::Trap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6};

lower_via!(
    SocketError,
    |ty| EnumCase::typecheck_names(ty, SocketError::NAMES),
    |e| EnumCase(*e as u32)
);

const FAMILIES: &[&str] = &["ipv4", "ipv6"];

/// `ip-address-family`, both ways (a socket is made of one, and tells it).
impl ComponentType for AddressFamily {
    fn typecheck(ty: TypeRef) -> bool {
        EnumCase::typecheck_names(ty, FAMILIES)
    }
}

impl AddressFamily {
    fn from_case(c: EnumCase) -> AddressFamily {
        match c.0 {
            0 => AddressFamily::Ipv4,
            _ => AddressFamily::Ipv6,
        }
    }
}

impl Lift for AddressFamily {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        EnumCase::lift(cx, ty, flat).map(AddressFamily::from_case)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        EnumCase::load(cx, ty, ptr).map(AddressFamily::from_case)
    }
}

impl Lower for AddressFamily {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        EnumCase(*self as u32).lower(cx, ty, out)
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        EnumCase(*self as u32).store(cx, ty, ptr)
    }
}

/// `tcp.shutdown-type`.
pub(super) struct ShutdownType(pub Shutdown);

lift_via!(
    ShutdownType,
    |ty| EnumCase::typecheck_names(ty, &["receive", "send", "both"]),
    |c: EnumCase| ShutdownType(match c.0 {
        0 => Shutdown::Read,
        1 => Shutdown::Write,
        _ => Shutdown::Both,
    })
);

type Ipv4Tuple = (u8, u8, u8, u8);
type Ipv6Tuple = (u16, u16, u16, u16, u16, u16, u16, u16);

fn v4_tuple(ip: &Ipv4Addr) -> Ipv4Tuple {
    let [a, b, c, d] = ip.octets();
    (a, b, c, d)
}

fn v6_tuple(ip: &Ipv6Addr) -> Ipv6Tuple {
    let [a, b, c, d, e, f, g, h] = ip.segments();
    (a, b, c, d, e, f, g, h)
}

/// `ipv4-socket-address`.
struct V4(SocketAddrV4);

record_type!(V4, ["port": u16::typecheck, "address": Ipv4Tuple::typecheck]);
record_lift!(V4, |port: u16, a: Ipv4Tuple| V4(SocketAddrV4::new(
    Ipv4Addr::new(a.0, a.1, a.2, a.3),
    port
)));
record_lower!(V4, |v| [v.0.port(), v4_tuple(v.0.ip())]);

/// `ipv6-socket-address`.
struct V6(SocketAddrV6);

record_type!(
    V6,
    [
        "port": u16::typecheck,
        "flow-info": u32::typecheck,
        "address": Ipv6Tuple::typecheck,
        "scope-id": u32::typecheck
    ]
);
record_lift!(V6, |port: u16, flow: u32, a: Ipv6Tuple, scope: u32| {
    let ip = Ipv6Addr::new(a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7);
    V6(SocketAddrV6::new(ip, port, flow, scope))
});
record_lower!(V6, |v| [
    v.0.port(),
    v.0.flowinfo(),
    v6_tuple(v.0.ip()),
    v.0.scope_id()
]);

/// `ip-socket-address`.
pub(super) struct NetAddr(pub SocketAddr);

impl ComponentType for NetAddr {
    fn typecheck(ty: TypeRef) -> bool {
        typecheck_variant(
            ty,
            &[("ipv4", Some(V4::typecheck)), ("ipv6", Some(V6::typecheck))],
        )
    }
}

fn net_addr(cx: &mut Cx, v: &Variant, i: u32, p: Payload) -> Result<NetAddr, Trap> {
    Ok(NetAddr(match i {
        0 => SocketAddr::V4(p.get::<V4>(cx, v.payload_type(0))?.0),
        _ => SocketAddr::V6(p.get::<V6>(cx, v.payload_type(1))?.0),
    }))
}

impl Lift for NetAddr {
    fn lift(cx: &mut Cx, ty: TypeRef, flat: &mut Flat) -> Result<Self, Trap> {
        Variant::lift_case(cx, ty, flat, net_addr)
    }
    fn load(cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<Self, Trap> {
        Variant::load_case(cx, ty, ptr, net_addr)
    }
}

impl NetAddr {
    /// Calls `f` with the address's case and payload.
    fn case<R>(&self, f: impl FnOnce(u32, &dyn Lower) -> R) -> R {
        match self.0 {
            SocketAddr::V4(a) => f(0, &V4(a)),
            SocketAddr::V6(a) => f(1, &V6(a)),
        }
    }
}

impl Lower for NetAddr {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        self.case(|i, p| Variant::new(ty).lower(cx, out, i, Some(p)))
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        self.case(|i, p| Variant::new(ty).store(cx, ptr, i, Some(p)))
    }
}

/// `ip-address`, as name lookups return it.
pub(super) struct NetIp(pub IpAddr);

impl ComponentType for NetIp {
    fn typecheck(ty: TypeRef) -> bool {
        let (v4, v6): (Check, Check) = (Ipv4Tuple::typecheck, Ipv6Tuple::typecheck);
        typecheck_variant(ty, &[("ipv4", Some(v4)), ("ipv6", Some(v6))])
    }
}

impl NetIp {
    /// Calls `f` with the address's case and payload.
    fn case<R>(&self, f: impl FnOnce(u32, &dyn Lower) -> R) -> R {
        match &self.0 {
            IpAddr::V4(ip) => f(0, &v4_tuple(ip)),
            IpAddr::V6(ip) => f(1, &v6_tuple(ip)),
        }
    }
}

impl Lower for NetIp {
    fn lower(&self, cx: &mut Cx, ty: TypeRef, out: &mut FlatBuf) -> Result<(), Trap> {
        self.case(|i, p| Variant::new(ty).lower(cx, out, i, Some(p)))
    }
    fn store(&self, cx: &mut Cx, ty: TypeRef, ptr: u32) -> Result<(), Trap> {
        self.case(|i, p| Variant::new(ty).store(cx, ptr, i, Some(p)))
    }
}

record!(
    IncomingDatagram,
    ["data": Vec::<u8>::typecheck, "remote-address": NetAddr::typecheck],
    |d| [d.data, NetAddr(d.remote_address)]
);

record_type!(
    OutgoingDatagram,
    ["data": Vec::<u8>::typecheck, "remote-address": Option::<NetAddr>::typecheck]
);
record_lift!(OutgoingDatagram, |data: Vec<u8>, to: Option<NetAddr>| {
    OutgoingDatagram {
        data,
        remote_address: to.map(|a| a.0),
    }
});
