//! A WASI 0.2 command that drives `wasi:sockets` one step at a time, chosen by its
//! first argument, and prints each step's outcome (`label: ok` or
//! `label: err(CODE)` with the WASI error code), so a host's test can check the
//! state machines and error codes the WIT documents. Ports vary from run to run,
//! so lines compare them instead of printing them, except the one line a test's
//! peer waits for (`listening on PORT`).
//!
//! ```text
//! wasi-sockets tcp-client PORT     connect to 127.0.0.1:PORT, send, shut down, read the reply
//! wasi-sockets tcp-server          bind, listen, print `listening on PORT`, accept, reply
//! wasi-sockets udp PORT            datagrams to and from 127.0.0.1:PORT, unconnected then connected
//! wasi-sockets lookup              resolve localhost, IP literals and invalid names
//! wasi-sockets options             TCP and UDP socket options, set and read back
//! wasi-sockets denied              what a host that allows nothing (or little) refuses
//! wasi-sockets std TCP UDP         std::net (through wasi-libc): localhost:TCP and 127.0.0.1:UDP
//! wasi-sockets misuse-send         `send` without `check-send`: the host must trap
//! wasi-sockets misuse-drop         a socket dropped before its pollable: the host must trap
//! ```

mod probe;
mod std_net;
mod tcp;
mod udp;

use wasip2::clocks::monotonic_clock::subscribe_duration;
use wasip2::io::poll::{poll, Pollable};
use wasip2::sockets::network::{
    ErrorCode, IpAddress, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
};

const USAGE: &str = "usage: wasi-sockets tcp-client PORT|tcp-server|udp PORT|lookup|options|\
                     denied|std TCP UDP|misuse-send|misuse-drop";

/// How long a wait for the test's peer may take before the guest gives up.
const PATIENCE_NS: u64 = 10_000_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["tcp-client", port] => tcp::client(parse_port(port)),
        ["tcp-server"] => tcp::server(),
        ["udp", port] => udp::run(parse_port(port)),
        ["lookup"] => probe::lookup(),
        ["options"] => probe::options(),
        ["denied"] => probe::denied(),
        ["std", tcp, udp] => std_net::run(parse_port(tcp), parse_port(udp)),
        ["misuse-send"] => udp::send_unpermitted(),
        ["misuse-drop"] => tcp::drop_before_pollable(),
        _ => usage(),
    }
}

/// Bad arguments: the usage on stderr and status 2.
fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2)
}

fn parse_port(s: &str) -> u16 {
    s.parse().unwrap_or_else(|_| usage())
}

/// Prints `label: ok` or `label: err(CODE)`, and hands back the value.
fn report<T>(label: &str, r: Result<T, ErrorCode>) -> Option<T> {
    match r {
        Ok(v) => {
            println!("{label}: ok");
            Some(v)
        }
        Err(e) => {
            println!("{label}: err({})", e.name());
            None
        }
    }
}

/// Like [`report`], for a step that must succeed for the mode to go on.
fn expect<T>(label: &str, r: Result<T, ErrorCode>) -> T {
    report(label, r).unwrap_or_else(|| panic!("{label} failed"))
}

/// Waits until `pollable` is ready, or panics after [`PATIENCE_NS`] (so a
/// broken host or a missing peer fails the run instead of hanging it).
fn wait(pollable: &Pollable) {
    let timeout = subscribe_duration(PATIENCE_NS);
    let ready = poll(&[pollable, &timeout]);
    assert!(ready.contains(&0), "gave up waiting for the peer");
}

/// Runs an asynchronous step to its end: retries while it says
/// `would-block`, waiting on the socket's pollable in between.
fn finish<T>(
    pollable: &Pollable,
    mut step: impl FnMut() -> Result<T, ErrorCode>,
) -> Result<T, ErrorCode> {
    loop {
        match step() {
            Err(ErrorCode::WouldBlock) => wait(pollable),
            done => return done,
        }
    }
}

/// 127.0.0.1:`port`.
fn loopback(port: u16) -> IpSocketAddress {
    IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: (127, 0, 0, 1),
    })
}

/// 0.0.0.0:`port`.
fn any_v4(port: u16) -> IpSocketAddress {
    IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: (0, 0, 0, 0),
    })
}

/// [::1]:`port`.
fn loopback_v6(port: u16) -> IpSocketAddress {
    IpSocketAddress::Ipv6(Ipv6SocketAddress {
        port,
        flow_info: 0,
        address: (0, 0, 0, 0, 0, 0, 0, 1),
        scope_id: 0,
    })
}

fn port_of(a: &IpSocketAddress) -> u16 {
    match a {
        IpSocketAddress::Ipv4(a) => a.port,
        IpSocketAddress::Ipv6(a) => a.port,
    }
}

/// The address without its port, as text (`127.0.0.1`, `::1`).
fn ip_text(a: &IpAddress) -> String {
    match *a {
        IpAddress::Ipv4((a, b, c, d)) => std::net::Ipv4Addr::new(a, b, c, d).to_string(),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            std::net::Ipv6Addr::new(a, b, c, d, e, f, g, h).to_string()
        }
    }
}
