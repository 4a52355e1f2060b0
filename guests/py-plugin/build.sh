#!/usr/bin/env bash
# Rebuilds guests/py-plugin.wasm, the Python plugin, with componentize-py from
# PyPI in a throwaway virtual environment. The version is pinned: the component
# embeds CPython and its standard library from the componentize-py wheel, so
# another release gives a different binary.
set -euo pipefail
cd "$(dirname "$0")"
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet componentize-py==0.25.1
"$venv/bin/componentize-py" -d ../wasi-plugin/wit -w plugin componentize app -o ../py-plugin.wasm
echo "wrote guests/py-plugin.wasm ($(wc -c < ../py-plugin.wasm) bytes)"
