//! Handlers of `wasi:sockets` (see [`crate::sockets`]: denied).

use super::convert::*;
use super::handlers::Handlers;
use rivet::{Trap, Value};

fn denied() -> Option<Value> {
    err(Value::Enum("access-denied".into()))
}

/// No socket can be created, so a method call on one has a handle this
/// host never made.
fn no_socket(_: &mut crate::WasiCtx, _: &super::Types, _: &[Value]) -> Result<Option<Value>, Trap> {
    Err(Trap::host(
        "WASI socket handle used, but this host creates no sockets",
    ))
}

/// Generates the socket table: the functions that do something, then every
/// method of the socket resources, all served by `no_socket`.
macro_rules! sockets {
    ($($iface:literal: $($method:literal),*;)*) => {
        pub(super) const SOCKETS: Handlers = &[
            ("wasi:sockets/instance-network", "instance-network", |c, t, _| {
                Ok(Some(t.own("wasi:sockets/network#network", c.instance_network()?)?))
            }),
            ("wasi:sockets/network", "network-error-code", |_, _, _| Ok(Some(option(None)))),
            ("wasi:sockets/tcp-create-socket", "create-tcp-socket", |c, _, _| {
                Ok(c.create_socket().map_or_else(|_| denied(), |_| None))
            }),
            ("wasi:sockets/udp-create-socket", "create-udp-socket", |c, _, _| {
                Ok(c.create_socket().map_or_else(|_| denied(), |_| None))
            }),
            ("wasi:sockets/ip-name-lookup", "resolve-addresses", |c, _, a| {
                Ok(c.resolve_addresses(rep(a, 0)?)?.map_or_else(|_| denied(), |_| None))
            }),
            $($(($iface, $method, no_socket),)*)*
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
