//! `wasi:cli`: environment, exit, the standard streams and the terminal
//! interfaces, as methods of [`WasiCtx`].

use crate::io::{InputStream, OutputStream};
use crate::table::Entry;
use crate::WasiCtx;
use rivet::Trap;

/// Which standard output stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdStream {
    Stdout,
    Stderr,
}

impl WasiCtx {
    /// `environment.get-environment`.
    pub fn environment(&self) -> Vec<(String, String)> {
        self.env.clone()
    }

    /// `environment.get-arguments`.
    pub fn arguments(&self) -> Vec<String> {
        self.args.clone()
    }

    /// `environment.initial-cwd`.
    pub fn initial_cwd(&self) -> Option<String> {
        self.cwd.clone()
    }

    /// `exit.exit` and `exit.exit-with-code`: records the status and returns
    /// the trap that unwinds the guest; [`crate::run`] turns it into the
    /// status.
    pub fn exit(&mut self, status: i32) -> Trap {
        self.exit = Some(status);
        Trap::host(format!("guest exited with status {status}"))
    }

    /// `stdin.get-stdin`: a new stream over the shared stdin.
    pub fn get_stdin(&mut self) -> Result<u32, Trap> {
        let stream = InputStream::Host(self.stdin.reader.clone());
        self.table.push(Entry::Input(stream), None)
    }

    /// `stdout.get-stdout` and `stderr.get-stderr`.
    pub fn get_std_stream(&mut self, which: StdStream) -> Result<u32, Trap> {
        let sink = match which {
            StdStream::Stdout => &self.stdout,
            StdStream::Stderr => &self.stderr,
        };
        let stream = OutputStream::Host(sink.writer.clone());
        self.table.push(Entry::Output(stream), None)
    }

    /// `terminal-stdin.get-terminal-stdin`: a terminal only when stdin is the
    /// host's own and that is a terminal.
    pub fn get_terminal_stdin(&mut self) -> Result<Option<u32>, Trap> {
        self.terminal(self.stdin.terminal)
    }

    /// `terminal-stdout.get-terminal-stdout` and `terminal-stderr.get-terminal-stderr`.
    pub fn get_terminal_output(&mut self, which: StdStream) -> Result<Option<u32>, Trap> {
        let terminal = match which {
            StdStream::Stdout => self.stdout.terminal,
            StdStream::Stderr => self.stderr.terminal,
        };
        self.terminal(terminal)
    }

    fn terminal(&mut self, is: bool) -> Result<Option<u32>, Trap> {
        if !is {
            return Ok(None);
        }
        self.table.push(Entry::Terminal, None).map(Some)
    }

    /// Drops any resource the guest holds (its destructor, whichever WASI
    /// resource type it is): a trap when it is a parent whose children live.
    pub fn drop_resource(&mut self, rep: u32) -> Result<(), Trap> {
        self.table.delete(rep).map(drop)
    }
}
