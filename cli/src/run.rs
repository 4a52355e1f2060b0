//! `rivet run`: `rivet exe` into a cache, then the executable in place of
//! this process. The cache is keyed by the component's bytes, the grants,
//! this rivet's version and its launcher, so a second run of the same
//! command starts at once.

use crate::compile::usage;
use crate::exe::{self, io_error, parse_grant, Spec};
use rivet_build::{Error, ErrorKind};
use rivet_launcher::Grants;
use sha2::{Digest, Sha256};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `rivet run` on its arguments; returns only if the command could not
/// be built or started (otherwise this process becomes the command).
pub fn run(args: &[String]) -> Error {
    match prepare(args) {
        Ok((path, argv0, guest_args)) => {
            let e = Command::new(&path).arg0(argv0).args(guest_args).exec();
            Error::new(ErrorKind::Io, format!("running {}: {e}", path.display()))
        }
        Err(e) => e,
    }
}

/// Parses the arguments and builds the executable if the cache does not
/// hold it: its path, the guest's `argv[0]` (the file's name without its
/// directories, as `wasmtime run` passes it) and the other arguments.
fn prepare(args: &[String]) -> Result<(PathBuf, String, Vec<String>), Error> {
    let (input, grants, guest_args) = parse(args)?;
    let wasm = std::fs::read(&input).map_err(|e| io_error(Path::new(&input), e))?;
    let dir = cache_dir()?.join("run");
    let path = dir.join(cache_key(&wasm, &grants));
    if !path.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        let spec = Spec {
            input: PathBuf::from(&input),
            grants,
            target: None,
        };
        // Built beside its place and renamed into it: a run never sees a
        // partly written executable, and two runs may build at once.
        let partial = path.with_extension(format!("partial-{}", std::process::id()));
        exe::build(&spec, &partial)?;
        std::fs::rename(&partial, &path).map_err(|e| io_error(&path, e))?;
    }
    let argv0 = Path::new(&input)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    Ok((path, argv0.unwrap_or(input), guest_args))
}

/// The input file, the grants and the guest's arguments. Options go before
/// the file, as with `wasmtime run`, and everything after it is the
/// guest's; or options follow the file when a `--` sets off the guest's
/// arguments (`rivet run app.wasm --dir . -- a b`).
fn parse(args: &[String]) -> Result<(String, Grants, Vec<String>), Error> {
    let mut grants = Grants::default();
    let mut it = args.iter();
    let input = loop {
        let arg = it
            .next()
            .ok_or_else(|| usage("run: missing the input file".into()))?;
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| usage(format!("{arg} needs a value")))
        };
        if !parse_grant(arg, &mut value, &mut grants)? {
            if arg.starts_with('-') {
                return Err(usage(format!("run: unknown option {arg}")));
            }
            break arg.clone();
        }
    };
    let rest: Vec<String> = it.cloned().collect();
    let trailing = rest.iter().position(|a| a == "--").and_then(|end| {
        let mut with_options = grants.clone();
        parse_all(&rest[..end], &mut with_options).then_some((with_options, end + 1))
    });
    Ok(match trailing {
        Some((grants, start)) => (input, grants, rest[start..].to_vec()),
        None => (input, grants, rest),
    })
}

/// Whether every one of `args` is a grant option (read into `grants`).
fn parse_all(args: &[String], grants: &mut Grants) -> bool {
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| usage(String::new()));
        if !matches!(parse_grant(arg, &mut value, grants), Ok(true)) {
            return false;
        }
    }
    true
}

/// `$RIVET_CACHE_DIR`, else `$XDG_CACHE_HOME/rivet`, else `~/.cache/rivet`.
fn cache_dir() -> Result<PathBuf, Error> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    var("RIVET_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| var("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("rivet")))
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache/rivet")))
        .ok_or_else(|| {
            let e = "run: no cache directory: set RIVET_CACHE_DIR (or XDG_CACHE_HOME or HOME)";
            Error::new(ErrorKind::Config, e)
        })
}

/// The cache's name for the executable of `wasm` with `grants`, built by
/// this rivet (its version, launcher and target).
fn cache_key(wasm: &[u8], grants: &Grants) -> String {
    let mut hash = Sha256::new();
    for part in [
        env!("CARGO_PKG_VERSION").as_bytes(),
        env!("RIVET_LAUNCHER_ID").as_bytes(),
        exe::HOST.as_bytes(),
        &grants.encode(),
        wasm,
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn options_go_before_the_file_or_before_a_double_dash_after_it() {
        let (input, grants, rest) =
            parse(&args("--dir a::/b --env K=V app.wasm x --env y")).unwrap();
        assert_eq!(input, "app.wasm");
        assert_eq!(grants.dirs, [("a".into(), "/b".into())]);
        assert_eq!(grants.env, [("K".into(), Some("V".into()))]);
        assert_eq!(rest, args("x --env y"), "after the file, the guest's");
        let (_, grants, rest) =
            parse(&args("app.wasm --dir d --env K -S inherit-env -- -- z")).unwrap();
        assert_eq!(grants.dirs, [("d".into(), "d".into())]);
        assert_eq!(grants.env, [("K".into(), None)]);
        assert!(grants.inherit_env);
        assert_eq!(rest, args("-- z"), "after the first `--`");
        let (_, grants, rest) = parse(&args("app.wasm grep -- -x")).unwrap();
        assert_eq!((grants, rest), (Grants::default(), args("grep -- -x")));
    }

    #[test]
    fn bad_options_are_errors() {
        let e = parse(&args("--bogus app.wasm")).unwrap_err();
        assert!(e.message().contains("unknown option --bogus"), "{e}");
        let e = parse(&args("--dir")).unwrap_err();
        assert!(e.message().contains("--dir needs a value"), "{e}");
        let e = parse(&args("-S tcp app.wasm")).unwrap_err();
        assert!(e.message().contains("not supported: -S tcp"), "{e}");
        assert!(parse(&[]).is_err());
    }
}
