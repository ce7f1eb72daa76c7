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
#
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
case $PROFILE in # cargo's folder for each profile
  dev | test) DIR=$CARGO_TARGET_DIR/debug ;;
  release | bench) DIR=$CARGO_TARGET_DIR/release ;;
  *) DIR=$CARGO_TARGET_DIR/$PROFILE ;;
esac
cargo build --profile "$PROFILE" --quiet -p calculator-lambda --no-default-features
cp "$DIR/calculator-lambda" "$WORK/lean"
cargo build --profile "$PROFILE" --quiet -p calculator-lambda
cp "$DIR/calculator-lambda" "$WORK/full"
cargo build --profile "$PROFILE" --quiet --manifest-path peers/Cargo.toml -p lambda-hello
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 scripts/lambda_init.py "$RUNS" "lambda_http hello=$DIR/lambda-hello" "calculator-lambda=$WORK/full" \
  "calculator-lambda lean=$WORK/lean"
