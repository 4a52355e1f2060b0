//! The WASI context a guest runs against, and its builder.
//!
//! The default context gives the guest nothing: no arguments, no environment,
//! an empty stdin, stdout and stderr discarded, no directories, no network.
//! Each capability is added on purpose with a builder method.

use crate::clocks::{HostMonotonicClock, HostWallClock, MonotonicClock, WallClock};
use crate::filesystem::{DirPerms, FilePerms, Preopen};
use crate::random::{next_u64, OsRandom, RandomSource};
use crate::sockets::AddrCheck;
use crate::stdio::{StdinSource, StdoutSink};
use crate::table::Table;
use crate::{Network, SocketAddrUse};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// Everything one guest instance may reach, and the resources it holds.
///
/// `Send`: a context can be built on one thread and run on another. Make one
/// per instance with [`WasiCtx::builder`]; see the crate documentation for
/// wiring it to a component.
pub struct WasiCtx {
    pub(crate) table: Table,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) cwd: Option<String>,
    pub(crate) stdin: StdinSource,
    pub(crate) stdout: StdoutSink,
    pub(crate) stderr: StdoutSink,
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) wall: Box<dyn WallClock>,
    pub(crate) monotonic: Box<dyn MonotonicClock>,
    pub(crate) random: Box<dyn RandomSource>,
    pub(crate) insecure_random: Box<dyn RandomSource>,
    pub(crate) insecure_seed: (u64, u64),
    /// The protocols the guest may use.
    pub(crate) network: Network,
    /// Which addresses the guest may bind, connect and send to (any, when
    /// there is no check).
    pub(crate) addr_check: Option<AddrCheck>,
    /// Cloned by each running name lookup thread: their count.
    pub(crate) lookups: Arc<()>,
    /// Set by `exit`/`exit-with-code`: the status the guest asked to end with.
    pub(crate) exit: Option<i32>,
}

/// The context is `Send`, as documented: a store holding it may move
/// between threads (checked when the crate builds).
const _: fn() = || {
    fn send<T: Send>() {}
    send::<WasiCtx>();
};

impl WasiCtx {
    /// A builder starting from the empty context.
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::default()
    }

    /// The status the guest passed to `exit` or `exit-with-code`, if it called
    /// one (`exit(ok)` is 0, `exit(err)` is 1).
    pub fn exit_status(&self) -> Option<i32> {
        self.exit
    }

    /// How many resources (streams, pollables, descriptors, …) the guest
    /// currently holds.
    pub fn live_resources(&self) -> usize {
        self.table.len()
    }
}

impl Default for WasiCtx {
    fn default() -> Self {
        WasiCtx::builder().build()
    }
}

/// Builds a [`WasiCtx`]; every method adds one capability.
pub struct WasiCtxBuilder {
    ctx: WasiCtx,
    /// Whether `insecure_seed` was given; otherwise it is drawn at `build`.
    seed_given: bool,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        WasiCtxBuilder {
            ctx: WasiCtx {
                table: Table::default(),
                args: Vec::new(),
                env: Vec::new(),
                cwd: None,
                stdin: StdinSource::reader(io::empty()),
                stdout: StdoutSink::writer(io::sink()),
                stderr: StdoutSink::writer(io::sink()),
                preopens: Vec::new(),
                wall: Box::new(HostWallClock),
                monotonic: Box::new(HostMonotonicClock::default()),
                random: Box::new(OsRandom),
                insecure_random: Box::new(OsRandom),
                insecure_seed: (0, 0),
                network: Network::default(),
                addr_check: None,
                lookups: Arc::new(()),
                exit: None,
            },
            seed_given: false,
        }
    }
}

impl WasiCtxBuilder {
    /// Appends one argument (the first is the program name, by convention).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.ctx.args.push(arg.into());
        self
    }

    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.ctx.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.ctx.env.push((key.into(), value.into()));
        self
    }

    /// Gives the guest the host process's environment variables (those whose
    /// names and values are valid UTF-8).
    pub fn inherit_env(mut self) -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        self.ctx.env.extend(vars);
        self
    }

    /// What `initial-cwd` tells the guest (nothing by default).
    pub fn initial_cwd(mut self, cwd: impl Into<String>) -> Self {
        self.ctx.cwd = Some(cwd.into());
        self
    }

    /// The guest's stdin reads from `r` (a [`crate::MemoryInputPipe`], a file, …).
    pub fn stdin(mut self, r: impl Read + Send + 'static) -> Self {
        self.ctx.stdin = StdinSource::reader(r);
        self
    }

    /// The guest's stdout goes to `w` (a [`crate::MemoryOutputPipe`], a file, …).
    pub fn stdout(mut self, w: impl Write + Send + 'static) -> Self {
        self.ctx.stdout = StdoutSink::writer(w);
        self
    }

    /// The guest's stderr goes to `w`.
    pub fn stderr(mut self, w: impl Write + Send + 'static) -> Self {
        self.ctx.stderr = StdoutSink::writer(w);
        self
    }

    /// The guest shares the host process's stdin, stdout and stderr.
    pub fn inherit_stdio(mut self) -> Self {
        self.ctx.stdin = StdinSource::inherit();
        self.ctx.stdout = StdoutSink::inherit_stdout();
        self.ctx.stderr = StdoutSink::inherit_stderr();
        self
    }

    /// Gives the guest the host directory `host_path` as the preopen named
    /// `guest_path`. The guest reaches only what lies beneath it, and only as
    /// `dir_perms` and `file_perms` allow (see the crate's sandbox rules).
    pub fn preopened_dir(
        mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl Into<String>,
        dir_perms: DirPerms,
        file_perms: FilePerms,
    ) -> io::Result<Self> {
        let preopen = Preopen::open(host_path.as_ref(), guest_path.into(), dir_perms, file_perms)?;
        self.ctx.preopens.push(preopen);
        Ok(self)
    }

    /// Replaces the wall clock.
    pub fn wall_clock(mut self, clock: impl WallClock + 'static) -> Self {
        self.ctx.wall = Box::new(clock);
        self
    }

    /// Replaces the monotonic clock.
    pub fn monotonic_clock(mut self, clock: impl MonotonicClock + 'static) -> Self {
        self.ctx.monotonic = Box::new(clock);
        self
    }

    /// Replaces the source of `wasi:random/random`.
    pub fn secure_random(mut self, source: impl RandomSource + 'static) -> Self {
        self.ctx.random = Box::new(source);
        self
    }

    /// Replaces the source of `wasi:random/insecure`.
    pub fn insecure_random(mut self, source: impl RandomSource + 'static) -> Self {
        self.ctx.insecure_random = Box::new(source);
        self
    }

    /// Fixes what `insecure-seed` returns (drawn from the insecure source
    /// otherwise).
    pub fn insecure_seed(mut self, seed: (u64, u64)) -> Self {
        self.ctx.insecure_seed = seed;
        self.seed_given = true;
        self
    }

    /// The guest's network access, per protocol. All are denied by default
    /// (as Wasmtime does): a protocol not allowed is `access-denied`.
    pub fn network(mut self, network: Network) -> Self {
        self.ctx.network = network;
        self
    }

    /// Limits the addresses the guest may bind to, connect to and send
    /// datagrams to: `check` allows an address for a use by returning
    /// `true`; anything else is `access-denied`. Without a check, every
    /// address is allowed to the protocols [`WasiCtxBuilder::network`] allows.
    pub fn socket_addr_check(
        mut self,
        check: impl Fn(SocketAddr, SocketAddrUse) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.ctx.addr_check = Some(Box::new(check));
        self
    }

    /// The context.
    pub fn build(mut self) -> WasiCtx {
        if !self.seed_given {
            let source = &mut *self.ctx.insecure_random;
            // A source that fails here fails again at the guest's first call,
            // which traps then; the seed falls back to zero.
            let a = next_u64(source).unwrap_or(0);
            let b = next_u64(source).unwrap_or(0);
            self.ctx.insecure_seed = (a, b);
        }
        self.ctx
    }
}
