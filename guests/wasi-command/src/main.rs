//! A WASI 0.2 command that exercises one host capability at a time, chosen by its
//! first argument, so that a host's test can run each behaviour alone and compare
//! stdout, stderr and the exit status with Wasmtime's (guests/expected/). Every
//! line it prints is a fact that does not change from run to run or host to host
//! (no times, no random values, no host paths), and a failed operation prints its
//! error kind instead of stopping, so a host's refusal shows on stdout.
//!
//! ```text
//! wasi-command args [ARG]...       the arguments after argv[0]
//! wasi-command env [NAME]...       NAME=VALUE or NAME unset, and the variable count
//! wasi-command echo                stdin copied to stdout
//! wasi-command stderr              one line to stdout, one to stderr
//! wasi-command files DIR           file operations inside DIR (a preopen)
//! wasi-command clocks              monotonic and wall clock checks
//! wasi-command random              lengths of random buffers
//! wasi-command exit CODE           std::process::exit(CODE)
//! wasi-command panic               a panic: the guest aborts with a trap
//! wasi-command sandbox DIR         attempts to leave the preopen DIR
//! wasi-command heavy DIR           16 MiB written and read back in 64 KiB chunks
//! ```

mod files;
mod heavy;
mod report;
mod sandbox;

use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const USAGE: &str = "usage: wasi-command args|env|echo|stderr|files DIR|clocks|random|\
                     exit CODE|panic|sandbox DIR|heavy DIR";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, rest) = match args.split_first() {
        Some((mode, rest)) => (mode.as_str(), rest),
        None => usage(),
    };
    match (mode, rest) {
        ("args", _) => print_args(rest),
        ("env", names) => print_env(names),
        ("echo", []) => echo(),
        ("stderr", []) => to_both_streams(),
        ("files", [dir]) => files::run(dir),
        ("clocks", []) => clocks(),
        ("random", []) => random(),
        ("exit", [code]) => std::process::exit(code.parse().unwrap_or_else(|_| usage())),
        ("panic", []) => panic!("wasi-command panics on purpose"),
        ("sandbox", [dir]) => sandbox::run(dir),
        ("heavy", [dir]) => heavy::run(dir),
        _ => usage(),
    }
}

/// Bad arguments: the usage on stderr and status 2.
fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2)
}

/// The arguments after the mode, numbered from 1 (argv[0] is the host's choice).
fn print_args(args: &[String]) {
    println!("argc {}", args.len());
    for (i, arg) in args.iter().enumerate() {
        println!("arg {}: {arg}", i + 1);
    }
}

/// The named variables, and how many the host gave in all (so a host that leaks
/// its own environment shows).
fn print_env(names: &[String]) {
    for name in names {
        match std::env::var(name) {
            Ok(value) => println!("{name}={value}"),
            Err(_) => println!("{name} unset"),
        }
    }
    println!("count {}", std::env::vars().count());
}

/// Copies stdin to stdout byte for byte; the byte count goes to stderr.
fn echo() {
    let mut input = Vec::new();
    let read = std::io::stdin().read_to_end(&mut input);
    let written = std::io::stdout().write_all(&input);
    match (read, written) {
        (Ok(n), Ok(())) => eprintln!("echoed {n} bytes"),
        (Err(e), _) | (_, Err(e)) => eprintln!("echo: {}", report::error(&e)),
    }
}

fn to_both_streams() {
    println!("this line goes to stdout");
    eprintln!("this line goes to stderr");
}

/// Facts about the clocks that hold on any correct host.
fn clocks() {
    let mut last = Instant::now();
    let mut ordered = true;
    for _ in 0..1000 {
        let now = Instant::now();
        ordered &= now >= last;
        last = now;
    }
    println!("monotonic non-decreasing: {ordered}");
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(10));
    println!(
        "sleep 10ms waited at least 10ms: {}",
        start.elapsed() >= Duration::from_millis(10)
    );
    // 2020-01-01T00:00:00Z.
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    println!(
        "wall clock after 2020: {}",
        since_epoch.as_secs() > 1_577_836_800
    );
}

/// Lengths of random buffers, and whether two draws differ (equal 32-byte draws
/// would mean a constant source; the chance otherwise is 2^-256).
fn random() {
    for len in [0, 1, 32, 4096] {
        let mut buf = vec![0u8; len];
        match getrandom::fill(&mut buf) {
            Ok(()) => println!("random {len} bytes: got {}", buf.len()),
            Err(e) => println!("random {len} bytes: error {e}"),
        }
    }
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    let drawn = getrandom::fill(&mut a).and_then(|()| getrandom::fill(&mut b));
    println!("two draws differ: {}", drawn.is_ok() && a != b);
}
