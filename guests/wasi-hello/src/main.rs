//! A WASI 0.2 command for the rivet-wasi tests: it prints to stdout and
//! stderr, echoes its arguments and one environment variable, reads stdin,
//! and exits with status 3 (which Rust 1.95 reports through `exit(err)`).

use std::io::Read;

fn main() {
    println!("hello from wasi");
    eprintln!("to stderr");
    let args: Vec<String> = std::env::args().collect();
    println!("args: {}", args.join(" "));
    match std::env::var("GREETING") {
        Ok(v) => println!("GREETING={v}"),
        Err(_) => println!("GREETING unset"),
    }
    let mut input = String::new();
    match std::io::stdin().read_to_string(&mut input) {
        Ok(_) => println!("stdin: {}", input.trim_end()),
        Err(e) => println!("stdin error: {e}"),
    }
    std::process::exit(3);
}
