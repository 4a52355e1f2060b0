//! The `pipeline` example: three separately built components composed at
//! build time into one (see `build.rs`) and compiled into this binary. The host
//! calls the Rust guest `front`, which calls the WAT plugs `upper` (a string
//! each way) and `count` (a list of records in, a variant out) through fused
//! adapters; both `front` and `count` log through the host. Text containing
//! `boom` makes `front` trap: the host gets an `Err` and carries on.

use rivet::{BoundsMode, Store};

rivet::component!(Pipeline, "pipeline");

/// The host's side of the imports the plugs left unwired: a log to stderr.
struct Host;

impl PipelineLogHost for Host {
    fn log(&mut self, line: String) -> Result<(), rivet::Trap> {
        eprintln!("[log] {line}");
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let inputs: Vec<String> = std::env::args().skip(1).collect();
    let inputs = if inputs.is_empty() {
        vec![
            "the quick brown fox jumps over the lazy dog the end".to_string(),
            "hi there".to_string(),
            "".to_string(),
            "boom goes the guest".to_string(),
        ]
    } else {
        inputs
    };
    for input in &inputs {
        // A fresh instance per input: a trap poisons the instance it unwound.
        let mut store = Store::new(BoundsMode::Guard);
        let pipeline = Pipeline::instantiate(&mut store, Host)?;
        println!("input: {input:?}");
        match pipeline.process(&mut store, input) {
            Ok(summary) => {
                println!("  shouted: {}", summary.shouted);
                let counts: Vec<String> = summary
                    .counts
                    .iter()
                    .map(|c| format!("{}={}", c.word, c.count))
                    .collect();
                println!("  counts: {}", counts.join(" "));
                println!("  verdict: {:?}", summary.verdict);
            }
            Err(trap) => println!("  the guest trapped: {trap}"),
        }
    }
    Ok(())
}
