//! What the guest's stdin, stdout and stderr are connected to: the host
//! process's own streams, in-memory pipes the host fills and reads, any
//! `Read`/`Write`, or nothing.

use std::io::{self, IsTerminal, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

/// A reader shared by every `input-stream` the guest gets for stdin.
pub(crate) type SharedReader = Arc<Mutex<Box<dyn Read + Send>>>;
/// A writer shared by every `output-stream` the guest gets for stdout or stderr.
pub(crate) type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// Locks a stdio stream; a guest call that panicked while holding it left
/// nothing half-done that matters for bytes, so a poisoned lock is used as is.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bytes the host gives the guest as its stdin: the guest reads them in order
/// and then sees the end of the stream.
#[derive(Clone, Debug, Default)]
pub struct MemoryInputPipe(Arc<Mutex<io::Cursor<Vec<u8>>>>);

impl MemoryInputPipe {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        MemoryInputPipe(Arc::new(Mutex::new(io::Cursor::new(bytes.into()))))
    }
}

impl Read for MemoryInputPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        lock(&self.0).read(buf)
    }
}

/// A buffer the guest writes its stdout or stderr into; the host keeps a clone
/// and reads [`MemoryOutputPipe::contents`] whenever it likes.
#[derive(Clone, Debug, Default)]
pub struct MemoryOutputPipe(Arc<Mutex<Vec<u8>>>);

impl MemoryOutputPipe {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        lock(&self.0).clone()
    }

    /// [`MemoryOutputPipe::contents`] as text (invalid UTF-8 replaced).
    pub fn contents_string(&self) -> String {
        String::from_utf8_lossy(&self.contents()).into_owned()
    }
}

impl Write for MemoryOutputPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where a guest's stdin comes from.
pub(crate) struct StdinSource {
    pub reader: SharedReader,
    /// Whether it is the host's own terminal (for `wasi:cli/terminal-stdin`).
    pub terminal: bool,
}

/// Where a guest's stdout or stderr goes.
pub(crate) struct StdoutSink {
    pub writer: SharedWriter,
    pub terminal: bool,
}

impl StdinSource {
    pub fn reader(r: impl Read + Send + 'static) -> Self {
        StdinSource {
            reader: Arc::new(Mutex::new(Box::new(r))),
            terminal: false,
        }
    }

    pub fn inherit() -> Self {
        StdinSource {
            terminal: io::stdin().is_terminal(),
            ..Self::reader(io::stdin())
        }
    }
}

impl StdoutSink {
    pub fn writer(w: impl Write + Send + 'static) -> Self {
        StdoutSink {
            writer: Arc::new(Mutex::new(Box::new(w))),
            terminal: false,
        }
    }

    /// The host's own stdout or stderr (`w`), a terminal or not.
    fn inherit(w: impl Write + IsTerminal + Send + 'static) -> Self {
        StdoutSink {
            terminal: w.is_terminal(),
            ..Self::writer(w)
        }
    }

    pub fn inherit_stdout() -> Self {
        Self::inherit(io::stdout())
    }

    pub fn inherit_stderr() -> Self {
        Self::inherit(io::stderr())
    }
}
