//! `wasi:io`: input and output streams, pollables and errors, as methods of
//! [`WasiCtx`] on resource reps.
//!
//! Every stream here is synchronous underneath (the host's stdio, an
//! in-memory pipe, a file): a non-blocking call does the work at once and a
//! stream's pollable is always ready. Clock pollables wait for their instant.

use crate::stdio::{lock, SharedReader, SharedWriter};
use crate::table::Entry;
use crate::{ErrorCode, WasiCtx};
use cap_std::fs::{File, FileExt};
use rivet::Trap;
use std::sync::Arc;

/// The most bytes one read returns, whatever length the guest asks for: a
/// huge length reads this much instead of reserving it.
const READ_CHUNK: u64 = 1 << 20;

/// What `check-write` permits: a write of more traps, as the WIT says.
pub(crate) const WRITE_PERMIT: u64 = 1 << 20;

/// The most a `blocking-write-and-flush` may write (its WIT contract).
const BLOCKING_WRITE_MAX: u64 = 4096;

/// Why a stream operation failed (`wasi:io/streams.stream-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// The last operation failed; the stream is closed from now on. The
    /// message becomes the `error` resource's debug string, and the code is
    /// what `filesystem-error-code` tells for it.
    Failed(String, Option<ErrorCode>),
    /// The stream is closed: no more bytes will come or be accepted.
    Closed,
}

impl StreamError {
    fn io(e: std::io::Error) -> Self {
        let code = ErrorCode::from_io(&e);
        StreamError::Failed(e.to_string(), Some(code))
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
    Closed,
}

/// What a pollable waits for.
pub(crate) enum Pollable {
    /// Readiness of a synchronous stream: always.
    Ready,
    /// The monotonic clock reaching this instant (nanoseconds).
    Until(u64),
}

impl InputStream {
    fn read(&mut self, len: u64) -> Result<Vec<u8>, StreamError> {
        let mut buf = vec![0; len.min(READ_CHUNK) as usize];
        let n = match self {
            InputStream::Closed => return Err(StreamError::Closed),
            InputStream::Host(r) => lock(r).read(&mut buf),
            InputStream::File { file, offset } => {
                let n = file.read_at(&mut buf, *offset);
                if let Ok(n) = n {
                    *offset += n as u64;
                }
                n
            }
        };
        match n {
            Ok(0) if len > 0 => {
                *self = InputStream::Closed;
                Err(StreamError::Closed)
            }
            Ok(n) => {
                buf.truncate(n);
                Ok(buf)
            }
            Err(e) => {
                *self = InputStream::Closed;
                Err(StreamError::io(e))
            }
        }
    }
}

impl OutputStream {
    fn write(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        let done = match self {
            OutputStream::Closed => return Err(StreamError::Closed),
            OutputStream::Host(w) => lock(w).write_all(bytes),
            OutputStream::File { file, offset } => write_file(file, offset, bytes),
        };
        done.map_err(|e| self.fail(e))
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        let done = match self {
            OutputStream::Closed => return Err(StreamError::Closed),
            OutputStream::Host(w) => lock(w).flush(),
            OutputStream::File { .. } => Ok(()),
        };
        done.map_err(|e| self.fail(e))
    }

    fn fail(&mut self, e: std::io::Error) -> StreamError {
        *self = OutputStream::Closed;
        StreamError::io(e)
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
    /// `input-stream.read`; also `blocking-read`, the streams being
    /// synchronous (see the module documentation).
    pub fn read(&mut self, stream: u32, len: u64) -> StreamResult<Vec<u8>> {
        Ok(self.table.input(stream)?.read(len))
    }

    /// `input-stream.skip` and `blocking-skip`: reads and discards.
    pub fn skip(&mut self, stream: u32, len: u64) -> StreamResult<u64> {
        Ok(self.read(stream, len)?.map(|b| b.len() as u64))
    }

    /// `output-stream.check-write`.
    pub fn check_write(&mut self, stream: u32) -> StreamResult<u64> {
        Ok(match self.table.output(stream)? {
            OutputStream::Closed => Err(StreamError::Closed),
            _ => Ok(WRITE_PERMIT),
        })
    }

    /// `output-stream.write`: a trap past the permit of `check-write`.
    pub fn write(&mut self, stream: u32, bytes: &[u8]) -> StreamResult<()> {
        permit(bytes.len() as u64, WRITE_PERMIT, "write")?;
        Ok(self.table.output(stream)?.write(bytes))
    }

    /// `output-stream.blocking-write-and-flush`: at most 4096 bytes, else a trap.
    pub fn blocking_write_and_flush(&mut self, stream: u32, bytes: &[u8]) -> StreamResult<()> {
        permit(
            bytes.len() as u64,
            BLOCKING_WRITE_MAX,
            "blocking-write-and-flush",
        )?;
        let out = self.table.output(stream)?;
        Ok(out.write(bytes).and_then(|()| out.flush()))
    }

    /// `output-stream.flush` and `blocking-flush`.
    pub fn flush(&mut self, stream: u32) -> StreamResult<()> {
        Ok(self.table.output(stream)?.flush())
    }

    /// `output-stream.write-zeroes` (and, flushing, `blocking-write-zeroes-and-flush`).
    pub fn write_zeroes(&mut self, stream: u32, len: u64, flush: bool) -> StreamResult<()> {
        let name = "write-zeroes";
        permit(len, WRITE_PERMIT, name)?;
        let out = self.table.output(stream)?;
        let mut done = out.write(&vec![0; len as usize]);
        if flush {
            done = done.and_then(|()| out.flush());
        }
        Ok(done)
    }

    /// `output-stream.splice` and `blocking-splice`: reads up to `len` bytes
    /// from `src` and writes them; returns how many moved.
    pub fn splice(&mut self, dst: u32, src: u32, len: u64) -> StreamResult<u64> {
        self.table.output(dst)?;
        let bytes = match self.read(src, len.min(WRITE_PERMIT))? {
            Ok(b) => b,
            Err(e) => return Ok(Err(e)),
        };
        let moved = bytes.len() as u64;
        Ok(self.table.output(dst)?.write(&bytes).map(|()| moved))
    }

    /// `subscribe` of an input or output stream: a pollable that is a child
    /// of the stream, always ready.
    pub fn subscribe_stream(&mut self, stream: u32) -> Result<u32, Trap> {
        match self.table.get_mut(stream)? {
            Entry::Input(_) | Entry::Output(_) => {}
            _ => return Err(Trap::host(format!("handle {stream} is not a stream"))),
        }
        self.table
            .push(Entry::Pollable(Pollable::Ready), Some(stream))
    }

    /// `pollable.ready`.
    pub fn ready(&mut self, pollable: u32) -> Result<bool, Trap> {
        let now = self.monotonic.now();
        Ok(match self.table.pollable(pollable)? {
            Pollable::Ready => true,
            Pollable::Until(t) => now >= *t,
        })
    }

    /// `pollable.block`.
    pub fn block(&mut self, pollable: u32) -> Result<(), Trap> {
        self.poll(&[pollable]).map(drop)
    }

    /// `poll`: the indices of the ready pollables, waiting for the earliest
    /// deadline when none is. An empty list traps, as the WIT says.
    pub fn poll(&mut self, pollables: &[u32]) -> Result<Vec<u32>, Trap> {
        if pollables.is_empty() {
            return Err(Trap::host("poll: empty list of pollables"));
        }
        let mut earliest = u64::MAX;
        for &p in pollables {
            match self.table.pollable(p)? {
                Pollable::Ready => earliest = 0,
                Pollable::Until(t) => earliest = earliest.min(*t),
            }
        }
        self.monotonic.wait_until(earliest);
        let mut ready = Vec::new();
        for (i, &p) in pollables.iter().enumerate() {
            if self.ready(p)? {
                ready.push(i as u32);
            }
        }
        Ok(ready)
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
