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
for tool in wrk taskset curl; do
  command -v "$tool" >/dev/null || { echo "$tool not found (wrk: apt-get install -y wrk)" >&2; exit 1; }
done
cargo build --release --quiet -p calculator-lambda
BIN=$CARGO_TARGET_DIR/release/calculator-lambda
URL="http://127.0.0.1:$PORT/mcp"
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
ADD='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},'$META'}}'
COUNT='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"count","arguments":{"steps":1,"delay_ms":10},'$META'}}'

WORK=$(mktemp -d)
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

script() { # tool body -> wrk script
  local f="$WORK/$1.lua"
  cat >"$f" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "$1"
wrk.body = '$2'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f req/s  p50 %.3f ms  p99 %.3f ms  errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
LUA
  echo "$f"
}

start() { # ENABLE_CACHING value
  env ENABLE_CACHING="$1" MCP_BIND="127.0.0.1:$PORT" LOG_LEVEL=error taskset -c 0 "$BIN" >/dev/null 2>"$WORK/server.log" &
  SERVER=$!
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return; fi
    sleep 0.05
  done
  echo "the server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1
}

stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; sleep 0.3; }

drive() { # label tool body
  local s
  s=$(script "$2" "$3")
  curl -s "$URL" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H "Mcp-Name: $2" -d "$3" | grep -q '"text"' \
    || { echo "$2 did not answer" >&2; exit 1; }
  taskset -c 1 wrk -t1 -c8 -d1s -s "$s" "$URL" >/dev/null
  for c in 64 1; do
    printf '%-15s %2s connections: %s\n' "$1" "$c" \
      "$(taskset -c 1 wrk -t1 -c"$c" -d"$DURATION" --timeout 10s -s "$s" "$URL" | grep '^RESULT' | cut -d' ' -f2-)"
  done
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $DURATION per run"
start true
drive uncached-add add "$ADD"
drive cached-count count "$COUNT"
stop
start false
drive uncached-count count "$COUNT"
stop
