#!/usr/bin/env bash
# The generated references are current: docs/config-reference.md equals `cimtlm params --markdown`, and
# docs/statistics.md equals what scripts/statistics_doc.py writes now (`make docs` regenerates both).
set -euo pipefail
cimtlm=$1; src=$2
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cimtlm" params --markdown > "$tmp/config-reference.md"
diff -q "$tmp/config-reference.md" "$src/docs/config-reference.md" > /dev/null ||
  { echo "docs/config-reference.md is stale: run make docs"; diff "$tmp/config-reference.md" "$src/docs/config-reference.md" | head -20; exit 1; }
/usr/bin/python3 "$src/scripts/statistics_doc.py" "$cimtlm" "$tmp/statistics.md" > /dev/null
diff -q "$tmp/statistics.md" "$src/docs/statistics.md" > /dev/null ||
  { echo "docs/statistics.md is stale: run make docs"; diff "$tmp/statistics.md" "$src/docs/statistics.md" | head -20; exit 1; }
echo "docs: config-reference.md and statistics.md are current"
