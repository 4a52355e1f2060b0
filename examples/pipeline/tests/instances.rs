//! Many live instances of a two-component composition (the bench's echo pair,
//! a memory in each component) in one process, and instances created, called
//! and dropped on several threads at once, in both bounds modes.
//!
//! The tests here count the process's kernel mappings, so they take turns
//! (`SERIAL`). The full-size measurements are `#[ignore]`d; run them with
//! `cargo test -p pipeline --test instances -- --ignored --nocapture --test-threads 1`
//! (the guard-mode limit fills the address space; on a shared machine the
//! churn timing needs two idle cores).

use rivet::{BoundsMode, Store};
use std::sync::Mutex;
use std::time::{Duration, Instant};

rivet::component!(Pair, "pair");
rivet::component!(PairExplicit, "pair_explicit");

/// Held by each test: the mapping counts must see only their own instances.
static SERIAL: Mutex<()> = Mutex::new(());

/// One echo pair instance in its own store, in either bounds mode.
enum Live {
    Guard(Store, Pair),
    Explicit(Store, PairExplicit),
}

impl Live {
    fn new(mode: BoundsMode) -> Result<Live, rivet::Error> {
        let mut store = Store::new(mode);
        Ok(match mode {
            BoundsMode::Guard => {
                let pair = Pair::instantiate(&mut store, ())?;
                Live::Guard(store, pair)
            }
            BoundsMode::Explicit => {
                let pair = PairExplicit::instantiate(&mut store, ())?;
                Live::Explicit(store, pair)
            }
        })
    }

    /// A calls B's `echo` `n` times with a `len`-byte string; checks that
    /// every string came back whole.
    fn run(&mut self, n: u32, len: u32) {
        let sum = match self {
            Live::Guard(store, pair) => pair.run(store, n, len),
            Live::Explicit(store, pair) => pair.run(store, n, len),
        };
        assert_eq!(sum.unwrap(), n * len, "echo of {n} × {len} bytes");
    }
}

/// How many kernel mappings (VMAs) the process has.
fn mappings() -> usize {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("reading /proc/self/maps");
    maps.lines().count()
}

/// The most kernel mappings an instance of the pair may add in `mode`: in
/// guard mode each memory is a read/write part and an inaccessible rest; in
/// explicit mode memories are slots in shared 64 MiB mappings, which 2,000
/// instances fill a dozen of.
fn mappings_allowed(mode: BoundsMode, instances: usize) -> usize {
    match mode {
        BoundsMode::Guard => 4 * instances + 20,
        BoundsMode::Explicit => instances / 100 + 20,
    }
}

/// Instantiates `count` pairs in `mode` and calls each once.
fn live_instances(mode: BoundsMode, count: usize) -> Vec<Live> {
    let mut live: Vec<Live> = (0..count)
        .map(|i| Live::new(mode).unwrap_or_else(|e| panic!("{mode} instance {i}: {e}")))
        .collect();
    for (i, instance) in live.iter_mut().enumerate() {
        instance.run(1, 1 + i as u32 % 64);
    }
    live
}

#[test]
fn two_thousand_live_instances_work_within_their_mappings() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const COUNT: usize = 2_000;
    for mode in [BoundsMode::Guard, BoundsMode::Explicit] {
        let before = mappings();
        let mut live = live_instances(mode, COUNT);
        let added = mappings().saturating_sub(before);
        let allowed = mappings_allowed(mode, COUNT);
        assert!(
            added <= allowed,
            "{mode}: {COUNT} instances added {added} mappings, more than {allowed}"
        );
        // Every instance still works after all the others were made.
        live.iter_mut().for_each(|instance| instance.run(2, 100));
    }
}

/// Creates, calls and drops pairs in `mode` on `threads` threads for `time`,
/// each thread also keeping a few alive across rounds; returns how many each
/// thread made.
fn churn(mode: BoundsMode, threads: usize, time: Duration) -> Vec<usize> {
    let deadline = Instant::now() + time;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut kept = Vec::new();
                    let mut rounds = 0;
                    while rounds == 0 || Instant::now() < deadline {
                        let mut live = Live::new(mode).unwrap();
                        live.run(1 + rounds as u32 % 3, 1 + (rounds * 7 + t) as u32 % 200);
                        if rounds % 16 == 0 {
                            kept.push(live);
                        }
                        if kept.len() > 4 {
                            kept.remove(0).run(1, 8);
                        }
                        rounds += 1;
                    }
                    rounds
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    })
}

#[test]
fn threads_create_call_and_drop_pairs_concurrently() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for mode in [BoundsMode::Guard, BoundsMode::Explicit] {
        let done = churn(mode, 4, Duration::from_millis(500));
        assert!(done.iter().all(|&n| n > 0), "{mode}: {done:?}");
    }
}

/// The value of `field` (in KiB) in /proc/self/status.
fn status_kib(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kib = line[field.len()..].trim().trim_end_matches("kB").trim();
    kib.parse()
        .unwrap_or_else(|e| panic!("{field} of {kib:?}: {e}"))
}

/// Makes live pairs in `mode` in steps of `steps` (cumulative), printing what
/// each costs after every step, and checks the cost against the promise: no
/// more than 22 KiB resident per pair, and the mappings of the design.
fn live_pairs_cost(mode: BoundsMode, steps: &[usize]) {
    let (rss, pte, maps) = (status_kib("VmRSS:"), status_kib("VmPTE:"), mappings());
    let mut live = Vec::with_capacity(steps.iter().sum());
    for &step in steps {
        live.extend(live_instances(mode, step));
        let n = live.len();
        let rss_each = (status_kib("VmRSS:") - rss) as f64 / n as f64;
        let pte_each = (status_kib("VmPTE:") - pte) as f64 * 1024.0 / n as f64;
        let maps_added = mappings() - maps;
        println!(
            "{mode}: {n} live pairs: {rss_each:.1} KiB RSS and {pte_each:.0} B of page tables \
             per pair, {maps_added} mappings added"
        );
        assert!(rss_each <= 22.0, "{mode}: {rss_each:.1} KiB per pair");
        assert!(
            maps_added <= mappings_allowed(mode, n),
            "{maps_added} mappings"
        );
    }
    live.iter_mut().for_each(|instance| instance.run(1, 5));
}

/// The target: 100,000 live pairs in one process. Explicit mode:
/// guard-mode memories need 4 GiB of address space each, so a process holds
/// about 16,000 pairs whatever `vm.max_map_count` is (see
/// `guard_mode_instance_limit`).
#[test]
#[ignore = "100,000 instances: about 2 GB of RSS and a minute; see the module docs"]
fn a_hundred_thousand_live_explicit_instances() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    live_pairs_cost(BoundsMode::Explicit, &[10_000, 90_000]);
}

/// What a live pair costs in guard mode, at 10,000.
#[test]
#[ignore = "10,000 instances; see the module docs"]
fn ten_thousand_live_guard_instances() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    live_pairs_cost(BoundsMode::Guard, &[10_000]);
}

/// Guard mode's limit: pairs are made until one cannot be; prints how many
/// and why (the 47-bit address space of 128 TiB holds 32,512 reservations of
/// 4 GiB + 32 MiB; the default `vm.max_map_count` of 65,530 about 32,700
/// memories of two mappings each).
#[test]
#[ignore = "fills the address space or the kernel's mapping limit; see the module docs"]
fn guard_mode_instance_limit() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let max_map_count = std::fs::read_to_string("/proc/sys/vm/max_map_count").unwrap();
    let mut live = Vec::new();
    let error = loop {
        match Live::new(BoundsMode::Guard) {
            Ok(instance) => live.push(instance),
            Err(e) => break e,
        }
    };
    println!(
        "guard mode, vm.max_map_count {}: {} live pairs, {} mappings; then: {error}",
        max_map_count.trim(),
        live.len(),
        mappings()
    );
    assert!(live.len() > 15_000, "only {} pairs", live.len());
}

/// CPU time this process has used, user and system, in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Create + call + drop per second on one thread and on two, per mode; two
/// threads must do at least 1.6 times the work of one. Needs two idle cores;
/// the CPU time per pair it also prints shows, on a busy machine, whether two
/// threads cost each other anything (it stays flat when they do not).
#[test]
#[ignore = "a timing on two idle cores; see the module docs"]
fn churn_scales_to_two_threads() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let time = Duration::from_secs(2);
    let mut ratios = Vec::new();
    for mode in [BoundsMode::Guard, BoundsMode::Explicit] {
        let mut done = [0.0; 2];
        for (threads, done) in [1, 2].into_iter().zip(&mut done) {
            let cpu = cpu_seconds();
            let n: usize = churn(mode, threads, time).iter().sum();
            let cpu_each = (cpu_seconds() - cpu) * 1e6 / n as f64;
            *done = n as f64 / time.as_secs_f64();
            println!(
                "{mode}, {threads} thread(s): {done:.0} pairs/s, {cpu_each:.1} µs of CPU each"
            );
        }
        let ratio = done[1] / done[0];
        println!("{mode}: two threads do {ratio:.2}× one");
        ratios.push(ratio);
    }
    assert!(
        ratios.iter().all(|&r| r >= 1.6),
        "two threads / one: {ratios:.2?}"
    );
}
