#!/usr/bin/env bash
# Instructions per HTTP request, whole server process (every thread), for a
# stateless `tools/call add` on one keep-alive connection: the server runs
# under callgrind twice, answering 500 and then 3000 requests from a Python
# loop, and the difference is divided by 2500 (start-up and shutdown cancel
# out). Steady on a busy machine, unlike wall-clock figures.
#
#   scripts/callgrind-http.sh [ours|rmcp|floor ...]   (default: ours floor)
#
# Builds the bench profile (release with line tables). Needs valgrind.
# Not part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
SERVERS=${*:-ours floor}
cargo build --profile bench --quiet -p calculator
case " $SERVERS " in *" floor "*) cargo build --profile bench --quiet --manifest-path peers/Cargo.toml -p floor ;; esac
case " $SERVERS " in *" rmcp "*) cargo build --profile bench --quiet --manifest-path peers/Cargo.toml -p rmcp-add ;; esac
REL=$CARGO_TARGET_DIR/release
PORT=${PORT:-3980}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat >"$WORK/load.py" <<'PY'
import http.client, json, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "add", "arguments": {"a": 2, "b": 3}, "_meta": meta}})
headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
           "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "add"}
conn = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    conn.request("POST", path, body, headers)
    resp = conn.getresponse()
    data = resp.read()
    assert resp.status == 200, (resp.status, data)
PY
instructions() { # name requests -> total instructions
  local name=$1 n=$2 out="$WORK/cg.$1.$2" cmd path
  case $name in
    ours) cmd=("$REL/calculator" --http "$PORT"); path=/mcp ;;
    floor) cmd=("$REL/floor"); path=/ ;;
    rmcp) cmd=("$REL/rmcp-add"); path=/mcp ;;
    *) echo "unknown server $name (ours, rmcp, floor)" >&2; exit 1 ;;
  esac
  PORT=$PORT valgrind --tool=callgrind --callgrind-out-file="$out" "${cmd[@]}" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
  python3 "$WORK/load.py" "$PORT" "$n" "$path"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  grep -h '^summary' "$out"* | awk '{s += $2} END {print s}'
}
for name in $SERVERS; do
  a=$(instructions "$name" 500)
  b=$(instructions "$name" 3000)
  echo "$name: $(((b - a) / 2500)) instructions per request"
done
