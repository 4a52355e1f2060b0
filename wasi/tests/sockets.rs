//! `wasi:sockets` through a real component: guests/wasi-sockets, a Rust
//! `wasm32-wasip2` command that drives TCP, UDP and name lookup step by step
//! and prints each outcome, against peers of the test's own on 127.0.0.1
//! (std sockets on threads, each bounded in time). Nothing leaves the
//! loopback interface; "localhost" resolves through the hosts file.
//!
//! The expected outputs of the `tcp-client`, `tcp-server`, `lookup`,
//! `options` and `std` modes are what Wasmtime 48 printed for the same
//! guest, with the same peers (the port in `listening on PORT` aside):
//! `wasmtime-run --inherit-network --allow-ip-name-lookup wasi-sockets.wasm
//! MODE [PORT]...` (bench/src/bin/wasmtime-run.rs). So is `denied` with
//! nothing allowed (`wasmtime-run wasi-sockets.wasm denied`), but for name
//! lookup, which Wasmtime refuses with `permanent-resolver-failure` and
//! Rivet with `access-denied`, as the WIT names a refusal. `udp` was not
//! compared: Wasmtime 48 traps at its second `stream` ("`connect` needs
//! exclusive access", though the guest dropped the first streams).

mod common;

use rivet::{Component, Trap};
use rivet_wasi::{AddressFamily, FailureCode, MemoryOutputPipe, Network, SocketAddrUse};
use rivet_wasi::{SocketError, StreamError, WasiCtx, WasiCtxBuilder};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a peer waits for the guest before it gives up.
const PATIENCE: Duration = Duration::from_secs(10);

const ALL: Network = Network {
    tcp: true,
    udp: true,
    ip_name_lookup: true,
};

/// The guest, compiled once for every test of this file.
fn guest() -> &'static Component {
    static GUEST: OnceLock<Component> = OnceLock::new();
    GUEST.get_or_init(|| common::compile_guest("wasi-sockets.wasm"))
}

/// Runs the guest with `args` in the context `ctx` makes, its stdout going
/// to `stdout`: the exit status, or the trap.
fn run_with(ctx: WasiCtxBuilder, args: &[&str], stdout: &MemoryOutputPipe) -> Result<i32, Trap> {
    let argv = std::iter::once("wasi-sockets").chain(args.iter().copied());
    let ctx = ctx.args(argv).stdout(stdout.clone()).build();
    let (mut store, instance, wasi) = common::instantiate(guest(), ctx);
    wasi.run(&mut store, &instance)
}

/// Runs the guest in `ctx`'s context; its stdout, after checking that it
/// exited with 0.
fn run_in(ctx: WasiCtxBuilder, args: &[&str], stdout: &MemoryOutputPipe) -> String {
    let status = run_with(ctx, args, stdout);
    let out = stdout.contents_string();
    assert!(matches!(status, Ok(0)), "{status:?}, stdout:\n{out}");
    out
}

/// Runs the guest with every protocol allowed (see [`run_in`]).
fn run(args: &[&str], stdout: &MemoryOutputPipe) -> String {
    run_in(WasiCtx::builder().network(ALL), args, stdout)
}

/// A TCP peer on 127.0.0.1: accepts one connection, reads until the guest
/// shuts its side down and answers the upper-case copy. Returns its port and
/// what it read.
fn tcp_peer() -> (u16, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("peer listens");
    let port = listener.local_addr().expect("peer's port").port();
    let peer = std::thread::spawn(move || {
        listener.set_nonblocking(true).expect("non-blocking accept");
        let start = Instant::now();
        let mut conn = loop {
            match listener.accept() {
                Ok((conn, _)) => break conn,
                Err(_) if start.elapsed() < PATIENCE => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("the guest never connected: {e}"),
            }
        };
        conn.set_nonblocking(false).expect("blocking stream");
        conn.set_read_timeout(Some(PATIENCE)).expect("read timeout");
        let mut got = String::new();
        conn.read_to_string(&mut got).expect("peer reads");
        conn.write_all(got.to_uppercase().as_bytes())
            .expect("peer answers");
        got
    });
    (port, peer)
}

/// A UDP peer on 127.0.0.1 that answers `count` datagrams with their
/// upper-case copies. Returns its port and the datagrams it got.
fn udp_peer(count: usize) -> (u16, JoinHandle<Vec<String>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("peer binds");
    let port = socket.local_addr().expect("peer's port").port();
    let peer = std::thread::spawn(move || {
        socket
            .set_read_timeout(Some(PATIENCE))
            .expect("read timeout");
        let mut buf = [0; 1024];
        (0..count)
            .map(|_| {
                let (n, from) = socket.recv_from(&mut buf).expect("a datagram came");
                let got = String::from_utf8_lossy(&buf[..n]).into_owned();
                socket
                    .send_to(got.to_uppercase().as_bytes(), from)
                    .expect("answered");
                got
            })
            .collect()
    });
    (port, peer)
}

/// A TCP client that connects once the guest prints `listening on PORT`,
/// sends `ping`, shuts its sending side down and returns the reply.
fn client_peer(stdout: MemoryOutputPipe) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let port = loop {
            let out = stdout.contents_string();
            let line = out.lines().find_map(|l| l.strip_prefix("listening on "));
            if let Some(port) = line {
                break port.parse::<u16>().expect("a port");
            }
            assert!(
                start.elapsed() < PATIENCE,
                "the guest never listened:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("client connects");
        conn.set_read_timeout(Some(PATIENCE)).expect("read timeout");
        conn.write_all(b"ping").expect("client sends");
        conn.shutdown(Shutdown::Write).expect("client shuts down");
        let mut reply = String::new();
        conn.read_to_string(&mut reply).expect("client reads");
        reply
    })
}

#[test]
fn a_tcp_client_connects_sends_shuts_down_and_reads_the_reply() {
    let (port, peer) = tcp_peer();
    let out = run(&["tcp-client", &port.to_string()], &MemoryOutputPipe::new());
    assert_eq!(peer.join().expect("peer"), "hello over tcp");
    let expected = "\
create-tcp-socket: ok
finish-connect before start: err(not-in-progress)
remote-address before connect: err(invalid-state)
start-connect to 0.0.0.0: err(invalid-argument)
start-connect to port 0: err(invalid-argument)
start-connect to an ipv6 address: err(invalid-argument)
start-connect: ok
start-connect again: err(concurrency-conflict)
finish-connect: ok
finish-connect again: err(not-in-progress)
start-listen while connected: err(invalid-state)
remote-address: ok
remote port is the peer's: true
local-address: ok
local port is set: true
shutdown send: ok
shutdown send again: ok
write after shutdown: closed
received: HELLO OVER TCP
";
    assert_eq!(out, expected);
}

#[test]
fn a_tcp_server_binds_listens_accepts_and_replies() {
    let stdout = MemoryOutputPipe::new();
    let client = client_peer(stdout.clone());
    let out = run(&["tcp-server"], &stdout);
    assert_eq!(client.join().expect("client"), "pong: ping");
    let port = out
        .lines()
        .find_map(|l| l.strip_prefix("listening on "))
        .expect("a port");
    let expected = format!(
        "\
create-tcp-socket: ok
start-listen unbound: err(invalid-state)
local-address unbound: err(invalid-state)
finish-bind before start: err(not-in-progress)
start-bind to an ipv6 address: err(invalid-argument)
start-bind: ok
start-bind while binding: err(concurrency-conflict)
finish-bind: ok
finish-bind again: err(not-in-progress)
start-bind again: err(invalid-state)
set-listen-backlog-size 0: err(invalid-argument)
set-listen-backlog-size 8: ok
accept before listening: err(invalid-state)
is-listening: false
start-listen: ok
finish-listen: ok
finish-listen again: err(not-in-progress)
is-listening: true
start-connect while listening: err(invalid-state)
shutdown while listening: err(invalid-state)
accept with no client: err(would-block)
local-address: ok
listening on {port}
accept: ok
accepted local-address: ok
accepted on the listener's port: true
accepted remote-address: ok
accepted is-listening: false
received: ping
shutdown both: ok
read after shutdown: closed
"
    );
    assert_eq!(out, expected);
}

#[test]
fn udp_datagrams_go_both_ways_unconnected_and_connected() {
    let (port, peer) = udp_peer(3);
    let out = run(&["udp", &port.to_string()], &MemoryOutputPipe::new());
    let got = peer.join().expect("peer");
    assert_eq!(
        got,
        [
            "unconnected datagram",
            "addressed datagram",
            "connected datagram"
        ]
    );
    let expected = "\
create-udp-socket: ok
stream unbound: err(invalid-state)
local-address unbound: err(invalid-state)
start-bind to an ipv6 address: err(invalid-argument)
start-bind: ok
finish-bind: ok
finish-bind again: err(not-in-progress)
remote-address unconnected: err(invalid-state)
stream: ok
send without an address: err(invalid-argument)
send to port 0: err(invalid-argument)
send to an ipv6 address: err(invalid-argument)
send one: ok
received: UNCONNECTED DATAGRAM (from the peer: true)
stream to the peer: ok
remote-address: ok
remote port is the peer's: true
send to another address: err(invalid-argument)
send to the peer's address: ok
received: ADDRESSED DATAGRAM (from the peer: true)
send without an address: ok
received: CONNECTED DATAGRAM (from the peer: true)
receive none: 0
stream back to unconnected: ok
remote-address after: err(invalid-state)
";
    assert_eq!(out, expected);
}

#[test]
fn localhost_and_ip_literals_resolve_and_non_names_are_invalid() {
    let out = run(&["lookup"], &MemoryOutputPipe::new());
    let expected = "\
localhost includes 127.0.0.1: true
localhost is only loopback: true
127.0.0.1: 127.0.0.1
::1: ::1
[::1]: ::1
10.1.2.3: 10.1.2.3
\"\": err(invalid-argument)
\"has space\": err(invalid-argument)
\"a/b\": err(invalid-argument)
";
    assert_eq!(out, expected);
}

#[test]
fn socket_options_read_back_what_was_set_and_zero_is_refused() {
    let out = run(&["options"], &MemoryOutputPipe::new());
    let expected = "\
create-tcp-socket: ok
address-family ipv4: true
keep-alive-enabled: Ok(false)
set-keep-alive-idle-time 0: err(invalid-argument)
set-keep-alive-idle-time 30s: ok
keep-alive-idle-time: Ok(30.0)
keep-alive-enabled still: Ok(false)
set-keep-alive-interval 0: err(invalid-argument)
set-keep-alive-interval 1.5s: ok
keep-alive-interval: Ok(2.0)
set-keep-alive-count 0: err(invalid-argument)
set-keep-alive-count 4: ok
keep-alive-count: Ok(4)
set-keep-alive-enabled true: ok
keep-alive-enabled: Ok(true)
set-hop-limit 0: err(invalid-argument)
set-hop-limit 42: ok
hop-limit: Ok(42)
set-receive-buffer-size 0: err(invalid-argument)
set-receive-buffer-size 65536: ok
set-send-buffer-size 0: err(invalid-argument)
set-send-buffer-size 65536: ok
buffer sizes at least what was set: true
create-udp-socket: ok
udp address-family ipv6: true
set-unicast-hop-limit 0: err(invalid-argument)
set-unicast-hop-limit 7: ok
unicast-hop-limit: Ok(7)
udp set-receive-buffer-size 0: err(invalid-argument)
udp set-send-buffer-size 8192: ok
";
    assert_eq!(out, expected);
}

/// The `denied` mode's report under `ctx`.
fn denied(ctx: WasiCtxBuilder) -> String {
    run_in(ctx, &["denied"], &MemoryOutputPipe::new())
}

#[test]
fn nothing_is_allowed_by_default() {
    let expected = "\
create-tcp-socket: err(access-denied)
create-udp-socket: err(access-denied)
resolve-addresses localhost: err(access-denied)
";
    assert_eq!(denied(WasiCtx::builder()), expected);
}

#[test]
fn each_protocol_is_allowed_on_its_own() {
    let tcp_only = Network {
        tcp: true,
        ..Network::default()
    };
    let expected = "\
create-tcp-socket: ok
tcp start-bind to 0.0.0.0: ok
tcp start-bind to 127.0.0.1: err(concurrency-conflict)
create-udp-socket: err(access-denied)
resolve-addresses localhost: err(access-denied)
";
    assert_eq!(denied(WasiCtx::builder().network(tcp_only)), expected);
}

#[test]
fn the_address_check_refuses_what_it_does_not_allow() {
    let loopback_only = |addr: std::net::SocketAddr, _: SocketAddrUse| addr.ip().is_loopback();
    let ctx = WasiCtx::builder()
        .network(ALL)
        .socket_addr_check(loopback_only);
    let expected = "\
create-tcp-socket: ok
tcp start-bind to 0.0.0.0: err(access-denied)
tcp start-bind to 127.0.0.1: ok
create-udp-socket: ok
udp start-bind to 0.0.0.0: err(access-denied)
udp start-bind to 127.0.0.1: ok
resolve-addresses localhost: ok
";
    assert_eq!(denied(ctx), expected);
}

#[test]
fn std_net_reaches_the_sockets_through_wasi_libc() {
    let (tcp, tcp_peer) = tcp_peer();
    let (udp, udp_peer) = udp_peer(1);
    let stdout = MemoryOutputPipe::new();
    let client = client_peer(stdout.clone());
    let out = run(&["std", &tcp.to_string(), &udp.to_string()], &stdout);
    assert_eq!(tcp_peer.join().expect("tcp peer"), "std over tcp");
    assert_eq!(udp_peer.join().expect("udp peer"), ["std datagram"]);
    assert_eq!(client.join().expect("client"), "pong: ping");
    let port = out
        .lines()
        .find_map(|l| l.strip_prefix("listening on "))
        .expect("a port");
    let expected = format!(
        "\
tcp reply: STD OVER TCP
udp reply: STD DATAGRAM (from the peer: true)
listening on {port}
received: ping
"
    );
    assert_eq!(out, expected);
}

#[test]
fn misusing_a_socket_traps_and_the_host_runs_on() {
    let cases = [
        (
            "misuse-send",
            "sending without check-send\n",
            "without a permit from check-send",
        ),
        (
            "misuse-drop",
            "create-tcp-socket: ok\ndropping the socket first\n",
            "derived from it are alive",
        ),
    ];
    for (mode, printed, trap) in cases {
        let stdout = MemoryOutputPipe::new();
        let ctx = WasiCtx::builder().network(ALL);
        let err = run_with(ctx, &[mode], &stdout).expect_err("the guest traps");
        assert!(err.message.contains(trap), "{mode}: {err}");
        assert!(
            stdout.contents_string().ends_with(printed),
            "{mode}: {}",
            stdout.contents_string()
        );
    }
    let (port, peer) = tcp_peer();
    run(&["tcp-client", &port.to_string()], &MemoryOutputPipe::new());
    assert_eq!(
        peer.join().expect("peer"),
        "hello over tcp",
        "a new instance after the traps"
    );
}

/// A context connected over TCP to a std peer: the context, the
/// connection's input and output streams, and the peer's end.
fn connected() -> (WasiCtx, u32, u32, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("peer listens");
    let addr = listener.local_addr().expect("peer's address");
    let mut ctx = WasiCtx::builder().network(ALL).build();
    let net = ctx.instance_network().unwrap();
    let socket = ctx.create_tcp_socket(AddressFamily::Ipv4).unwrap().unwrap();
    ctx.tcp_start_connect(socket, net, addr).unwrap().unwrap();
    let pollable = ctx.subscribe(socket).unwrap();
    ctx.block(pollable).unwrap();
    let (input, output) = ctx.tcp_finish_connect(socket).unwrap().unwrap();
    let (peer, _) = listener.accept().expect("peer accepts");
    (ctx, input, output, peer)
}

#[test]
fn a_peer_that_does_not_read_stops_check_write_and_bounds_the_queue() {
    let (mut ctx, _input, output, _peer) = connected();
    let mut written = 0u64;
    let permit = loop {
        let permit = ctx.check_write(output).unwrap().unwrap();
        if permit == 0 || written > 256 << 20 {
            break permit;
        }
        ctx.write(output, &vec![7; permit as usize])
            .unwrap()
            .unwrap();
        written += permit;
    };
    assert_eq!(
        permit, 0,
        "the socket's buffers filled after {written} bytes"
    );
    let err = ctx
        .write(output, &vec![7; 1 << 20])
        .expect_err("a write past the permit");
    assert!(err.message.contains("exceeds the permitted"), "{err}");
}

#[test]
fn a_reset_connection_fails_the_stream_with_its_network_error_code() {
    let (mut ctx, input, _output, peer) = connected();
    // No lingering: closing sends a reset instead of the end of the stream.
    socket2::SockRef::from(&peer)
        .set_linger(Some(Duration::ZERO))
        .expect("linger");
    drop(peer);
    match ctx.blocking_read(input, 16).unwrap() {
        Err(StreamError::Failed(_, code)) => {
            assert_eq!(code, FailureCode::Network(SocketError::ConnectionReset));
        }
        other => panic!("expected a failed read, got {other:?}"),
    }
    assert_eq!(
        ctx.read(input, 16).unwrap(),
        Err(StreamError::Closed),
        "closed after failing"
    );
}

/// `network-error-code`, the one socket function the guest does not import
/// (WASI marks it unstable), with its WIT type.
const NETWORK_ERROR_CODE: &str = r#"(component
  (import "wasi:io/error@0.2.12" (instance $error
    (export "error" (type (sub resource)))))
  (alias export $error "error" (type $error-t))
  (import "wasi:sockets/network@0.2.12" (instance $network
    (alias outer 1 $error-t (type $e))
    (export "error" (type $err (eq $e)))
    (type $ec (enum "unknown" "access-denied" "not-supported" "invalid-argument" "out-of-memory"
      "timeout" "concurrency-conflict" "not-in-progress" "would-block" "invalid-state"
      "new-socket-limit" "address-not-bindable" "address-in-use" "remote-unreachable"
      "connection-refused" "connection-reset" "connection-aborted" "datagram-too-large"
      "name-unresolvable" "temporary-resolver-failure" "permanent-resolver-failure"))
    (export "error-code" (type $error-code (eq $ec)))
    (export "network-error-code" (func (param "err" (borrow $err)) (result (option $error-code))))))
  (core module $m (memory (export "mem") 1))
  (core instance $main (instantiate $m))
  (alias core export $main "mem" (core memory $mem))
  (core func (canon lower (func $network "network-error-code") (memory $mem))))"#;

#[test]
fn network_error_code_matches_its_wit_type() {
    let component = common::compile(NETWORK_ERROR_CODE.as_bytes());
    // Instantiating checks the registered Rust types against the import's.
    let _ = common::instantiate(&component, WasiCtx::default());
}
