//! The host function of every WASI 0.2 function: each lifts its arguments,
//! calls one [`WasiCtx`] method and lowers the result.

use super::convert::*;
use super::Handler;
use crate::cli::StdStream;
use crate::io::StreamResult;
use crate::WasiCtx;
use rivet::{Trap, Value};
use std::time::Duration;

type Out = Result<Option<Value>, Trap>;

/// The handler of function `func` of interface `iface` (unversioned).
pub(super) fn find(iface: &str, func: &str) -> Option<Handler> {
    let tables = [
        CLI,
        IO,
        CLOCKS,
        RANDOM,
        crate::link::fs::FILESYSTEM,
        crate::link::sockets::SOCKETS,
    ];
    tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|(i, f, _)| *i == iface && *f == func)
        .map(|(_, _, h)| *h)
}

/// A table of handlers: (interface, function, handler).
pub(super) type Handlers = &'static [(&'static str, &'static str, Handler)];

const INPUT: &str = "wasi:io/streams#input-stream";
const OUTPUT: &str = "wasi:io/streams#output-stream";
const POLLABLE: &str = "wasi:io/poll#pollable";

const CLI: Handlers = &[
    ("wasi:cli/environment", "get-environment", |c, _, _| {
        let pairs = c.environment().into_iter();
        let tuples = pairs.map(|(k, v)| Value::Tuple(vec![Value::String(k), Value::String(v)]));
        Ok(Some(Value::List(tuples.collect())))
    }),
    ("wasi:cli/environment", "get-arguments", |c, _, _| {
        Ok(Some(strings(c.arguments())))
    }),
    ("wasi:cli/environment", "initial-cwd", |c, _, _| {
        Ok(Some(option(c.initial_cwd().map(Value::String))))
    }),
    ("wasi:cli/exit", "exit", |c, _, a| {
        let ok = matches!(arg(a, 0)?, Value::Result(Ok(_)));
        Err(c.exit(if ok { 0 } else { 1 }))
    }),
    ("wasi:cli/exit", "exit-with-code", |c, _, a| {
        Err(c.exit(u8_arg(a, 0)?.into()))
    }),
    ("wasi:cli/stdin", "get-stdin", |c, t, _| {
        Ok(Some(t.own(INPUT, c.get_stdin()?)?))
    }),
    ("wasi:cli/stdout", "get-stdout", |c, t, _| {
        std_stream(c, t, StdStream::Stdout)
    }),
    ("wasi:cli/stderr", "get-stderr", |c, t, _| {
        std_stream(c, t, StdStream::Stderr)
    }),
    (
        "wasi:cli/terminal-stdin",
        "get-terminal-stdin",
        |c, t, _| {
            let rep = c.get_terminal_stdin()?;
            terminal(t, "wasi:cli/terminal-input#terminal-input", rep)
        },
    ),
    (
        "wasi:cli/terminal-stdout",
        "get-terminal-stdout",
        |c, t, _| {
            terminal(
                t,
                TERMINAL_OUTPUT,
                c.get_terminal_output(StdStream::Stdout)?,
            )
        },
    ),
    (
        "wasi:cli/terminal-stderr",
        "get-terminal-stderr",
        |c, t, _| {
            terminal(
                t,
                TERMINAL_OUTPUT,
                c.get_terminal_output(StdStream::Stderr)?,
            )
        },
    ),
];

const TERMINAL_OUTPUT: &str = "wasi:cli/terminal-output#terminal-output";

fn std_stream(c: &mut WasiCtx, t: &super::Types, which: StdStream) -> Out {
    Ok(Some(t.own(OUTPUT, c.get_std_stream(which)?)?))
}

fn terminal(t: &super::Types, name: &str, rep: Option<u32>) -> Out {
    Ok(Some(option(rep.map(|r| t.own(name, r)).transpose()?)))
}

/// Lowers a stream result: `ok` through `f`, or a `stream-error`.
pub(super) fn stream<T>(
    c: &mut WasiCtx,
    t: &super::Types,
    r: StreamResult<T>,
    f: impl FnOnce(T) -> Option<Value>,
) -> Out {
    let e = match r? {
        Ok(v) => return Ok(ok(f(v))),
        Err(e) => e,
    };
    let v = match c.stream_error_rep(e)? {
        None => Value::Variant("closed".into(), None),
        Some(rep) => {
            let error = t.own("wasi:io/error#error", rep)?;
            Value::Variant("last-operation-failed".into(), Some(Box::new(error)))
        }
    };
    Ok(err(v))
}

fn read(c: &mut WasiCtx, t: &super::Types, a: &[Value]) -> Out {
    let r = c.read(rep(a, 0)?, u64_arg(a, 1)?);
    stream(c, t, r, |b| Some(bytes(b)))
}

fn skip(c: &mut WasiCtx, t: &super::Types, a: &[Value]) -> Out {
    let r = c.skip(rep(a, 0)?, u64_arg(a, 1)?);
    stream(c, t, r, |n| Some(Value::U64(n)))
}

fn flush(c: &mut WasiCtx, t: &super::Types, a: &[Value]) -> Out {
    let r = c.flush(rep(a, 0)?);
    stream(c, t, r, |()| None)
}

fn splice(c: &mut WasiCtx, t: &super::Types, a: &[Value]) -> Out {
    let r = c.splice(rep(a, 0)?, rep(a, 1)?, u64_arg(a, 2)?);
    stream(c, t, r, |n| Some(Value::U64(n)))
}

fn subscribe(c: &mut WasiCtx, t: &super::Types, a: &[Value]) -> Out {
    Ok(Some(t.own(POLLABLE, c.subscribe_stream(rep(a, 0)?)?)?))
}

const IO: Handlers = &[
    (
        "wasi:io/error",
        "[method]error.to-debug-string",
        |c, _, a| Ok(Some(Value::String(c.error_debug_string(rep(a, 0)?)?))),
    ),
    ("wasi:io/poll", "[method]pollable.ready", |c, _, a| {
        Ok(Some(Value::Bool(c.ready(rep(a, 0)?)?)))
    }),
    ("wasi:io/poll", "[method]pollable.block", |c, _, a| {
        c.block(rep(a, 0)?).map(|()| None)
    }),
    ("wasi:io/poll", "poll", |c, _, a| {
        let ready = c.poll(&reps_arg(a, 0)?)?;
        Ok(Some(Value::List(
            ready.into_iter().map(Value::U32).collect(),
        )))
    }),
    ("wasi:io/streams", "[method]input-stream.read", read),
    (
        "wasi:io/streams",
        "[method]input-stream.blocking-read",
        read,
    ),
    ("wasi:io/streams", "[method]input-stream.skip", skip),
    (
        "wasi:io/streams",
        "[method]input-stream.blocking-skip",
        skip,
    ),
    (
        "wasi:io/streams",
        "[method]input-stream.subscribe",
        subscribe,
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.check-write",
        |c, t, a| {
            let r = c.check_write(rep(a, 0)?);
            stream(c, t, r, |n| Some(Value::U64(n)))
        },
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.write",
        |c, t, a| {
            let r = c.write(rep(a, 0)?, &bytes_arg(a, 1)?);
            stream(c, t, r, |()| None)
        },
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.blocking-write-and-flush",
        |c, t, a| {
            let r = c.blocking_write_and_flush(rep(a, 0)?, &bytes_arg(a, 1)?);
            stream(c, t, r, |()| None)
        },
    ),
    ("wasi:io/streams", "[method]output-stream.flush", flush),
    (
        "wasi:io/streams",
        "[method]output-stream.blocking-flush",
        flush,
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.subscribe",
        subscribe,
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.write-zeroes",
        |c, t, a| {
            let r = c.write_zeroes(rep(a, 0)?, u64_arg(a, 1)?, false);
            stream(c, t, r, |()| None)
        },
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.blocking-write-zeroes-and-flush",
        |c, t, a| {
            let r = c.write_zeroes(rep(a, 0)?, u64_arg(a, 1)?, true);
            stream(c, t, r, |()| None)
        },
    ),
    ("wasi:io/streams", "[method]output-stream.splice", splice),
    (
        "wasi:io/streams",
        "[method]output-stream.blocking-splice",
        splice,
    ),
];

/// A `wasi:clocks/wall-clock.datetime` record.
pub(super) fn datetime(d: Duration) -> Value {
    record(vec![
        ("seconds", Value::U64(d.as_secs())),
        ("nanoseconds", Value::U32(d.subsec_nanos())),
    ])
}

const CLOCKS: Handlers = &[
    ("wasi:clocks/monotonic-clock", "now", |c, _, _| {
        Ok(Some(Value::U64(c.monotonic_now())))
    }),
    ("wasi:clocks/monotonic-clock", "resolution", |c, _, _| {
        Ok(Some(Value::U64(c.monotonic_resolution())))
    }),
    (
        "wasi:clocks/monotonic-clock",
        "subscribe-instant",
        |c, t, a| Ok(Some(t.own(POLLABLE, c.subscribe_instant(u64_arg(a, 0)?)?)?)),
    ),
    (
        "wasi:clocks/monotonic-clock",
        "subscribe-duration",
        |c, t, a| {
            Ok(Some(
                t.own(POLLABLE, c.subscribe_duration(u64_arg(a, 0)?)?)?,
            ))
        },
    ),
    ("wasi:clocks/wall-clock", "now", |c, _, _| {
        Ok(Some(datetime(c.wall_now())))
    }),
    ("wasi:clocks/wall-clock", "resolution", |c, _, _| {
        Ok(Some(datetime(c.wall_resolution())))
    }),
];

const RANDOM: Handlers = &[
    ("wasi:random/random", "get-random-bytes", |c, _, a| {
        Ok(Some(bytes(c.random_bytes(u64_arg(a, 0)?)?)))
    }),
    ("wasi:random/random", "get-random-u64", |c, _, _| {
        Ok(Some(Value::U64(c.random_u64()?)))
    }),
    (
        "wasi:random/insecure",
        "get-insecure-random-bytes",
        |c, _, a| Ok(Some(bytes(c.insecure_random_bytes(u64_arg(a, 0)?)?))),
    ),
    (
        "wasi:random/insecure",
        "get-insecure-random-u64",
        |c, _, _| Ok(Some(Value::U64(c.insecure_random_u64()?))),
    ),
    ("wasi:random/insecure-seed", "insecure-seed", |c, _, _| {
        let (a, b) = c.insecure_seed();
        Ok(Some(Value::Tuple(vec![Value::U64(a), Value::U64(b)])))
    }),
];
