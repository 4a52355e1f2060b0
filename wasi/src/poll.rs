//! `wasi:io/poll`: pollables, `poll` over many of them, and the readiness of
//! every resource a pollable can watch.
//!
//! A pollable watches either an instant of the monotonic clock or a
//! resource (its parent in the table). Synchronous streams (stdio, pipes,
//! files) are always ready; sockets are ready when the host's `poll` says so;
//! a name lookup is ready when its thread is done. `poll` waits for the
//! first of them in one system call where it can.

use crate::table::{Entry, Table};
use crate::WasiCtx;
use rivet::Trap;
use rustix::event::{PollFd, PollFlags, Timespec};
use std::os::fd::BorrowedFd;
use std::time::Duration;

/// What a pollable waits for.
pub(crate) enum Pollable {
    /// The monotonic clock reaching this instant (nanoseconds).
    Until(u64),
    /// The readiness of the resource at this rep (the pollable's parent).
    Of(u32),
}

/// When something is ready.
pub(crate) enum Readiness<'a> {
    Now,
    /// When the monotonic clock reaches this instant.
    Until(u64),
    /// When the host's `poll` reports one of these events on the socket.
    Fd(BorrowedFd<'a>, PollFlags),
    /// Not yet, and there is nothing to wait on but time (a name lookup on
    /// its thread): checked again after [`SOON`].
    Soon,
}

/// How long `poll` waits between checks of a [`Readiness::Soon`].
const SOON: Duration = Duration::from_millis(1);

impl Entry {
    /// Whether the resource a pollable watches is ready, or what for.
    fn readiness(&self) -> Readiness<'_> {
        match self {
            Entry::Input(s) => s.readiness(),
            Entry::Output(s) => s.readiness(),
            Entry::Tcp(s) => s.readiness(),
            Entry::Incoming(s) => s.readiness(),
            Entry::Outgoing(s) => s.readiness(),
            Entry::Resolve(s) => s.readiness(),
            _ => Readiness::Now,
        }
    }

    /// Whether a pollable can be made for this resource (`subscribe`).
    fn is_pollable_source(&self) -> bool {
        matches!(
            self,
            Entry::Input(_)
                | Entry::Output(_)
                | Entry::Tcp(_)
                | Entry::Udp(_)
                | Entry::Incoming(_)
                | Entry::Outgoing(_)
                | Entry::Resolve(_)
        )
    }
}

/// The readiness of the pollable at `rep`.
fn readiness_of(table: &Table, rep: u32) -> Result<Readiness<'_>, Trap> {
    match table.get(rep)? {
        Entry::Pollable(Pollable::Until(t)) => Ok(Readiness::Until(*t)),
        Entry::Pollable(Pollable::Of(parent)) => Ok(table.get(*parent)?.readiness()),
        other => Err(other.wrong_kind(rep, "pollable")),
    }
}

impl WasiCtx {
    /// `subscribe` of a stream, socket, datagram stream or name lookup: a
    /// pollable that is a child of the resource.
    pub fn subscribe(&mut self, resource: u32) -> Result<u32, Trap> {
        if !self.table.get(resource)?.is_pollable_source() {
            return Err(Trap::host(format!(
                "handle {resource} is not a resource with a pollable"
            )));
        }
        let pollable = Entry::Pollable(Pollable::Of(resource));
        self.table.push(pollable, Some(resource))
    }

    /// `pollable.ready`.
    pub fn ready(&mut self, pollable: u32) -> Result<bool, Trap> {
        Ok(!self.round(&[pollable], false)?.is_empty())
    }

    /// `pollable.block`.
    pub fn block(&mut self, pollable: u32) -> Result<(), Trap> {
        self.poll(&[pollable]).map(drop)
    }

    /// `poll`: the indices of the ready pollables, waiting until one is. An
    /// empty list traps, as the WIT says.
    pub fn poll(&mut self, pollables: &[u32]) -> Result<Vec<u32>, Trap> {
        if pollables.is_empty() {
            return Err(Trap::host("poll: empty list of pollables"));
        }
        loop {
            let ready = self.round(pollables, true)?;
            if !ready.is_empty() {
                return Ok(ready);
            }
        }
    }

    /// One round of `poll`: the indices of the pollables ready now, after
    /// waiting (when `wait`) until one may be. May return none, after a
    /// wait, for the caller to look again.
    fn round(&self, pollables: &[u32], wait: bool) -> Result<Vec<u32>, Trap> {
        let now = self.monotonic.now();
        let mut ready = Vec::new();
        let (mut socket_index, mut sockets) = (Vec::new(), Vec::new());
        let (mut deadline, mut soon) = (None::<u64>, false);
        for (i, &p) in (0u32..).zip(pollables) {
            match readiness_of(&self.table, p)? {
                Readiness::Now => ready.push(i),
                Readiness::Until(t) if t <= now => ready.push(i),
                Readiness::Until(t) => deadline = Some(deadline.map_or(t, |d| d.min(t))),
                Readiness::Soon => soon = true,
                Readiness::Fd(fd, events) => {
                    socket_index.push(i);
                    sockets.push(PollFd::from_borrowed_fd(fd, events));
                }
            }
        }
        let mut timeout = deadline.map(|d| Duration::from_nanos(d - now));
        if soon {
            timeout = Some(timeout.map_or(SOON, |t| t.min(SOON)));
        }
        if !wait || !ready.is_empty() {
            timeout = Some(Duration::ZERO);
        }
        if !sockets.is_empty() {
            os_poll(&mut sockets, timeout)?;
            let with_events = sockets.iter().map(|s| !s.revents().is_empty());
            ready.extend(
                socket_index
                    .iter()
                    .zip(with_events)
                    .filter(|s| s.1)
                    .map(|s| *s.0),
            );
        } else if soon && timeout != Some(Duration::ZERO) {
            std::thread::sleep(timeout.unwrap_or(SOON));
        }
        if wait && ready.is_empty() && !soon {
            // The clock may be one the host replaced, which reaches a
            // deadline only when asked to wait for it.
            if let Some(d) = deadline {
                self.monotonic.wait_until(d);
            }
        }
        ready.sort_unstable();
        Ok(ready)
    }
}

/// Waits at most `timeout` (`None`: without a limit) for events on
/// `sockets`; an interrupted wait reports none.
fn os_poll(sockets: &mut [PollFd], timeout: Option<Duration>) -> Result<(), Trap> {
    match rustix::event::poll(sockets, timeout.map(timespec).as_ref()) {
        Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(Trap::host(format!("poll: {e}"))),
    }
}

fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: d.subsec_nanos().into(),
    }
}

/// Whether the socket `fd` has one of `events` now.
pub(crate) fn fd_ready(fd: BorrowedFd, events: PollFlags) -> bool {
    let mut one = [PollFd::from_borrowed_fd(fd, events)];
    let ts = timespec(Duration::ZERO);
    matches!(rustix::event::poll(&mut one, Some(&ts)), Ok(n) if n > 0)
}

/// Waits without a limit until the socket `fd` has one of `events` (or an
/// error or hang-up, which the next operation on it reports).
pub(crate) fn wait_fd(fd: BorrowedFd, events: PollFlags) -> std::io::Result<()> {
    let mut one = [PollFd::from_borrowed_fd(fd, events)];
    loop {
        match rustix::event::poll(&mut one, None) {
            Err(rustix::io::Errno::INTR) => continue,
            done => return done.map(drop).map_err(std::io::Error::from),
        }
    }
}
