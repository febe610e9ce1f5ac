#!/usr/bin/env bash
# run_case.sh CIMTLM COMPARE SOURCE_DIR CASE [--update-golden]
# Runs tests/regression/CASE/config.yaml, checks the report's invariants (check_report.py: components sum to the
# totals), and compares its summary, breakdown and layers with CASE/expected.json. The components are not in the
# golden: the invariants check them, and the golden stays small enough to review.
set -euo pipefail
cimtlm=$1; compare=$2; src=$3; case=$4; update=${5:-}
dir="$src/tests/regression/$case"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$cimtlm" run "$dir/config.yaml" --out "$out" --quiet > "$out/stdout.txt"
/usr/bin/python3 "$src/tests/regression/check_report.py" "$out/report.json"
if [ "$update" = "--update-golden" ]; then
  /usr/bin/python3 - "$out/report.json" "$dir/expected.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
json.dump({k: r[k] for k in ("schema", "summary", "breakdown", "layers")}, open(sys.argv[2], "w"), indent=2)
open(sys.argv[2], "a").write("\n")
PY
  echo "updated $dir/expected.json"
  exit 0
fi
# Relative tolerance 1e-6: the same binary gives identical bytes; the tolerance absorbs libm differences.
"$compare" "$dir/expected.json" "$out/report.json" --rel 1e-6 --keys schema,summary,breakdown,layers
echo "regression $case: report.json matches expected.json"
