//! A sandboxed WASI 0.2 host for Rivet components.

mod cli;
mod clocks;
mod ctx;
mod error_code;
mod filesystem;
mod io;
mod link;
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
pub use io::{StreamError, StreamResult};
pub use link::{add_to_imports, run_export, Wasi};
pub use random::{OsRandom, RandomSource};
pub use sockets::{Network, SocketError};
pub use stdio::{MemoryInputPipe, MemoryOutputPipe};
