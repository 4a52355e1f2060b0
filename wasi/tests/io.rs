//! Streams, pollables, clocks and randomness through the context's methods,
//! with the clocks and random sources replaced so results are exact.

use rivet_wasi::{MonotonicClock, RandomSource, StreamError, WallClock, WasiCtx};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A monotonic clock that jumps to the deadline instead of sleeping.
#[derive(Clone, Default)]
struct FakeClock(Arc<AtomicU64>);

impl MonotonicClock for FakeClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    fn resolution(&self) -> u64 {
        10
    }
    fn wait_until(&self, deadline: u64) {
        self.0.fetch_max(deadline, Ordering::SeqCst);
    }
}

struct FixedWall;

impl WallClock for FixedWall {
    fn now(&self) -> Duration {
        Duration::new(1_700_000_000, 5)
    }
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
}

/// Bytes counting up from a start.
struct Counter(u8);

impl RandomSource for Counter {
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        for b in buf {
            *b = self.0;
            self.0 = self.0.wrapping_add(1);
        }
        Ok(())
    }
}

#[test]
fn clock_pollables_wait_for_their_instant() {
    let clock = FakeClock::default();
    let mut ctx = WasiCtx::builder()
        .monotonic_clock(clock.clone())
        .wall_clock(FixedWall)
        .build();
    assert_eq!(ctx.wall_now(), Duration::new(1_700_000_000, 5));
    let soon = ctx.subscribe_duration(100).unwrap();
    let later = ctx.subscribe_instant(500).unwrap();
    assert!(!ctx.ready(soon).unwrap());
    assert_eq!(
        ctx.poll(&[later, soon]).unwrap(),
        [1],
        "only the earliest is ready"
    );
    assert_eq!(ctx.monotonic_now(), 100);
    ctx.block(later).unwrap();
    assert_eq!(ctx.monotonic_now(), 500);
    assert!(ctx.poll(&[]).is_err(), "an empty poll traps");
}

#[test]
fn randomness_comes_from_the_given_sources() {
    let mut ctx = WasiCtx::builder()
        .secure_random(Counter(0))
        .insecure_random(Counter(100))
        .insecure_seed((1, 2))
        .build();
    assert_eq!(ctx.random_bytes(3).unwrap(), [0, 1, 2]);
    assert_eq!(ctx.insecure_random_bytes(2).unwrap(), [100, 101]);
    assert_eq!(
        ctx.random_u64().unwrap(),
        u64::from_le_bytes([3, 4, 5, 6, 7, 8, 9, 10])
    );
    assert_eq!(ctx.insecure_seed(), (1, 2));
    assert!(ctx.random_bytes(u64::MAX).is_err(), "a huge length traps");
}

#[test]
fn streams_end_close_and_bound_their_lengths() {
    let out = rivet_wasi::MemoryOutputPipe::new();
    let mut ctx = WasiCtx::builder()
        .stdin(rivet_wasi::MemoryInputPipe::new("abc"))
        .stdout(out.clone())
        .build();
    let input = ctx.get_stdin().unwrap();
    assert_eq!(ctx.read(input, u64::MAX).unwrap(), Ok(b"abc".to_vec()));
    assert_eq!(ctx.read(input, 1).unwrap(), Err(StreamError::Closed));
    let output = ctx.get_std_stream(rivet_wasi::StdStream::Stdout).unwrap();
    let permit = ctx.check_write(output).unwrap().unwrap();
    assert!(
        ctx.write(output, &vec![b'x'; permit as usize + 1]).is_err(),
        "past the permit traps"
    );
    ctx.write_zeroes(output, 2, true).unwrap().unwrap();
    let again = ctx.get_stdin().unwrap();
    assert_eq!(
        ctx.splice(output, again, 10).unwrap(),
        Err(StreamError::Closed),
        "stdin was read"
    );
    assert_eq!(out.contents(), [0, 0]);
    let pollable = ctx.subscribe(output).unwrap();
    assert!(ctx.drop_resource(output).is_err(), "its pollable is alive");
    ctx.drop_resource(pollable).unwrap();
    ctx.drop_resource(output).unwrap();
    assert!(ctx.read(output, 1).is_err(), "a dropped handle traps");
}
