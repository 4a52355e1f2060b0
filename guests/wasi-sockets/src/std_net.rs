//! Sockets as ordinary Rust programs use them: `std::net`, which reaches
//! `wasi:sockets` through wasi-libc (name lookup, non-blocking sockets and
//! `poll` underneath).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};

/// A TCP exchange with `localhost:tcp` (the name resolved by the host), a
/// datagram to and from 127.0.0.1:`udp`, then a listener the test connects to.
pub fn run(tcp: u16, udp: u16) {
    let mut stream = TcpStream::connect(("localhost", tcp)).expect("connect to localhost");
    stream.write_all(b"std over tcp").expect("write");
    stream.shutdown(Shutdown::Write).expect("shutdown");
    println!("tcp reply: {}", read_all(&mut stream));

    let socket = UdpSocket::bind("127.0.0.1:0").expect("udp bind");
    socket
        .send_to(b"std datagram", ("127.0.0.1", udp))
        .expect("send_to");
    let mut buf = [0; 256];
    let (n, from) = socket.recv_from(&mut buf).expect("recv_from");
    let reply = String::from_utf8_lossy(&buf[..n]);
    println!("udp reply: {reply} (from the peer: {})", from.port() == udp);

    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    println!(
        "listening on {}",
        listener.local_addr().expect("local_addr").port()
    );
    let (mut client, _) = listener.accept().expect("accept");
    let got = read_all(&mut client);
    println!("received: {got}");
    client
        .write_all(format!("pong: {got}").as_bytes())
        .expect("reply");
}

fn read_all(stream: &mut TcpStream) -> String {
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    text
}
