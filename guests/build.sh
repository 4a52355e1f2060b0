#!/usr/bin/env bash
# Rebuilds the Rust guest components: `guests/build.sh NAME...` builds
# guests/NAME/ for wasm32-unknown-unknown and wraps the core module into the
# component guests/NAME.wasm, which is committed (the Rivet build itself never
# needs the wasm toolchain). Guests named `wasi-*` are WASI 0.2 commands: they
# are built for wasm32-wasip2, whose linker writes the component itself.
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -eq 0 ]; then
  echo "usage: guests/build.sh NAME..." >&2
  exit 2
fi
rustup target add wasm32-unknown-unknown wasm32-wasip2
if ! wasm-tools --version 2>/dev/null | grep -q '^wasm-tools 1\.263\.0'; then
  cargo install wasm-tools --version 1.263.0 --locked
fi
for name in "$@"; do
  crate=${name//-/_}
  if [[ $name == wasi-* ]]; then
    (cd "$name" && cargo build --release --target wasm32-wasip2)
    cp "$name/target/wasm32-wasip2/release/$name.wasm" "$name.wasm"
    wasm-tools validate "$name.wasm"
    echo "wrote guests/$name.wasm"
    continue
  fi
  (cd "$name" && cargo build --release --target wasm32-unknown-unknown)
  wasm-tools component new "$name/target/wasm32-unknown-unknown/release/$crate.wasm" -o "$name.wasm"
  wasm-tools validate "$name.wasm"
  echo "wrote guests/$name.wasm"
done
