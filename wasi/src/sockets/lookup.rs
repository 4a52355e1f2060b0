//! `wasi:sockets/ip-name-lookup`: names resolved by the host's resolver on
//! a thread of their own, so that `resolve-addresses` never blocks, as the
//! WIT says; IP address literals are parsed at once.
//!
//! Names must be ASCII host names (letters, digits, `-`, `_`, dot-separated
//! labels of at most 63 bytes, 253 in all); Unicode names (IDNA) are not
//! supported yet and, like any other string, are `invalid-argument`. The
//! system resolver does not say why a lookup failed, so every failure is
//! `name-unresolvable`.

use super::{SocketError, SocketResult};
use crate::poll::Readiness;
use crate::table::Entry;
use crate::WasiCtx;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv6Addr, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;

type Addresses = Result<VecDeque<IpAddr>, SocketError>;

/// The most lookup threads one context may have running (a guest dropping
/// its lookups does not end their threads): past it, a new lookup is a
/// `temporary-resolver-failure` until one ends.
const MAX_RUNNING: usize = 16;

/// A `resolve-address-stream`: the lookup's thread until it is done, then
/// the addresses still to hand out.
pub(crate) struct ResolveStream {
    running: Option<JoinHandle<Addresses>>,
    result: Addresses,
}

impl ResolveStream {
    /// Starts resolving `name`; `invalid-argument` when it is not a name.
    /// Each thread holds a clone of `threads` while it runs.
    fn start(name: &str, threads: &Arc<()>) -> Result<ResolveStream, SocketError> {
        let (running, result) = match parse(name)? {
            Target::Ip(ip) => (None, Ok(VecDeque::from([ip]))),
            Target::Host(host) => (Some(spawn(host, threads)?), Ok(VecDeque::new())),
        };
        Ok(ResolveStream { running, result })
    }

    /// `resolve-next-address`: `would-block` while the lookup runs.
    fn next(&mut self) -> Result<Option<IpAddr>, SocketError> {
        if let Some(done) = self.running.take_if(|t| t.is_finished()) {
            self.result = done.join().unwrap_or(Err(SocketError::Unknown));
        }
        if self.running.is_some() {
            return Err(SocketError::WouldBlock);
        }
        match &mut self.result {
            Ok(addresses) => Ok(addresses.pop_front()),
            Err(e) => Err(*e),
        }
    }

    pub(crate) fn readiness(&self) -> Readiness<'_> {
        match &self.running {
            Some(t) if !t.is_finished() => Readiness::Soon,
            _ => Readiness::Now,
        }
    }
}

/// A thread resolving `host`, unless too many run already.
fn spawn(host: String, threads: &Arc<()>) -> Result<JoinHandle<Addresses>, SocketError> {
    if Arc::strong_count(threads) > MAX_RUNNING {
        return Err(SocketError::TemporaryResolverFailure);
    }
    let token = threads.clone();
    let spawned = std::thread::Builder::new()
        .name("wasi-name-lookup".into())
        .spawn(move || {
            let _running = token;
            lookup(&host)
        });
    spawned.map_err(|_| SocketError::TemporaryResolverFailure)
}

enum Target {
    Ip(IpAddr),
    Host(String),
}

/// An IP address (IPv6 with or without brackets), or a host name.
fn parse(name: &str) -> Result<Target, SocketError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(Target::Ip(ip));
    }
    if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        let ip = v6
            .parse::<Ipv6Addr>()
            .map_err(|_| SocketError::InvalidArgument)?;
        return Ok(Target::Ip(IpAddr::V6(ip)));
    }
    let labels = name.strip_suffix('.').unwrap_or(name);
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if labels.len() > 253 || !labels.split('.').all(label_ok) {
        return Err(SocketError::InvalidArgument);
    }
    Ok(Target::Host(name.to_string()))
}

/// The addresses of `host`, in the resolver's order, without repeats and
/// with IPv4-mapped IPv6 addresses as IPv4 (the WIT never returns those).
fn lookup(host: &str) -> Addresses {
    let found = (host, 0)
        .to_socket_addrs()
        .map_err(|_| SocketError::NameUnresolvable)?;
    let mut addresses = VecDeque::new();
    for addr in found {
        let ip = match addr.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        if !addresses.contains(&ip) {
            addresses.push_back(ip);
        }
    }
    Ok(addresses)
}

impl WasiCtx {
    /// `ip-name-lookup.resolve-addresses`: `access-denied` unless the host
    /// allows name lookup.
    pub fn resolve_addresses(&mut self, network: u32, name: &str) -> SocketResult<u32> {
        self.check_network(network)?;
        if !self.network.ip_name_lookup {
            return Ok(Err(SocketError::AccessDenied));
        }
        match ResolveStream::start(name, &self.lookups) {
            Ok(stream) => self.table.push(Entry::Resolve(stream), None).map(Ok),
            Err(e) => Ok(Err(e)),
        }
    }

    /// `resolve-address-stream.resolve-next-address`.
    pub fn resolve_next_address(&mut self, stream: u32) -> SocketResult<Option<IpAddr>> {
        Ok(self.table.resolve(stream)?.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_literals_parse_and_others_are_invalid() {
        let ip = |s| matches!(parse(s), Ok(Target::Ip(_)));
        let host = |s| matches!(parse(s), Ok(Target::Host(_)));
        assert!(ip("127.0.0.1") && ip("::1") && ip("[::1]"));
        assert!(host("localhost") && host("a-b.example.") && host("_srv.x"));
        let long = format!("{}.x", "a".repeat(64));
        for bad in [
            "",
            "has space",
            "a/b",
            "a..b",
            "[::1",
            "[127.0.0.1]",
            "bücher.de",
            &long,
        ] {
            assert!(
                matches!(parse(bad), Err(SocketError::InvalidArgument)),
                "{bad:?}"
            );
        }
    }
}
