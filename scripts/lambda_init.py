"""Lambda init time: exec of a function binary to its first poll of the runtime API.

A stand-in for the Lambda runtime API listens on 127.0.0.1 and notes when each started process first asks for
`GET /2018-06-01/runtime/invocation/next`; that is the end of init as Lambda bills it. Each binary runs RUNS times,
alternating, and is killed after its first poll.

    python3 scripts/lambda_init.py RUNS NAME=BINARY [NAME=BINARY ...]

Prints min, median and max per binary in milliseconds, the median count of minor page faults up to the poll (most of a
large binary's extra init is the dynamic loader relocating it, page by page), and each binary's median over the first's.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

polled = threading.Event()


class RuntimeApi(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the http.server method name)
        if self.path.endswith("/runtime/invocation/next"):
            polled.set()
            # Hold the poll: the process is killed before an event would come.
            time.sleep(5)
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def init_ms(binary: str, port: int) -> tuple[float, int]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "init-probe",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/init-probe",
        "AWS_LAMBDA_LOG_STREAM_NAME": "probe",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "LOG_LEVEL": "info",
    }
    polled.clear()
    faults = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not polled.wait(timeout=10):
            raise SystemExit(f"{binary} never polled the runtime API")
        elapsed = (time.perf_counter() - start) * 1000
    finally:
        proc.kill()
        proc.wait()
    # Counted once the child is reaped; the kill adds none worth noting.
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - faults


def main() -> None:
    runs = int(sys.argv[1])
    binaries = [arg.split("=", 1) for arg in sys.argv[2:]]
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    times: dict[str, list[float]] = {name: [] for name, _ in binaries}
    faults: dict[str, list[int]] = {name: [] for name, _ in binaries}
    for _ in range(runs):
        for name, binary in binaries:
            ms, minflt = init_ms(binary, port)
            times[name].append(ms)
            faults[name].append(minflt)
    first = statistics.median(times[binaries[0][0]])
    print(f"exec to first runtime-API poll, {runs} runs each (ms):\n")
    print("| binary | min | median | max | minor faults | ÷ first |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, _ in binaries:
        ts = times[name]
        med = statistics.median(ts)
        flt = statistics.median(faults[name])
        print(f"| {name} | {min(ts):.2f} | {med:.2f} | {max(ts):.2f} | {flt:.0f} | {med / first:.2f}× |")


if __name__ == "__main__":
    main()
