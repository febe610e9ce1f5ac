#!/usr/bin/env bash
# The paper-reproduction experiments at reduced size (tests/regression/experiments/figN.yaml, a few points and few
# images each): every sweep runs, its plot renders, and scripts/check_claims.py asserts the qualitative claims of
# Figs. 3-7 (docs/results.md). The accuracy experiments need Debian's dataset-fashion-mnist; without it they are skipped.
set -euo pipefail
cimtlm=$1; src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
figs=(fig5 fig6 fig7)
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  figs=(fig3 fig4 "${figs[@]}")
else
  echo "SKIPPED: fig3 and fig4 (dataset-fashion-mnist is not installed; make test installs it)"
fi
for f in "${figs[@]}"; do
  echo "== $f"
  "$cimtlm" sweep "$src/tests/regression/experiments/$f.yaml" --jobs 2 -q --out "$tmp/$f" > /dev/null
  /usr/bin/python3 "$src/scripts/plot_results.py" "$f" "$tmp/$f/results.csv" "$tmp/$f.png" > /dev/null
  [ -s "$tmp/$f.png" ]
  /usr/bin/python3 "$src/scripts/check_claims.py" "$f" "$tmp/$f/results.csv"
done
