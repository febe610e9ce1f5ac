#!/usr/bin/env bash
# Same inputs and seed give the same bytes: two runs, compared exactly (report without its run block, layers.csv).
set -euo pipefail
cimtlm=$1; compare=$2; src=$3
a=$(mktemp -d); b=$(mktemp -d)
trap 'rm -rf "$a" "$b"' EXIT
cfg="$src/configs/experiments/vgg8_cifar10.yaml"
"$cimtlm" run "$cfg" --out "$a" --quiet --set run.images=2 > "$a/stdout.txt"
"$cimtlm" run "$cfg" --out "$b" --quiet --set run.images=2 > "$b/stdout.txt"
cmp "$a/layers.csv" "$b/layers.csv"
"$compare" "$a/report.json" "$b/report.json" --exact
# The table on stdout is byte-identical except the wall-time line.
diff <(grep -v "wall time" "$a/stdout.txt" | grep -v "^wrote") <(grep -v "wall time" "$b/stdout.txt" | grep -v "^wrote")
# A different seed changes the data-dependent energy.
"$cimtlm" run "$cfg" --out "$b" --quiet --seed 7 > /dev/null
if "$compare" "$a/report.json" "$b/report.json" --exact > /dev/null; then
  echo "a different seed gave an identical report"; exit 1
fi
echo "deterministic: identical outputs for the same seed, different for another seed"
