#!/usr/bin/env bash
# Rebuilds the Rust guest components: `guests/build.sh NAME...` builds
# guests/NAME/ for wasm32-unknown-unknown and wraps the core module into the
# component guests/NAME.wasm, which is committed (the Rivet build itself never
# needs the wasm toolchain).
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -eq 0 ]; then
  echo "usage: guests/build.sh NAME..." >&2
  exit 2
fi
rustup target add wasm32-unknown-unknown
if ! wasm-tools --version 2>/dev/null | grep -q '^wasm-tools 1\.263\.0'; then
  cargo install wasm-tools --version 1.263.0 --locked
fi
for name in "$@"; do
  crate=${name//-/_}
  (cd "$name" && cargo build --release --target wasm32-unknown-unknown)
  wasm-tools component new "$name/target/wasm32-unknown-unknown/release/$crate.wasm" -o "$name.wasm"
  wasm-tools validate "$name.wasm"
  echo "wrote guests/$name.wasm"
done
