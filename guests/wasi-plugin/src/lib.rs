//! A plugin component in the common shape: it exports one interface
//! (`rivet:plugin/handler`, wit/plugin.wit) and uses WASI through std alone, as
//! most Rust plugins do. Each `handle` call prints a line on stdout and appends
//! the input to `log.txt` in the preopened directory `.`, then answers with the
//! number of lines the log holds, so repeated calls show that the file persists.

wit_bindgen::generate!({
    world: "plugin",
    path: "wit",
});

use std::fs::{self, OpenOptions};
use std::io::Write;

use exports::rivet::plugin::handler::Guest;

/// The log, relative to the preopen the host maps as `.`.
const LOG: &str = "log.txt";

struct Plugin;

impl Guest for Plugin {
    fn handle(input: String) -> Result<String, String> {
        println!("plugin: handling {input:?}");
        if input.is_empty() {
            return Err("empty input".to_string());
        }
        let lines = append_line(&input).map_err(|e| format!("{LOG}: {e}"))?;
        Ok(format!("{lines} lines"))
    }
}

/// Appends `line` to the log and counts the log's lines.
fn append_line(line: &str) -> std::io::Result<usize> {
    let mut log = OpenOptions::new().create(true).append(true).open(LOG)?;
    writeln!(log, "{line}")?;
    Ok(fs::read_to_string(LOG)?.lines().count())
}

export!(Plugin);
