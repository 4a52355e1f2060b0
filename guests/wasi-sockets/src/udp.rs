//! UDP through `wasi:sockets/udp`: datagrams to the test's echoing peer, first
//! on unconnected streams, then on streams connected to the peer.

use crate::{expect, loopback, loopback_v6, port_of, report, wait};
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress};
use wasip2::sockets::udp::{
    IncomingDatagramStream, OutgoingDatagram, OutgoingDatagramStream, UdpSocket,
};
use wasip2::sockets::udp_create_socket::create_udp_socket;

/// Sends to and receives from the peer at 127.0.0.1:`port`, which answers
/// each datagram with its upper-case copy.
pub fn run(port: u16) {
    let net = instance_network();
    let u = expect(
        "create-udp-socket",
        create_udp_socket(IpAddressFamily::Ipv4),
    );
    report("stream unbound", u.stream(None));
    report("local-address unbound", u.local_address());
    report(
        "start-bind to an ipv6 address",
        u.start_bind(&net, loopback_v6(0)),
    );
    expect("start-bind", u.start_bind(&net, loopback(0)));
    expect("finish-bind", u.finish_bind());
    report("finish-bind again", u.finish_bind());
    report("remote-address unconnected", u.remote_address());
    let peer = loopback(port);
    let (incoming, outgoing) = expect("stream", u.stream(None));
    report("send without an address", send(&outgoing, b"x", None));
    report("send to port 0", send(&outgoing, b"x", Some(loopback(0))));
    report(
        "send to an ipv6 address",
        send(&outgoing, b"x", Some(loopback_v6(port))),
    );
    report(
        "send one",
        send(&outgoing, b"unconnected datagram", Some(peer)),
    );
    receive(&incoming, port);
    drop((incoming, outgoing));

    let (incoming, outgoing) = expect("stream to the peer", u.stream(Some(peer)));
    let remote = expect("remote-address", u.remote_address());
    println!("remote port is the peer's: {}", port_of(&remote) == port);
    report(
        "send to another address",
        send(&outgoing, b"x", Some(loopback(port ^ 1))),
    );
    report(
        "send to the peer's address",
        send(&outgoing, b"addressed datagram", Some(peer)),
    );
    receive(&incoming, port);
    report(
        "send without an address",
        send(&outgoing, b"connected datagram", None),
    );
    receive(&incoming, port);
    println!(
        "receive none: {}",
        incoming.receive(0).map_or(0, |d| d.len())
    );
    drop((incoming, outgoing));
    report("stream back to unconnected", u.stream(None).map(drop));
    report("remote-address after", u.remote_address());
}

/// Sends one datagram after asking `check-send` for a permit; the count sent.
fn send(
    out: &OutgoingDatagramStream,
    data: &[u8],
    to: Option<IpSocketAddress>,
) -> Result<u64, ErrorCode> {
    let pollable = out.subscribe();
    while out.check_send()? == 0 {
        wait(&pollable);
    }
    let datagram = OutgoingDatagram {
        data: data.to_vec(),
        remote_address: to,
    };
    out.send(&[datagram])
}

/// Waits for one datagram and prints it, and whether it came from the peer.
fn receive(incoming: &IncomingDatagramStream, port: u16) {
    let pollable = incoming.subscribe();
    let datagrams = loop {
        let got = (incoming.receive(4)).unwrap_or_else(|e| panic!("receive: err({})", e.name()));
        if !got.is_empty() {
            break got;
        }
        wait(&pollable);
    };
    for d in datagrams {
        let from_peer = port_of(&d.remote_address) == port;
        println!(
            "received: {} (from the peer: {from_peer})",
            String::from_utf8_lossy(&d.data)
        );
    }
}

/// Calls `send` without a permit from `check-send`, which the WIT says a
/// host must trap.
pub fn send_unpermitted() {
    let net = instance_network();
    let u: UdpSocket = expect(
        "create-udp-socket",
        create_udp_socket(IpAddressFamily::Ipv4),
    );
    expect("start-bind", u.start_bind(&net, loopback(0)));
    expect("finish-bind", u.finish_bind());
    let (_incoming, outgoing) = expect("stream", u.stream(None));
    let datagram = OutgoingDatagram {
        data: b"unpermitted".to_vec(),
        remote_address: Some(loopback(9)),
    };
    println!("sending without check-send");
    let sent = outgoing.send(&[datagram]);
    println!("the host allowed it: {sent:?}");
}
