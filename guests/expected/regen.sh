#!/usr/bin/env bash
# Regenerates the reference outputs in guests/expected/ by running every case
# through Wasmtime 48 (`wasmtime-run`, bench/src/bin/wasmtime-run.rs). See
# README.md for the case file format and the working directory each case runs in.
#
#   guests/expected/regen.sh            all cases
#   WASMTIME_RUN=/path/to/wasmtime-run  use an already built runner
set -euo pipefail
expected=$(cd "$(dirname "$0")" && pwd)
guests=$(dirname "$expected")
root=$(dirname "$guests")
runner=${WASMTIME_RUN:-$root/target/release/wasmtime-run}
if [ ! -x "$runner" ]; then
  (cd "$root" && cargo build --release -p rivet-bench --bin wasmtime-run)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$guests"/wasi-command.wasm "$guests"/wasi-plugin.wasm "$guests"/py-plugin.wasm "$work"/

# The working directory every case starts from: the components, a file beside
# the preopen for the sandbox probes to aim at, and an empty preopen.
reset_work() {
  rm -rf "$work/sandbox" "$work/created-outside"
  mkdir "$work/sandbox"
  printf 'outside the sandbox\n' > "$work/outside"
}

# What the case left in the working directory (components aside), with sizes:
# shows a file written where it should or should not be.
files_after() {
  (cd "$work" && find . -path ./\*.wasm -prune -o -print | sed 's|^\./||' | grep -v '^\.$' \
    | LC_ALL=C sort | while read -r f; do
        if [ -d "$f" ]; then printf '%s/ ' "$f"; else printf '%s (%s bytes) ' "$f" "$(wc -c < "$f")"; fi
      done | sed 's/ $//')
}

# record NAME DESCRIPTION SETUP STDIN ARG...: runs `wasmtime-run ARG...` in the
# working directory after the shell command SETUP ("" for none), with stdin
# from inputs/STDIN ("" for none), and writes NAME.txt.
record() {
  local name=$1 description=$2 setup=$3 stdin=$4
  shift 4
  reset_work
  (cd "$work" && eval "$setup")
  local status=0 input=/dev/null
  [ -n "$stdin" ] && input="$expected/inputs/$stdin"
  (cd "$work" && "$runner" "$@" < "$input" > "$work.out" 2> "$work.err") || status=$?
  {
    printf '# %s\n' "$description"
    printf 'command: wasmtime-run%s\n' "$(printf ' %q' "$@")"
    printf 'setup: %s\n' "${setup:-none}"
    printf 'stdin: %s\n' "${stdin:-none}"
    printf 'status: %s\n' "$status"
    printf 'files after: %s\n' "$(files_after)"
    printf 'stdout %s bytes:\n' "$(wc -c < "$work.out")"
    cat "$work.out"
    printf '\nstderr %s bytes:\n' "$(wc -c < "$work.err")"
    cat "$work.err"
    printf '\n'
  } > "$expected/$name.txt"
  rm -f "$work.out" "$work.err"
  echo "$name: status $status"
}

cmd=(--dir sandbox::/sandbox wasi-command.wasm)
record command-args "arguments after argv[0], quoting and an empty one kept" "" "" \
  wasi-command.wasm args one "two words" "" --flag
record command-env "only the variables given with --env reach the guest" "" "" \
  --env GREETING=hello --env EMPTY= wasi-command.wasm env GREETING EMPTY MISSING
record command-echo "stdin copied to stdout byte for byte" "" echo.txt wasi-command.wasm echo
record command-stderr "stdout and stderr kept apart" "" "" wasi-command.wasm stderr
record command-files "file operations inside the preopen /sandbox" "" "" "${cmd[@]}" files /sandbox
record command-clocks "clock facts that hold on any correct host" "" "" wasi-command.wasm clocks
record command-random "random buffer lengths, and two draws differ" "" "" wasi-command.wasm random
record command-exit-0 "exit 0" "" "" wasi-command.wasm exit 0
record command-exit-3 "exit 3: std sends exit(err), status 1" "" "" wasi-command.wasm exit 3
record command-panic "a panic aborts the guest: a trap, status 134 as wasmtime run" "" "" \
  wasi-command.wasm panic
record command-usage "no mode: usage on stderr, exit(2) seen as status 1" "" "" wasi-command.wasm
record command-sandbox "every way out of the preopen is refused" "" "" "${cmd[@]}" sandbox /sandbox
record command-sandbox-no-preopen "the same probes with no directory preopened" "" "" \
  wasi-command.wasm sandbox /sandbox
record command-heavy "16 MiB through a file in 64 KiB chunks (the benchmark mode)" "" "" \
  "${cmd[@]}" heavy /sandbox

for plugin in wasi-plugin py-plugin; do
  dir=(--dir sandbox::.)
  record "$plugin-handle" "one call: a line printed, log.txt created with one line" "" "" \
    "${dir[@]}" --invoke 'handle("first")' "$plugin.wasm"
  record "$plugin-append" "a call appends to the log an earlier run left" \
    "printf 'earlier\\n' > sandbox/log.txt" "" "${dir[@]}" --invoke 'handle("second")' "$plugin.wasm"
  record "$plugin-empty" "an empty input is the plugin's err, not a trap" "" "" \
    "${dir[@]}" --invoke 'handle("")' "$plugin.wasm"
  record "$plugin-no-dir" "without a preopen the log cannot be opened: err" "" "" \
    --invoke 'handle("lost")' "$plugin.wasm"
done
