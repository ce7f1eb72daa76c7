#!/usr/bin/env bash
# What the gateway costs: the same tools/call (`test_simple_text`, no work)
# sent straight to `examples/everything`, through `examples/gateway` in
# front of it (upstream reached in the stateless era, then in the legacy
# era), and through FastMCP's own proxy (`fastmcp.server.create_proxy`,
# FastMCP 4.1.6) in front of it, the peer: given the URL (a fresh upstream
# session per request, FastMCP's default) and given one connected client
# (one shared session, as the gateway keeps). All are release builds on
# 127.0.0.1, the servers (upstream and proxy together) pinned to core 0
# and wrk to core 1; 64 connections, then 1. Callers speak 2026-07-28,
# statelessly, JSON responses.
#
#   scripts/gateway-bench.sh [duration per run, default 10s] [rounds, default 1]
#
# Prints each setup's median figures and, for each front, its req/s as a
# fraction of direct and its added p50 (its p50 less direct's). Needs wrk,
# taskset, curl, python3; installs FastMCP into .cache/peers-fastmcp. Not
# part of scripts/test.sh: its figures depend on the machine (and on what
# else runs on it: say so when quoting them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-10s}
ROUNDS=${2:-1}
SETUPS=${SETUPS:-direct gateway-stateless gateway-legacy fastmcp-proxy fastmcp-proxy-shared}
UP_PORT=${PORT:-3993}
FRONT_PORT=$((UP_PORT + 1))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }
# shellcheck source=scripts/lib/wrk.sh
source scripts/lib/wrk.sh
wrk_require

FASTMCP=.cache/peers-fastmcp
if ! "$FASTMCP/bin/python" -c 'import fastmcp' 2>/dev/null; then
  echo "installing fastmcp==4.1.6 into $FASTMCP"
  python3 -m venv "$FASTMCP" && "$FASTMCP/bin/pip" install -q 'fastmcp==4.1.6'
fi
echo "building release binaries"
cargo build --release --quiet -p everything -p gateway
REL=$CARGO_TARGET_DIR/release

META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_simple_text","arguments":{},'$META'}}'
UPSTREAM="http://127.0.0.1:$UP_PORT/mcp"

start_setup() { # setup -> the URL to drive
  wrk_start everything "$UP_PORT" env PORT="$UP_PORT" "$REL/everything"
  case $1 in
    direct) echo "$UPSTREAM"; return ;;
    gateway-stateless | gateway-legacy)
      local config="{\"upstreams\": [{\"name\": \"everything\", \"url\": \"$UPSTREAM\", \"mode\": \"${1#gateway-}\"}]}"
      wrk_start gateway "$FRONT_PORT" env MCP_BIND="127.0.0.1:$FRONT_PORT" MCP_GATEWAY_CONFIG="$config" \
        RUST_LOG=warn "$REL/gateway" ;;
    fastmcp-proxy | fastmcp-proxy-shared)
      local shared=0
      [ "$1" = fastmcp-proxy-shared ] && shared=1
      wrk_start "$1" "$FRONT_PORT" env PORT="$FRONT_PORT" UPSTREAM_URL="$UPSTREAM" SHARED_SESSION=$shared \
        "$ROOT/$FASTMCP/bin/python" "$ROOT/peers/python/fastmcp_proxy.py" ;;
    *)
      echo "unknown setup $1 (direct, gateway-stateless, gateway-legacy, fastmcp-proxy, fastmcp-proxy-shared)" >&2
      exit 1 ;;
  esac
  echo "http://127.0.0.1:$FRONT_PORT/mcp"
}

RESULTS=$WORK/results.tsv
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs: $DURATION each, $ROUNDS round(s); servers on core 0, wrk on core 1"
for round in $(seq "$ROUNDS"); do
  for setup in $SETUPS; do
    # start_setup runs in this shell (not a subshell), so its servers stay known to wrk_stop.
    start_setup "$setup" >"$WORK/url"
    url=$(cat "$WORK/url")
    script=$(wrk_lua "$setup" 2026-07-28 test_simple_text "$BODY")
    wrk_check "$url" 2026-07-28 test_simple_text "$BODY" 'simple text response'
    for c in 64 1; do
      line=$(wrk_run "$url" "$script" "$c" "$DURATION")
      printf '%s\t%s\t%s\n' "$setup" "$c" "$line" | tr ' ' '\t' >>"$RESULTS"
      printf '  %-18s round %s, %2s connections: %s\n' "$setup" "$round" "$c" "$line"
    done
    wrk_stop
  done
done

python3 - "$RESULTS" "$SETUPS" <<'PY'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
setups = sys.argv[2].split()
label = {"direct": "direct to everything", "gateway-stateless": "examples/gateway, upstream stateless",
         "gateway-legacy": "examples/gateway, upstream legacy", "fastmcp-proxy": "FastMCP 4.1.6 create_proxy(url)",
         "fastmcp-proxy-shared": "FastMCP 4.1.6 create_proxy(connected client)"}
def fig(s, c):
    rs = [r for r in rows if r[0] == s and r[1] == c]
    return tuple(st.median(float(r[i]) for r in rs) for i in (2, 3, 4)) + (sum(int(r[5]) + int(r[6]) for r in rs),)
figs = {s: {c: fig(s, c) for c in ("64", "1")} for s in setups}
print("\n| setup | 64 conns req/s | p50 ms | p99 ms | 1 conn req/s | p50 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for s in setups:
    a, b = figs[s]["64"], figs[s]["1"]
    print(f"| {label.get(s, s)} | {a[0]:,.0f} | {a[1]:.3f} | {a[2]:.3f} | {b[0]:,.0f} | {b[1]:.3f} | {b[2]:.3f} | {a[3] + b[3]} |")
if "direct" in figs:
    d = figs["direct"]
    print("\n| front | 64c req/s ÷ direct | 64c added p50 ms | 1c req/s ÷ direct | 1c added p50 ms |")
    print("|---|---:|---:|---:|---:|")
    for s in setups:
        if s == "direct":
            continue
        f = figs[s]
        print(f"| {label.get(s, s)} | {f['64'][0] / d['64'][0]:.2f} | {f['64'][1] - d['64'][1]:+.3f} | "
              f"{f['1'][0] / d['1'][0]:.2f} | {f['1'][1] - d['1'][1]:+.3f} |")
PY
