//! `wasi:sockets`: TCP, UDP and IP name lookup over the host's sockets, as
//! methods of [`WasiCtx`] on resource reps.
//!
//! Nothing is allowed by default: creating a TCP or UDP socket and resolving
//! a name fail with `access-denied` unless [`Network`] allows the protocol
//! (as Wasmtime does), and an optional address check
//! ([`crate::WasiCtxBuilder::socket_addr_check`]) refuses binding, connecting
//! or sending to other addresses with `access-denied` too.
//!
//! Every socket is non-blocking, as the WIT says: `start-*` calls do their
//! system call at once, `finish-*` calls report it (`would-block` while a
//! connection is still being made), and the sockets' pollables wait on the
//! host's `poll`. A connected TCP socket's streams are `wasi:io` streams.

/// Generates `WasiCtx` methods that call one method of the socket resource
/// at a rep (`$table` is the table's accessor of its kind).
macro_rules! ctx_methods {
    ($($(#[$doc:meta])* $name:ident => $table:ident.$method:ident($($arg:ident: $t:ty),*) -> $ret:ty;)*) => {
        impl WasiCtx {$(
            $(#[$doc])*
            pub fn $name(&mut self, rep: u32 $(, $arg: $t)*) -> Result<$ret, Trap> {
                Ok(self.table.$table(rep)?.$method($($arg),*))
            }
        )*}
    };
}

mod lookup;
mod options;
mod tcp;
mod tcp_stream;
mod udp;

pub(crate) use lookup::ResolveStream;
pub use options::SocketOption;
pub(crate) use tcp::TcpSocket;
pub(crate) use tcp_stream::{TcpReader, TcpWriter};
pub use udp::{IncomingDatagram, OutgoingDatagram};
pub(crate) use udp::{IncomingDatagrams, OutgoingDatagrams, UdpSocket};

use crate::table::Entry;
use crate::WasiCtx;
use rivet::Trap;
use std::io;
use std::net::{IpAddr, SocketAddr};

/// Which protocols the guest may use (none by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Network {
    /// `tcp-create-socket`: TCP sockets (client and server).
    pub tcp: bool,
    /// `udp-create-socket`: UDP sockets.
    pub udp: bool,
    /// `ip-name-lookup`: resolving names with the host's resolver.
    pub ip_name_lookup: bool,
}

/// What a guest wants to do with an address, for the host's address check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketAddrUse {
    /// `tcp-socket.start-bind`.
    TcpBind,
    /// `tcp-socket.start-connect`.
    TcpConnect,
    /// `udp-socket.start-bind`.
    UdpBind,
    /// `udp-socket.stream` with a remote address.
    UdpConnect,
    /// A datagram sent to this address.
    UdpSend,
}

/// The host's address check: `true` allows the use.
pub(crate) type AddrCheck = Box<dyn Fn(SocketAddr, SocketAddrUse) -> bool + Send + Sync>;

/// A socket call's outcome: the value or a `wasi:sockets` error code,
/// inside a call that can also trap.
pub type SocketResult<T> = Result<Result<T, SocketError>, Trap>;

/// Generates the error code enum with its WIT case names, in WIT order.
macro_rules! socket_errors {
    ($($variant:ident = $wit:literal,)*) => {
        /// A `wasi:sockets/network.error-code`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum SocketError { $($variant,)* }

        impl SocketError {
            /// The WIT case names, in WIT (and declaration) order.
            pub(crate) const NAMES: &'static [&'static str] = &[$($wit,)*];

            /// The WIT case name.
            pub fn name(self) -> &'static str {
                match self { $(SocketError::$variant => $wit,)* }
            }
        }
    };
}

socket_errors! {
    Unknown = "unknown",
    AccessDenied = "access-denied",
    NotSupported = "not-supported",
    InvalidArgument = "invalid-argument",
    OutOfMemory = "out-of-memory",
    Timeout = "timeout",
    ConcurrencyConflict = "concurrency-conflict",
    NotInProgress = "not-in-progress",
    WouldBlock = "would-block",
    InvalidState = "invalid-state",
    NewSocketLimit = "new-socket-limit",
    AddressNotBindable = "address-not-bindable",
    AddressInUse = "address-in-use",
    RemoteUnreachable = "remote-unreachable",
    ConnectionRefused = "connection-refused",
    ConnectionReset = "connection-reset",
    ConnectionAborted = "connection-aborted",
    DatagramTooLarge = "datagram-too-large",
    NameUnresolvable = "name-unresolvable",
    TemporaryResolverFailure = "temporary-resolver-failure",
    PermanentResolverFailure = "permanent-resolver-failure",
}

impl SocketError {
    /// The code of a host socket error, by its POSIX errno as the WIT lists
    /// them; a call whose errors mean something else maps those first.
    pub(crate) fn from_io(e: &io::Error) -> SocketError {
        use SocketError::*;
        if e.kind() == io::ErrorKind::WouldBlock {
            return WouldBlock;
        }
        match e.raw_os_error().unwrap_or(0) {
            libc::EACCES | libc::EPERM => AccessDenied,
            libc::EOPNOTSUPP => NotSupported,
            libc::EINVAL | libc::EAFNOSUPPORT | libc::EDESTADDRREQ => InvalidArgument,
            libc::ENOMEM | libc::ENOBUFS => OutOfMemory,
            libc::ETIMEDOUT => Timeout,
            libc::EALREADY => ConcurrencyConflict,
            libc::EISCONN | libc::ENOTCONN => InvalidState,
            libc::EMFILE | libc::ENFILE => NewSocketLimit,
            libc::EADDRNOTAVAIL => AddressNotBindable,
            libc::EADDRINUSE => AddressInUse,
            libc::EHOSTUNREACH
            | libc::EHOSTDOWN
            | libc::ENETUNREACH
            | libc::ENETDOWN
            | libc::ENONET => RemoteUnreachable,
            libc::ECONNREFUSED => ConnectionRefused,
            libc::ECONNRESET | libc::EPIPE => ConnectionReset,
            libc::ECONNABORTED => ConnectionAborted,
            libc::EMSGSIZE => DatagramTooLarge,
            _ => Unknown,
        }
    }
}

/// `ip-address-family`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressFamily {
    Ipv4,
    Ipv6,
}

impl AddressFamily {
    fn domain(self) -> socket2::Domain {
        match self {
            AddressFamily::Ipv4 => socket2::Domain::IPV4,
            AddressFamily::Ipv6 => socket2::Domain::IPV6,
        }
    }

    fn of(addr: &SocketAddr) -> AddressFamily {
        match addr {
            SocketAddr::V4(_) => AddressFamily::Ipv4,
            SocketAddr::V6(_) => AddressFamily::Ipv6,
        }
    }
}

/// A new non-blocking socket of `family`; IPv6 sockets are IPv6 only, as
/// the WIT says. The errors are `create-*-socket`'s.
fn new_socket(family: AddressFamily, ty: socket2::Type) -> Result<socket2::Socket, SocketError> {
    let fail = |e: io::Error| match e.raw_os_error() {
        Some(libc::EAFNOSUPPORT) => SocketError::NotSupported,
        _ => SocketError::from_io(&e),
    };
    let socket = socket2::Socket::new(family.domain(), ty, None).map_err(fail)?;
    if family == AddressFamily::Ipv6 {
        socket.set_only_v6(true).map_err(fail)?;
    }
    socket.set_nonblocking(true).map_err(fail)?;
    Ok(socket)
}

/// The checks every address a guest gives passes: its family is the
/// socket's, and it is not an IPv4-mapped IPv6 address (`invalid-argument`).
fn check_family(addr: &SocketAddr, family: AddressFamily) -> Result<(), SocketError> {
    let mapped = matches!(addr, SocketAddr::V6(a) if a.ip().to_ipv4_mapped().is_some());
    if AddressFamily::of(addr) != family || mapped {
        return Err(SocketError::InvalidArgument);
    }
    Ok(())
}

/// The checks of a remote address (a connection's or a datagram's): also
/// not the unspecified address, not port 0.
fn check_remote(addr: &SocketAddr, family: AddressFamily) -> Result<(), SocketError> {
    check_family(addr, family)?;
    if addr.ip().is_unspecified() || addr.port() == 0 {
        return Err(SocketError::InvalidArgument);
    }
    Ok(())
}

/// Whether `ip` is a unicast address (TCP binds and connects only to those).
fn is_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !v4.is_multicast() && !v4.is_broadcast(),
        IpAddr::V6(v6) => !v6.is_multicast(),
    }
}

impl WasiCtx {
    /// `instance-network.instance-network`.
    pub fn instance_network(&mut self) -> Result<u32, Trap> {
        self.table.push(Entry::Network, None)
    }

    /// `network.network-error-code`: the network error code of a failed
    /// socket stream's `error`, `None` for other errors.
    pub fn network_error_code(&mut self, error: u32) -> Result<Option<SocketError>, Trap> {
        Ok(match self.table.error(error)?.1 {
            crate::FailureCode::Network(code) => Some(code),
            crate::FailureCode::Filesystem(_) => None,
        })
    }

    /// Traps unless `network` is a `network` handle.
    fn check_network(&mut self, network: u32) -> Result<(), Trap> {
        match self.table.get_mut(network)? {
            Entry::Network => Ok(()),
            _ => Err(Trap::host(format!("handle {network} is not a network"))),
        }
    }
}

/// `access-denied` unless the host's address check allows `addr` for `use_`.
fn check_addr(
    check: &Option<AddrCheck>,
    addr: SocketAddr,
    use_: SocketAddrUse,
) -> Result<(), SocketError> {
    match check {
        Some(allows) if !allows(addr, use_) => Err(SocketError::AccessDenied),
        _ => Ok(()),
    }
}
