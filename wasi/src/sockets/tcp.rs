//! `wasi:sockets/tcp` and `tcp-create-socket`: the TCP socket's state
//! machine (the WIT's `unbound`, `bind-in-progress`, `bound`,
//! `listen-in-progress`, `listening`, `connect-in-progress`, `connected`,
//! `closed`). The streams of a connected socket are in
//! [`super::tcp_stream`].

use super::options::{self, SocketOption};
use super::tcp_stream::{Conn, TcpReader, TcpWriter};
use super::{check_addr, check_family, check_remote, is_unicast, new_socket};
use super::{AddressFamily, SocketAddrUse, SocketError, SocketResult};
use crate::io::{InputStream, OutputStream};
use crate::poll::{fd_ready, Readiness};
use crate::table::Entry;
use crate::WasiCtx;
use rivet::Trap;
use rustix::event::PollFlags;
use socket2::{SockRef, Socket, Type};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The listen backlog until the guest sets one (Wasmtime's, and a common
/// default of servers).
const DEFAULT_BACKLOG: i32 = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Unbound,
    BindStarted,
    Bound,
    ListenStarted,
    Listening,
    ConnectStarted,
    Connected,
    /// A connection attempt failed: only dropping the socket is left.
    Closed,
}

impl State {
    /// The error of starting an operation this state does not allow:
    /// `concurrency-conflict` while another one is in progress,
    /// `invalid-state` otherwise.
    fn refusal(self) -> SocketError {
        match self {
            State::BindStarted | State::ListenStarted | State::ConnectStarted => {
                SocketError::ConcurrencyConflict
            }
            _ => SocketError::InvalidState,
        }
    }

    /// Whether the socket has a local address (the WIT's "bound" or higher).
    fn is_bound(self) -> bool {
        !matches!(self, State::Unbound | State::BindStarted | State::Closed)
    }
}

/// A `tcp-socket`.
pub(crate) struct TcpSocket {
    conn: Arc<Conn>,
    family: AddressFamily,
    state: State,
    backlog: i32,
}

impl TcpSocket {
    fn new(socket: Socket, family: AddressFamily, state: State) -> TcpSocket {
        TcpSocket {
            conn: Conn::new(socket),
            family,
            state,
            backlog: DEFAULT_BACKLOG,
        }
    }

    fn socket(&self) -> &Socket {
        &self.conn.socket
    }

    /// `start-bind`; `allowed` is the host's verdict on the address.
    fn start_bind(
        &mut self,
        addr: SocketAddr,
        allowed: Result<(), SocketError>,
    ) -> Result<(), SocketError> {
        if self.state != State::Unbound {
            return Err(self.state.refusal());
        }
        check_family(&addr, self.family)?;
        if !is_unicast(addr.ip()) {
            return Err(SocketError::InvalidArgument);
        }
        allowed?;
        if addr.port() != 0 {
            // A port in TIME_WAIT can be bound again, as the WIT asks.
            self.socket()
                .set_reuse_address(true)
                .map_err(|e| SocketError::from_io(&e))?;
        }
        self.socket()
            .bind(&addr.into())
            .map_err(|e| SocketError::from_io(&e))?;
        self.state = State::BindStarted;
        Ok(())
    }

    fn finish_bind(&mut self) -> Result<(), SocketError> {
        self.finish(State::BindStarted, State::Bound)
    }

    /// A `finish-*`: from `started` to `done`, else `not-in-progress`.
    fn finish(&mut self, started: State, done: State) -> Result<(), SocketError> {
        if self.state != started {
            return Err(SocketError::NotInProgress);
        }
        self.state = done;
        Ok(())
    }

    fn start_listen(&mut self) -> Result<(), SocketError> {
        if self.state != State::Bound {
            return Err(self.state.refusal());
        }
        self.socket()
            .listen(self.backlog)
            .map_err(|e| SocketError::from_io(&e))?;
        self.state = State::ListenStarted;
        Ok(())
    }

    fn finish_listen(&mut self) -> Result<(), SocketError> {
        self.finish(State::ListenStarted, State::Listening)
    }

    /// `start-connect`: the system's non-blocking `connect`, whose outcome
    /// `finish-connect` reports. A refused attempt closes the socket.
    fn start_connect(
        &mut self,
        addr: SocketAddr,
        allowed: Result<(), SocketError>,
    ) -> Result<(), SocketError> {
        if !matches!(self.state, State::Unbound | State::Bound) {
            return Err(self.state.refusal());
        }
        check_remote(&addr, self.family)?;
        if !is_unicast(addr.ip()) {
            return Err(SocketError::InvalidArgument);
        }
        allowed?;
        match self.socket().connect(&addr.into()) {
            Err(e) if e.raw_os_error() != Some(libc::EINPROGRESS) => {
                self.state = State::Closed;
                Err(connect_error(&e))
            }
            _ => {
                self.state = State::ConnectStarted;
                Ok(())
            }
        }
    }

    /// `finish-connect`: `would-block` until the socket is writable, then
    /// the connection's error or its streams.
    fn finish_connect(&mut self) -> Result<(TcpReader, TcpWriter), SocketError> {
        if self.state != State::ConnectStarted {
            return Err(SocketError::NotInProgress);
        }
        if !fd_ready(self.socket().as_fd(), PollFlags::OUT) {
            return Err(SocketError::WouldBlock);
        }
        match self.socket().take_error() {
            Ok(None) => {
                self.state = State::Connected;
                Ok(self.streams())
            }
            Ok(Some(e)) | Err(e) => {
                self.state = State::Closed;
                Err(connect_error(&e))
            }
        }
    }

    fn streams(&self) -> (TcpReader, TcpWriter) {
        let reader = TcpReader(self.conn.clone());
        let writer = TcpWriter {
            conn: self.conn.clone(),
            queued: Vec::new(),
        };
        (reader, writer)
    }

    /// `accept`: a connected socket (which inherits the listener's options,
    /// as Linux does) and its streams.
    fn accept(&mut self) -> Result<(TcpSocket, TcpReader, TcpWriter), SocketError> {
        if self.state != State::Listening {
            return Err(SocketError::InvalidState);
        }
        let (socket, _) = self
            .socket()
            .accept()
            .map_err(|e| SocketError::from_io(&e))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| SocketError::from_io(&e))?;
        let client = TcpSocket::new(socket, self.family, State::Connected);
        let (reader, writer) = client.streams();
        Ok((client, reader, writer))
    }

    /// `shutdown`: closes the streams' directions; idempotent.
    fn shutdown(&mut self, how: Shutdown) -> Result<(), SocketError> {
        if self.state != State::Connected {
            return Err(SocketError::InvalidState);
        }
        let (read, write) = (&self.conn.read_shut, &self.conn.write_shut);
        let flags: &[&AtomicBool] = match how {
            Shutdown::Read => &[read],
            Shutdown::Write => &[write],
            Shutdown::Both => &[read, write],
        };
        if flags.iter().all(|f| f.load(Ordering::Relaxed)) {
            return Ok(());
        }
        match self.socket().shutdown(how) {
            // The peer may have closed the connection already.
            Err(e) if e.raw_os_error() != Some(libc::ENOTCONN) => Err(SocketError::from_io(&e)),
            _ => {
                flags.iter().for_each(|f| f.store(true, Ordering::Relaxed));
                Ok(())
            }
        }
    }

    fn set_listen_backlog_size(&mut self, size: u64) -> Result<(), SocketError> {
        if size == 0 {
            return Err(SocketError::InvalidArgument);
        }
        if matches!(self.state, State::ConnectStarted | State::Connected) {
            return Err(SocketError::InvalidState);
        }
        self.backlog = size.min(i32::MAX as u64) as i32;
        if matches!(self.state, State::ListenStarted | State::Listening) {
            // Linux takes a new backlog from a second `listen`.
            self.socket()
                .listen(self.backlog)
                .map_err(|e| SocketError::from_io(&e))?;
        }
        Ok(())
    }

    fn local_address(&mut self) -> Result<SocketAddr, SocketError> {
        if !self.state.is_bound() {
            return Err(SocketError::InvalidState);
        }
        socket_addr(self.socket().local_addr())
    }

    fn remote_address(&mut self) -> Result<SocketAddr, SocketError> {
        if self.state != State::Connected {
            return Err(SocketError::InvalidState);
        }
        socket_addr(self.socket().peer_addr())
    }

    fn is_listening(&mut self) -> bool {
        self.state == State::Listening
    }

    fn address_family(&mut self) -> AddressFamily {
        self.family
    }

    fn option(&mut self, option: SocketOption) -> Result<u64, SocketError> {
        options::get(SockRef::from(self.socket()), self.family, option)
    }

    fn set_option(&mut self, option: SocketOption, value: u64) -> Result<(), SocketError> {
        options::set(SockRef::from(self.socket()), self.family, option, value)
    }

    /// The socket's pollable: ready when a connection attempt has an
    /// outcome or a client waits to be accepted.
    pub(crate) fn readiness(&self) -> Readiness<'_> {
        let fd = self.socket().as_fd();
        match self.state {
            State::ConnectStarted => Readiness::Fd(fd, PollFlags::OUT),
            State::Listening => Readiness::Fd(fd, PollFlags::IN),
            _ => Readiness::Now,
        }
    }
}

/// A socket address the system gave, as an IP socket address.
pub(super) fn socket_addr(addr: io::Result<socket2::SockAddr>) -> Result<SocketAddr, SocketError> {
    let addr = addr.map_err(|e| SocketError::from_io(&e))?;
    addr.as_socket().ok_or(SocketError::Unknown)
}

/// The error of a connection attempt: `EADDRNOTAVAIL` there means Linux
/// found no ephemeral port for the implicit bind (`address-in-use`).
fn connect_error(e: &io::Error) -> SocketError {
    match e.raw_os_error() {
        Some(libc::EADDRNOTAVAIL) => SocketError::AddressInUse,
        _ => SocketError::from_io(e),
    }
}

ctx_methods! {
    /// `tcp-socket.finish-bind`.
    tcp_finish_bind => tcp.finish_bind() -> Result<(), SocketError>;
    /// `tcp-socket.start-listen`.
    tcp_start_listen => tcp.start_listen() -> Result<(), SocketError>;
    /// `tcp-socket.finish-listen`.
    tcp_finish_listen => tcp.finish_listen() -> Result<(), SocketError>;
    /// `tcp-socket.shutdown`.
    tcp_shutdown => tcp.shutdown(how: Shutdown) -> Result<(), SocketError>;
    /// `tcp-socket.set-listen-backlog-size`.
    tcp_set_listen_backlog_size => tcp.set_listen_backlog_size(size: u64) -> Result<(), SocketError>;
    /// `tcp-socket.local-address`.
    tcp_local_address => tcp.local_address() -> Result<SocketAddr, SocketError>;
    /// `tcp-socket.remote-address`.
    tcp_remote_address => tcp.remote_address() -> Result<SocketAddr, SocketError>;
    /// `tcp-socket.is-listening`.
    tcp_is_listening => tcp.is_listening() -> bool;
    /// `tcp-socket.address-family`.
    tcp_address_family => tcp.address_family() -> AddressFamily;
    /// A TCP socket option's value (the getters of `tcp-socket`).
    tcp_option => tcp.option(option: SocketOption) -> Result<u64, SocketError>;
    /// Sets a TCP socket option (the setters of `tcp-socket`).
    set_tcp_option => tcp.set_option(option: SocketOption, value: u64) -> Result<(), SocketError>;
}

impl WasiCtx {
    /// `tcp-create-socket.create-tcp-socket`: `access-denied` unless the
    /// host allows TCP.
    pub fn create_tcp_socket(&mut self, family: AddressFamily) -> SocketResult<u32> {
        if !self.network.tcp {
            return Ok(Err(SocketError::AccessDenied));
        }
        let socket = match new_socket(family, Type::STREAM) {
            Ok(s) => TcpSocket::new(s, family, State::Unbound),
            Err(e) => return Ok(Err(e)),
        };
        self.table.push(Entry::Tcp(socket), None).map(Ok)
    }

    /// `tcp-socket.start-bind`.
    pub fn tcp_start_bind(
        &mut self,
        socket: u32,
        network: u32,
        addr: SocketAddr,
    ) -> SocketResult<()> {
        self.check_network(network)?;
        let allowed = check_addr(&self.addr_check, addr, SocketAddrUse::TcpBind);
        Ok(self.table.tcp(socket)?.start_bind(addr, allowed))
    }

    /// `tcp-socket.start-connect`.
    pub fn tcp_start_connect(
        &mut self,
        socket: u32,
        network: u32,
        addr: SocketAddr,
    ) -> SocketResult<()> {
        self.check_network(network)?;
        let allowed = check_addr(&self.addr_check, addr, SocketAddrUse::TcpConnect);
        Ok(self.table.tcp(socket)?.start_connect(addr, allowed))
    }

    /// `tcp-socket.finish-connect`: the connection's input and output streams.
    pub fn tcp_finish_connect(&mut self, socket: u32) -> SocketResult<(u32, u32)> {
        let (reader, writer) = match self.table.tcp(socket)?.finish_connect() {
            Ok(streams) => streams,
            Err(e) => return Ok(Err(e)),
        };
        self.push_streams(reader, writer).map(Ok)
    }

    /// `tcp-socket.accept`: the client's socket, input and output streams.
    pub fn tcp_accept(&mut self, socket: u32) -> SocketResult<(u32, u32, u32)> {
        let (client, reader, writer) = match self.table.tcp(socket)?.accept() {
            Ok(accepted) => accepted,
            Err(e) => return Ok(Err(e)),
        };
        let client = self.table.push(Entry::Tcp(client), None)?;
        let (input, output) = self.push_streams(reader, writer)?;
        Ok(Ok((client, input, output)))
    }

    fn push_streams(&mut self, reader: TcpReader, writer: TcpWriter) -> Result<(u32, u32), Trap> {
        let input = self
            .table
            .push(Entry::Input(InputStream::Tcp(reader)), None)?;
        let output = self
            .table
            .push(Entry::Output(OutputStream::Tcp(writer)), None)?;
        Ok((input, output))
    }
}
