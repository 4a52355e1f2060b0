//! `wasi:io`: input and output streams and errors, as methods of
//! [`WasiCtx`] on resource reps (pollables: [`crate::poll`]).
//!
//! The host's stdio, in-memory pipes and files are synchronous underneath: a
//! non-blocking call does the work at once and their pollables are always
//! ready. A connected TCP socket's streams are non-blocking: a read takes
//! what has arrived, a write queues what the socket cannot take yet (and
//! `check-write` permits nothing until it has), and the blocking calls wait
//! on the socket.

use crate::poll::Readiness;
use crate::sockets::{TcpReader, TcpWriter};
use crate::stdio::{lock, SharedReader, SharedWriter};
use crate::table::Entry;
use crate::{ErrorCode, SocketError, WasiCtx};
use cap_std::fs::{File, FileExt};
use rivet::Trap;
use std::sync::Arc;

/// The most bytes one read returns, whatever length the guest asks for: a
/// huge length reads this much instead of reserving it.
pub(crate) const READ_CHUNK: u64 = 1 << 20;

/// What `check-write` permits: a write of more traps, as the WIT says.
pub(crate) const WRITE_PERMIT: u64 = 1 << 20;

/// The most a `blocking-write-and-flush` may write (its WIT contract).
const BLOCKING_WRITE_MAX: u64 = 4096;

/// Why a stream operation failed (`wasi:io/streams.stream-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// The last operation failed; the stream is closed from now on. The
    /// message becomes the `error` resource's debug string, and the code is
    /// what `filesystem-error-code` or `network-error-code` tells for it.
    Failed(String, FailureCode),
    /// The stream is closed: no more bytes will come or be accepted.
    Closed,
}

/// The error code behind a failed stream operation: a file stream's or a
/// socket stream's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCode {
    Filesystem(ErrorCode),
    Network(SocketError),
}

impl StreamError {
    fn io(e: std::io::Error) -> Self {
        let code = ErrorCode::from_io(&e);
        StreamError::Failed(e.to_string(), FailureCode::Filesystem(code))
    }

    /// A socket stream's failure.
    pub(crate) fn network(e: std::io::Error) -> Self {
        let code = SocketError::from_io(&e);
        StreamError::Failed(e.to_string(), FailureCode::Network(code))
    }
}

/// A stream result inside a call that can also trap.
pub type StreamResult<T> = Result<Result<T, StreamError>, Trap>;

pub(crate) enum InputStream {
    Host(SharedReader),
    File {
        file: Arc<File>,
        offset: u64,
    },
    /// What a connected TCP socket receives.
    Tcp(TcpReader),
    /// At its end, or failed before.
    Closed,
}

pub(crate) enum OutputStream {
    Host(SharedWriter),
    /// A file stream writing at `offset`, or appending when `None`.
    File {
        file: Arc<File>,
        offset: Option<u64>,
    },
    /// What a connected TCP socket sends.
    Tcp(TcpWriter),
    Closed,
}

impl InputStream {
    /// Reads at most `len` bytes; waits for some when `blocking` and the
    /// stream is a socket's (the others never make a reader wait).
    fn read(&mut self, len: u64, blocking: bool) -> Result<Vec<u8>, StreamError> {
        let read = match self {
            InputStream::Closed => return Err(StreamError::Closed),
            InputStream::Host(r) => read_with(len, |buf| lock(r).read(buf)),
            InputStream::File { file, offset } => read_with(len, |buf| {
                let n = file.read_at(buf, *offset)?;
                *offset += n as u64;
                Ok(n)
            }),
            InputStream::Tcp(t) => t.read(len, blocking),
        };
        if read.is_err() {
            *self = InputStream::Closed;
        }
        read
    }

    pub(crate) fn readiness(&self) -> Readiness<'_> {
        match self {
            InputStream::Tcp(t) => t.readiness(),
            _ => Readiness::Now,
        }
    }
}

/// Reads at most `len` bytes (and at most [`READ_CHUNK`]) with `read`: none
/// for a non-zero length is the end of the stream.
fn read_with(
    len: u64,
    read: impl FnOnce(&mut [u8]) -> std::io::Result<usize>,
) -> Result<Vec<u8>, StreamError> {
    let mut buf = vec![0; len.min(READ_CHUNK) as usize];
    match read(&mut buf) {
        Ok(0) if len > 0 => Err(StreamError::Closed),
        Ok(n) => {
            buf.truncate(n);
            Ok(buf)
        }
        Err(e) => Err(StreamError::io(e)),
    }
}

impl OutputStream {
    /// `check-write`: how many bytes the next write may give.
    fn check_write(&mut self) -> Result<u64, StreamError> {
        let permit = match self {
            OutputStream::Closed => return Err(StreamError::Closed),
            OutputStream::Tcp(t) => t.check_write(),
            _ => Ok(WRITE_PERMIT),
        };
        self.closed_on_failure(permit)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        let done = match self {
            OutputStream::Closed => return Err(StreamError::Closed),
            OutputStream::Host(w) => lock(w).write_all(bytes).map_err(StreamError::io),
            OutputStream::File { file, offset } => {
                write_file(file, offset, bytes).map_err(StreamError::io)
            }
            OutputStream::Tcp(t) => t.write(bytes),
        };
        self.closed_on_failure(done)
    }

    /// Flushes; a socket's stream sends what it queued, all of it when
    /// `blocking`, else what the socket takes now.
    fn flush(&mut self, blocking: bool) -> Result<(), StreamError> {
        let done = match self {
            OutputStream::Closed => return Err(StreamError::Closed),
            OutputStream::Host(w) => lock(w).flush().map_err(StreamError::io),
            OutputStream::File { .. } => Ok(()),
            OutputStream::Tcp(t) => t.flush(blocking),
        };
        self.closed_on_failure(done)
    }

    /// How many more bytes a write may give: what `check-write` permits,
    /// less what a socket's stream still queues (so a guest that writes
    /// without asking cannot grow the queue without bound).
    fn room(&self) -> u64 {
        match self {
            OutputStream::Tcp(t) => WRITE_PERMIT.saturating_sub(t.queued()),
            _ => WRITE_PERMIT,
        }
    }

    /// A failed operation closes the stream, as the WIT says.
    fn closed_on_failure<T>(&mut self, r: Result<T, StreamError>) -> Result<T, StreamError> {
        if r.is_err() {
            *self = OutputStream::Closed;
        }
        r
    }

    pub(crate) fn readiness(&self) -> Readiness<'_> {
        match self {
            OutputStream::Tcp(t) => t.readiness(),
            _ => Readiness::Now,
        }
    }
}

use std::io::{Read as _, Write as _};

/// Writes all of `bytes` to a file stream at its position (or its end).
fn write_file(file: &File, offset: &mut Option<u64>, bytes: &[u8]) -> std::io::Result<()> {
    match offset {
        Some(at) => {
            file.write_all_at(bytes, *at)?;
            *at += bytes.len() as u64;
            Ok(())
        }
        None => {
            let end = file.metadata()?.len();
            file.write_all_at(bytes, end)
        }
    }
}

impl WasiCtx {
    /// `input-stream.read`: what can be read now (nothing yet, from a
    /// socket, is an empty list).
    pub fn read(&mut self, stream: u32, len: u64) -> StreamResult<Vec<u8>> {
        Ok(self.table.input(stream)?.read(len, false))
    }

    /// `input-stream.blocking-read`: waits until some bytes or the end come.
    pub fn blocking_read(&mut self, stream: u32, len: u64) -> StreamResult<Vec<u8>> {
        Ok(self.table.input(stream)?.read(len, true))
    }

    /// `input-stream.skip`: reads and discards.
    pub fn skip(&mut self, stream: u32, len: u64) -> StreamResult<u64> {
        Ok(self.read(stream, len)?.map(|b| b.len() as u64))
    }

    /// `input-stream.blocking-skip`.
    pub fn blocking_skip(&mut self, stream: u32, len: u64) -> StreamResult<u64> {
        Ok(self.blocking_read(stream, len)?.map(|b| b.len() as u64))
    }

    /// `output-stream.check-write`.
    pub fn check_write(&mut self, stream: u32) -> StreamResult<u64> {
        Ok(self.table.output(stream)?.check_write())
    }

    /// `output-stream.write`: a trap past the permit of `check-write`.
    pub fn write(&mut self, stream: u32, bytes: &[u8]) -> StreamResult<()> {
        let out = self.table.output(stream)?;
        permit(bytes.len() as u64, out.room(), "write")?;
        Ok(out.write(bytes))
    }

    /// `output-stream.blocking-write-and-flush`: at most 4096 bytes, else a trap.
    pub fn blocking_write_and_flush(&mut self, stream: u32, bytes: &[u8]) -> StreamResult<()> {
        permit(
            bytes.len() as u64,
            BLOCKING_WRITE_MAX,
            "blocking-write-and-flush",
        )?;
        let out = self.table.output(stream)?;
        Ok(out.write(bytes).and_then(|()| out.flush(true)))
    }

    /// `output-stream.flush`: starts sending what a socket's stream queued.
    pub fn flush(&mut self, stream: u32) -> StreamResult<()> {
        Ok(self.table.output(stream)?.flush(false))
    }

    /// `output-stream.blocking-flush`: waits until all is sent.
    pub fn blocking_flush(&mut self, stream: u32) -> StreamResult<()> {
        Ok(self.table.output(stream)?.flush(true))
    }

    /// `output-stream.write-zeroes` (and, flushing, `blocking-write-zeroes-and-flush`).
    pub fn write_zeroes(&mut self, stream: u32, len: u64, flush: bool) -> StreamResult<()> {
        let out = self.table.output(stream)?;
        permit(len, out.room(), "write-zeroes")?;
        let mut done = out.write(&vec![0; len as usize]);
        if flush {
            done = done.and_then(|()| out.flush(true));
        }
        Ok(done)
    }

    /// `output-stream.splice`: reads up to `len` bytes from `src` and writes
    /// them; returns how many moved.
    pub fn splice(&mut self, dst: u32, src: u32, len: u64) -> StreamResult<u64> {
        self.splice_with(dst, src, len, false)
    }

    /// `output-stream.blocking-splice`: waits for bytes to read.
    pub fn blocking_splice(&mut self, dst: u32, src: u32, len: u64) -> StreamResult<u64> {
        self.splice_with(dst, src, len, true)
    }

    fn splice_with(&mut self, dst: u32, src: u32, len: u64, blocking: bool) -> StreamResult<u64> {
        let room = self.table.output(dst)?.room();
        let read = self.table.input(src)?.read(len.min(room), blocking);
        let bytes = match read {
            Ok(b) => b,
            Err(e) => return Ok(Err(e)),
        };
        let moved = bytes.len() as u64;
        Ok(self.table.output(dst)?.write(&bytes).map(|()| moved))
    }

    /// `error.to-debug-string`.
    pub fn error_debug_string(&mut self, error: u32) -> Result<String, Trap> {
        Ok(self.table.error(error)?.0.to_string())
    }

    /// Makes `e` an `error` resource when it carries one: the rep for
    /// `stream-error::last-operation-failed`, `None` for `closed`.
    pub(crate) fn stream_error_rep(&mut self, e: StreamError) -> Result<Option<u32>, Trap> {
        match e {
            StreamError::Closed => Ok(None),
            StreamError::Failed(m, code) => self.table.push(Entry::Error(m, code), None).map(Some),
        }
    }
}

/// Traps when a write of `len` bytes exceeds `max`.
fn permit(len: u64, max: u64, what: &str) -> Result<(), Trap> {
    if len > max {
        return Err(Trap::host(format!(
            "{what} of {len} bytes exceeds the permitted {max}"
        )));
    }
    Ok(())
}
