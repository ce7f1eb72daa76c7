#!/usr/bin/env bash
# Side-by-side HTTP load comparison: this SDK's calculator example (`ours`)
# and its one-tool twin of rmcp-add (`ours-add`, peers/ours-add) against
# rmcp (peers/rmcp-add) and the official Python SDK (FastMCP from mcp 1.x,
# MCPServer from mcp 2.x), each serving the same `add` tool statelessly with
# JSON responses. `floor` (peers/floor) is hyper answering fixed bytes with
# no MCP work: what the machine, loopback TCP and hyper cost on their own.
#
#   scripts/compare.sh [duration per run, default 10s] [rounds, default 3]
#   REPEAT=3 scripts/compare.sh 5s 3   # the whole comparison three times
#
# Builds the release binaries, installs the Python SDKs into their own
# virtual environments under .cache/, then starts each server alone on
# 127.0.0.1, pinned to core 0, and drives it with wrk pinned to core 1:
# 64 connections, then 1, for a fixed duration, with the same tools/call
# body and headers. Rounds alternate the servers' order to cancel drift;
# the table shows each figure's median over the rounds. Idle RSS is read
# from /proc after start-up, peak RSS (VmHWM) after the runs (the highest
# round). Prints a table, and each peer's figures relative to this SDK.
# The server's CPU time per request (user and kernel, from /proc, every
# thread) shows where a throughput ratio comes from: with the server alone
# on its core at 64 connections, req/s is about 1 ÷ CPU time per request.
#
# Each figure is the median over the rounds, with the spread (min-max)
# beside the throughput and p99 figures. REPEAT=N runs the whole comparison
# N times and then prints each ratio of ours to a peer as min, median and
# max over the N runs: how stable a ratio claim is.
#
# SERVERS="ours rmcp" limits the servers; PORT (default 3990) moves them.
# Needs wrk (apt-get install -y wrk), taskset (util-linux), curl, python3.
# Not part of scripts/test.sh: its figures depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-10s}
ROUNDS=${2:-3}
if [ "${REPEAT:-1}" -gt 1 ]; then
  RATIOS=$(mktemp)
  for run in $(seq "$REPEAT"); do
    echo "=== run $run of $REPEAT"
    REPEAT=1 RATIOS_FILE="$RATIOS" RUN="$run" "$0" "$DURATION" "$ROUNDS"
  done
  python3 - "$RATIOS" "$REPEAT" <<'PY'
import sys, statistics as st
from collections import defaultdict
ratios = defaultdict(list)
for line in open(sys.argv[1]):
    run, mine, peer, metric, value = line.split("\t")
    ratios[(mine, peer, metric)].append(float(value))
print(f"\nratios over {sys.argv[2]} runs (min / median / max):\n")
print("| ours | peer | figure | min | median | max |")
print("|---|---|---|---:|---:|---:|")
for (mine, peer, metric), vs in sorted(ratios.items()):
    print(f"| {mine} | {peer} | {metric} | {min(vs):.2f}× | {st.median(vs):.2f}× | {max(vs):.2f}× |")
PY
  rm -f "$RATIOS"
  exit 0
fi
SERVERS=${SERVERS:-floor ours ours-add rmcp fastmcp mcpserver}
PORT=${PORT:-3990}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }
# shellcheck source=scripts/lib/wrk.sh
source scripts/lib/wrk.sh
wrk_require

venv() { # dir, pip requirement
  if ! "$1/bin/python" -c 'import mcp' 2>/dev/null; then
    echo "installing $2 into $1"
    python3 -m venv "$1" && "$1/bin/pip" install -q "$2"
  fi
}
for s in $SERVERS; do
  case $s in
    fastmcp) venv .cache/peers-mcp1 'mcp<2' ;;
    mcpserver) venv .cache/peers-mcp2 'mcp>=2,<3' ;;
  esac
done

echo "building release binaries"
cargo build --release --quiet -p calculator
case " $SERVERS " in *" rmcp "*) cargo build --release --quiet --manifest-path peers/Cargo.toml -p rmcp-add ;; esac
case " $SERVERS " in *" floor "*) cargo build --release --quiet --manifest-path peers/Cargo.toml -p floor ;; esac
case " $SERVERS " in *" ours-add "*) cargo build --release --quiet --manifest-path peers/Cargo.toml -p ours-add ;; esac
REL=$CARGO_TARGET_DIR/release

BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
# The stateless era's headers; FastMCP (mcp 1.x) predates 2026-07-28 and
# refuses that header value, so it alone gets 2025-11-25 (and serves the
# same body statelessly).
header_version() { if [ "$1" = fastmcp ]; then echo 2025-11-25; else echo 2026-07-28; fi; }

command_for() {
  case $1 in
    ours) echo "$REL/calculator --http $PORT" ;;
    rmcp) echo "$REL/rmcp-add" ;;
    floor) echo "$REL/floor" ;;
    ours-add) echo "$REL/ours-add" ;;
    fastmcp) echo "$ROOT/.cache/peers-mcp1/bin/python $ROOT/peers/python/add_server.py" ;;
    mcpserver) echo "$ROOT/.cache/peers-mcp2/bin/python $ROOT/peers/python/add_server.py" ;;
    *) echo "unknown server $1 (floor, ours, ours-add, rmcp, fastmcp, mcpserver)" >&2; exit 1 ;;
  esac
}

rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

RESULTS=$WORK/results.tsv
URL="http://127.0.0.1:$PORT/mcp"
run_server() { # name round
  local name=$1 round=$2 script
  script=$(wrk_lua "$name" "$(header_version "$name")" add "$BODY")
  # shellcheck disable=SC2046
  wrk_start "$name" "$PORT" env PORT="$PORT" $(command_for "$name")
  sleep 0.5
  local idle
  idle=$(rss_kb "$SERVER" VmRSS)
  wrk_check "$URL" "$(header_version "$name")" add "$BODY" '"text":"5'
  for c in 64 1; do
    local line
    line=$(wrk_run "$URL" "$script" "$c" "$DURATION" "$SERVER")
    printf '%s\t%s\t%s\t%s\n' "$name" "$round" "$c" "$line" | tr ' ' '\t' >>"$RESULTS"
    printf '  %-10s round %s, %2s connections: %s\n' "$name" "$round" "$c" "$line"
  done
  printf '%s\t%s\trss\t%s\t%s\n' "$name" "$round" "$idle" "$(rss_kb "$SERVER" VmHWM)" >>"$RESULTS"
  wrk_stop
  sleep 0.2
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs: $DURATION each, $ROUNDS round(s), server on core 0, wrk on core 1"
order=($SERVERS)
for round in $(seq "$ROUNDS"); do
  for name in "${order[@]}"; do run_server "$name" "$round"; done
  # Reverse the order for the next round.
  rev=(); for ((i = ${#order[@]} - 1; i >= 0; i--)); do rev+=("${order[i]}"); done; order=("${rev[@]}")
done

python3 - "$RESULTS" "$SERVERS" "${RATIOS_FILE:-}" "${RUN:-1}" <<'PY'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
ratios_file, run = sys.argv[3], sys.argv[4]
names = sys.argv[2].split()
label = {"floor": "floor: hyper, fixed reply, no MCP", "ours": "this SDK (calculator example)", "ours-add": "this SDK (add only, rmcp-add's twin)", "rmcp": "rmcp 3.x", "fastmcp": "FastMCP (mcp 1.x)", "mcpserver": "MCPServer (mcp 2.x)"}
def runs(n, c):
    return [r for r in rows if r[0] == n and r[2] == c]
def fig(n):
    f = {}
    for c in ("64", "1"):
        rs = runs(n, c)
        f[c] = tuple(st.median(float(r[i]) for r in rs) for i in (3, 4, 5)) + (sum(int(r[6]) + int(r[7]) for r in rs),)
    rss = [r for r in rows if r[0] == n and r[2] == "rss"]
    f["idle"] = st.median(int(r[3]) for r in rss) / 1024
    f["peak"] = max(int(r[4]) for r in rss) / 1024
    # The spread over the rounds: (min, max) of req/s and p99.
    for c in ("64", "1"):
        rs = runs(n, c)
        f["spread" + c] = tuple((min(float(r[i]) for r in rs), max(float(r[i]) for r in rs)) for i in (3, 5))
    return f
figs = {n: fig(n) for n in names}
print()
print("Medians over the rounds; (min-max) beside req/s and p99.")
print()
print("| server | 64 conns req/s | p50 ms | p99 ms | 1 conn req/s | p50 ms | p99 ms | idle RSS MB | peak RSS MB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
def spread(f, c):
    (r0, r1), (p0, p1) = f["spread" + c]
    return f"({r0:,.0f}-{r1:,.0f})", f"({p0:.3f}-{p1:.3f})"
for n in names:
    f = figs[n]
    a, b = f["64"], f["1"]
    ra, pa = spread(f, "64")
    rb, pb = spread(f, "1")
    print(f"| {label.get(n, n)} | {a[0]:,.0f} {ra} | {a[1]:.3f} | {a[2]:.3f} {pa} | {b[0]:,.0f} {rb} | {b[1]:.3f} | {b[2]:.3f} {pb} | {f['idle']:.1f} | {f['peak']:.1f} |")
def cpu(n, c):
    rs = runs(n, c)
    return st.median(float(r[8]) for r in rs), st.median(float(r[9]) for r in rs)
print()
print("Server CPU time per request (medians over the rounds, µs; user + kernel, every thread):")
print()
print("| server | 64c user | 64c kernel | 64c total | 1c user | 1c kernel | 1c total |")
print("|---|---:|---:|---:|---:|---:|---:|")
for n in names:
    (u64, k64), (u1, k1) = cpu(n, "64"), cpu(n, "1")
    print(f"| {label.get(n, n)} | {u64:.1f} | {k64:.1f} | {u64 + k64:.1f} | {u1:.1f} | {k1:.1f} | {u1 + k1:.1f} |")
errors = {n: figs[n]["64"][3] + figs[n]["1"][3] for n in names if figs[n]["64"][3] + figs[n]["1"][3]}
if errors:
    print("\nerrors or non-2xx responses:", errors)
mine = [n for n in ("ours", "ours-add") if n in figs]
for m in mine:
    o = figs[m]
    print()
    print(f"{label[m]} relative to each other server (req/s: ours ÷ theirs, higher is better; latency and RSS: ours ÷ theirs, lower is better):")
    print()
    print("| server | 64c req/s | 64c p50 | 64c p99 | 1c req/s | 1c p50 | idle RSS | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in names:
        if n in mine:
            continue
        p = figs[n]
        cells = [o["64"][0] / p["64"][0], o["64"][1] / p["64"][1], o["64"][2] / p["64"][2], o["1"][0] / p["1"][0],
                 o["1"][1] / p["1"][1], o["idle"] / p["idle"], o["peak"] / p["peak"]]
        print(f"| {label.get(n, n)} | " + " | ".join(f"{c:.2f}×" for c in cells) + " |")
        if ratios_file:
            with open(ratios_file, "a") as out:
                for metric, c in zip(("64c req/s", "64c p50", "64c p99", "1c req/s", "1c p50"), cells):
                    out.write(f"{run}\t{m}\t{n}\t{metric}\t{c}\n")
if "floor" in figs and len(names) > 1:
    f1 = figs["floor"]["1"][1]
    print()
    print(f"1-connection p50 above the floor's {f1 * 1000:.0f} µs (each server's own time per request):")
    for n in names:
        if n != "floor":
            print(f"  {label.get(n, n)}: {(figs[n]['1'][1] - f1) * 1000:+.0f} µs")
    floor_cpu = sum(cpu("floor", "64"))
    print()
    print(f"64-connection CPU per request against the floor's {floor_cpu:.1f} µs (0.75× its req/s allows {floor_cpu / 0.75:.1f} µs):")
    for n in names:
        if n != "floor":
            print(f"  {label.get(n, n)}: {sum(cpu(n, '64')):.1f} µs, {sum(cpu(n, '64')) - floor_cpu:+.1f} µs above it")
PY
