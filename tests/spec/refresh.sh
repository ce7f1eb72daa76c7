#!/usr/bin/env bash
# The vendored MCP specification data under tests/spec/ and its manifest.
#
#   tests/spec/refresh.sh --check          every vendored file is listed in MANIFEST
#                                          with its git blob id, and nothing else is
#                                          here (scripts/test.sh runs this; offline)
#   tests/spec/refresh.sh COMMIT [CLONE]   copies the files from
#                                          modelcontextprotocol/modelcontextprotocol at
#                                          COMMIT (from CLONE, an existing clone, or
#                                          fetched from GitHub) and rewrites MANIFEST
#
# A blob id is `git hash-object FILE`: a byte-identical copy has the blob id
# the upstream repository has for that path at that commit
# (`git -C CLONE rev-parse COMMIT:schema/<version>/schema.json`).
set -euo pipefail
cd "$(dirname "$0")"
VERSIONS="2025-03-26 2025-06-18 2025-11-25 2026-07-28"
EXAMPLES=2026-07-28
UPSTREAM=https://github.com/modelcontextprotocol/modelcontextprotocol.git

# "<blob id>  <path>" for every vendored data file, sorted by path.
listing() {
  find . -type f ! -name README.md ! -name MANIFEST ! -name refresh.sh | sed 's|^\./||' | LC_ALL=C sort \
    | while read -r f; do printf '%s  %s\n' "$(git hash-object "$f")" "$f"; done
}

if [ "${1:-}" = "--check" ]; then
  if ! diff <(grep -v '^#' MANIFEST) <(listing) >/dev/null; then
    echo "tests/spec differs from tests/spec/MANIFEST (< manifest, > files here):" >&2
    diff <(grep -v '^#' MANIFEST) <(listing) >&2 || true
    echo "vendored spec data is refreshed with tests/spec/refresh.sh COMMIT, never edited by hand" >&2
    exit 1
  fi
  echo "tests/spec: $(grep -vc '^#' MANIFEST) files match MANIFEST ($(grep '^# commit' MANIFEST))"
  exit 0
fi

COMMIT=${1:?usage: tests/spec/refresh.sh --check | COMMIT [CLONE]}
CLONE=${2:-}
if [ -z "$CLONE" ]; then
  CLONE=$(mktemp -d)
  trap 'rm -rf "$CLONE"' EXIT
  git -C "$CLONE" init -q
  git -C "$CLONE" fetch -q --depth 1 --filter=blob:none "$UPSTREAM" "$COMMIT"
fi
COMMIT=$(git -C "$CLONE" rev-parse "$COMMIT^{commit}")
for v in $VERSIONS; do
  rm -rf "$v"
  mkdir -p "$v"
  git -C "$CLONE" show "$COMMIT:schema/$v/schema.json" >"$v/schema.json"
done
git -C "$CLONE" archive "$COMMIT" "schema/$EXAMPLES/examples" | tar -x --strip-components=1 -f -
{
  echo "# modelcontextprotocol/modelcontextprotocol"
  echo "# commit $COMMIT ($(git -C "$CLONE" show -s --format=%cI "$COMMIT"))"
  echo "# <git blob id>  <path here> (= schema/<path> upstream)"
  listing
} >MANIFEST
echo "refreshed from $COMMIT: $(grep -vc '^#' MANIFEST) files; review 'git diff --stat tests/spec' and the tests"
