#!/usr/bin/env bash
# ResNet-18 for ImageNet (224x224, residual adds, 1x1 downsample convs) completes end to end.
set -euo pipefail
cimtlm=$1; src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$cimtlm" run "$src/configs/experiments/resnet18_imagenet.yaml" --out "$out" --quiet > "$out/stdout.txt"
head -12 "$out/stdout.txt"; tail -1 "$out/stdout.txt"
grep -q "resnet18_imagenet" "$out/stdout.txt"
grep -q '"fps"' "$out/report.json"
/usr/bin/python3 "$src/tests/regression/check_report.py" "$out/report.json"
grep -q "peak memory" "$out/stdout.txt"
