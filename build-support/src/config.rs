//! The `build.rs` entry point: compile components for cargo's target, archive
//! them, tell cargo how to link them, and leave each plan in `OUT_DIR` for the
//! `rivet::component!` macro.
//!
//! The contract with the macro, for `Config::new().component("hello", path)`:
//! the object exports the descriptor `rivet_component_hello`, is archived as
//! `$OUT_DIR/librivet_component_hello.a`, and the plan is written postcard-encoded
//! to `$OUT_DIR/rivet/hello.plan`.
//!
//! With `.plug("hello", other)`, `hello` is first composed with its plugs
//! ([`crate::compose`]) and the composition is compiled under the same name.

use crate::component::compile::Compiled;
use crate::input::Input;
use crate::{package, rust_source, BoundsMode, Error, ErrorKind, Options};
use rivet_descriptor::component::Component as Plan;
use std::path::{Path, PathBuf};

/// Compiles the components a crate embeds, from its `build.rs`:
///
/// ```no_run
/// rivet_build::Config::new()
///     .component("hello", "guest/hello.wat")
///     .compile();
/// ```
///
/// # Threads
///
/// A component's functions are compiled in parallel, on as many threads as
/// cargo's `NUM_JOBS` (its `-j`, which defaults to the number of CPUs); the
/// environment variable `RAYON_NUM_THREADS`, when set, takes precedence, and
/// outside a build script (no `NUM_JOBS`) every core is used. Cargo's
/// jobserver is not consulted: other crates may build at the same time. The
/// object is the same byte for byte whatever the number of threads.
///
/// # Build time
///
/// Cargo compiles build dependencies without optimisation by default, and the
/// compiler then runs several times slower in `build.rs`. A crate embedding
/// large components builds faster with, in its `Cargo.toml`:
///
/// ```toml
/// [profile.dev.build-override]
/// opt-level = 3
/// [profile.release.build-override]
/// opt-level = 3
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    components: Vec<(String, PathBuf)>,
    /// Plugs by the name of the component (the socket) they are wired into, in order.
    plugs: Vec<(String, PathBuf)>,
    bounds: BoundsMode,
    /// Whether to use every CPU feature of the building machine (see
    /// [`Config::host_cpu`]).
    host_cpu: bool,
    /// Whether inlining is off (see [`Config::inlining`]).
    no_inlining: bool,
    c_backend: bool,
}

/// What cargo tells a build script about where and for what it builds.
#[derive(Debug, Clone)]
pub(crate) struct BuildEnv {
    /// Where the archives and plans go (`OUT_DIR`).
    pub out_dir: PathBuf,
    /// The triple to compile for (`TARGET`).
    pub target: String,
    /// The CPU features rustc enables for the crate's own code
    /// (`CARGO_CFG_TARGET_FEATURE`, rustc names): compiled wasm uses the same.
    pub target_features: Vec<String>,
    /// How many threads to compile on (`NUM_JOBS`, unless `RAYON_NUM_THREADS`
    /// is set); `None`: rayon's global pool.
    pub jobs: Option<usize>,
}

impl BuildEnv {
    /// Reads `OUT_DIR` and `TARGET`; outside a build script these are unset,
    /// which is an error saying so.
    pub(crate) fn from_env() -> Result<BuildEnv, Error> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| {
                Error::new(
                    ErrorKind::Config,
                    format!(
                        "environment variable {name} is not set: rivet_build::Config runs from a \
                     build script (build.rs), where cargo sets it"
                    ),
                )
            })
        };
        Ok(BuildEnv {
            out_dir: PathBuf::from(var("OUT_DIR")?),
            target: var("TARGET")?,
            target_features: std::env::var("CARGO_CFG_TARGET_FEATURE")
                .map(|list| list.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            jobs: build_jobs(
                std::env::var("NUM_JOBS").ok().as_deref(),
                std::env::var_os("RAYON_NUM_THREADS").is_some(),
            ),
        })
    }
}

/// The number of threads a build script compiles on: cargo's `NUM_JOBS`
/// (`num_jobs`), unless the user set `RAYON_NUM_THREADS` (`rayon_set`), which
/// rayon's global pool then follows. A value that is not a positive number is
/// ignored, as rayon ignores one in its own variable.
fn build_jobs(num_jobs: Option<&str>, rayon_set: bool) -> Option<usize> {
    if rayon_set {
        return None;
    }
    num_jobs?.parse().ok().filter(|&n| n > 0)
}

impl Config {
    /// A configuration with no components, guard-region bounds checks,
    /// inlining on and the C backend off.
    pub fn new() -> Config {
        Config::default()
    }

    /// Adds a component (`.wasm` binary or `.wat` text) compiled under `name`.
    /// The same file may be added under several names; each gets its own
    /// descriptor symbol, archive and plan.
    pub fn component(&mut self, name: &str, path: impl AsRef<Path>) -> &mut Config {
        self.components
            .push((name.to_string(), path.as_ref().to_path_buf()));
        self
    }

    /// Plugs the component at `path` into the component added as `name`: its
    /// exports satisfy the imports of the same name of that component and of
    /// the plugs added after it; the calls between them go through fused
    /// adapters. Imports no plug satisfies stay imports of the composition,
    /// which the host provides. A plug none of whose exports is used, or two
    /// plugs exporting the same name, are errors.
    pub fn plug(&mut self, name: &str, path: impl AsRef<Path>) -> &mut Config {
        self.plugs
            .push((name.to_string(), path.as_ref().to_path_buf()));
        self
    }

    /// How compiled code checks linear-memory accesses (default: guard regions).
    pub fn bounds(&mut self, bounds: BoundsMode) -> &mut Config {
        self.bounds = bounds;
        self
    }

    /// Compiles for the CPU of the machine running the build, with all its
    /// features (like rustc's `-C target-cpu=native`, or a JIT), when cargo's
    /// `TARGET` is that machine; a cross build keeps the target's features.
    /// Only for binaries that run where they are built: elsewhere the code may
    /// use instructions the CPU lacks.
    pub fn host_cpu(&mut self) -> &mut Config {
        self.host_cpu = true;
        self
    }

    /// Whether to inline small and shared wasm functions into their callers
    /// within each module (default: on). Off keeps every call, so that a
    /// profiler shows each wasm function on its own.
    pub fn inlining(&mut self, on: bool) -> &mut Config {
        self.no_inlining = !on;
        self
    }

    /// Compiles the functions the C backend handles (numeric code: see
    /// the `c_backend` module) with the system C compiler at `-O2` instead of
    /// Cranelift (default: off). Compute kernels run faster, the build takes
    /// several times longer, and the target must be x86-64 Linux with guard
    /// regions.
    pub fn c_backend(&mut self, on: bool) -> &mut Config {
        self.c_backend = on;
        self
    }

    /// [`Config::try_compile`], stopping the build on error as a build script
    /// should: the error's [`Error::report`] (component, file, nested
    /// definition, offset, reason, and what to do) on stderr, which cargo
    /// shows, and exit status 1, without a panic message or backtrace.
    pub fn compile(&self) {
        if let Err(e) = self.try_compile() {
            eprint!("{}", e.report());
            std::process::exit(1);
        }
    }

    /// Compiles every component for cargo's `TARGET` into `OUT_DIR` and prints the
    /// `cargo:` directives that link them and rebuild when their files change.
    pub fn try_compile(&self) -> Result<(), Error> {
        let env = BuildEnv::from_env()?;
        for line in self.compile_in(&env)? {
            println!("{line}");
        }
        Ok(())
    }

    /// Compiles every component into `env.out_dir` and returns the `cargo:`
    /// directives to print (separate from printing so tests can check them),
    /// on `env.jobs` threads.
    pub(crate) fn compile_in(&self, env: &BuildEnv) -> Result<Vec<String>, Error> {
        let Some(jobs) = env.jobs else {
            return self.compile_all(env);
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("starting {jobs} compile threads: {e}"),
                )
            })?;
        pool.install(|| self.compile_all(env))
    }

    /// [`Config::compile_in`] on the current thread pool.
    fn compile_all(&self, env: &BuildEnv) -> Result<Vec<String>, Error> {
        self.check_names()?;
        let mut lines = vec![format!(
            "cargo:rustc-link-search=native={}",
            env.out_dir.display()
        )];
        for (name, path) in &self.components {
            lines.push(format!("cargo:rerun-if-changed={}", path.display()));
            for plug in self.plugs_of(name) {
                lines.push(format!("cargo:rerun-if-changed={}", plug.display()));
            }
            let lib = self
                .compile_one(name, path, env)
                .map_err(|e| e.named(name))?;
            lines.push(format!("cargo:rustc-link-lib=static={lib}"));
        }
        if let Some(lib) = math_library(&env.target) {
            lines.push(format!("cargo:rustc-link-lib={lib}"));
        }
        Ok(lines)
    }

    /// Refuses an empty configuration and names that would collide once
    /// sanitised, so two components never overwrite each other's files.
    fn check_names(&self) -> Result<(), Error> {
        if self.components.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "no components to compile: add one with .component(\"name\", \"path.wasm\")",
            ));
        }
        let mut seen: Vec<(String, &str)> = Vec::new();
        for (name, _) in &self.components {
            let symbol = symbol_name(name)?;
            if let Some((_, other)) = seen.iter().find(|(s, _)| *s == symbol) {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "components `{other}` and `{name}` both map to the symbol `{symbol}`: \
                     give them distinct names"
                    ),
                ));
            }
            seen.push((symbol, name));
        }
        for (name, plug) in &self.plugs {
            if !self.components.iter().any(|(n, _)| n == name) {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "`{}` is plugged into `{name}`, which is not a component: add it first \
                     with .component(\"{name}\", \"path.wasm\")",
                        plug.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The plugs of component `name`, in the order they were added.
    fn plugs_of<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s PathBuf> + 's {
        self.plugs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, p)| p)
    }

    /// Compiles one component; returns the library name to link.
    fn compile_one(&self, name: &str, path: &Path, env: &BuildEnv) -> Result<String, Error> {
        let plugs: Vec<PathBuf> = self.plugs_of(name).cloned().collect();
        let input = Input::read(path, &plugs)?;
        let symbol = symbol_name(name)?;
        let native = self.host_cpu && env.target == target_lexicon::HOST.to_string();
        let options = Options {
            bounds: self.bounds,
            target: (!native).then(|| env.target.clone()),
            target_features: env.target_features.clone(),
            symbol: symbol.clone(),
            inline: !self.no_inlining,
            c_backend: self.c_backend,
            ..Options::default()
        };
        let compiled = compile(input.wasm(), &options).map_err(|e| input.locate(e))?;
        let object_path = env.out_dir.join(format!("{symbol}.o"));
        package::write_file(&object_path, &compiled.object)?;
        package::archive(&[object_path], &env.out_dir, &symbol)?;
        let plan_dir = env.out_dir.join("rivet");
        std::fs::create_dir_all(&plan_dir).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("creating {}: {e}", plan_dir.display()),
            )
        })?;
        let plan = encode_plan(&compiled.plan);
        package::write_file(&plan_dir.join(format!("{name}.plan")), &plan)?;
        let unit = rust_source::unit_static(&compiled.unit)?;
        package::write_file(&plan_dir.join(format!("{name}.rs")), unit.as_bytes())?;
        Ok(symbol)
    }
}

/// The C math library to link on `target`, where it is a library of its own:
/// compiled code calls it for the float operations the target's CPU features
/// cannot do inline (`nearbyintf`, `ceil`, … without SSE4.1). A host with
/// `std` links it anyway; a `no_std` host did not, and failed to link.
fn math_library(target: &str) -> Option<&'static str> {
    ["-linux-", "-freebsd", "-netbsd", "-openbsd"]
        .iter()
        .any(|os| target.contains(os))
        .then_some("m")
}

/// The descriptor symbol (and library name) of component `name`:
/// `rivet_component_` followed by the name with every character that cannot
/// appear in a C identifier replaced by `_`.
pub fn symbol_name(name: &str) -> Result<String, Error> {
    if name.is_empty() {
        return Err(Error::new(
            ErrorKind::Config,
            "a component name must not be empty",
        ));
    }
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
            "component name `{name}` would escape OUT_DIR/rivet: use letters, digits, `-` and `_`"
        ),
        ));
    }
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Ok(format!("rivet_component_{clean}"))
}

/// The plan file's bytes, as the macro decodes them.
fn encode_plan(plan: &Plan) -> Vec<u8> {
    postcard::to_allocvec(plan).expect("encoding a plan into memory cannot fail")
}

/// Compiles a component and also returns its plan, which the object's
/// descriptor carries too but which a build script needs separately.
pub fn compile_with_plan(wasm: &[u8], options: &Options) -> Result<(Vec<u8>, Plan), Error> {
    compile(wasm, options).map(|c| (c.object, c.plan))
}

/// Compiles a component for a build script: the object, the plan and the
/// metadata.
fn compile(wasm: &[u8], options: &Options) -> Result<Compiled, Error> {
    if !crate::is_component(wasm) {
        return Err(Error::new(
            ErrorKind::Invalid,
            "this is a core module, not a component: wrap it in a component \
             (e.g. `wasm-tools component new`) before embedding it",
        ));
    }
    crate::component::compile::compile(wasm, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component exporting `add(a: u32, b: u32) -> u32`.
    const ADD: &str = r#"
        (component
          (core module $m (func (export "add") (param i32 i32) (result i32)
            (i32.add (local.get 0) (local.get 1))))
          (core instance $i (instantiate $m))
          (func (export "add") (param "a" u32) (param "b" u32) (result u32)
            (canon lift (core func $i "add"))))"#;

    /// A fresh directory under the target's temp dir, named after the test.
    fn temp_dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rivet-config-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn env_in(dir: &Path) -> BuildEnv {
        let out_dir = dir.join("out");
        std::fs::create_dir_all(&out_dir).unwrap();
        BuildEnv {
            out_dir,
            target: target_lexicon::HOST.to_string(),
            target_features: Vec::new(),
            jobs: Some(2),
        }
    }

    #[test]
    fn writes_archive_plan_and_directives() {
        let dir = temp_dir("ok");
        let wat = dir.join("add.wat");
        std::fs::write(&wat, ADD).unwrap();
        let env = env_in(&dir);
        let lines = Config::new()
            .component("my-add", &wat)
            .component("again", &wat)
            .compile_in(&env)
            .unwrap();
        let out = env.out_dir.display();
        assert_eq!(
            lines,
            [
                format!("cargo:rustc-link-search=native={out}"),
                format!("cargo:rerun-if-changed={}", wat.display()),
                "cargo:rustc-link-lib=static=rivet_component_my_add".to_string(),
                format!("cargo:rerun-if-changed={}", wat.display()),
                "cargo:rustc-link-lib=static=rivet_component_again".to_string(),
                "cargo:rustc-link-lib=m".to_string(),
            ]
        );
        for lib in ["rivet_component_my_add", "rivet_component_again"] {
            let archive = std::fs::read(env.out_dir.join(format!("lib{lib}.a"))).unwrap();
            assert!(archive.starts_with(b"!<arch>\n"));
        }
        let plan = std::fs::read(env.out_dir.join("rivet/my-add.plan")).unwrap();
        let plan: Plan = postcard::from_bytes(&plan).unwrap();
        assert_eq!(plan.exports.len(), 1);
        assert_eq!(plan.exports[0].name, "add");
        assert!(env.out_dir.join("rivet/again.plan").exists());
    }

    #[test]
    fn errors_name_the_file_and_offset() {
        let dir = temp_dir("bad");
        let env = env_in(&dir);
        let bad = dir.join("bad.wasm");
        // A component header followed by a truncated section.
        std::fs::write(&bad, b"\0asm\x0d\0\x01\0\x07\x05").unwrap();
        let e = Config::new()
            .component("bad", &bad)
            .compile_in(&env)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
        assert_eq!(e.file(), Some(bad.as_path()));
        assert_eq!(e.component(), Some("bad"));
        assert!(e.offset().is_some(), "{e}");
        let missing = dir.join("missing.wasm");
        let e = Config::new()
            .component("m", &missing)
            .compile_in(&env)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert_eq!(e.file(), Some(missing.as_path()));
        assert!(e.to_string().contains("cannot read"), "{e}");
    }

    #[test]
    fn text_errors_and_core_modules_are_explained() {
        let dir = temp_dir("text");
        let env = env_in(&dir);
        let wat = dir.join("broken.wat");
        std::fs::write(&wat, "(component (func))").unwrap();
        let e = Config::new()
            .component("b", &wat)
            .compile_in(&env)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
        assert_eq!(e.file(), Some(wat.as_path()));
        assert!(e.to_string().contains("invalid WebAssembly text"), "{e}");
        let core = dir.join("core.wat");
        std::fs::write(&core, "(module)").unwrap();
        let e = Config::new()
            .component("c", &core)
            .compile_in(&env)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
        assert!(e.to_string().contains("not a component"), "{e}");
    }

    /// A component importing `add` and exporting `twice(a, b) = add(a, b) * 2`.
    const TWICE: &str = r#"
        (component
          (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
          (core func $add (canon lower (func $add)))
          (core module $m
            (import "host" "add" (func $add (param i32 i32) (result i32)))
            (func (export "twice") (param i32 i32) (result i32)
              (i32.mul (call $add (local.get 0) (local.get 1)) (i32.const 2))))
          (core instance $h (export "add" (func $add)))
          (core instance $i (instantiate $m (with "host" (instance $h))))
          (func (export "twice") (param "a" u32) (param "b" u32) (result u32)
            (canon lift (core func $i "twice"))))"#;

    #[test]
    fn plugs_are_composed_into_their_socket() {
        let dir = temp_dir("plug");
        let (twice, add) = (dir.join("twice.wat"), dir.join("add.wat"));
        std::fs::write(&twice, TWICE).unwrap();
        std::fs::write(&add, ADD).unwrap();
        let env = env_in(&dir);
        let lines = Config::new()
            .component("twice", &twice)
            .plug("twice", &add)
            .compile_in(&env)
            .unwrap();
        assert_eq!(
            lines[1],
            format!("cargo:rerun-if-changed={}", twice.display())
        );
        assert_eq!(
            lines[2],
            format!("cargo:rerun-if-changed={}", add.display())
        );
        let plan = std::fs::read(env.out_dir.join("rivet/twice.plan")).unwrap();
        let plan: Plan = postcard::from_bytes(&plan).unwrap();
        // `add` is satisfied by the plug: nothing is left for the host.
        assert!(plan.imports.is_empty(), "{:?}", plan.imports);
        assert_eq!(plan.exports[0].name, "twice");
    }

    #[test]
    fn plug_errors_name_the_socket_or_the_plug() {
        let dir = temp_dir("plug-errors");
        let env = env_in(&dir);
        let (twice, add) = (dir.join("twice.wat"), dir.join("add.wat"));
        std::fs::write(&twice, TWICE).unwrap();
        std::fs::write(&add, ADD.replace("(param \"b\" u32)", "(param \"b\" s32)")).unwrap();
        let e = Config::new()
            .component("twice", &twice)
            .plug("twice", &add)
            .compile_in(&env)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{e}");
        assert_eq!(e.component(), Some("twice"));
        // The wiring's error names the socket's file.
        assert_eq!(e.file(), Some(twice.as_path()));
        let e = e.to_string();
        assert!(e.contains("twice.wat` imports `add` as"), "{e}");
        assert!(e.contains("func(a: u32, b: u32) -> u32"), "{e}");
        assert!(e.contains("func(a: u32, b: s32) -> u32"), "{e}");
        let e = Config::new()
            .component("twice", &twice)
            .plug("other", &add)
            .compile_in(&env)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert!(e.to_string().contains("not a component"), "{e}");
        let missing = dir.join("missing.wat");
        let e = Config::new()
            .component("twice", &twice)
            .plug("twice", &missing)
            .compile_in(&env)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert_eq!(e.file(), Some(missing.as_path()));
    }

    #[test]
    fn build_scripts_compile_on_cargos_job_count_unless_rayon_is_told() {
        assert_eq!(build_jobs(Some("3"), false), Some(3));
        assert_eq!(build_jobs(Some("3"), true), None);
        assert_eq!(build_jobs(None, false), None);
        for bad in ["0", "-2", "many", ""] {
            assert_eq!(build_jobs(Some(bad), false), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(symbol_name("a-b.c").unwrap(), "rivet_component_a_b_c");
        assert!(symbol_name("").is_err());
        assert!(symbol_name("../x").is_err());
        let env = env_in(&temp_dir("names"));
        let e = Config::new()
            .component("a-b", "x.wat")
            .component("a_b", "y.wat")
            .compile_in(&env)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert!(e.to_string().contains("distinct names"), "{e}");
        let e = Config::new().compile_in(&env).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert!(e.to_string().contains("no components"), "{e}");
    }
}
