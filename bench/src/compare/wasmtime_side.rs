//! Wasmtime's side: the same `.wasm` files `build.rs` gave Rivet, loaded with
//! `wasmtime::component`, called through `TypedFunc`s.

use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::component::{
    Component, ComponentNamedList, Instance, Lift, Linker, Lower, TypedFunc,
};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

/// The binary components, byte for byte what Rivet compiled.
pub const HOST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/host.wasm"));
pub const PAIR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pair.wasm"));
pub const RECORDS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/records.wasm"));
pub const KERNELS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kernels.wasm"));

/// Set by `--rivet-only`: the workloads run Rivet's side alone.
static RIVET_ONLY: AtomicBool = AtomicBool::new(false);

/// Leaves Wasmtime out of the call workloads, so that a profiler (perf,
/// callgrind, under which the pooling allocator cannot reserve its address
/// space) sees Rivet's side alone.
pub fn leave_out() {
    RIVET_ONLY.store(true, Ordering::Relaxed);
}

/// Whether [`leave_out`] was called.
pub fn left_out() -> bool {
    RIVET_ONLY.load(Ordering::Relaxed)
}

/// Wasmtime with its default configuration, and with the pooling allocator
/// (otherwise default), in that order; none after [`leave_out`].
pub fn engines() -> Result<Vec<Engine>, String> {
    if left_out() {
        return Ok(Vec::new());
    }
    let mut pooling = Config::new();
    pooling.allocation_strategy(InstanceAllocationStrategy::Pooling(
        PoolingAllocationConfig::default(),
    ));
    Ok(vec![default_engine()?, Engine::new(&pooling).map_err(err)?])
}

/// Wasmtime with its default configuration.
pub fn default_engine() -> Result<Engine, String> {
    Engine::new(&Config::new()).map_err(err)
}

/// The configuration of the `no_std` Wasmtime host, in the host's own source
/// so that the host and the precompiler below cannot disagree.
#[path = "../../wasmtime-hello-nostd/src/config.rs"]
mod nostd_config;

/// The engine that precompiles the `no_std` Wasmtime host's component: that
/// host's configuration ([`nostd_config::config`]) for this machine's
/// architecture and OS, named as the target so that Cranelift keeps to the
/// architecture's baseline instructions. Left to itself it would use every
/// feature of this CPU (AVX, BMI, ...), and a `.cwasm` that needs any is
/// loaded only by a runtime that can probe the CPU for it, which Wasmtime
/// without `std` cannot (`Config::detect_host_feature` has no default there).
/// A `.cwasm` records its target, of which Wasmtime compares the
/// architecture and the OS with the host's.
pub fn nostd_engine() -> Result<Engine, String> {
    let mut config = nostd_config::config();
    let target = format!(
        "{}-unknown-{}",
        std::env::consts::ARCH,
        std::env::consts::OS
    );
    config.target(&target).map_err(err)?;
    Engine::new(&config).map_err(err)
}

/// One instance of a component in its own store.
pub struct Loaded {
    pub store: Store<()>,
    pub instance: Instance,
}

impl Loaded {
    pub fn new(engine: &Engine, wasm: &[u8]) -> Result<Loaded, String> {
        let component = Component::new(engine, wasm).map_err(err)?;
        let mut store = Store::new(engine, ());
        let instance = Linker::new(engine)
            .instantiate(&mut store, &component)
            .map_err(err)?;
        Ok(Loaded { store, instance })
    }

    /// The typed export `name`.
    pub fn func<P, R>(&mut self, name: &str) -> Result<TypedFunc<P, R>, String>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        self.instance
            .get_typed_func(&mut self.store, name)
            .map_err(err)
    }
}

/// Any Wasmtime error as text for the report.
pub fn err(e: impl std::fmt::Debug) -> String {
    format!("Wasmtime: {e:?}")
}
