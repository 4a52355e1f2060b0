//! Runs the cases Wasmtime 48 recorded for both plugins
//! (`guests/expected/{wasi,py}-plugin-*.txt`, format in
//! `guests/expected/README.md`) through the bindings: the same working
//! directory, setup, preopens and call, then the guest's stdout followed by
//! the result in WAVE (as `wasmtime run --invoke` prints it), its stderr and
//! the files left behind must equal the recording.

use rivet::{BoundsMode, Store};
use rivet_wasi::{DirPerms, FilePerms, MemoryInputPipe, MemoryOutputPipe, WasiCtx};
use std::path::{Path, PathBuf};
use std::process::Command;
use wasi_plugin::{wave, Kind};

/// `guests/expected/`.
fn expected_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/expected")
}

/// One recorded run.
struct Case {
    name: String,
    /// The runner's command line, unquoted.
    command: Vec<String>,
    setup: Option<String>,
    stdin: Option<String>,
    status: i32,
    files_after: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// What a case asks of the plugin: its preopens (host path, guest path),
/// the plugin and the input of `handle`.
struct Call {
    dirs: Vec<(String, String)>,
    kind: Kind,
    input: String,
}

/// Parses a case file: header lines, then the two byte blocks.
fn parse_case(name: &str, bytes: &[u8]) -> Result<Case, String> {
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

/// Words of a command line quoted as bash's `printf %q` does with the
/// characters the cases use: backslash escapes, and `''` for an empty word.
fn unquote(line: &str) -> Result<Vec<String>, String> {
    let (mut words, mut word, mut chars) = (Vec::new(), None::<String>, line.chars());
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\\' => {
                let escaped = chars.next().ok_or("a command line ends in `\\`")?;
                word.get_or_insert_default().push(escaped);
            }
            '\'' if chars.next() == Some('\'') => {
                word.get_or_insert_default();
            }
            '\'' | '"' | '$' => return Err(format!("quoting not supported yet: `{line}`")),
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// The call a command line makes:
/// `wasmtime-run [--dir HOST::GUEST]... --invoke 'handle("…")' PLUGIN.wasm`.
fn parse_call(command: &[String]) -> Result<Call, String> {
    let mut words = command.iter().map(String::as_str);
    if words.next() != Some("wasmtime-run") {
        return Err("the command is not wasmtime-run".into());
    }
    let (mut dirs, mut invoke) = (Vec::new(), None);
    let component = loop {
        match words.next() {
            Some("--dir") => {
                let dir = words.next().ok_or("--dir without a directory")?;
                let (host, guest) = dir.split_once("::").ok_or(format!("--dir {dir}"))?;
                dirs.push((host.to_string(), guest.to_string()));
            }
            Some("--invoke") => invoke = words.next(),
            Some(word) => break word,
            None => return Err("no component on the command line".into()),
        }
    };
    if let Some(extra) = words.next() {
        return Err(format!("arguments after the component: `{extra}`"));
    }
    let kind = match component {
        "wasi-plugin.wasm" => Kind::Rust,
        "py-plugin.wasm" => Kind::Python,
        other => return Err(format!("unknown component {other}")),
    };
    let call = invoke.ok_or("no --invoke")?;
    let arg = (call
        .strip_prefix("handle(")
        .and_then(|c| c.strip_suffix(')')))
    .ok_or(format!("not a call of handle: `{call}`"))?;
    let input = wave_string(arg)?;
    Ok(Call { dirs, kind, input })
}

/// The string a WAVE string literal (`"…"`, with `\"`, `\\`, `\'`, `\n`,
/// `\t`, `\r` and `\u{X}` escapes) stands for.
fn wave_string(literal: &str) -> Result<String, String> {
    let inner = (literal.strip_prefix('"').and_then(|l| l.strip_suffix('"')))
        .ok_or(format!("not a WAVE string: {literal}"))?;
    let (mut out, mut chars) = (String::new(), inner.chars());
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some(c @ ('"' | '\\' | '\'')) => c,
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('u') => unicode_escape(&mut chars)?,
            other => return Err(format!("bad escape {other:?} in {literal}")),
        });
    }
    Ok(out)
}

/// The character of a `\u{X}` escape, after the `u`.
fn unicode_escape(chars: &mut std::str::Chars) -> Result<char, String> {
    let rest: String = chars.as_str().to_string();
    let hex = (rest.strip_prefix('{').and_then(|r| r.split_once('}')))
        .map(|(h, _)| h)
        .ok_or("bad \\u escape")?;
    let c = (u32::from_str_radix(hex, 16).ok().and_then(char::from_u32))
        .ok_or(format!("bad \\u{{{hex}}}"))?;
    chars.nth(hex.len() + 1);
    Ok(c)
}

/// The working directory of README.md: a file beside the preopen and an
/// empty `sandbox/`, then the case's setup.
fn working_dir(case: &Case) -> tempfile::TempDir {
    let work = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(work.path().join("outside"), "outside the sandbox\n").expect("outside written");
    std::fs::create_dir(work.path().join("sandbox")).expect("sandbox made");
    if let Some(setup) = &case.setup {
        let status = Command::new("sh")
            .args(["-c", setup])
            .current_dir(work.path())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "{}: setup `{setup}` failed",
            case.name
        );
    }
    work
}

/// What the case left in `work`, as `files after:` shows it: every path
/// sorted bytewise, directories with a `/`, files with their size.
fn files_after(work: &Path) -> String {
    let mut paths = Vec::new();
    let mut dirs = vec![work.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path.clone());
            }
            paths.push(path);
        }
    }
    let rel = |p: &PathBuf| p.strip_prefix(work).unwrap().to_string_lossy().into_owned();
    paths.sort_by_key(rel);
    let shown = paths.iter().map(|p| match p.is_dir() {
        true => format!("{}/", rel(p)),
        false => format!(
            "{} ({} bytes)",
            rel(p),
            p.metadata().expect("metadata").len()
        ),
    });
    shown.collect::<Vec<_>>().join(" ")
}

/// Runs one case through the bindings and compares it with the recording.
fn run_case(case: &Case) {
    let call = parse_call(&case.command).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    assert_eq!(
        case.status, 0,
        "{}: only returning calls are recorded",
        case.name
    );
    let work = working_dir(case);
    let (stdout, stderr) = (MemoryOutputPipe::new(), MemoryOutputPipe::new());
    let stdin = match &case.stdin {
        Some(file) => std::fs::read(expected_dir().join("inputs").join(file)).expect("stdin file"),
        None => Vec::new(),
    };
    let mut ctx = (WasiCtx::builder().stdin(MemoryInputPipe::new(stdin)))
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    for (host, guest) in &call.dirs {
        ctx = (ctx.preopened_dir(work.path().join(host), guest, DirPerms::ALL, FilePerms::ALL))
            .expect("the preopen opens");
    }
    let mut store = Store::new(BoundsMode::Guard);
    let plugin = (call.kind.instantiate(&mut store, ctx.build())).expect("instantiates");
    let result = plugin.handle(&mut store, &call.input);
    let result = result.unwrap_or_else(|trap| panic!("{}: the guest trapped: {trap}", case.name));
    let printed = [
        stdout.contents(),
        format!("{}\n", wave(&result)).into_bytes(),
    ]
    .concat();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_eq!(text(&printed), text(&case.stdout), "{}: stdout", case.name);
    assert_eq!(
        text(&stderr.contents()),
        text(&case.stderr),
        "{}: stderr",
        case.name
    );
    assert_eq!(
        files_after(work.path()),
        case.files_after,
        "{}: files",
        case.name
    );
}

/// Every recorded case of `plugin` (`wasi-plugin`, `py-plugin`).
fn cases(plugin: &str) -> Vec<Case> {
    let dir = expected_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut cases: Vec<Case> = (entries.map(|e| e.expect("an entry").path()))
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&format!("{plugin}-")) && name.ends_with(".txt")
        })
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).expect("the case reads");
            parse_case(&name, &bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect();
    assert!(
        !cases.is_empty(),
        "no {plugin}-*.txt cases in {}",
        dir.display()
    );
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

#[test]
fn the_rust_plugin_does_what_wasmtime_recorded() {
    cases("wasi-plugin").iter().for_each(run_case);
}

#[test]
fn the_python_plugin_does_what_wasmtime_recorded() {
    cases("py-plugin").iter().for_each(run_case);
}

#[test]
fn case_files_and_command_lines_parse_strictly() {
    let case = parse_case("x", b"command: a b\\ c ''\nsetup: none\nstdin: none\nstatus: 0\nfiles after: \nstdout 2 bytes:\nhi\nstderr 0 bytes:\n\n");
    let case = case.expect("a well-formed case");
    assert_eq!(case.command, ["a", "b c", ""]);
    assert_eq!((case.stdout, case.stderr), (b"hi".to_vec(), Vec::new()));
    let short = parse_case("x", b"status: 0\nstdout 5 bytes:\nhi\n");
    assert!(short.err().unwrap().contains("5 bytes"));
    let e = parse_call(&unquote("wasmtime-run --invoke handle\\(\\\"a\\\"\\) x.wasm").unwrap());
    assert!(e.err().unwrap().contains("unknown component x.wasm"));
    assert_eq!(wave_string(r#""a\"\u{e9}\n""#).unwrap(), "a\"é\n");
    assert_eq!(wave(&Err("a\"b\u{1}".into())), r#"err("a\"b\u{1}")"#);
}

/// The host binary prints each call's result and what the plugin left.
#[test]
fn the_host_prints_what_the_plugin_does() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = Command::new(env!("CARGO_BIN_EXE_wasi-plugin"))
        .arg("--dir")
        .arg(dir.path())
        .args(["first", "", "second"])
        .output()
        .expect("the example runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = format!(
        "host: giving the plugin {} as `.`\n\
         plugin: handling \"first\"\nhost: handle(\"first\") = ok(\"1 lines\")\n\
         plugin: handling \"\"\nhost: handle(\"\") = err(\"empty input\")\n\
         plugin: handling \"second\"\nhost: handle(\"second\") = ok(\"2 lines\")\n\
         host: the plugin left log.txt (13 bytes):\n  first\n  second\n",
        dir.path().display()
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}
