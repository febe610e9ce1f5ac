#!/usr/bin/env bash
# Issue 22, finding 6: VGG-8 with 64x64 subarrays (offset encoding, 5-bit full-scale ADC) computes activations that die
# out layer by layer (below 1 % of conv1's input-bit density by fc1 or fc2, and 0 at fc2). The run must say so in its table and in report.json; the same design at 128x128 must not.
set -euo pipefail
cimtlm=$1; src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfg="$src/configs/experiments/vgg8_cifar10.yaml"
"$cimtlm" run "$cfg" --set subarray.rows=64 --set subarray.cols=64 --out "$tmp/r64" -q > "$tmp/table64" 2> "$tmp/err64"
grep -q "^warning: activations collapse: .*reaches 0 at fc2" "$tmp/table64" || { echo "no collapse warning in the table:"; cat "$tmp/table64"; exit 1; }
grep -q "cimtlm: warning: activations collapse" "$tmp/err64" || { echo "no warning on stderr"; exit 1; }
/usr/bin/python3 - "$tmp/r64/report.json" <<'PY' || exit 1
import json, sys
w = json.load(open(sys.argv[1]))["warnings"]
assert len(w) == 1 and w[0]["check"] == "activation_collapse", w
assert w[0]["reference_layer"] == "conv1" and w[0]["dead_layer"] == "fc2", w
assert w[0]["input_bit_density"] < 0.01 * w[0]["reference_input_bit_density"], w
PY
"$cimtlm" run "$cfg" --out "$tmp/r128" -q > "$tmp/table128"
! grep -q "warning" "$tmp/table128" || { echo "a warning at 128x128:"; cat "$tmp/table128"; exit 1; }
/usr/bin/python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["warnings"]; assert w == [], w' "$tmp/r128/report.json"
echo "collapse: 64x64 warns (dead at fc2) in the table and report.json; 128x128 does not"
