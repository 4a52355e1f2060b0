//! The host function of every WASI 0.2 function: each takes its typed
//! arguments, calls one [`WasiCtx`] method and returns its typed result.

use super::convert::{Datetime, StreamErr};
use super::{Handler, Wasi};
use crate::cli::StdStream;
use crate::io::StreamResult;
use crate::WasiCtx;
use rivet::typed_import::Rep;
use rivet::{ComponentImports, Trap};

/// The registration of a WASI function: `typed!(|c, s: Rep, len: u64| body)`
/// serves it with `body` on the context `c` (locked for the call) and the
/// typed parameters.
macro_rules! typed {
    (|$c:ident $(, $p:ident: $t:ty)*| $body:expr) => {
        |imports: &mut ComponentImports, name: &str, wasi: &Wasi| {
            let wasi = wasi.clone();
            imports.func_typed(name, move |$($p: $t),*| {
                let $c: &mut WasiCtx = &mut wasi.ctx();
                $body
            });
        }
    };
}
pub(super) use typed;

/// The handler of function `func` of interface `iface` (unversioned).
pub(super) fn find(iface: &str, func: &str) -> Option<Handler> {
    let tables = [CLI, IO, CLOCKS, RANDOM, crate::link::fs::FILESYSTEM];
    (tables.iter().chain(crate::link::sockets::TABLES))
        .flat_map(|t| t.iter())
        .find(|(i, f, _)| *i == iface && *f == func)
        .map(|(_, _, h)| *h)
}

/// A table of handlers: (interface, function, handler).
pub(super) type Handlers = &'static [(&'static str, &'static str, Handler)];

const CLI: Handlers = &[
    (
        "wasi:cli/environment",
        "get-environment",
        typed!(|c| Ok(c.environment())),
    ),
    (
        "wasi:cli/environment",
        "get-arguments",
        typed!(|c| Ok(c.arguments())),
    ),
    (
        "wasi:cli/environment",
        "initial-cwd",
        typed!(|c| Ok(c.initial_cwd())),
    ),
    (
        "wasi:cli/exit",
        "exit",
        typed!(
            |c, status: Result<(), ()>| Err::<(), _>(c.exit(if status.is_ok() { 0 } else { 1 }))
        ),
    ),
    (
        "wasi:cli/exit",
        "exit-with-code",
        typed!(|c, code: u8| Err::<(), _>(c.exit(code.into()))),
    ),
    (
        "wasi:cli/stdin",
        "get-stdin",
        typed!(|c| c.get_stdin().map(Rep)),
    ),
    (
        "wasi:cli/stdout",
        "get-stdout",
        typed!(|c| c.get_std_stream(StdStream::Stdout).map(Rep)),
    ),
    (
        "wasi:cli/stderr",
        "get-stderr",
        typed!(|c| c.get_std_stream(StdStream::Stderr).map(Rep)),
    ),
    (
        "wasi:cli/terminal-stdin",
        "get-terminal-stdin",
        typed!(|c| Ok(c.get_terminal_stdin()?.map(Rep))),
    ),
    (
        "wasi:cli/terminal-stdout",
        "get-terminal-stdout",
        typed!(|c| Ok(c.get_terminal_output(StdStream::Stdout)?.map(Rep))),
    ),
    (
        "wasi:cli/terminal-stderr",
        "get-terminal-stderr",
        typed!(|c| Ok(c.get_terminal_output(StdStream::Stderr)?.map(Rep))),
    ),
];

/// A stream result with its `stream-error` made: `closed`, or
/// `last-operation-failed` with a new `error` resource.
pub(super) fn stream<T>(c: &mut WasiCtx, r: StreamResult<T>) -> Result<Result<T, StreamErr>, Trap> {
    let e = match r? {
        Ok(v) => return Ok(Ok(v)),
        Err(e) => e,
    };
    Ok(Err(match c.stream_error_rep(e)? {
        None => StreamErr::Closed,
        Some(rep) => StreamErr::Failed(Rep(rep)),
    }))
}

/// A stream method `$method` of the context taking a stream (and `$p`),
/// its stream result made.
macro_rules! stream_method {
    ($method:ident($($p:ident: $t:ty),*)) => {
        typed!(|c, s: Rep $(, $p: $t)*| {
            let r = c.$method(s.0 $(, $p)*);
            stream(c, r)
        })
    };
}

/// `subscribe` of any resource with a pollable.
pub(super) const SUBSCRIBE: Handler = typed!(|c, s: Rep| c.subscribe(s.0).map(Rep));

const IO: Handlers = &[
    (
        "wasi:io/error",
        "[method]error.to-debug-string",
        typed!(|c, e: Rep| c.error_debug_string(e.0)),
    ),
    (
        "wasi:io/poll",
        "[method]pollable.ready",
        typed!(|c, p: Rep| c.ready(p.0)),
    ),
    (
        "wasi:io/poll",
        "[method]pollable.block",
        typed!(|c, p: Rep| c.block(p.0)),
    ),
    (
        "wasi:io/poll",
        "poll",
        typed!(|c, ps: Vec<Rep>| c.poll(&ps.iter().map(|p| p.0).collect::<Vec<_>>())),
    ),
    (
        "wasi:io/streams",
        "[method]input-stream.read",
        stream_method!(read(len: u64)),
    ),
    (
        "wasi:io/streams",
        "[method]input-stream.blocking-read",
        stream_method!(blocking_read(len: u64)),
    ),
    (
        "wasi:io/streams",
        "[method]input-stream.skip",
        stream_method!(skip(len: u64)),
    ),
    (
        "wasi:io/streams",
        "[method]input-stream.blocking-skip",
        stream_method!(blocking_skip(len: u64)),
    ),
    (
        "wasi:io/streams",
        "[method]input-stream.subscribe",
        SUBSCRIBE,
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.check-write",
        stream_method!(check_write()),
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.write",
        typed!(|c, s: Rep, bytes: Vec<u8>| {
            let r = c.write(s.0, &bytes);
            stream(c, r)
        }),
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.blocking-write-and-flush",
        typed!(|c, s: Rep, bytes: Vec<u8>| {
            let r = c.blocking_write_and_flush(s.0, &bytes);
            stream(c, r)
        }),
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.flush",
        stream_method!(flush()),
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.blocking-flush",
        stream_method!(blocking_flush()),
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.subscribe",
        SUBSCRIBE,
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.write-zeroes",
        typed!(|c, s: Rep, len: u64| {
            let r = c.write_zeroes(s.0, len, false);
            stream(c, r)
        }),
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.blocking-write-zeroes-and-flush",
        typed!(|c, s: Rep, len: u64| {
            let r = c.write_zeroes(s.0, len, true);
            stream(c, r)
        }),
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.splice",
        typed!(|c, dst: Rep, src: Rep, len: u64| {
            let r = c.splice(dst.0, src.0, len);
            stream(c, r)
        }),
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.blocking-splice",
        typed!(|c, dst: Rep, src: Rep, len: u64| {
            let r = c.blocking_splice(dst.0, src.0, len);
            stream(c, r)
        }),
    ),
];

const CLOCKS: Handlers = &[
    (
        "wasi:clocks/monotonic-clock",
        "now",
        typed!(|c| Ok(c.monotonic_now())),
    ),
    (
        "wasi:clocks/monotonic-clock",
        "resolution",
        typed!(|c| Ok(c.monotonic_resolution())),
    ),
    (
        "wasi:clocks/monotonic-clock",
        "subscribe-instant",
        typed!(|c, when: u64| c.subscribe_instant(when).map(Rep)),
    ),
    (
        "wasi:clocks/monotonic-clock",
        "subscribe-duration",
        typed!(|c, nanos: u64| c.subscribe_duration(nanos).map(Rep)),
    ),
    (
        "wasi:clocks/wall-clock",
        "now",
        typed!(|c| Ok(Datetime(c.wall_now()))),
    ),
    (
        "wasi:clocks/wall-clock",
        "resolution",
        typed!(|c| Ok(Datetime(c.wall_resolution()))),
    ),
];

const RANDOM: Handlers = &[
    (
        "wasi:random/random",
        "get-random-bytes",
        typed!(|c, len: u64| c.random_bytes(len)),
    ),
    (
        "wasi:random/random",
        "get-random-u64",
        typed!(|c| c.random_u64()),
    ),
    (
        "wasi:random/insecure",
        "get-insecure-random-bytes",
        typed!(|c, len: u64| c.insecure_random_bytes(len)),
    ),
    (
        "wasi:random/insecure",
        "get-insecure-random-u64",
        typed!(|c| c.insecure_random_u64()),
    ),
    (
        "wasi:random/insecure-seed",
        "insecure-seed",
        typed!(|c| Ok(c.insecure_seed())),
    ),
];
