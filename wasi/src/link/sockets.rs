//! Handlers of `wasi:sockets` (see [`crate::sockets`]: denied).

use super::convert::AddressFamily;
use super::handlers::{typed, Handlers};
use super::{Handler, Wasi};
use crate::{SocketError, WasiCtx};
use rivet::typed_import::Rep;
use rivet::{ComponentImports, Trap};

/// No socket can be created, so a guest has no socket handle to call a
/// method on: such a call traps lifting its `self` handle before this runs.
/// Registered dynamically, as one function for every signature; it never
/// gets its arguments as values, since they are never lifted.
const NO_SOCKET: Handler = |imports, name, _| {
    imports.func(name, |_| {
        Err(Trap::host(
            "WASI socket handle used, but this host creates no sockets",
        ))
    });
};

const CREATE: Handler = typed!(|c, _family: AddressFamily| Ok(c.create_socket().map(Rep)));

/// Generates the socket table: the functions that do something, then every
/// method of the socket resources, all served by `NO_SOCKET`.
macro_rules! sockets {
    ($($iface:literal: $($method:literal),*;)*) => {
        pub(super) const SOCKETS: Handlers = &[
            (
                "wasi:sockets/instance-network",
                "instance-network",
                typed!(|c| c.instance_network().map(Rep)),
            ),
            (
                "wasi:sockets/network",
                "network-error-code",
                typed!(|_c, _error: Rep| Ok(None::<SocketError>)),
            ),
            ("wasi:sockets/tcp-create-socket", "create-tcp-socket", CREATE),
            ("wasi:sockets/udp-create-socket", "create-udp-socket", CREATE),
            (
                "wasi:sockets/ip-name-lookup",
                "resolve-addresses",
                typed!(|c, network: Rep, _name: String| Ok(c.resolve_addresses(network.0)?.map(Rep))),
            ),
            $($(($iface, $method, NO_SOCKET),)*)*
        ];
    };
}
sockets! {
    "wasi:sockets/ip-name-lookup": "[method]resolve-address-stream.resolve-next-address",
        "[method]resolve-address-stream.subscribe";
    "wasi:sockets/tcp": "[method]tcp-socket.start-bind", "[method]tcp-socket.finish-bind",
        "[method]tcp-socket.start-connect", "[method]tcp-socket.finish-connect",
        "[method]tcp-socket.start-listen", "[method]tcp-socket.finish-listen",
        "[method]tcp-socket.accept", "[method]tcp-socket.local-address",
        "[method]tcp-socket.remote-address", "[method]tcp-socket.is-listening",
        "[method]tcp-socket.address-family", "[method]tcp-socket.set-listen-backlog-size",
        "[method]tcp-socket.keep-alive-enabled", "[method]tcp-socket.set-keep-alive-enabled",
        "[method]tcp-socket.keep-alive-idle-time", "[method]tcp-socket.set-keep-alive-idle-time",
        "[method]tcp-socket.keep-alive-interval", "[method]tcp-socket.set-keep-alive-interval",
        "[method]tcp-socket.keep-alive-count", "[method]tcp-socket.set-keep-alive-count",
        "[method]tcp-socket.hop-limit", "[method]tcp-socket.set-hop-limit",
        "[method]tcp-socket.receive-buffer-size", "[method]tcp-socket.set-receive-buffer-size",
        "[method]tcp-socket.send-buffer-size", "[method]tcp-socket.set-send-buffer-size",
        "[method]tcp-socket.subscribe", "[method]tcp-socket.shutdown";
    "wasi:sockets/udp": "[method]udp-socket.start-bind", "[method]udp-socket.finish-bind",
        "[method]udp-socket.stream", "[method]udp-socket.local-address",
        "[method]udp-socket.remote-address", "[method]udp-socket.address-family",
        "[method]udp-socket.unicast-hop-limit", "[method]udp-socket.set-unicast-hop-limit",
        "[method]udp-socket.receive-buffer-size", "[method]udp-socket.set-receive-buffer-size",
        "[method]udp-socket.send-buffer-size", "[method]udp-socket.set-send-buffer-size",
        "[method]udp-socket.subscribe", "[method]incoming-datagram-stream.receive",
        "[method]incoming-datagram-stream.subscribe", "[method]outgoing-datagram-stream.check-send",
        "[method]outgoing-datagram-stream.send", "[method]outgoing-datagram-stream.subscribe";
}
