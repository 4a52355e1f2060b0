//! Compiling and linking modules into shared libraries, ahead of need and once per
//! distinct binary.
//!
//! Compiling is the slow part of running a script, so a script submits all its
//! modules up front ([`Pipeline::prefetch`]) and background workers compile them in
//! order while the script runs. A caller that needs a module no worker has started
//! compiles it itself rather than sit idle. Results are cached by (bytes, target),
//! so a module repeated within or across scripts is compiled once. Components go
//! through the same path, compiled with `rivet_build::compile_component`.

use crate::panic_message;
use rivet::BoundsMode;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// What a binary is: a core module or a component (each has its own compiler).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A core WebAssembly module.
    Module,
    /// A component-model component.
    Component,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Module => "module",
            Kind::Component => "component",
        })
    }
}

/// Why a module did not become a shared library.
#[derive(Debug, Clone)]
pub enum Rejection {
    /// `rivet_build::compile_module` (or `compile_component`) refused it (decoding, validation, or an
    /// unsupported feature).
    Compile(String),
    /// The object could not be written or linked.
    Link(String),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Compile(m) => write!(f, "compile: {m}"),
            Rejection::Link(m) => write!(f, "link: {m}"),
        }
    }
}

/// The outcome of one job: the path of the linked shared library.
pub type Artifact = Result<PathBuf, Rejection>;

/// How the runner compiles modules: with Cranelift in either bounds mode, or
/// with the C backend where it applies (guard regions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Guard,
    Explicit,
    C,
}

impl Mode {
    /// Every mode: what the conformance gate runs.
    pub const ALL: [Mode; 3] = [Mode::Guard, Mode::Explicit, Mode::C];

    /// How memory accesses are checked.
    pub fn bounds(self) -> BoundsMode {
        match self {
            Mode::Explicit => BoundsMode::Explicit,
            Mode::Guard | Mode::C => BoundsMode::Guard,
        }
    }

    /// The name reports and `rivet wast --mode` use.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Guard => "guard",
            Mode::Explicit => "explicit",
            Mode::C => "c",
        }
    }
}

/// What a module is compiled for: the mode, and whether the multi-memory
/// proposal is accepted (the 2.0 suite in `core/` expects it refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// How it is compiled.
    pub mode: Mode,
    /// Whether validation accepts several memories.
    pub multi_memory: bool,
}

impl Target {
    /// The compiler options for this target.
    pub fn options(self) -> rivet_build::Options {
        rivet_build::Options {
            bounds: self.mode.bounds(),
            multi_memory: self.multi_memory,
            c_backend: self.mode == Mode::C,
            ..Default::default()
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    target: Target,
    kind: Kind,
    wasm: Arc<[u8]>,
}

enum Entry {
    Queued,
    Running,
    Done(Artifact),
}

#[derive(Default)]
struct State {
    entries: HashMap<Key, Entry>,
    queue: VecDeque<Key>,
    next_id: u64,
    shutdown: bool,
}

struct Shared {
    dir: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
}

/// A cache of compiled modules with background compile workers.
pub struct Pipeline {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Pipeline {
    /// Creates the per-run temporary directory and starts `threads` background
    /// workers (0: modules compile only when first needed).
    pub fn new(threads: usize) -> std::io::Result<Pipeline> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("rivet-wast-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let shared = Arc::new(Shared {
            dir,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let workers = (0..threads)
            .map(|_| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || shared.work())
            })
            .collect();
        Ok(Pipeline { shared, workers })
    }

    /// Queues `wasm` for compilation for `target` unless it is known already.
    pub fn prefetch(&self, kind: Kind, wasm: &[u8], target: Target) {
        let key = key(kind, wasm, target);
        let mut state = self.shared.lock();
        if !state.entries.contains_key(&key) {
            state.entries.insert(key.clone(), Entry::Queued);
            state.queue.push_back(key);
            self.shared.changed.notify_all();
        }
    }

    /// The shared library for `wasm` built for `target`: compiled here if nobody has
    /// started it, awaited if a worker is on it, or taken from the cache.
    pub fn get(&self, kind: Kind, wasm: &[u8], target: Target) -> Artifact {
        let key = key(kind, wasm, target);
        let mut state = self.shared.lock();
        loop {
            match state.entries.get(&key) {
                Some(Entry::Done(artifact)) => return artifact.clone(),
                Some(Entry::Running) => {
                    state = self
                        .shared
                        .changed
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
                Some(Entry::Queued) | None => {
                    state.entries.insert(key.clone(), Entry::Running);
                    drop(state);
                    return self.shared.run(key);
                }
            }
        }
    }

    /// The directory holding this run's objects and libraries.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.changed.notify_all();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        let _ = std::fs::remove_dir_all(&self.shared.dir);
    }
}

fn key(kind: Kind, wasm: &[u8], target: Target) -> Key {
    Key {
        target,
        kind,
        wasm: Arc::from(wasm),
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Worker loop: take the oldest queued job nobody has started, until shutdown.
    fn work(&self) {
        let mut state = self.lock();
        loop {
            if state.shutdown {
                return;
            }
            let Some(key) = state.queue.pop_front() else {
                state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            if !matches!(state.entries.get(&key), Some(Entry::Queued)) {
                continue;
            }
            state.entries.insert(key.clone(), Entry::Running);
            drop(state);
            // The result is published in the cache for whoever asks for it.
            let _ = self.run(key);
            state = self.lock();
        }
    }

    /// Compiles and links one job already marked running, and publishes the result.
    fn run(&self, key: Key) -> Artifact {
        let id = {
            let mut state = self.lock();
            state.next_id += 1;
            state.next_id
        };
        let stem = self.dir.join(format!("m{id}"));
        let artifact = build(key.kind, &key.wasm, key.target, &stem);
        self.lock()
            .entries
            .insert(key, Entry::Done(artifact.clone()));
        self.changed.notify_all();
        artifact
    }
}

/// Compiles `wasm` to `stem.o` and links it to `stem.so`.
fn build(kind: Kind, wasm: &[u8], target: Target, stem: &Path) -> Artifact {
    let options = target.options();
    let compile = || match kind {
        Kind::Module => rivet_build::compile_module(wasm, &options),
        Kind::Component => rivet_build::compile_component(wasm, &options),
    };
    let object = std::panic::catch_unwind(compile)
        .map_err(|p| Rejection::Compile(format!("compiler panicked: {}", panic_message(&*p))))?
        .map_err(|e| Rejection::Compile(e.to_string()))?;
    let object_path = stem.with_extension("o");
    let library_path = stem.with_extension("so");
    std::fs::write(&object_path, object)
        .map_err(|e| Rejection::Link(format!("writing {}: {e}", object_path.display())))?;
    rivet_build::__internal::link_shared(&[object_path], &library_path)
        .map_err(|e| Rejection::Link(e.to_string()))?;
    Ok(library_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUARD: Target = Target {
        mode: Mode::Guard,
        multi_memory: true,
    };

    #[test]
    fn rejected_modules_are_cached_and_reported() {
        let pipeline = Pipeline::new(1).unwrap();
        let garbage = b"not wasm at all";
        pipeline.prefetch(Kind::Module, garbage, GUARD);
        let first = pipeline.get(Kind::Module, garbage, GUARD);
        assert!(matches!(first, Err(Rejection::Compile(_))), "{first:?}");
        let second = pipeline.get(Kind::Module, garbage, GUARD);
        assert_eq!(format!("{first:?}"), format!("{second:?}"));
        assert!(pipeline.dir().is_dir());
    }

    #[test]
    fn components_and_modules_are_cached_apart() {
        let pipeline = Pipeline::new(0).unwrap();
        // An empty component: the core compiler rejects it; the component
        // compiler's answer (whatever it is) must not be the cached rejection.
        let header = b"\0asm\x0d\0\x01\0";
        let as_module = pipeline.get(Kind::Module, header, GUARD);
        let as_component = pipeline.get(Kind::Component, header, GUARD);
        assert!(
            matches!(as_module, Err(Rejection::Compile(_))),
            "{as_module:?}"
        );
        assert_ne!(format!("{as_module:?}"), format!("{as_component:?}"));
    }

    #[test]
    fn temp_dir_is_removed_on_drop() {
        let pipeline = Pipeline::new(2).unwrap();
        let dir = pipeline.dir().to_path_buf();
        for mode in [Mode::Guard, Mode::Explicit] {
            let target = Target {
                mode,
                multi_memory: true,
            };
            pipeline.prefetch(Kind::Module, b"\0asm", target);
        }
        assert!(pipeline.get(Kind::Module, b"\0asm", GUARD).is_err());
        drop(pipeline);
        assert!(!dir.exists());
    }
}
