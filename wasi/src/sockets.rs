//! `wasi:sockets`: the network is denied. A guest can get its
//! `instance-network`, but creating a TCP or UDP socket and resolving a name
//! fail with `access-denied`, as under Wasmtime's default settings; since no
//! socket can exist, no socket method can be reached.
//!
//! Allowing a protocol is not supported yet: [`crate::WasiCtxBuilder::network`]
//! refuses it.

use crate::table::Entry;
use crate::WasiCtx;
use rivet::Trap;

/// Which protocols the guest may use (none by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Network {
    pub tcp: bool,
    pub udp: bool,
    pub ip_name_lookup: bool,
}

impl Network {
    /// Whether anything is allowed.
    pub(crate) fn any(self) -> bool {
        self.tcp || self.udp || self.ip_name_lookup
    }
}

/// A `wasi:sockets/network.error-code` (only the one this host returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketError {
    AccessDenied,
}

impl WasiCtx {
    /// `instance-network.instance-network`.
    pub fn instance_network(&mut self) -> Result<u32, Trap> {
        self.table.push(Entry::Network, None)
    }

    /// `tcp-create-socket.create-tcp-socket` and `udp-create-socket.create-udp-socket`.
    pub fn create_socket(&mut self) -> Result<u32, SocketError> {
        Err(SocketError::AccessDenied)
    }

    /// `ip-name-lookup.resolve-addresses`: the network handle must be one.
    pub fn resolve_addresses(&mut self, network: u32) -> Result<Result<u32, SocketError>, Trap> {
        match self.table.get_mut(network)? {
            Entry::Network => Ok(Err(SocketError::AccessDenied)),
            _ => Err(Trap::host(format!("handle {network} is not a network"))),
        }
    }
}
