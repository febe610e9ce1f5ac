#!/usr/bin/env bash
# run_case.sh CIMTLM COMPARE SOURCE_DIR CASE [--update-golden]
# Runs tests/regression/CASE/config.yaml and compares report.json with CASE/expected.json (run block ignored).
set -euo pipefail
cimtlm=$1; compare=$2; src=$3; case=$4; update=${5:-}
dir="$src/tests/regression/$case"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$cimtlm" run "$dir/config.yaml" --out "$out" --quiet > "$out/stdout.txt"
if [ "$update" = "--update-golden" ]; then
  cp "$out/report.json" "$dir/expected.json"
  echo "updated $dir/expected.json"
  exit 0
fi
# Relative tolerance 1e-6: the same binary gives identical bytes; the tolerance absorbs libm differences.
"$compare" "$dir/expected.json" "$out/report.json" --rel 1e-6
echo "regression $case: report.json matches expected.json"
