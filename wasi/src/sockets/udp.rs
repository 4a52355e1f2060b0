//! `wasi:sockets/udp` and `udp-create-socket`: a UDP socket, bound
//! explicitly, whose `stream` gives the datagram streams, unconnected or
//! connected to one peer.
//!
//! The datagram streams share the socket rather than being its children; a
//! second `stream` reconnects the socket, and only the newest streams send
//! where the guest expects (the WIT allows exactly that).

use super::options::{self, SocketOption};
use super::tcp::socket_addr;
use super::{check_addr, check_family, check_remote, new_socket, AddrCheck};
use super::{AddressFamily, SocketAddrUse, SocketError, SocketResult};
use crate::poll::{fd_ready, Readiness};
use crate::table::Entry;
use crate::WasiCtx;
use rivet::Trap;
use rustix::event::PollFlags;
use socket2::{SockRef, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::Arc;

/// Room for the largest UDP datagram.
const MAX_DATAGRAM: usize = 1 << 16;

/// The most datagrams one `receive` returns (each takes up to 64 KiB).
const RECEIVE_BATCH: u64 = 16;

/// The datagrams `check-send` permits when the socket can send.
const SEND_PERMIT: u64 = 16;

/// A received datagram (`incoming-datagram`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingDatagram {
    pub data: Vec<u8>,
    pub remote_address: SocketAddr,
}

/// A datagram to send (`outgoing-datagram`): to its address, or to the
/// stream's peer when it has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingDatagram {
    pub data: Vec<u8>,
    pub remote_address: Option<SocketAddr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Unbound,
    BindStarted,
    Bound,
    /// Bound, with the streams limited to this peer.
    Connected(SocketAddr),
}

/// A `udp-socket`.
pub(crate) struct UdpSocket {
    socket: Arc<std::net::UdpSocket>,
    family: AddressFamily,
    state: State,
}

impl UdpSocket {
    fn start_bind(
        &mut self,
        addr: SocketAddr,
        allowed: Result<(), SocketError>,
    ) -> Result<(), SocketError> {
        match self.state {
            State::Unbound => {}
            State::BindStarted => return Err(SocketError::ConcurrencyConflict),
            _ => return Err(SocketError::InvalidState),
        }
        check_family(&addr, self.family)?;
        allowed?;
        let bound = SockRef::from(&*self.socket).bind(&addr.into());
        bound.map_err(|e| SocketError::from_io(&e))?;
        self.state = State::BindStarted;
        Ok(())
    }

    fn finish_bind(&mut self) -> Result<(), SocketError> {
        if self.state != State::BindStarted {
            return Err(SocketError::NotInProgress);
        }
        self.state = State::Bound;
        Ok(())
    }

    /// `stream`: disconnects, connects to `remote` when given, and makes
    /// the datagram streams.
    fn stream(
        &mut self,
        remote: Option<SocketAddr>,
        allowed: Result<(), SocketError>,
    ) -> Result<(IncomingDatagrams, OutgoingDatagrams), SocketError> {
        if matches!(self.state, State::Unbound | State::BindStarted) {
            return Err(SocketError::InvalidState);
        }
        if let Some(addr) = remote {
            check_remote(&addr, self.family)?;
        }
        allowed?;
        if let State::Connected(_) = self.state {
            let disconnected = rustix::net::connect_unspec(&*self.socket);
            disconnected.map_err(|e| SocketError::from_io(&e.into()))?;
            self.state = State::Bound;
        }
        if let Some(addr) = remote {
            self.socket
                .connect(addr)
                .map_err(|e| SocketError::from_io(&e))?;
            self.state = State::Connected(addr);
        }
        let incoming = IncomingDatagrams(self.socket.clone());
        let outgoing = OutgoingDatagrams {
            socket: self.socket.clone(),
            family: self.family,
            remote,
            permit: None,
        };
        Ok((incoming, outgoing))
    }

    fn local_address(&mut self) -> Result<SocketAddr, SocketError> {
        if matches!(self.state, State::Unbound | State::BindStarted) {
            return Err(SocketError::InvalidState);
        }
        socket_addr(SockRef::from(&*self.socket).local_addr())
    }

    fn remote_address(&mut self) -> Result<SocketAddr, SocketError> {
        match self.state {
            State::Connected(addr) => Ok(addr),
            _ => Err(SocketError::InvalidState),
        }
    }

    fn address_family(&mut self) -> AddressFamily {
        self.family
    }

    fn option(&mut self, option: SocketOption) -> Result<u64, SocketError> {
        options::get(SockRef::from(&*self.socket), self.family, option)
    }

    fn set_option(&mut self, option: SocketOption, value: u64) -> Result<(), SocketError> {
        options::set(SockRef::from(&*self.socket), self.family, option, value)
    }
}

/// An `incoming-datagram-stream`.
pub(crate) struct IncomingDatagrams(Arc<std::net::UdpSocket>);

impl IncomingDatagrams {
    /// `receive`: the datagrams waiting now, at most `max` (and at most
    /// [`RECEIVE_BATCH`]); an error only when none came.
    fn receive(&mut self, max: u64) -> Result<Vec<IncomingDatagram>, SocketError> {
        let mut got = Vec::new();
        let mut buf = vec![0; if max == 0 { 0 } else { MAX_DATAGRAM }];
        while (got.len() as u64) < max.min(RECEIVE_BATCH) {
            match self.0.recv_from(&mut buf) {
                Ok((n, from)) => got.push(IncomingDatagram {
                    data: buf[..n].to_vec(),
                    remote_address: from,
                }),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if got.is_empty() && e.kind() != io::ErrorKind::WouldBlock => {
                    return Err(SocketError::from_io(&e))
                }
                Err(_) => break,
            }
        }
        Ok(got)
    }

    pub(crate) fn readiness(&self) -> Readiness<'_> {
        Readiness::Fd(self.0.as_fd(), PollFlags::IN)
    }
}

/// An `outgoing-datagram-stream`, with what `check-send` last permitted.
pub(crate) struct OutgoingDatagrams {
    socket: Arc<std::net::UdpSocket>,
    family: AddressFamily,
    remote: Option<SocketAddr>,
    permit: Option<u64>,
}

impl OutgoingDatagrams {
    /// `check-send`: [`SEND_PERMIT`] datagrams when the socket can send now,
    /// none otherwise.
    fn check_send(&mut self) -> Result<u64, SocketError> {
        let n = if fd_ready(self.socket.as_fd(), PollFlags::OUT) {
            SEND_PERMIT
        } else {
            0
        };
        self.permit = Some(n);
        Ok(n)
    }

    /// `send`: a trap without a permit from `check-send` or past it, as the
    /// WIT says; each permit serves one `send`. Sends in order until one
    /// fails: the count sent, or the first datagram's error.
    fn send(
        &mut self,
        datagrams: &[OutgoingDatagram],
        check: &Option<AddrCheck>,
    ) -> SocketResult<u64> {
        if datagrams.is_empty() {
            return Ok(Ok(0));
        }
        let permit = self.permit.take().ok_or_else(|| {
            Trap::host("outgoing-datagram-stream.send without a permit from check-send")
        })?;
        if datagrams.len() as u64 > permit {
            return Err(Trap::host(format!(
                "outgoing-datagram-stream.send of {} datagrams exceeds the {permit} check-send permitted",
                datagrams.len()
            )));
        }
        let mut sent = 0;
        for d in datagrams {
            match self.send_one(d, check) {
                Ok(()) => sent += 1,
                Err(e) if sent == 0 && e != SocketError::WouldBlock => return Ok(Err(e)),
                Err(_) => break,
            }
        }
        Ok(Ok(sent))
    }

    /// Sends one datagram to its address, which must be the stream's peer
    /// when it has one.
    fn send_one(&self, d: &OutgoingDatagram, check: &Option<AddrCheck>) -> Result<(), SocketError> {
        let sent = match (self.remote, d.remote_address) {
            (Some(peer), to) if to.is_none_or(|to| to == peer) => self.socket.send(&d.data),
            (None, Some(to)) => {
                check_remote(&to, self.family)?;
                check_addr(check, to, SocketAddrUse::UdpSend)?;
                self.socket.send_to(&d.data, to)
            }
            _ => return Err(SocketError::InvalidArgument),
        };
        sent.map(drop).map_err(|e| SocketError::from_io(&e))
    }

    pub(crate) fn readiness(&self) -> Readiness<'_> {
        Readiness::Fd(self.socket.as_fd(), PollFlags::OUT)
    }
}

ctx_methods! {
    /// `udp-socket.finish-bind`.
    udp_finish_bind => udp.finish_bind() -> Result<(), SocketError>;
    /// `udp-socket.local-address`.
    udp_local_address => udp.local_address() -> Result<SocketAddr, SocketError>;
    /// `udp-socket.remote-address`.
    udp_remote_address => udp.remote_address() -> Result<SocketAddr, SocketError>;
    /// `udp-socket.address-family`.
    udp_address_family => udp.address_family() -> AddressFamily;
    /// A UDP socket option's value (the getters of `udp-socket`).
    udp_option => udp.option(option: SocketOption) -> Result<u64, SocketError>;
    /// Sets a UDP socket option (the setters of `udp-socket`).
    set_udp_option => udp.set_option(option: SocketOption, value: u64) -> Result<(), SocketError>;
    /// `incoming-datagram-stream.receive`.
    udp_receive => incoming.receive(max: u64) -> Result<Vec<IncomingDatagram>, SocketError>;
    /// `outgoing-datagram-stream.check-send`.
    udp_check_send => outgoing.check_send() -> Result<u64, SocketError>;
}

impl WasiCtx {
    /// `udp-create-socket.create-udp-socket`: `access-denied` unless the
    /// host allows UDP.
    pub fn create_udp_socket(&mut self, family: AddressFamily) -> SocketResult<u32> {
        if !self.network.udp {
            return Ok(Err(SocketError::AccessDenied));
        }
        let socket = match new_socket(family, Type::DGRAM) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let socket = UdpSocket {
            socket: Arc::new(socket.into()),
            family,
            state: State::Unbound,
        };
        self.table.push(Entry::Udp(socket), None).map(Ok)
    }

    /// `udp-socket.start-bind`.
    pub fn udp_start_bind(
        &mut self,
        socket: u32,
        network: u32,
        addr: SocketAddr,
    ) -> SocketResult<()> {
        self.check_network(network)?;
        let allowed = check_addr(&self.addr_check, addr, SocketAddrUse::UdpBind);
        Ok(self.table.udp(socket)?.start_bind(addr, allowed))
    }

    /// `udp-socket.stream`: the incoming and outgoing datagram streams.
    pub fn udp_stream(
        &mut self,
        socket: u32,
        remote: Option<SocketAddr>,
    ) -> SocketResult<(u32, u32)> {
        let allowed = match remote {
            Some(addr) => check_addr(&self.addr_check, addr, SocketAddrUse::UdpConnect),
            None => Ok(()),
        };
        let (incoming, outgoing) = match self.table.udp(socket)?.stream(remote, allowed) {
            Ok(streams) => streams,
            Err(e) => return Ok(Err(e)),
        };
        let incoming = self.table.push(Entry::Incoming(incoming), None)?;
        let outgoing = self.table.push(Entry::Outgoing(outgoing), None)?;
        Ok(Ok((incoming, outgoing)))
    }

    /// `outgoing-datagram-stream.send`.
    pub fn udp_send(&mut self, stream: u32, datagrams: &[OutgoingDatagram]) -> SocketResult<u64> {
        let check = &self.addr_check;
        self.table.outgoing(stream)?.send(datagrams, check)
    }
}
