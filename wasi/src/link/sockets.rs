//! Handlers of `wasi:sockets` (see [`crate::sockets`]).

use super::handlers::{typed, Handlers, SUBSCRIBE};
use super::net::{NetAddr, NetIp, ShutdownType};
use super::Wasi;
use crate::{AddressFamily, OutgoingDatagram, SocketOption, WasiCtx};
use rivet::typed_import::Rep;
use rivet::ComponentImports;

/// Every table of socket handlers.
pub(super) const TABLES: &[Handlers] = &[NETWORK, TCP, TCP_OPTIONS, UDP, UDP_OPTIONS];

const NETWORK: Handlers = &[
    (
        "wasi:sockets/instance-network",
        "instance-network",
        typed!(|c| c.instance_network().map(Rep)),
    ),
    (
        "wasi:sockets/network",
        "network-error-code",
        typed!(|c, e: Rep| c.network_error_code(e.0)),
    ),
    (
        "wasi:sockets/tcp-create-socket",
        "create-tcp-socket",
        typed!(|c, family: AddressFamily| Ok(c.create_tcp_socket(family)?.map(Rep))),
    ),
    (
        "wasi:sockets/udp-create-socket",
        "create-udp-socket",
        typed!(|c, family: AddressFamily| Ok(c.create_udp_socket(family)?.map(Rep))),
    ),
    (
        "wasi:sockets/ip-name-lookup",
        "resolve-addresses",
        typed!(|c, network: Rep, name: String| Ok(c.resolve_addresses(network.0, &name)?.map(Rep))),
    ),
    (
        "wasi:sockets/ip-name-lookup",
        "[method]resolve-address-stream.resolve-next-address",
        typed!(|c, s: Rep| Ok(c.resolve_next_address(s.0)?.map(|a| a.map(NetIp)))),
    ),
    (
        "wasi:sockets/ip-name-lookup",
        "[method]resolve-address-stream.subscribe",
        SUBSCRIBE,
    ),
];

const TCP_IFACE: &str = "wasi:sockets/tcp";

const TCP: Handlers = &[
    (
        TCP_IFACE,
        "[method]tcp-socket.start-bind",
        typed!(|c, s: Rep, net: Rep, addr: NetAddr| c.tcp_start_bind(s.0, net.0, addr.0)),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.finish-bind",
        typed!(|c, s: Rep| c.tcp_finish_bind(s.0)),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.start-connect",
        typed!(|c, s: Rep, net: Rep, addr: NetAddr| c.tcp_start_connect(s.0, net.0, addr.0)),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.finish-connect",
        typed!(|c, s: Rep| Ok(c.tcp_finish_connect(s.0)?.map(|(i, o)| (Rep(i), Rep(o))))),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.start-listen",
        typed!(|c, s: Rep| c.tcp_start_listen(s.0)),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.finish-listen",
        typed!(|c, s: Rep| c.tcp_finish_listen(s.0)),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.accept",
        typed!(|c, s: Rep| Ok(c.tcp_accept(s.0)?.map(|(s, i, o)| (Rep(s), Rep(i), Rep(o))))),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.local-address",
        typed!(|c, s: Rep| Ok(c.tcp_local_address(s.0)?.map(NetAddr))),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.remote-address",
        typed!(|c, s: Rep| Ok(c.tcp_remote_address(s.0)?.map(NetAddr))),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.is-listening",
        typed!(|c, s: Rep| c.tcp_is_listening(s.0)),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.address-family",
        typed!(|c, s: Rep| c.tcp_address_family(s.0)),
    ),
    (
        TCP_IFACE,
        "[method]tcp-socket.set-listen-backlog-size",
        typed!(|c, s: Rep, size: u64| c.tcp_set_listen_backlog_size(s.0, size)),
    ),
    (TCP_IFACE, "[method]tcp-socket.subscribe", SUBSCRIBE),
    (
        TCP_IFACE,
        "[method]tcp-socket.shutdown",
        typed!(|c, s: Rep, how: ShutdownType| c.tcp_shutdown(s.0, how.0)),
    ),
];

const UDP_IFACE: &str = "wasi:sockets/udp";

const UDP: Handlers = &[
    (
        UDP_IFACE,
        "[method]udp-socket.start-bind",
        typed!(|c, s: Rep, net: Rep, addr: NetAddr| c.udp_start_bind(s.0, net.0, addr.0)),
    ),
    (
        UDP_IFACE,
        "[method]udp-socket.finish-bind",
        typed!(|c, s: Rep| c.udp_finish_bind(s.0)),
    ),
    (
        UDP_IFACE,
        "[method]udp-socket.stream",
        typed!(|c, s: Rep, remote: Option<NetAddr>| {
            let streams = c.udp_stream(s.0, remote.map(|a| a.0))?;
            Ok(streams.map(|(i, o)| (Rep(i), Rep(o))))
        }),
    ),
    (
        UDP_IFACE,
        "[method]udp-socket.local-address",
        typed!(|c, s: Rep| Ok(c.udp_local_address(s.0)?.map(NetAddr))),
    ),
    (
        UDP_IFACE,
        "[method]udp-socket.remote-address",
        typed!(|c, s: Rep| Ok(c.udp_remote_address(s.0)?.map(NetAddr))),
    ),
    (
        UDP_IFACE,
        "[method]udp-socket.address-family",
        typed!(|c, s: Rep| c.udp_address_family(s.0)),
    ),
    (UDP_IFACE, "[method]udp-socket.subscribe", SUBSCRIBE),
    (
        UDP_IFACE,
        "[method]incoming-datagram-stream.receive",
        typed!(|c, s: Rep, max: u64| c.udp_receive(s.0, max)),
    ),
    (
        UDP_IFACE,
        "[method]incoming-datagram-stream.subscribe",
        SUBSCRIBE,
    ),
    (
        UDP_IFACE,
        "[method]outgoing-datagram-stream.check-send",
        typed!(|c, s: Rep| c.udp_check_send(s.0)),
    ),
    (
        UDP_IFACE,
        "[method]outgoing-datagram-stream.send",
        typed!(|c, s: Rep, datagrams: Vec<OutgoingDatagram>| c.udp_send(s.0, &datagrams)),
    ),
    (
        UDP_IFACE,
        "[method]outgoing-datagram-stream.subscribe",
        SUBSCRIBE,
    ),
];

/// An option's value as its WIT type, from and to the `u64` that
/// [`SocketOption`] values are.
trait OptionValue {
    fn from_u64(v: u64) -> Self;
    fn to_u64(self) -> u64;
}

impl OptionValue for bool {
    fn from_u64(v: u64) -> bool {
        v != 0
    }
    fn to_u64(self) -> u64 {
        self.into()
    }
}

/// Integers: values past the type's range read as its largest.
macro_rules! option_ints {
    ($($t:ty),*) => {$(
        impl OptionValue for $t {
            fn from_u64(v: u64) -> $t {
                <$t>::try_from(v).unwrap_or(<$t>::MAX)
            }
            fn to_u64(self) -> u64 {
                self.into()
            }
        }
    )*};
}
option_ints!(u8, u32, u64);

/// The getter and setter of each option of a socket resource: `$wit` and
/// `set-$wit`, served by the context's `$get` and `$set`.
macro_rules! options {
    ($table:ident, $iface:expr, $prefix:literal, $get:ident, $set:ident: $($wit:literal => $opt:ident: $t:ty,)*) => {
        const $table: Handlers = &[$(
            (
                $iface,
                concat!($prefix, $wit),
                typed!(|c, s: Rep| Ok(c.$get(s.0, SocketOption::$opt)?.map(<$t>::from_u64))),
            ),
            (
                $iface,
                concat!($prefix, "set-", $wit),
                typed!(|c, s: Rep, v: $t| c.$set(s.0, SocketOption::$opt, v.to_u64())),
            ),
        )*];
    };
}

options!(TCP_OPTIONS, TCP_IFACE, "[method]tcp-socket.", tcp_option, set_tcp_option:
    "keep-alive-enabled" => KeepAliveEnabled: bool,
    "keep-alive-idle-time" => KeepAliveIdleTime: u64,
    "keep-alive-interval" => KeepAliveInterval: u64,
    "keep-alive-count" => KeepAliveCount: u32,
    "hop-limit" => HopLimit: u8,
    "receive-buffer-size" => ReceiveBufferSize: u64,
    "send-buffer-size" => SendBufferSize: u64,
);

options!(UDP_OPTIONS, UDP_IFACE, "[method]udp-socket.", udp_option, set_udp_option:
    "unicast-hop-limit" => HopLimit: u8,
    "receive-buffer-size" => ReceiveBufferSize: u64,
    "send-buffer-size" => SendBufferSize: u64,
);
