//! Measuring and formatting: the few helpers every workload group shares.

use std::time::{Duration, Instant};

/// How long something took: wall-clock time, and CPU time spent on it by this
/// thread and by the child processes it waited for (the C linker). On a shared
/// machine the CPU time is the stable number; wall time shows what a user waits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Elapsed {
    pub wall: Duration,
    pub cpu: Duration,
}

impl Elapsed {
    /// Both times divided by `n` (per-iteration time of a repeated call).
    pub fn per(self, n: u32) -> Elapsed {
        Elapsed {
            wall: self.wall / n,
            cpu: self.cpu / n,
        }
    }
}

impl std::ops::Add for Elapsed {
    type Output = Elapsed;
    fn add(self, other: Elapsed) -> Elapsed {
        Elapsed {
            wall: self.wall + other.wall,
            cpu: self.cpu + other.cpu,
        }
    }
}

impl std::iter::Sum for Elapsed {
    fn sum<I: Iterator<Item = Elapsed>>(iter: I) -> Elapsed {
        iter.fold(Elapsed::default(), |a, b| a + b)
    }
}

/// Runs `f` once and returns its result with the time it took.
pub fn time<T>(f: impl FnOnce() -> T) -> (T, Elapsed) {
    let cpu_start = cpu_now();
    let start = Instant::now();
    let value = f();
    let wall = start.elapsed();
    let cpu = cpu_now().saturating_sub(cpu_start);
    (value, Elapsed { wall, cpu })
}

/// Like [`time`], but counting the CPU time of every thread of the process: for
/// work that runs on a thread pool (Rivet's and Wasmtime's parallel
/// compilation), where wall time is less than CPU time.
pub fn time_process<T>(f: impl FnOnce() -> T) -> (T, Elapsed) {
    let cpu_start = process_cpu() + children_cpu();
    let start = Instant::now();
    let value = f();
    let wall = start.elapsed();
    let cpu = (process_cpu() + children_cpu()).saturating_sub(cpu_start);
    (value, Elapsed { wall, cpu })
}

/// The wall and CPU medians of `samples`, each taken separately.
pub fn median_elapsed(samples: &[Elapsed]) -> Elapsed {
    let wall: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    let cpu: Vec<Duration> = samples.iter().map(|s| s.cpu).collect();
    Elapsed {
        wall: median(&wall),
        cpu: median(&cpu),
    }
}

/// CPU time used so far by this thread plus by its terminated, waited-for children.
fn cpu_now() -> Duration {
    thread_cpu() + children_cpu()
}

fn thread_cpu() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn process_cpu() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(id, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn children_cpu() -> Duration {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The median of `samples` (the mean of the middle two for an even count): robust
/// against the odd sample disturbed by the other jobs sharing the machine.
pub fn median(samples: &[Duration]) -> Duration {
    assert!(!samples.is_empty(), "median of no samples");
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// `bytes` per second over `elapsed`, in MB/s (10^6 bytes), or KB/s below 0.1 MB/s.
pub fn rate(bytes: usize, elapsed: Duration) -> String {
    let per_second = bytes as f64 / elapsed.as_secs_f64().max(1e-12);
    if per_second < 1e5 {
        format!("{:.1} KB/s", per_second / 1e3)
    } else {
        format!("{:.2} MB/s", per_second / 1e6)
    }
}

/// A duration in milliseconds with enough digits for sub-millisecond kernels.
pub fn millis(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// A byte count in KB (10^3 bytes), or plain bytes when small.
pub fn size(bytes: usize) -> String {
    if bytes < 10_000 {
        format!("{bytes} B")
    } else {
        format!("{:.1} KB", bytes as f64 / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(median(&[ms(4), ms(1), ms(2), ms(100)]), ms(3));
    }

    #[test]
    fn cpu_time_counts_work_not_sleep() {
        let ((), slept) = time(|| std::thread::sleep(Duration::from_millis(30)));
        assert!(slept.wall >= Duration::from_millis(30));
        assert!(slept.cpu < Duration::from_millis(20), "{slept:?}");
        let (_, busy) = time(|| (0..20_000_000u64).fold(0u64, |a, b| std::hint::black_box(a ^ b)));
        assert!(busy.cpu > Duration::ZERO, "{busy:?}");
    }

    #[test]
    fn formats() {
        assert_eq!(rate(2_000_000, Duration::from_secs(1)), "2.00 MB/s");
        assert_eq!(rate(8_000, Duration::from_secs(1)), "8.0 KB/s");
        assert_eq!(millis(Duration::from_micros(1500)), "1.500 ms");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1_234_567), "1234.6 KB");
    }
}
