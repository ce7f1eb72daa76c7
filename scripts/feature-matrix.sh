#!/usr/bin/env bash
# The feature combinations users build, beside the --all-features run of
# scripts/test.sh: every workspace crate that has features, with its
# default features, with none, and with none plus each single feature (a
# stdio-only server, `http` alone, `lambda` without `registry`...), as
# `cargo hack --each-feature` would, without installing it. The list comes
# from `cargo metadata`, so a new feature joins the matrix by itself.
#
# Each combination's library (an example's binaries) is checked alone, as a dependent builds it
# (dev-dependencies can turn on features the library forgets to ask for).
# With `--tests` (or `--clippy`, which lints them with warnings as errors)
# each combination's tests are checked too, so that a test needing a
# feature is gated on it (`required-features`, `#[cfg]`); that doubles the
# time (about 9 minutes cold on 2 cores, against 4 for the libraries), so
# scripts/test.sh checks the libraries only and runs the stdio-only tests.
# Usage: scripts/feature-matrix.sh [--tests | --clippy]
set -euo pipefail
cd "$(dirname "$0")/.."
tests_cmd=()
case "${1:-}" in
  --tests) tests_cmd=(check) ;;
  --clippy) tests_cmd=(clippy) ;;
  "") ;;
  *) echo "usage: scripts/feature-matrix.sh [--tests | --clippy]" >&2; exit 2 ;;
esac

combinations() {
  cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    features = sorted(f for f in p["features"] if f != "default")
    if not features:
        continue  # built as it is by the --all-features run
    # The library, or for an example with features its binaries.
    kinds = {k for t in p["targets"] for k in t["kind"]}
    target = "--lib" if kinds & {"lib", "rlib", "proc-macro"} else "--bins"
    print(p["name"], target, "")
    if p["features"].get("default"):
        print(p["name"], target, "--no-default-features")
    for f in features:
        print(p["name"], target, "--no-default-features --features " + f)'
}

n=0
start=$SECONDS
while read -r package target flags; do
  n=$((n + 1))
  printf '  %-12s %s\n' "$package" "${flags:-(default features)}"
  # shellcheck disable=SC2086 # flags are words
  cargo check --quiet -p "$package" "$target" $flags
  # shellcheck disable=SC2086
  case "${tests_cmd[0]:-}" in
    clippy) cargo clippy --quiet -p "$package" --tests $flags -- -D warnings ;;
    check) cargo check --quiet -p "$package" --tests $flags ;;
  esac
done < <(combinations)
echo "feature matrix: $n combinations in $((SECONDS - start)) s"
