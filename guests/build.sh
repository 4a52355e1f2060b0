#!/bin/sh
# Builds the Rust guest `guests/<name>/` into the component `guests/<name>.wasm`:
# a release build for wasm32-unknown-unknown (no WASI), then `wasm-tools component
# new` on the core module that wit-bindgen annotated with its component type.
# Usage: guests/build.sh <name>
set -eu
name=${1:?usage: guests/build.sh <name>}
here=$(cd "$(dirname "$0")" && pwd)
dir="$here/$name"
[ -f "$dir/Cargo.toml" ] || { echo "no guest project $dir" >&2; exit 1; }

WASM_TOOLS_VERSION=1.263.0
if ! wasm-tools --version 2>/dev/null | grep -q "$WASM_TOOLS_VERSION"; then
    cargo install wasm-tools --version "$WASM_TOOLS_VERSION" --locked
fi
rustup target add wasm32-unknown-unknown

cargo build --release --target wasm32-unknown-unknown --manifest-path "$dir/Cargo.toml"
# The crate name with '-' turned into '_' is the core module's file name.
crate=$(echo "$name" | tr '-' '_')
core="$dir/target/wasm32-unknown-unknown/release/$crate.wasm"
wasm-tools component new "$core" -o "$here/$name.wasm"
wasm-tools validate --features all "$here/$name.wasm"
echo "wrote $here/$name.wasm ($(wc -c < "$here/$name.wasm") bytes)"
