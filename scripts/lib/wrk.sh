# Shared by the HTTP load scripts (scripts/compare.sh, cache-http.sh,
# gateway-bench.sh): sourced, not run. A server is started pinned to core 0
# and driven by wrk pinned to core 1, one tools/call body per wrk script.
#
#   wrk_require                        wrk, taskset and curl on PATH, 2 cores
#   WORK                               a temporary folder, removed on exit
#   wrk_start NAME PORT CMD...         starts CMD on core 0 (its pid in SERVER), waits for PORT
#   wrk_stop                           stops every server started
#   wrk_lua NAME VERSION TOOL BODY     a wrk script posting BODY as a tools/call of TOOL; its path
#   wrk_check URL VERSION TOOL BODY EXPECTED
#                                      one call with curl; fails unless the reply contains EXPECTED
#   wrk_run URL SCRIPT CONNS DURATION [PID]
#                                      warm-up excluded: "req/s p50_ms p99_ms socket_errors non2xx";
#                                      given the server's PID, also its CPU time per request,
#                                      user and kernel, in µs ("... user_us sys_us"), from /proc
#
# Each started server is stopped on exit, whatever happens.

wrk_require() {
  for tool in wrk taskset curl; do
    command -v "$tool" >/dev/null || { echo "$tool not found (wrk: apt-get install -y wrk)" >&2; exit 1; }
  done
  [ "$(nproc)" -ge 2 ] || { echo "needs 2 cores: the server and wrk are pinned to different ones" >&2; exit 1; }
}

WORK=$(mktemp -d)
SERVER=
WRK_PIDS=()
wrk_cleanup() {
  wrk_stop
  rm -rf "$WORK"
}
trap wrk_cleanup EXIT

wrk_start() { # name port command...
  local name=$1 port=$2
  shift 2
  # taskset execs the command, so $! is the server's own pid.
  taskset -c 0 "$@" >/dev/null 2>"$WORK/$name.log" &
  SERVER=$!
  WRK_PIDS+=("$SERVER")
  for _ in $(seq 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.05
  done
  echo "$name did not start:" >&2
  cat "$WORK/$name.log" >&2
  exit 1
}

wrk_stop() {
  local p
  for p in "${WRK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  WRK_PIDS=()
  SERVER=
  sleep 0.3
}

wrk_lua() { # name protocol-version tool body -> script path
  local f="$WORK/$1.lua"
  cat >"$f" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "$2"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "$3"
wrk.body = '$4'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.4f %.4f %d %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests))
end
LUA
  echo "$f"
}

wrk_check() { # url protocol-version tool body expected
  local reply
  reply=$(curl -s "$1" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H "MCP-Protocol-Version: $2" -H 'Mcp-Method: tools/call' -H "Mcp-Name: $3" -d "$4")
  case $reply in
    *"$5"*) ;;
    *) echo "$3 at $1 answered unexpectedly: $reply" >&2; exit 1 ;;
  esac
}

cpu_ticks() { # pid -> "user system" clock ticks of the whole process (every thread)
  # The command name (field 2) may hold spaces: read after its closing paren.
  local stat
  stat=$(cat "/proc/$1/stat")
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo "${12} ${13}"
}

wrk_run() { # url script connections duration [pid] -> "req/s p50 p99 errors non2xx [user_us sys_us]"
  taskset -c 1 wrk -t1 -c8 -d1s -s "$2" "$1" >/dev/null
  local line before after
  [ -n "${5:-}" ] && before=$(cpu_ticks "$5")
  line=$(taskset -c 1 wrk -t1 -c"$3" -d"$4" --timeout 10s -s "$2" "$1" | grep '^RESULT')
  line=${line#RESULT }
  if [ -z "${5:-}" ]; then
    echo "${line% *}"
    return
  fi
  after=$(cpu_ticks "$5")
  python3 - "$line" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import sys
fields = sys.argv[1].split()
b, a, hz = [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()], int(sys.argv[4])
n = max(int(fields[5]), 1)
print(" ".join(fields[:5]), f"{(a[0] - b[0]) / hz / n * 1e6:.2f}", f"{(a[1] - b[1]) / hz / n * 1e6:.2f}")
PY
}
