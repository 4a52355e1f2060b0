//! `wasi:clocks`: the wall clock and the monotonic clock, each replaceable
//! through a trait so that tests (and reproducible hosts) can fix time.

use crate::poll::Pollable;
use crate::table::Entry;
use crate::WasiCtx;
use rivet::Trap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A monotonic clock in nanoseconds from an arbitrary start.
pub trait MonotonicClock: Send {
    fn now(&self) -> u64;
    fn resolution(&self) -> u64;
    /// Returns once [`MonotonicClock::now`] has reached `deadline` (at once
    /// when it has). The default sleeps the thread; a fake clock can simply
    /// advance itself.
    fn wait_until(&self, deadline: u64) {
        let now = self.now();
        if deadline > now {
            std::thread::sleep(Duration::from_nanos(deadline - now));
        }
    }
}

/// A wall clock: time since the Unix epoch.
pub trait WallClock: Send {
    fn now(&self) -> Duration;
    fn resolution(&self) -> Duration;
}

/// The host's monotonic clock, counted from the context's creation.
pub struct HostMonotonicClock(Instant);

impl Default for HostMonotonicClock {
    fn default() -> Self {
        HostMonotonicClock(Instant::now())
    }
}

impl MonotonicClock for HostMonotonicClock {
    fn now(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn resolution(&self) -> u64 {
        1
    }
}

/// The host's system clock.
#[derive(Default)]
pub struct HostWallClock;

impl WallClock for HostWallClock {
    fn now(&self) -> Duration {
        // A system clock set before 1970 reads as the epoch.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }

    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
}

impl WasiCtx {
    /// `monotonic-clock.now`.
    pub fn monotonic_now(&self) -> u64 {
        self.monotonic.now()
    }

    /// `monotonic-clock.resolution`.
    pub fn monotonic_resolution(&self) -> u64 {
        self.monotonic.resolution()
    }

    /// `monotonic-clock.subscribe-instant`: ready once the clock reaches `when`.
    pub fn subscribe_instant(&mut self, when: u64) -> Result<u32, Trap> {
        self.table
            .push(Entry::Pollable(Pollable::Until(when)), None)
    }

    /// `monotonic-clock.subscribe-duration`: ready `nanos` from now.
    pub fn subscribe_duration(&mut self, nanos: u64) -> Result<u32, Trap> {
        let when = self.monotonic.now().saturating_add(nanos);
        self.subscribe_instant(when)
    }

    /// `wall-clock.now`.
    pub fn wall_now(&self) -> Duration {
        self.wall.now()
    }

    /// `wall-clock.resolution`.
    pub fn wall_resolution(&self) -> Duration {
        self.wall.resolution()
    }
}
