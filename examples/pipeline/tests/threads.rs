//! Stores, instances and bindings moving between threads: a store created on
//! one thread and called on another, held across `.await` points on a
//! work-stealing runtime, and many threads instantiating, calling and
//! dropping at once.

use rivet::{BoundsMode, ComponentImports, ComponentInstance, Store, Trap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

rivet::component!(Pipeline, "pipeline");

/// Records every line the components log through the host.
#[derive(Default, Clone)]
struct Log(Arc<Mutex<Vec<String>>>);

impl PipelineLogHost for Log {
    fn log(&mut self, line: String) -> Result<(), Trap> {
        self.0.lock().unwrap().push(line);
        Ok(())
    }
}

/// Compile-time: what a host keeps of a component moves between threads
/// (`ComponentImports` only takes `Send + Sync` closures).
const _: () = {
    const fn send<T: Send>() {}
    send::<Store>();
    send::<ComponentInstance>();
    send::<ComponentImports>();
    send::<Pipeline>();
    send::<(Store, Pipeline)>();
};

/// Instantiates the pipeline in a new store, logging into `log`.
fn instantiate(log: &Log) -> (Store, Pipeline) {
    let mut store = Store::new(BoundsMode::Guard);
    let pipeline = Pipeline::instantiate(&mut store, log.clone()).unwrap();
    (store, pipeline)
}

/// Runs `text` through the pipeline and checks the shouted text.
fn shout(store: &mut Store, pipeline: &Pipeline, text: &str) {
    let summary = pipeline.process(store, text).unwrap();
    assert_eq!(summary.shouted, text.to_uppercase());
}

#[test]
fn a_store_created_on_one_thread_is_called_on_another() {
    let log = Log::default();
    let (mut store, pipeline) = instantiate(&log);
    shout(&mut store, &pipeline, "here");
    let (mut store, pipeline) = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            shout(&mut store, &pipeline, "there");
            // A guest trap on this thread is an Err, and the store carries on.
            let trap = pipeline.process(&mut store, "boom").unwrap_err();
            assert!(trap.to_string().contains("unreachable"), "{trap}");
            (store, pipeline)
        })
        .unwrap()
        .join()
        .unwrap();
    // Back on the creating thread, after the trap on the other one: the
    // trapped instance stays poisoned, and a fresh one in the same store works.
    let refused = pipeline.process(&mut store, "back").unwrap_err();
    assert_eq!(refused.message, "cannot enter component instance");
    let fresh = Pipeline::instantiate(&mut store, log.clone()).unwrap();
    shout(&mut store, &fresh, "fresh");
    let lines = log.0.lock().unwrap();
    assert_eq!(lines.first().map(String::as_str), Some("front: 4 bytes in"));
    assert!(lines.iter().any(|l| l == "front: 5 bytes in"), "{lines:?}");
}

/// Holds a store across `.await` points on a multi-threaded runtime, where a
/// task may resume on any worker: each call runs on whichever thread polls.
#[test]
fn a_store_held_across_await_on_a_work_stealing_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            runtime.spawn(async move {
                let log = Log::default();
                let (mut store, pipeline) = instantiate(&log);
                for i in 0..50 {
                    shout(&mut store, &pipeline, &format!("task {t} step {i}"));
                    tokio::task::yield_now().await;
                }
                let trap = pipeline.process(&mut store, "boom").unwrap_err();
                assert!(trap.to_string().contains("unreachable"), "{trap}");
                let lines = log.0.lock().unwrap();
                lines.iter().filter(|l| l.ends_with("bytes in")).count()
            })
        })
        .collect();
    for task in tasks {
        // Every call reached the host import ("boom" traps before logging).
        assert_eq!(runtime.block_on(task).unwrap(), 50);
    }
}

/// Threads instantiating, calling and dropping at once, for a bounded time:
/// every call's result is checked, and every thread does some work.
#[test]
fn threads_create_call_and_drop_instances_concurrently() {
    const THREADS: usize = 4;
    let deadline = Instant::now() + Duration::from_millis(1000);
    let done: Vec<usize> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut rounds = 0;
                    while Instant::now() < deadline || rounds == 0 {
                        let log = Log::default();
                        let (mut store, pipeline) = instantiate(&log);
                        let text = format!("thread {t} round {rounds}");
                        shout(&mut store, &pipeline, &text);
                        let first = log.0.lock().unwrap()[0].clone();
                        assert_eq!(first, format!("front: {} bytes in", text.len()));
                        drop((store, pipeline));
                        rounds += 1;
                    }
                    rounds
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(done.iter().all(|&n| n > 0), "{done:?}");
}
