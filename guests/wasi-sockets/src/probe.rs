//! Name lookup, socket options and the host's refusals: steps that need no peer.

use crate::{any_v4, expect, ip_text, loopback, report, wait};
use std::time::Duration;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::ip_name_lookup::resolve_addresses;
use wasip2::sockets::network::{ErrorCode, IpAddress, IpAddressFamily, Network};
use wasip2::sockets::tcp::TcpSocket;
use wasip2::sockets::tcp_create_socket::create_tcp_socket;
use wasip2::sockets::udp_create_socket::create_udp_socket;

/// Resolves `localhost`, IP literals, and names that are not names at all.
pub fn lookup() {
    let net = instance_network();
    let local = resolve(&net, "localhost").expect("localhost resolves");
    let has = |ip: &str| local.iter().any(|a| ip_text(a) == ip);
    println!("localhost includes 127.0.0.1: {}", has("127.0.0.1"));
    let loopback_only = local
        .iter()
        .all(|a| ["127.0.0.1", "::1"].contains(&ip_text(a).as_str()));
    println!("localhost is only loopback: {loopback_only}");
    for name in ["127.0.0.1", "::1", "[::1]", "10.1.2.3"] {
        match resolve(&net, name) {
            Ok(found) => println!("{name}: {}", texts(&found)),
            Err(e) => println!("{name}: err({})", e.name()),
        }
    }
    for name in ["", "has space", "a/b"] {
        let r = resolve(&net, name);
        println!(
            "{name:?}: {}",
            r.map_or_else(|e| format!("err({})", e.name()), |f| texts(&f))
        );
    }
}

/// Every address `name` resolves to, in the resolver's order.
fn resolve(net: &Network, name: &str) -> Result<Vec<IpAddress>, ErrorCode> {
    let stream = resolve_addresses(net, name)?;
    let pollable = stream.subscribe();
    let mut found = Vec::new();
    loop {
        match stream.resolve_next_address() {
            Ok(Some(a)) => found.push(a),
            Ok(None) => return Ok(found),
            Err(ErrorCode::WouldBlock) => wait(&pollable),
            Err(e) => return Err(e),
        }
    }
}

fn texts(found: &[IpAddress]) -> String {
    found.iter().map(ip_text).collect::<Vec<_>>().join(", ")
}

/// Sets each TCP and UDP option, refuses zero where the WIT says so, and
/// reads the values back.
pub fn options() {
    let s = expect(
        "create-tcp-socket",
        create_tcp_socket(IpAddressFamily::Ipv4),
    );
    println!(
        "address-family ipv4: {}",
        matches!(s.address_family(), IpAddressFamily::Ipv4)
    );
    println!("keep-alive-enabled: {:?}", s.keep_alive_enabled());
    keep_alive(&s);
    report("set-hop-limit 0", s.set_hop_limit(0));
    report("set-hop-limit 42", s.set_hop_limit(42));
    println!("hop-limit: {:?}", s.hop_limit());
    let sizes = [
        (
            "receive-buffer-size",
            s.set_receive_buffer_size(0),
            s.set_receive_buffer_size(65536),
        ),
        (
            "send-buffer-size",
            s.set_send_buffer_size(0),
            s.set_send_buffer_size(65536),
        ),
    ];
    for (name, zero, set) in sizes {
        report(&format!("set-{name} 0"), zero);
        report(&format!("set-{name} 65536"), set);
    }
    let reads = [s.receive_buffer_size(), s.send_buffer_size()];
    println!(
        "buffer sizes at least what was set: {}",
        reads.iter().all(|r| matches!(r, Ok(n) if *n >= 65536))
    );

    let u = expect(
        "create-udp-socket",
        create_udp_socket(IpAddressFamily::Ipv6),
    );
    println!(
        "udp address-family ipv6: {}",
        matches!(u.address_family(), IpAddressFamily::Ipv6)
    );
    report("set-unicast-hop-limit 0", u.set_unicast_hop_limit(0));
    report("set-unicast-hop-limit 7", u.set_unicast_hop_limit(7));
    println!("unicast-hop-limit: {:?}", u.unicast_hop_limit());
    report(
        "udp set-receive-buffer-size 0",
        u.set_receive_buffer_size(0),
    );
    report(
        "udp set-send-buffer-size 8192",
        u.set_send_buffer_size(8192),
    );
}

/// The keep-alive settings: configurable while keep-alive is off, zero refused.
fn keep_alive(s: &TcpSocket) {
    let secs = |r: Result<u64, ErrorCode>| r.map(|ns| Duration::from_nanos(ns).as_secs_f64());
    report("set-keep-alive-idle-time 0", s.set_keep_alive_idle_time(0));
    report(
        "set-keep-alive-idle-time 30s",
        s.set_keep_alive_idle_time(30_000_000_000),
    );
    println!("keep-alive-idle-time: {:?}", secs(s.keep_alive_idle_time()));
    println!("keep-alive-enabled still: {:?}", s.keep_alive_enabled());
    report("set-keep-alive-interval 0", s.set_keep_alive_interval(0));
    report(
        "set-keep-alive-interval 1.5s",
        s.set_keep_alive_interval(1_500_000_000),
    );
    println!("keep-alive-interval: {:?}", secs(s.keep_alive_interval()));
    report("set-keep-alive-count 0", s.set_keep_alive_count(0));
    report("set-keep-alive-count 4", s.set_keep_alive_count(4));
    println!("keep-alive-count: {:?}", s.keep_alive_count());
    report(
        "set-keep-alive-enabled true",
        s.set_keep_alive_enabled(true),
    );
    println!("keep-alive-enabled: {:?}", s.keep_alive_enabled());
}

/// What the host refuses: each socket kind, binding to 0.0.0.0 and to
/// 127.0.0.1 (a second bind after a refused one is allowed), name lookup.
pub fn denied() {
    let net = instance_network();
    if let Some(s) = report(
        "create-tcp-socket",
        create_tcp_socket(IpAddressFamily::Ipv4),
    ) {
        report("tcp start-bind to 0.0.0.0", s.start_bind(&net, any_v4(0)));
        report(
            "tcp start-bind to 127.0.0.1",
            s.start_bind(&net, loopback(0)),
        );
    }
    if let Some(u) = report(
        "create-udp-socket",
        create_udp_socket(IpAddressFamily::Ipv4),
    ) {
        report("udp start-bind to 0.0.0.0", u.start_bind(&net, any_v4(0)));
        report(
            "udp start-bind to 127.0.0.1",
            u.start_bind(&net, loopback(0)),
        );
    }
    report(
        "resolve-addresses localhost",
        resolve(&net, "localhost").map(drop),
    );
}
