//! The runs of the WASI guests that Wasmtime 48 recorded in `guests/expected/`
//! (format in `guests/expected/README.md`): one reader for every test that
//! replays them (`rivet run` and `rivet exe` in the command line's tests, the
//! bindings in `examples/wasi-plugin`), so they all read a case file, quote a
//! command line and list a working directory the same way.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One recorded run.
#[derive(Debug)]
pub struct Case {
    /// The file name without `.txt`.
    pub name: String,
    /// The runner's command line, unquoted, `wasmtime-run` first.
    pub command: Vec<String>,
    /// A shell command run in the working directory before the guest.
    pub setup: Option<String>,
    /// A file of `guests/expected/inputs/` given as stdin (else empty stdin).
    pub stdin: Option<String>,
    pub status: i32,
    /// The working directory afterwards, as [`files_after`] shows it.
    pub files_after: String,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Case {
    /// The recorded stdin's bytes (empty without one).
    pub fn stdin_bytes(&self) -> Result<Vec<u8>, String> {
        match &self.stdin {
            Some(file) => {
                let path = expected_dir().join("inputs").join(file);
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
            }
            None => Ok(Vec::new()),
        }
    }

    /// Makes `dir` what the recording started from: a file `outside`, an
    /// empty `sandbox/`, then the case's setup run there.
    pub fn prepare(&self, dir: &Path) -> Result<(), String> {
        let io = |e: std::io::Error| format!("{}: {e}", dir.display());
        std::fs::write(dir.join("outside"), "outside the sandbox\n").map_err(io)?;
        std::fs::create_dir_all(dir.join("sandbox")).map_err(io)?;
        let Some(setup) = &self.setup else {
            return Ok(());
        };
        let status = Command::new("sh")
            .args(["-c", setup])
            .current_dir(dir)
            .status();
        match status {
            Ok(s) if s.success() => Ok(()),
            _ => Err(format!("{}: setup `{setup}` failed", self.name)),
        }
    }
}

/// `guests/expected/`.
pub fn expected_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../guests/expected")
}

/// Every case whose name starts with `prefix` (`command-`, `wasi-plugin-`,
/// …), in name order; an error when there is none.
pub fn cases(prefix: &str) -> Result<Vec<Case>, String> {
    let dir = expected_dir();
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".txt") {
            names.extend(stem.starts_with(prefix).then(|| stem.to_string()));
        }
    }
    if names.is_empty() {
        return Err(format!("no {prefix}*.txt cases in {}", dir.display()));
    }
    names.sort();
    names.iter().map(|n| case(n)).collect()
}

/// The case `name` (its file name without `.txt`).
pub fn case(name: &str) -> Result<Case, String> {
    let path = expected_dir().join(format!("{name}.txt"));
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(name, &bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses a case file: header lines, then the two byte blocks, then nothing.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Case, String> {
    let (mut header, mut rest) = (Vec::new(), bytes);
    let stdout = loop {
        let (line, after) = split_line(rest)?;
        rest = after;
        if let Some(n) = block_len(&line, "stdout") {
            let (block, after) = take_block(rest, n?)?;
            rest = after;
            break block;
        }
        header.push(line);
    };
    let (line, rest) = split_line(rest)?;
    let n = block_len(&line, "stderr").ok_or(format!("expected the stderr block, got `{line}`"))?;
    let (stderr, rest) = take_block(rest, n?)?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the stderr block", rest.len()));
    }
    let field = |key: &str| -> Result<String, String> {
        let prefix = format!("{key}: ");
        (header.iter().find_map(|l| l.strip_prefix(&prefix)))
            .map(str::to_string)
            .ok_or(format!("no `{key}:` line"))
    };
    let optional = |v: String| (v != "none").then_some(v);
    Ok(Case {
        name: name.to_string(),
        command: unquote(&field("command")?)?,
        setup: optional(field("setup")?),
        stdin: optional(field("stdin")?),
        status: (field("status")?.parse()).map_err(|e| format!("status: {e}"))?,
        files_after: field("files after")?,
        stdout,
        stderr,
    })
}

/// The first line of `bytes` (without its newline) and what follows it.
fn split_line(bytes: &[u8]) -> Result<(String, &[u8]), String> {
    let end = (bytes.iter().position(|&b| b == b'\n')).ok_or("a header line has no newline")?;
    let line = String::from_utf8(bytes[..end].to_vec()).map_err(|e| e.to_string())?;
    Ok((line, &bytes[end + 1..]))
}

/// N of a `WHAT N bytes:` line; `None` for another line.
fn block_len(line: &str, what: &str) -> Option<Result<usize, String>> {
    let n = line.strip_prefix(what)?.strip_suffix(" bytes:")?.trim();
    Some(n.parse().map_err(|e| format!("`{line}`: {e}")))
}

/// A block of `n` bytes and the newline after it.
fn take_block(bytes: &[u8], n: usize) -> Result<(Vec<u8>, &[u8]), String> {
    match (bytes.get(..n), bytes.get(n)) {
        (Some(block), Some(b'\n')) => Ok((block.to_vec(), &bytes[n + 1..])),
        _ => Err(format!("a block of {n} bytes is not followed by a newline")),
    }
}

/// Words of a command line quoted as bash's `printf %q` quotes them:
/// backslash escapes and single-quoted words (`''` is an empty word).
pub fn unquote(line: &str) -> Result<Vec<String>, String> {
    let (mut words, mut word, mut chars) = (Vec::new(), None::<String>, line.chars());
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\\' => {
                let escaped = chars.next().ok_or("a command line ends in `\\`")?;
                word.get_or_insert_default().push(escaped);
            }
            '\'' => {
                let quoted = word.get_or_insert_default();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '\'' {
                        closed = true;
                        break;
                    }
                    quoted.push(c);
                }
                if !closed {
                    return Err(format!("an unclosed quote: `{line}`"));
                }
            }
            '"' | '$' => return Err(format!("quoting not supported yet: `{line}`")),
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// What `files after:` lists for `dir`: every path under it but the
/// components (`.wasm`), sorted bytewise, directories with a `/`, files and
/// symbolic links (not followed) with their size.
pub fn files_after(dir: &Path) -> Result<String, String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let mut shown = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
            let path = entry.map_err(|e| io(&d, e))?.path();
            let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
            let rel = path.strip_prefix(dir).unwrap_or(&path);
            let rel = rel.to_string_lossy().into_owned();
            if meta.is_dir() {
                shown.push((rel.clone(), format!("{rel}/")));
                todo.push(path);
            } else if !rel.ends_with(".wasm") {
                shown.push((rel.clone(), format!("{rel} ({} bytes)", meta.len())));
            }
        }
    }
    shown.sort();
    let shown: Vec<String> = shown.into_iter().map(|(_, s)| s).collect();
    Ok(shown.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_files_and_command_lines_parse_strictly() {
        let text = b"# a comment\ncommand: a b\\ c '' 'd e'\nsetup: none\nstdin: none\n\
            status: 0\nfiles after: \nstdout 2 bytes:\nhi\nstderr 0 bytes:\n\n";
        let case = parse("x", text).expect("a well-formed case");
        assert_eq!(case.command, ["a", "b c", "", "d e"]);
        assert_eq!((case.stdout, case.stderr), (b"hi".to_vec(), Vec::new()));
        assert_eq!((case.setup, case.status), (None, 0));
        let short = parse("x", b"status: 0\nstdout 5 bytes:\nhi\n");
        assert!(short.unwrap_err().contains("5 bytes"));
        let trailing = [&text[..], b"x"].concat();
        assert!(parse("x", &trailing)
            .unwrap_err()
            .contains("after the stderr"));
        assert!(unquote("a 'b").unwrap_err().contains("unclosed"));
        assert!(unquote("a \"b\"")
            .unwrap_err()
            .contains("not supported yet"));
    }

    #[test]
    fn every_recorded_case_parses() {
        let all = cases("").expect("the recorded cases");
        assert!(all.iter().any(|c| c.name.starts_with("command-")));
        assert!(all.iter().all(|c| c.command[0] == "wasmtime-run"));
    }

    #[test]
    fn files_after_lists_sizes_and_leaves_components_out() {
        let dir = std::env::temp_dir().join(format!("rivet-recorded-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d/e")).unwrap();
        std::fs::write(dir.join("d/f.txt"), "abc").unwrap();
        std::fs::write(dir.join("app.wasm"), "x").unwrap();
        std::os::unix::fs::symlink("d", dir.join("link")).unwrap();
        let listed = files_after(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(listed.unwrap(), "d/ d/e/ d/f.txt (3 bytes) link (1 bytes)");
    }
}
