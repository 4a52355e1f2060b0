//! The socket options of `tcp-socket` and `udp-socket`, read and set on the
//! host socket. Zero is `invalid-argument` wherever the WIT says so; other
//! values are clamped to what Linux accepts, so a value read back may
//! differ from the one set, as the WIT allows.

use super::{AddressFamily, SocketError};
use socket2::{SockRef, TcpKeepalive};
use std::io;
use std::time::Duration;

/// A socket option, its value as a `u64`: booleans as 0 or 1, durations in
/// nanoseconds, sizes in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketOption {
    /// `keep-alive-enabled` (SO_KEEPALIVE).
    KeepAliveEnabled,
    /// `keep-alive-idle-time` (TCP_KEEPIDLE).
    KeepAliveIdleTime,
    /// `keep-alive-interval` (TCP_KEEPINTVL).
    KeepAliveInterval,
    /// `keep-alive-count` (TCP_KEEPCNT).
    KeepAliveCount,
    /// `hop-limit` and `unicast-hop-limit` (IP_TTL, IPV6_UNICAST_HOPS).
    HopLimit,
    /// `receive-buffer-size` (SO_RCVBUF).
    ReceiveBufferSize,
    /// `send-buffer-size` (SO_SNDBUF).
    SendBufferSize,
}

/// Linux's largest keep-alive idle time and interval, in seconds.
const MAX_KEEPALIVE_SECS: u64 = 32767;

/// Linux's largest keep-alive probe count.
const MAX_KEEPALIVE_COUNT: u64 = 127;

/// The value of `option` on `socket`.
pub(super) fn get(
    socket: SockRef,
    family: AddressFamily,
    option: SocketOption,
) -> Result<u64, SocketError> {
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    let value = match option {
        SocketOption::KeepAliveEnabled => socket.keepalive().map(u64::from),
        SocketOption::KeepAliveIdleTime => socket.tcp_keepalive_time().map(nanos),
        SocketOption::KeepAliveInterval => socket.tcp_keepalive_interval().map(nanos),
        SocketOption::KeepAliveCount => socket.tcp_keepalive_retries().map(u64::from),
        SocketOption::HopLimit => match family {
            AddressFamily::Ipv4 => socket.ttl_v4(),
            AddressFamily::Ipv6 => socket.unicast_hops_v6(),
        }
        .map(u64::from),
        SocketOption::ReceiveBufferSize => socket.recv_buffer_size().map(|n| n as u64),
        SocketOption::SendBufferSize => socket.send_buffer_size().map(|n| n as u64),
    };
    value.map_err(|e| SocketError::from_io(&e))
}

/// Sets `option` on `socket` to `value`.
pub(super) fn set(
    socket: SockRef,
    family: AddressFamily,
    option: SocketOption,
    value: u64,
) -> Result<(), SocketError> {
    if value == 0 && option != SocketOption::KeepAliveEnabled {
        return Err(SocketError::InvalidArgument);
    }
    let secs = || Duration::from_secs(value.div_ceil(1_000_000_000).min(MAX_KEEPALIVE_SECS));
    let size = || value.min(i32::MAX as u64) as usize;
    let done = match option {
        SocketOption::KeepAliveEnabled => socket.set_keepalive(value != 0),
        SocketOption::KeepAliveIdleTime => {
            keep_alive(&socket, TcpKeepalive::new().with_time(secs()))
        }
        SocketOption::KeepAliveInterval => {
            keep_alive(&socket, TcpKeepalive::new().with_interval(secs()))
        }
        SocketOption::KeepAliveCount => {
            let count = value.min(MAX_KEEPALIVE_COUNT) as u32;
            keep_alive(&socket, TcpKeepalive::new().with_retries(count))
        }
        SocketOption::HopLimit => {
            let hops = value.min(u8::MAX.into()) as u32;
            match family {
                AddressFamily::Ipv4 => socket.set_ttl_v4(hops),
                AddressFamily::Ipv6 => socket.set_unicast_hops_v6(hops),
            }
        }
        SocketOption::ReceiveBufferSize => socket.set_recv_buffer_size(size()),
        SocketOption::SendBufferSize => socket.set_send_buffer_size(size()),
    };
    done.map_err(|e| SocketError::from_io(&e))
}

/// Sets keep-alive parameters without turning keep-alive on (socket2 turns
/// it on with them; the WIT lets them be set while it is off).
fn keep_alive(socket: &SockRef, params: TcpKeepalive) -> io::Result<()> {
    let enabled = socket.keepalive()?;
    socket.set_tcp_keepalive(&params)?;
    socket.set_keepalive(enabled)
}
