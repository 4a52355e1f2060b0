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
        let mut round = Round::gather(&self.table, pollables, now)?;
        let timeout = round.timeout(now, wait);
        if !round.sockets.is_empty() {
            os_poll(&mut round.sockets, timeout)?;
            let events = round.sockets.iter().map(|s| !s.revents().is_empty());
            let with_events = round.socket_index.iter().zip(events).filter(|s| s.1);
            round.ready.extend(with_events.map(|s| *s.0));
        } else if round.soon && timeout != Some(Duration::ZERO) {
            std::thread::sleep(timeout.unwrap_or(SOON));
        }
        let idle = wait && round.ready.is_empty() && !round.soon;
        if let Some(d) = round.deadline.filter(|_| idle) {
            // The clock may be one the host replaced, which reaches a
            // deadline only when asked to wait for it.
            self.monotonic.wait_until(d);
        }
        round.ready.sort_unstable();
        Ok(round.ready)
    }
}

/// What a round of `poll` found: the pollables ready now, and what the
/// others wait for.
struct Round<'t> {
    ready: Vec<u32>,
    /// The pollables waiting on sockets, and the sockets' events.
    socket_index: Vec<u32>,
    sockets: Vec<PollFd<'t>>,
    /// The earliest clock deadline not reached yet.
    deadline: Option<u64>,
    /// Whether a pollable waits for a name lookup.
    soon: bool,
}

impl<'t> Round<'t> {
    fn gather(table: &'t Table, pollables: &[u32], now: u64) -> Result<Round<'t>, Trap> {
        let mut round = Round {
            ready: Vec::new(),
            socket_index: Vec::new(),
            sockets: Vec::new(),
            deadline: None,
            soon: false,
        };
        for (i, &p) in (0u32..).zip(pollables) {
            match readiness_of(table, p)? {
                Readiness::Now => round.ready.push(i),
                Readiness::Until(t) if t <= now => round.ready.push(i),
                Readiness::Until(t) => {
                    round.deadline = Some(round.deadline.map_or(t, |d| d.min(t)))
                }
                Readiness::Soon => round.soon = true,
                Readiness::Fd(fd, events) => {
                    round.socket_index.push(i);
                    round.sockets.push(PollFd::from_borrowed_fd(fd, events));
                }
            }
        }
        Ok(round)
    }

    /// How long the round may wait (`None`: without a limit): not at all
    /// when something is ready or the caller does not wait.
    fn timeout(&self, now: u64, wait: bool) -> Option<Duration> {
        if !wait || !self.ready.is_empty() {
            return Some(Duration::ZERO);
        }
        let until_deadline = self.deadline.map(|d| Duration::from_nanos(d - now));
        match self.soon {
            true => Some(until_deadline.map_or(SOON, |t| t.min(SOON))),
            false => until_deadline,
        }
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
