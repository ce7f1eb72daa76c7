#!/usr/bin/env bash
# The feature combinations users build, beside the --all-features run of
# scripts/test.sh: every workspace crate that has features, with its
# default features, with none, and with none plus each single feature (a
# stdio-only server, `http` alone, `lambda` without `registry`...), as
# `cargo hack --each-feature` would, without installing it. The list comes
# from `cargo metadata`, so a new feature joins the matrix by itself.
#
# Each combination is checked twice: the library alone, as a dependent
# builds it (dev-dependencies can turn on features the library forgets to
# ask for), then with its tests, so that a test needing a feature is
# gated on it (`required-features`, `#[cfg]`). `--clippy` lints the test
# pass with warnings as errors. Usage: scripts/feature-matrix.sh [--clippy]
set -euo pipefail
cd "$(dirname "$0")/.."
tests_cmd=(check)
if [ "${1:-}" = "--clippy" ]; then
  tests_cmd=(clippy)
fi

combinations() {
  cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    features = sorted(f for f in p["features"] if f != "default")
    if not features:
        continue  # built as it is by the --all-features run
    print(p["name"], "")
    if p["features"].get("default"):
        print(p["name"], "--no-default-features")
    for f in features:
        print(p["name"], "--no-default-features --features " + f)'
}

n=0
start=$SECONDS
while read -r package flags; do
  n=$((n + 1))
  printf '  %-12s %s\n' "$package" "${flags:-(default features)}"
  # shellcheck disable=SC2086 # flags are words
  cargo check --quiet -p "$package" --lib $flags
  # shellcheck disable=SC2086
  if [ "${tests_cmd[0]}" = clippy ]; then
    cargo clippy --quiet -p "$package" --tests $flags -- -D warnings
  else
    cargo check --quiet -p "$package" --tests $flags
  fi
done < <(combinations)
echo "feature matrix: $n combinations in $((SECONDS - start)) s"
