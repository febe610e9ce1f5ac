#!/usr/bin/env bash
# `cimtlm accuracy` end to end on Debian's Fashion-MNIST (skipped without the package), and the same run on
# seeded synthetic data: report.json carries summary.accuracy and summary.accuracy_ideal, and two thread counts
# give the same accuracy.
set -euo pipefail
cimtlm=$1; compare=$2; src=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cfg="$src/configs/experiments/fmnist_accuracy.yaml"
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  data=fashion-mnist
else
  echo "dataset-fashion-mnist not installed: using synthetic:60"; data=synthetic:60
fi
"$cimtlm" accuracy "$cfg" --dataset "$data" --limit 60 --threads 1 --out "$out/a" -q > "$out/a.txt"
"$cimtlm" accuracy "$cfg" --dataset "$data" --limit 60 --threads 2 --out "$out/b" -q > "$out/b.txt"
cat "$out/a.txt"
grep -q '"accuracy":' "$out/a/report.json"
grep -q '"accuracy_ideal":' "$out/a/report.json"
# The printed results are identical apart from the wall-time line and the output folder.
diff <(grep -v -e "wall time" -e "^wrote" "$out/a.txt") <(grep -v -e "wall time" -e "^wrote" "$out/b.txt")
# Real images through the SystemC platform too.
"$cimtlm" run "$cfg" --dataset "$data" --set run.images=2 --out "$out/r" -q > /dev/null
grep -q '"fps"' "$out/r/report.json"
/usr/bin/python3 "$src/tests/regression/check_report.py" "$out/r/report.json"
echo "accuracy: same results with 1 and 2 threads; platform ran $data images"
