//! A sandboxed WASI 0.2 host for Rivet components.
//!
//! Serves the `wasi:cli`, `wasi:io`, `wasi:clocks`, `wasi:random`,
//! `wasi:filesystem` and `wasi:sockets` imports of a component, at any
//! version from 0.2.0 to 0.2.12 (the interfaces are compatible, as semver
//! says); another version is a link error naming the import.
//!
//! Each WASI function is a plain method of [`WasiCtx`] on resource reps
//! (`ctx.read(stream, len)`, `ctx.open_at(dir, …)`); [`add_to_imports`]
//! connects them to a component's imports as typed host functions (their
//! arguments and results cross without a dynamic `Value` per call):
//!
//! ```no_run
//! use rivet::{BoundsMode, Component, ComponentImports, Store};
//! use rivet_wasi::{DirPerms, FilePerms, MemoryOutputPipe, WasiCtx};
//!
//! fn run(component: &Component) -> Result<i32, Box<dyn std::error::Error>> {
//!     let stdout = MemoryOutputPipe::new();
//!     let ctx = WasiCtx::builder()
//!         .args(["prog", "--flag"])
//!         .env("LANG", "C")
//!         .stdout(stdout.clone())
//!         .preopened_dir("data", "/data", DirPerms::READ, FilePerms::READ)?
//!         .build();
//!     let mut imports = ComponentImports::new();
//!     // Registers every `wasi:*` import; the host adds its own beside them.
//!     let wasi = rivet_wasi::add_to_imports(&mut imports, component, ctx)?;
//!     let mut store = Store::new(BoundsMode::Guard);
//!     let instance = store.instantiate_component(component, &imports)?;
//!     // `wasi:cli/run`: 0 for ok, 1 for err, the code of `exit-with-code`.
//!     let status = wasi.run(&mut store, &instance)?;
//!     println!("{}", stdout.contents_string());
//!     Ok(status)
//! }
//! ```
//!
//! # The sandbox
//! The default context gives the guest nothing: no arguments, no
//! environment, an empty stdin, stdout and stderr discarded, no directories,
//! no network. A guest reaches only what the builder gave it:
//! - Paths resolve beneath their preopen through cap-std: `..` above the
//!   root, absolute paths, symlinks and symlink chains leading out, hard
//!   links out, and a directory moved out while open all fail with
//!   `not-permitted` instead of reaching outside.
//! - [`DirPerms`] and [`FilePerms`] bound everything opened beneath a
//!   preopen: creating, removing or opening for write under a read-only
//!   directory is `read-only`; a file opened for more than the file
//!   permissions allow is `not-permitted`.
//! - The network is denied (`access-denied`, as Wasmtime does by default)
//!   until [`WasiCtxBuilder::network`] allows TCP, UDP or name lookup, each
//!   on its own; [`WasiCtxBuilder::socket_addr_check`] can further limit
//!   the addresses bound, connected and sent to.
//! - Bad handles, writes past `check-write`'s permit or the 4096 bytes of
//!   `blocking-write-and-flush`, datagrams sent without `check-send`'s
//!   permit, an empty `poll`, huge random lengths, and dropping a stream,
//!   descriptor or socket before its pollables or streams are traps of the
//!   guest call, never host panics; huge read lengths read at most 1 MiB.
//!   The host and its other instances run on after a trap.
//!
//! Stdio, in-memory pipes and files are synchronous underneath: a
//! non-blocking call does its work at once and their pollables are always
//! ready. Sockets are non-blocking host sockets following the WIT's state
//! machines; a connected TCP socket's streams are `wasi:io` streams, and
//! `poll` waits on sockets and the (replaceable) monotonic clock together.

mod cli;
mod clocks;
mod ctx;
mod error_code;
mod filesystem;
mod io;
mod link;
mod poll;
mod random;
mod sockets;
mod stdio;
mod table;

pub use cli::StdStream;
pub use clocks::{HostMonotonicClock, HostWallClock, MonotonicClock, WallClock};
pub use ctx::{WasiCtx, WasiCtxBuilder};
pub use error_code::ErrorCode;
pub use filesystem::{
    DescriptorFlags, DescriptorStat, DescriptorType, DirPerms, FilePerms, FsResult, NewTimestamp,
    OpenFlags,
};
pub use io::{FailureCode, StreamError, StreamResult};
pub use link::{add_to_imports, run_export, serves_import, serves_resource, Wasi};
pub use random::{OsRandom, RandomSource};
pub use sockets::{
    AddressFamily, IncomingDatagram, Network, OutgoingDatagram, SocketAddrUse, SocketError,
    SocketOption, SocketResult,
};
pub use stdio::{MemoryInputPipe, MemoryOutputPipe};
