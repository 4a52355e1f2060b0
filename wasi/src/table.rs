//! The context's resource table: every WASI resource the guest holds a handle
//! to (streams, pollables, errors, descriptors, directory-entry streams,
//! terminals, sockets) lives here, and the representation the runtime carries
//! in the guest's handle is its index.
//!
//! Some resources are children of others (a stream's pollable, a descriptor's
//! stream): the table counts each entry's live children so that dropping a
//! parent first is a trap, as the WIT documentation allows, instead of leaving
//! a child pointing at nothing.

use crate::filesystem::{Descriptor, DirEntries};
use crate::io::{FailureCode, InputStream, OutputStream};
use crate::poll::Pollable;
use crate::sockets::{IncomingDatagrams, OutgoingDatagrams, ResolveStream, TcpSocket, UdpSocket};
use rivet::Trap;

/// At most this many live resources per context: a guest that leaks handles
/// in a loop traps instead of growing the host without bound.
const MAX_ENTRIES: usize = 1 << 20;

/// One resource of the table.
pub(crate) enum Entry {
    Input(InputStream),
    Output(OutputStream),
    Pollable(Pollable),
    /// An `error` of `wasi:io/error`: its message, and the filesystem or
    /// network error code it stands for.
    Error(String, FailureCode),
    Descriptor(Descriptor),
    DirEntries(DirEntries),
    Terminal,
    Network,
    Tcp(TcpSocket),
    Udp(UdpSocket),
    Incoming(IncomingDatagrams),
    Outgoing(OutgoingDatagrams),
    Resolve(ResolveStream),
}

impl Entry {
    /// The WIT name of the resource kind, for trap messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Entry::Input(_) => "input-stream",
            Entry::Output(_) => "output-stream",
            Entry::Pollable(_) => "pollable",
            Entry::Error(..) => "error",
            Entry::Descriptor(_) => "descriptor",
            Entry::DirEntries(_) => "directory-entry-stream",
            Entry::Terminal => "terminal",
            Entry::Network => "network",
            Entry::Tcp(_) => "tcp-socket",
            Entry::Udp(_) => "udp-socket",
            Entry::Incoming(_) => "incoming-datagram-stream",
            Entry::Outgoing(_) => "outgoing-datagram-stream",
            Entry::Resolve(_) => "resolve-address-stream",
        }
    }

    /// The trap of a handle `rep` to this entry used as a `wanted`.
    #[cold]
    pub(crate) fn wrong_kind(&self, rep: u32, wanted: &str) -> Trap {
        Trap::host(format!(
            "WASI resource handle {rep} is a {}, not a {wanted}",
            self.kind()
        ))
    }
}

struct Slot {
    entry: Entry,
    parent: Option<u32>,
    children: u32,
}

/// The resource table (see the module documentation).
#[derive(Default)]
pub(crate) struct Table {
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
}

/// Implements a typed accessor: the entry at `rep`, which must be of one kind.
macro_rules! accessor {
    ($name:ident, $variant:ident, $ty:ty, $wit:literal) => {
        pub(crate) fn $name(&mut self, rep: u32) -> Result<&mut $ty, Trap> {
            match self.get_mut(rep)? {
                Entry::$variant(x) => Ok(x),
                other => Err(other.wrong_kind(rep, $wit)),
            }
        }
    };
}

impl Table {
    /// Adds `entry`, a child of `parent` when it has one; returns its rep.
    pub(crate) fn push(&mut self, entry: Entry, parent: Option<u32>) -> Result<u32, Trap> {
        if let Some(p) = parent {
            self.slot_mut(p)?.children += 1;
        }
        let slot = Slot {
            entry,
            parent,
            children: 0,
        };
        if let Some(rep) = self.free.pop() {
            self.slots[rep as usize] = Some(slot);
            return Ok(rep);
        }
        if self.slots.len() >= MAX_ENTRIES {
            return Err(Trap::host("WASI resource table full"));
        }
        self.slots.push(Some(slot));
        Ok(self.slots.len() as u32 - 1)
    }

    /// Removes the entry at `rep`: a trap while it still has children.
    pub(crate) fn delete(&mut self, rep: u32) -> Result<Entry, Trap> {
        let slot = self.slot_mut(rep)?;
        if slot.children > 0 {
            return Err(Trap::host(format!(
                "{} {rep} dropped while {} resources derived from it are alive",
                slot.entry.kind(),
                slot.children
            )));
        }
        let Some(slot) = self.slots[rep as usize].take() else {
            unreachable!("slot_mut found it")
        };
        self.free.push(rep);
        if let Some(p) = slot.parent {
            self.slot_mut(p)?.children -= 1;
        }
        Ok(slot.entry)
    }

    pub(crate) fn get_mut(&mut self, rep: u32) -> Result<&mut Entry, Trap> {
        Ok(&mut self.slot_mut(rep)?.entry)
    }

    pub(crate) fn get(&self, rep: u32) -> Result<&Entry, Trap> {
        let slot = self.slots.get(rep as usize).and_then(Option::as_ref);
        Ok(&slot.ok_or_else(|| unknown(rep))?.entry)
    }

    fn slot_mut(&mut self, rep: u32) -> Result<&mut Slot, Trap> {
        self.slots
            .get_mut(rep as usize)
            .and_then(Option::as_mut)
            .ok_or_else(|| unknown(rep))
    }

    /// Live entries (for tests and leak checks).
    pub(crate) fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    accessor!(input, Input, InputStream, "input-stream");
    accessor!(output, Output, OutputStream, "output-stream");
    accessor!(descriptor, Descriptor, Descriptor, "descriptor");
    accessor!(tcp, Tcp, TcpSocket, "tcp-socket");
    accessor!(udp, Udp, UdpSocket, "udp-socket");
    accessor!(
        incoming,
        Incoming,
        IncomingDatagrams,
        "incoming-datagram-stream"
    );
    accessor!(
        outgoing,
        Outgoing,
        OutgoingDatagrams,
        "outgoing-datagram-stream"
    );
    accessor!(resolve, Resolve, ResolveStream, "resolve-address-stream");
    accessor!(
        dir_entries,
        DirEntries,
        DirEntries,
        "directory-entry-stream"
    );

    /// The message and code of the `error` at `rep`.
    pub(crate) fn error(&mut self, rep: u32) -> Result<(&str, FailureCode), Trap> {
        match self.get_mut(rep)? {
            Entry::Error(m, code) => Ok((m, *code)),
            other => Err(other.wrong_kind(rep, "error")),
        }
    }
}

#[cold]
fn unknown(rep: u32) -> Trap {
    Trap::host(format!("unknown WASI resource handle {rep}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_cannot_go_before_its_children() {
        let mut t = Table::default();
        let parent = t.push(Entry::Terminal, None).unwrap();
        let child = t.push(Entry::Terminal, Some(parent)).unwrap();
        let err = t.delete(parent).err().expect("parent with a child dropped");
        assert!(err.message.contains("derived"), "{err}");
        t.delete(child).unwrap();
        t.delete(parent).unwrap();
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn unknown_and_mistyped_handles_trap() {
        let mut t = Table::default();
        assert!(t.get_mut(7).is_err());
        let rep = t.push(Entry::Terminal, None).unwrap();
        let err = t.input(rep).err().expect("a terminal is not a stream");
        assert!(err.message.contains("not a input-stream"), "{err}");
        t.delete(rep).unwrap();
        assert!(t.delete(rep).is_err(), "a second drop is an unknown handle");
    }
}
