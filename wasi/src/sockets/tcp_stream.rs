//! The streams of a connected TCP socket: its `input-stream` and
//! `output-stream`, sharing the socket with the `tcp-socket` resource rather
//! than being its children, so the guest may drop the three in any order
//! (the connection closes when the last goes).

use crate::io::{StreamError, READ_CHUNK, WRITE_PERMIT};
use crate::poll::{wait_fd, Readiness};
use rustix::event::PollFlags;
use socket2::Socket;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The socket, shared by the `tcp-socket` and its streams, with the
/// directions `shutdown` closed.
pub(super) struct Conn {
    pub(super) socket: Socket,
    pub(super) read_shut: AtomicBool,
    pub(super) write_shut: AtomicBool,
}

impl Conn {
    pub(super) fn new(socket: Socket) -> Arc<Conn> {
        Arc::new(Conn {
            socket,
            read_shut: AtomicBool::new(false),
            write_shut: AtomicBool::new(false),
        })
    }
}

/// What a connected socket receives (an `input-stream`).
pub(crate) struct TcpReader(pub(super) Arc<Conn>);

impl TcpReader {
    /// At most `len` bytes: what has arrived (maybe nothing), or when
    /// `blocking` what arrives first. The end of the connection, or a
    /// `shutdown` of receiving, is `closed`.
    pub(crate) fn read(&self, len: u64, blocking: bool) -> Result<Vec<u8>, StreamError> {
        let mut buf = vec![0; len.min(READ_CHUNK) as usize];
        loop {
            if self.0.read_shut.load(Ordering::Relaxed) {
                return Err(StreamError::Closed);
            }
            match (&self.0.socket).read(&mut buf) {
                Ok(0) if len > 0 => return Err(StreamError::Closed),
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => {
                    return Err(StreamError::network(e))
                }
                Err(_) if !blocking || len == 0 => return Ok(Vec::new()),
                Err(_) => {
                    wait_fd(self.0.socket.as_fd(), PollFlags::IN).map_err(StreamError::network)?
                }
            }
        }
    }

    pub(crate) fn readiness(&self) -> Readiness<'_> {
        match self.0.read_shut.load(Ordering::Relaxed) {
            true => Readiness::Now,
            false => Readiness::Fd(self.0.socket.as_fd(), PollFlags::IN),
        }
    }
}

/// What a connected socket sends (an `output-stream`): bytes the socket
/// did not take yet wait in `queued`.
pub(crate) struct TcpWriter {
    pub(super) conn: Arc<Conn>,
    pub(super) queued: Vec<u8>,
}

impl TcpWriter {
    /// Nothing while bytes are still queued, else the stream's permit.
    pub(crate) fn check_write(&mut self) -> Result<u64, StreamError> {
        self.flush(false)?;
        Ok(if self.queued.is_empty() {
            WRITE_PERMIT
        } else {
            0
        })
    }

    /// Bytes written but not sent yet.
    pub(crate) fn queued(&self) -> u64 {
        self.queued.len() as u64
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        self.check_open()?;
        self.queued.extend_from_slice(bytes);
        self.flush(false)
    }

    /// Sends the queued bytes: what the socket takes now, or (`blocking`)
    /// all of them.
    pub(crate) fn flush(&mut self, blocking: bool) -> Result<(), StreamError> {
        self.check_open()?;
        while !self.queued.is_empty() {
            // MSG_NOSIGNAL: a closed connection is an error, not a SIGPIPE
            // that would end the host.
            match self
                .conn
                .socket
                .send_with_flags(&self.queued, libc::MSG_NOSIGNAL)
            {
                Ok(n) => drop(self.queued.drain(..n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => {
                    return Err(StreamError::network(e))
                }
                Err(_) if !blocking => return Ok(()),
                Err(_) => wait_fd(self.conn.socket.as_fd(), PollFlags::OUT)
                    .map_err(StreamError::network)?,
            }
        }
        Ok(())
    }

    /// `closed` once sending was shut down.
    fn check_open(&self) -> Result<(), StreamError> {
        match self.conn.write_shut.load(Ordering::Relaxed) {
            true => Err(StreamError::Closed),
            false => Ok(()),
        }
    }

    pub(crate) fn readiness(&self) -> Readiness<'_> {
        match self.queued.is_empty() || self.conn.write_shut.load(Ordering::Relaxed) {
            true => Readiness::Now,
            false => Readiness::Fd(self.conn.socket.as_fd(), PollFlags::OUT),
        }
    }
}
