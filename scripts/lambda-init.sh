#!/usr/bin/env bash
# Lambda init: exec to the first poll of the runtime API, for a bare
# `lambda_http` function (peers/lambda-hello, the floor) and the SDK's Lambda
# example (calculator-lambda) built twice: with every integration (its
# default features: the AWS SDK clients, OpenTelemetry, JWT validation) and
# lean (`--no-default-features`: what a function that calls no AWS service
# links), in the release profile and, with PROFILE=small, the size-optimised
# one. A stand-in runtime API on 127.0.0.1 times each of
# RUNS starts (default 20), alternating the binaries.
#
#   scripts/lambda-init.sh [runs]
#   NOPIE=1 scripts/lambda-init.sh [runs]   every binary built non-PIE
#
# NOPIE=1 builds all three with `-C relocation-model=static` (no PIE, so
# the loader has next to nothing to relocate) for the host triple passed
# as `--target`, so that build scripts and proc macros are built as usual;
# the first NOPIE run rebuilds every dependency into target/<triple>/.
# Not part of scripts/test.sh: its figures depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-20}
PROFILE=${PROFILE:-release}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
echo "building ($PROFILE)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=$CARGO_TARGET_DIR
TARGET=()
if [ "${NOPIE:-0}" = 1 ]; then
  HOST=$(rustc -vV | sed -n 's/^host: //p')
  export RUSTFLAGS="${RUSTFLAGS:-} -C relocation-model=static"
  TARGET=(--target "$HOST")
  OUT=$CARGO_TARGET_DIR/$HOST
  echo "non-PIE builds for $HOST"
fi
case $PROFILE in # cargo's folder for each profile
  dev | test) DIR=$OUT/debug ;;
  release | bench) DIR=$OUT/release ;;
  *) DIR=$OUT/$PROFILE ;;
esac
cargo build --profile "$PROFILE" --quiet "${TARGET[@]}" -p calculator-lambda --no-default-features
cp "$DIR/calculator-lambda" "$WORK/lean"
cargo build --profile "$PROFILE" --quiet "${TARGET[@]}" -p calculator-lambda
cp "$DIR/calculator-lambda" "$WORK/full"
cargo build --profile "$PROFILE" --quiet "${TARGET[@]}" --manifest-path peers/Cargo.toml -p lambda-hello
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 scripts/lambda_init.py "$RUNS" "lambda_http hello=$DIR/lambda-hello" "calculator-lambda=$WORK/full" \
  "calculator-lambda lean=$WORK/lean"
