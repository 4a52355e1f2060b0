#!/usr/bin/env bash
# What a second guest adds to a host binary: builds one host crate twice in
# release (stripped, build scripts optimised as docs/performance.md recommends),
# with examples/hello's guest alone and with guests/kernels-guest.wasm beside it,
# and prints both sizes. Usage: bench/guest-cost.sh [WORK_DIR]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "guest-cost"
version = "0.0.0"
edition = "2021"
publish = false

[features]
kernels = []

[dependencies]
rivet = { package = "rivet-runtime", path = "$repo/runtime-shim" }

[build-dependencies]
rivet-build = { path = "$repo/build-support" }

[profile.release]
strip = true

[profile.release.build-override]
opt-level = 3

[workspace]
TOML
cat > "$work/build.rs" <<RS
fn main() {
    let mut config = rivet_build::Config::new();
    config.component("hello", "$repo/examples/hello/guest/hello.wat");
    if std::env::var("CARGO_FEATURE_KERNELS").is_ok() {
        config.component("kernels", "$repo/guests/kernels-guest.wasm");
    }
    config.compile();
}
RS
cat > "$work/src/main.rs" <<'RS'
use rivet::{BoundsMode, Store};
rivet::component!(Hello, "hello");
#[cfg(feature = "kernels")]
rivet::component!(Kernels, "kernels");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut store = Store::new(BoundsMode::Guard);
    let hello = Hello::instantiate(&mut store, ())?;
    println!("{}", hello.greet(&mut store, "guest")?);
    #[cfg(feature = "kernels")]
    {
        let kernels = Kernels::instantiate(&mut store, ())?;
        println!("{} bytes of digest", kernels.sha256(&mut store, 10, 1)?.len());
    }
    Ok(())
}
RS
cd "$work"
cargo build --release -q
one=$(stat -c %s target/release/guest-cost)
cargo build --release -q --features kernels
two=$(stat -c %s target/release/guest-cost)
echo "hello alone:            $one bytes"
echo "hello + kernels-guest:  $two bytes (+$((two - one)))"
