//! Runs the cases Wasmtime 48 recorded for both plugins
//! (`guests/expected/{wasi,py}-plugin-*.txt`, format in
//! `guests/expected/README.md`) through the bindings: the same working
//! directory, setup, preopens and call, then the guest's stdout followed by
//! the result in WAVE (as `wasmtime run --invoke` prints it), its stderr and
//! the files left behind must equal the recording.

use rivet::{BoundsMode, Store};
use rivet_tests::recorded::{self, files_after, unquote, Case};
use rivet_wasi::{DirPerms, FilePerms, MemoryInputPipe, MemoryOutputPipe, WasiCtx};
use std::process::Command;
use wasi_plugin::{wave, Kind};

/// What a case asks of the plugin: its preopens (host path, guest path),
/// the plugin and the input of `handle`.
struct Call {
    dirs: Vec<(String, String)>,
    kind: Kind,
    input: String,
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

/// A fresh working directory prepared as the recording's was.
fn working_dir(case: &Case) -> tempfile::TempDir {
    let work = tempfile::tempdir().expect("a temporary directory");
    case.prepare(work.path()).unwrap_or_else(|e| panic!("{e}"));
    work
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
    let stdin = case.stdin_bytes().unwrap_or_else(|e| panic!("{e}"));
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
        files_after(work.path()).unwrap(),
        case.files_after,
        "{}: files",
        case.name
    );
}

/// Every recorded case of `plugin` (`wasi-plugin`, `py-plugin`).
fn cases(plugin: &str) -> Vec<Case> {
    recorded::cases(&format!("{plugin}-")).unwrap_or_else(|e| panic!("{e}"))
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
fn command_lines_and_wave_parse_strictly() {
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
