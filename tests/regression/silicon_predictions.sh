#!/usr/bin/env bash
# Regression of the blind silicon predictions (docs/validation-silicon.md): every configs/macros experiment and every
# published sweep point is run, and its predicted TOPS/W, TOPS and area must equal the pinned figures of
# tests/validation/silicon/predictions.json within 1e-6 (relative). It pins predictions, it does not validate them:
# a change that moves them must re-pin (scripts/silicon_compare.py --write-pins) and update the doc's tables.
set -euo pipefail
cimtlm=$1
src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 "$src/scripts/silicon_compare.py" --cimtlm "$cimtlm" --macros "$src/configs/macros" \
    --measured "$src/tests/validation/silicon/measured.yaml" --out "$out" \
    --check-pins "$src/tests/validation/silicon/predictions.json" --rtol 1e-6
