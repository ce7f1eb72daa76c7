#!/usr/bin/env bash
# Instructions per in-process `tools/call` (peers/examples/calls.rs under
# callgrind): this SDK's frame path and Streamable HTTP service, and rmcp's
# HTTP service, for the working tree and, given a git revision, for that
# revision too, so that a change to the hot path is measured against its
# base in one run. Unlike scripts/callgrind-http.sh (a real socket, whose
# count moves by about 1.5k from run to run with park/unpark and timer
# paths), these counts repeat to within a few instructions.
#
#   scripts/callgrind-calls.sh [REV]        e.g. scripts/callgrind-calls.sh HEAD~1
#
# Each count is (3000 calls - 1000 calls) / 2000, so set-up cancels out.
# The revision is built from a temporary worktree into its own target
# folder (.cache/callgrind-base-target), because two checkouts sharing one
# target folder overwrite each other's workspace crates. Needs valgrind.
# Not part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REV=${1:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BASE_TARGET=$ROOT/.cache/callgrind-base-target
cargo build --release --quiet --manifest-path peers/Cargo.toml --example calls

count() { # binary mode -> instructions per call
  local a b
  a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" 1000 2>&1 | awk '/Collected/ {print $4}')
  b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" 3000 2>&1 | awk '/Collected/ {print $4}')
  echo $(((b - a) / 2000))
}

declare -A BIN=([working tree]="$CARGO_TARGET_DIR/release/examples/calls")
if [ -n "$REV" ]; then
  WT=$(mktemp -d)
  trap 'git worktree remove --force "$WT" >/dev/null 2>&1 || true; rm -rf "$WT"' EXIT
  git worktree add --quiet --detach "$WT" "$REV"
  (cd "$WT" && CARGO_TARGET_DIR=$BASE_TARGET cargo build --release --quiet --manifest-path peers/Cargo.toml --example calls)
  BIN[$REV]="$BASE_TARGET/release/examples/calls"
fi

printf '| build | frame | http | rmcp-http |\n|---|---:|---:|---:|\n'
for name in "${!BIN[@]}"; do
  bin=${BIN[$name]}
  printf '| %s | %s | %s | %s |\n' "$name" "$(count "$bin" frame)" "$(count "$bin" http)" "$(count "$bin" rmcp-http)"
done
