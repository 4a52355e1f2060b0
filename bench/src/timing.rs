//! Measuring and formatting: the few helpers every workload group shares.

use std::time::{Duration, Instant};

/// Runs `f` once and returns its result with the wall-clock time it took.
pub fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
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

/// `bytes` per second over `elapsed`, formatted in MB/s (10^6 bytes).
pub fn rate(bytes: usize, elapsed: Duration) -> String {
    let per_second = bytes as f64 / elapsed.as_secs_f64().max(1e-12);
    format!("{:.2} MB/s", per_second / 1e6)
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
    fn formats() {
        assert_eq!(rate(2_000_000, Duration::from_secs(1)), "2.00 MB/s");
        assert_eq!(millis(Duration::from_micros(1500)), "1.500 ms");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1_234_567), "1234.6 KB");
    }
}
