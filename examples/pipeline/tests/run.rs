//! Runs the composed pipeline: through the typed bindings (the data that
//! crossed each fused adapter) and as the example binary (what it prints).

use rivet::{BoundsMode, Store, Trap};
use std::process::Command;

rivet::component!(Pipeline, "pipeline");

/// Records every line the components log through the host.
#[derive(Default)]
struct Log(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl PipelineLogHost for Log {
    fn log(&mut self, line: String) -> Result<(), Trap> {
        self.0.lock().unwrap().push(line);
        Ok(())
    }
}

#[test]
fn strings_records_and_variants_cross_the_plugs() {
    let lines = std::sync::Arc::default();
    let mut store = Store::new(BoundsMode::Guard);
    let pipeline = Pipeline::instantiate(&mut store, Log(std::sync::Arc::clone(&lines))).unwrap();

    let summary = pipeline.process(&mut store, "to be or not to be").unwrap();
    assert_eq!(summary.shouted, "TO BE OR NOT TO BE");
    let counts: Vec<(&str, u32)> = summary
        .counts
        .iter()
        .map(|c| (c.word.as_str(), c.count))
        .collect();
    assert_eq!(counts, [("to", 2), ("be", 2), ("or", 1), ("not", 1)]);
    assert_eq!(format!("{:?}", summary.verdict), "Long(6)");
    // `front` and the `count` plug share the one host import.
    assert_eq!(
        *lines.lock().unwrap(),
        ["front: 18 bytes in", "front: 6 words", "count: judging"]
    );

    // The same instance again: the plugs' allocators were reset between calls.
    let summary = pipeline.process(&mut store, "ça va").unwrap();
    assert_eq!(summary.shouted, "çA VA");
    assert_eq!(format!("{:?}", summary.verdict), "Short(2)");
    let summary = pipeline.process(&mut store, "   ").unwrap();
    assert!(summary.counts.is_empty());
    assert_eq!(format!("{:?}", summary.verdict), "Empty");
}

#[test]
fn a_guest_trap_is_an_err() {
    let mut store = Store::new(BoundsMode::Guard);
    let pipeline = Pipeline::instantiate(&mut store, Log::default()).unwrap();
    let trap = pipeline.process(&mut store, "boom").unwrap_err();
    assert!(trap.to_string().contains("unreachable"), "{trap}");
    // The host carries on: a fresh instance works.
    let pipeline = Pipeline::instantiate(&mut store, Log::default()).unwrap();
    let summary = pipeline.process(&mut store, "fine").unwrap();
    assert_eq!(summary.shouted, "FINE");
}

#[test]
fn the_example_prints_each_stage() {
    let out = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(["a b a", "boom"])
        .output()
        .expect("running the pipeline example");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "input: \"a b a\"\n  shouted: A B A\n  counts: a=2 b=1\n  verdict: Short(3)\n\
         input: \"boom\"\n  the guest trapped: unreachable\n"
    );
}
