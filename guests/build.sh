#!/usr/bin/env bash
# Rebuilds the committed guest components: `guests/build.sh NAME...`.
#  - A guest with its own build.sh (a toolchain other than Rust's, e.g.
#    py-plugin) is rebuilt by that script.
#  - The WASI guests (wasi-*) are built for wasm32-wasip2,
#    where rustc links the component itself (wasm-component-ld, with the WASI
#    0.2 adapter-free std): the output is copied to guests/NAME.wasm. Rust 1.95.0
#    is pinned for them: its std, wasi-libc and linker fix the imports and the
#    bytes, so another release gives a different (still valid) binary.
#  - Every other guest is built for wasm32-unknown-unknown and its core module
#    wrapped into the component guests/NAME.wasm by wasm-tools.
# The .wasm files are committed: the Rivet build itself never needs the wasm
# toolchains.
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -eq 0 ]; then
  echo "usage: guests/build.sh NAME..." >&2
  exit 2
fi
wasi_rust=1.95.0
if ! wasm-tools --version 2>/dev/null | grep -q '^wasm-tools 1\.263\.0'; then
  cargo install wasm-tools --version 1.263.0 --locked
fi
for name in "$@"; do
  crate=${name//-/_}
  if [ -x "$name/build.sh" ]; then
    "$name/build.sh"
  elif [[ $name == wasi-* ]]; then
    rustup target add --toolchain "$wasi_rust" wasm32-wasip2
    (cd "$name" && cargo "+$wasi_rust" build --release --locked --target wasm32-wasip2)
    release="$name/target/wasm32-wasip2/release"
    if [ -f "$release/$name.wasm" ]; then cp "$release/$name.wasm" "$name.wasm"
    else cp "$release/$crate.wasm" "$name.wasm"; fi
  else
    rustup target add wasm32-unknown-unknown
    (cd "$name" && cargo build --release --target wasm32-unknown-unknown)
    wasm-tools component new "$name/target/wasm32-unknown-unknown/release/$crate.wasm" -o "$name.wasm"
  fi
  wasm-tools validate "$name.wasm"
  echo "wrote guests/$name.wasm"
done
