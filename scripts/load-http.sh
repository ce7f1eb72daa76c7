#!/usr/bin/env bash
# Load run: stateless (2026-07-28) `tools/call` against the everything
# example over loopback with wrk, server and load generator pinned to
# different cores. Prints wrk's figures for 64 connections and 1.
#
#   scripts/load-http.sh [duration, default 10s]
#
# Needs wrk (Debian: apt-get install -y wrk) and taskset (util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-10s}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -p everything --quiet
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/everything"
PORT=${PORT:-3999}
CORES=$(nproc)
pin_server=(); pin_load=()
if command -v taskset >/dev/null && [ "$CORES" -ge 2 ]; then
  pin_server=(taskset -c 0); pin_load=(taskset -c 1)
fi

PORT=$PORT "${pin_server[@]}" "$BIN" 2>/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done

LUA=$(mktemp --suffix=.lua)
cat >"$LUA" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "test_simple_text"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_simple_text","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
done = function(summary, latency, requests)
  io.write(string.format("RESULT req/s=%.0f p50=%.3fms p99=%.3fms errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
LUA
URL="http://127.0.0.1:$PORT/mcp"
echo "warm-up"; "${pin_load[@]}" wrk -t1 -c8 -d2s -s "$LUA" "$URL" >/dev/null
for c in 64 1; do
  printf '%s connections, %s: ' "$c" "$DURATION"
  "${pin_load[@]}" wrk -t1 -c"$c" -d"$DURATION" --latency -s "$LUA" "$URL" | grep RESULT
done
echo "server RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$SERVER/status) (peak $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status))"
rm -f "$LUA"
