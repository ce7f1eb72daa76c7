#!/usr/bin/env bash
# The result cache over HTTP: the Lambda example served off Lambda
# (Streamable HTTP, as on AgentCore Runtime) with the deployment guide's
# ENABLE_CACHING=true and results in memory, driven by wrk. Three figures:
#
#   uncached-add    `add`, which is not cached: the uncached tools/call
#   cached-count    `count` (1 step of 10 ms), cached: every call but the first is a hit
#   uncached-count  the same `count` with ENABLE_CACHING=false: 10 ms each
#
# A hit should be at least as fast as the uncached `add`, and far faster
# than the uncached `count`.
#
#   scripts/cache-http.sh [duration per run, default 10s]
#
# Server pinned to core 0, wrk to core 1, 64 connections then 1. Needs wrk,
# taskset, curl. Not part of scripts/test.sh: its figures depend on the
# machine.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10s}
PORT=${PORT:-3991}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
# shellcheck source=scripts/lib/wrk.sh
source scripts/lib/wrk.sh
wrk_require
cargo build --release --quiet -p calculator-lambda
BIN=$CARGO_TARGET_DIR/release/calculator-lambda
URL="http://127.0.0.1:$PORT/mcp"
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
ADD='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},'$META'}}'
COUNT='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"count","arguments":{"steps":1,"delay_ms":10},'$META'}}'

start() { # ENABLE_CACHING value
  wrk_start server "$PORT" env ENABLE_CACHING="$1" MCP_BIND="127.0.0.1:$PORT" LOG_LEVEL=error "$BIN"
}

drive() { # label tool body
  local s
  s=$(wrk_lua "$2" 2026-07-28 "$2" "$3")
  wrk_check "$URL" 2026-07-28 "$2" "$3" '"text"'
  for c in 64 1; do
    read -r rps p50 p99 errors non2xx < <(wrk_run "$URL" "$s" "$c" "$DURATION")
    printf '%-15s %2s connections: %s req/s  p50 %s ms  p99 %s ms  errors %s\n' "$1" "$c" "$rps" "$p50" "$p99" \
      "$((errors + non2xx))"
  done
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $DURATION per run"
start true
drive uncached-add add "$ADD"
drive cached-count count "$COUNT"
wrk_stop
start false
drive uncached-count count "$COUNT"
wrk_stop
