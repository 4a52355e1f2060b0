//! Alternating measurement: every round runs one batch of each contender in turn,
//! so a burst of load from the other jobs on the machine hits all of them alike.

use crate::timing;
use std::time::Duration;

/// One contender's batch: runs the operation `iters` times.
pub type Batch<'a> = Box<dyn FnMut(u32) -> Result<(), String> + 'a>;

/// Per-operation CPU-time medians of each batch over `rounds` alternating rounds,
/// in nanoseconds, in the order of `batches`.
pub fn alternate(rounds: usize, iters: u32, batches: &mut [Batch]) -> Result<Vec<f64>, String> {
    let mut samples = vec![Vec::with_capacity(rounds); batches.len()];
    for _ in 0..rounds {
        for (batch, out) in batches.iter_mut().zip(&mut samples) {
            let (result, elapsed) = timing::time(|| batch(iters));
            result?;
            out.push(elapsed.cpu);
        }
    }
    Ok(samples
        .iter()
        .map(|s| nanos(timing::median(s)) / f64::from(iters))
        .collect())
}

pub fn nanos(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9
}
