//! TCP through `wasi:sockets/tcp`: a client and a server, each step printed.

use crate::{any_v4, expect, finish, loopback, loopback_v6, port_of, report, wait};
use wasip2::io::streams::{InputStream, OutputStream, StreamError};
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::network::{IpAddressFamily, IpSocketAddress};
use wasip2::sockets::tcp::{ShutdownType, TcpSocket};
use wasip2::sockets::tcp_create_socket::create_tcp_socket;

/// Connects to the test's peer at 127.0.0.1:`port`, sends a message, shuts
/// its sending side down and prints what the peer answers.
pub fn client(port: u16) {
    let net = instance_network();
    let s = expect(
        "create-tcp-socket",
        create_tcp_socket(IpAddressFamily::Ipv4),
    );
    report("finish-connect before start", s.finish_connect());
    report("remote-address before connect", s.remote_address());
    report(
        "start-connect to 0.0.0.0",
        s.start_connect(&net, any_v4(port)),
    );
    report(
        "start-connect to port 0",
        s.start_connect(&net, loopback(0)),
    );
    report(
        "start-connect to an ipv6 address",
        s.start_connect(&net, loopback_v6(port)),
    );
    expect("start-connect", s.start_connect(&net, loopback(port)));
    report("start-connect again", s.start_connect(&net, loopback(port)));
    let pollable = s.subscribe();
    let (input, output) = expect("finish-connect", finish(&pollable, || s.finish_connect()));
    report("finish-connect again", s.finish_connect());
    report("start-listen while connected", s.start_listen());
    let remote = expect("remote-address", s.remote_address());
    println!("remote port is the peer's: {}", port_of(&remote) == port);
    let local = expect("local-address", s.local_address());
    println!("local port is set: {}", port_of(&local) != 0);
    write_all(&output, b"hello over tcp");
    expect("shutdown send", s.shutdown(ShutdownType::Send));
    report("shutdown send again", s.shutdown(ShutdownType::Send));
    println!(
        "write after shutdown: {}",
        stream_error(output.check_write())
    );
    println!("received: {}", read_to_end(&input));
    drop((input, output, pollable));
}

/// Listens on an ephemeral port of 127.0.0.1, prints `listening on PORT` for
/// the test's peer, accepts it, reads until it shuts its side down and
/// answers `pong: ` and what it read.
pub fn server() {
    let net = instance_network();
    let s = expect(
        "create-tcp-socket",
        create_tcp_socket(IpAddressFamily::Ipv4),
    );
    report("start-listen unbound", s.start_listen());
    report("local-address unbound", s.local_address());
    report("finish-bind before start", s.finish_bind());
    report(
        "start-bind to an ipv6 address",
        s.start_bind(&net, loopback_v6(0)),
    );
    expect("start-bind", s.start_bind(&net, loopback(0)));
    report("start-bind while binding", s.start_bind(&net, loopback(0)));
    expect("finish-bind", s.finish_bind());
    report("finish-bind again", s.finish_bind());
    report("start-bind again", s.start_bind(&net, loopback(0)));
    report("set-listen-backlog-size 0", s.set_listen_backlog_size(0));
    report("set-listen-backlog-size 8", s.set_listen_backlog_size(8));
    report("accept before listening", s.accept());
    println!("is-listening: {}", s.is_listening());
    expect("start-listen", s.start_listen());
    expect("finish-listen", s.finish_listen());
    report("finish-listen again", s.finish_listen());
    println!("is-listening: {}", s.is_listening());
    report(
        "start-connect while listening",
        s.start_connect(&net, loopback(9)),
    );
    report("shutdown while listening", s.shutdown(ShutdownType::Both));
    report("accept with no client", s.accept());
    let local = expect("local-address", s.local_address());
    println!("listening on {}", port_of(&local));
    let pollable = s.subscribe();
    let (client, input, output) = expect("accept", finish(&pollable, || s.accept()));
    serve(&client, &input, &output, &local);
    drop((input, output, client, pollable));
}

/// The server's side of one accepted connection.
fn serve(
    client: &TcpSocket,
    input: &InputStream,
    output: &OutputStream,
    listener: &IpSocketAddress,
) {
    let local = expect("accepted local-address", client.local_address());
    println!(
        "accepted on the listener's port: {}",
        port_of(&local) == port_of(listener)
    );
    expect("accepted remote-address", client.remote_address());
    println!("accepted is-listening: {}", client.is_listening());
    let got = read_to_end(input);
    println!("received: {got}");
    write_all(output, format!("pong: {got}").as_bytes());
    expect("shutdown both", client.shutdown(ShutdownType::Both));
    println!("read after shutdown: {}", stream_error(input.read(1)));
}

/// Drops a socket while a pollable made from it is alive, which the WIT lets
/// a host refuse with a trap.
pub fn drop_before_pollable() {
    let s = expect(
        "create-tcp-socket",
        create_tcp_socket(IpAddressFamily::Ipv4),
    );
    let pollable = s.subscribe();
    println!("dropping the socket first");
    drop(s);
    drop(pollable);
    println!("the host let the socket go before its pollable");
}

/// Writes all of `bytes`, waiting for the stream to take them.
fn write_all(output: &OutputStream, bytes: &[u8]) {
    for chunk in bytes.chunks(4096) {
        output
            .blocking_write_and_flush(chunk)
            .unwrap_or_else(|e| panic!("write failed: {}", stream_error::<()>(Err(e))));
    }
}

/// Reads until the peer shuts its side down; the bytes as text.
fn read_to_end(input: &InputStream) -> String {
    let mut got = Vec::new();
    let pollable = input.subscribe();
    loop {
        match input.read(4096) {
            Ok(bytes) if bytes.is_empty() => wait(&pollable),
            Ok(bytes) => got.extend(bytes),
            Err(StreamError::Closed) => break,
            Err(e) => panic!("read failed: {}", stream_error::<()>(Err(e))),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// A stream result as text: `ok`, `closed`, or `failed (CODE)` with the
/// network error code the host gives for it.
fn stream_error<T>(r: Result<T, StreamError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(StreamError::Closed) => "closed".into(),
        Err(StreamError::LastOperationFailed(e)) => format!("failed ({})", e.to_debug_string()),
    }
}
