#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine with Rust, Python 3 and Node.
# Installs what the tests need under .cache/ (reused on later runs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="$ROOT/.cache"
mkdir -p "$CACHE"

step() { printf '\n==> %s\n' "$*"; }

step "python venv with the official MCP SDK (mcp 2.x) and pytest"
VENV="$CACHE/venv"
if ! "$VENV/bin/python" -c 'import mcp, pytest, pytest_timeout' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'mcp>=2,<3' pytest pytest-timeout anyio
fi

step "format"
cargo fmt --all --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "rust tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
cargo test --workspace --doc --quiet

step "interop: the official Python SDK client against the example server"
cargo build -p calculator --quiet
CALCULATOR_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/calculator" "$VENV/bin/python" -m pytest -q tests/interop
