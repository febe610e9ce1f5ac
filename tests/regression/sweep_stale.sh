#!/usr/bin/env bash
# Issue 22, finding 1: a sweep never reports a stale result. Changing the shared `set:` so that every point fails
# must not leave the old numbers in results.csv, and a re-run must not call the points finished; an edit of the base
# config recomputes the points it changes; the earlier outputs are kept under stale/, never deleted.
set -uo pipefail
cimtlm=$1; src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
rows() { echo $(( $(wc -l < "$tmp/out/results.csv") - 1 )); }
cp "$src/configs/experiments/vgg8_cifar10.yaml" "$tmp/base.yaml"
sed -i "s|^network: .*|network: $src/tests/sc/platform/resnet_tiny.yaml|; s|\.\./tech/|$src/configs/tech/|; s|\.\./cells/|$src/configs/cells/|; s|\.\./chips/|$src/configs/chips/|; s|\.\./calibration/|$src/configs/calibration/|" "$tmp/base.yaml"
sweep() {
  cat > "$tmp/s.sweep.yaml" <<YAML
base: $tmp/base.yaml
out: $tmp/out
set: {mapping.tiles: $1}
grid:
  subarray.adc_bits: [4, 5]
YAML
  "$cimtlm" sweep "$tmp/s.sweep.yaml" --jobs 2 > "$tmp/log" 2>&1
}
sweep 0 || fail "the first sweep failed: $(cat "$tmp/log")"
[ "$(rows)" -eq 2 ] || fail "results.csv has $(rows) rows, expected 2"
# mapping.tiles 3 is too small for the network: every point now fails.
sweep 3; rc=$?
[ $rc -eq 5 ] || fail "the sweep with failing points exited $rc, expected 5"
[ "$(rows)" -eq 0 ] || fail "results.csv still shows $(rows) row(s) of the old configuration: $(cat "$tmp/out/results.csv")"
sweep 3; rc=$?
[ $rc -eq 5 ] || fail "the re-run called the failed points finished (exit $rc)"
grep -q "0 already finished" "$tmp/log" || fail "the re-run skipped points: $(cat "$tmp/log")"
n=$(ls "$tmp"/out/points/*/stale/1/report.json | wc -l)
[ "$n" -eq 2 ] || fail "the earlier reports were not kept under stale/ ($n)"
# Back to the working set: both points run again and count.
sweep 0 || fail "the sweep back at mapping.tiles 0 failed"
[ "$(rows)" -eq 2 ] || fail "results.csv has $(rows) rows after the recovery"
sweep 0 || fail "a finished sweep re-ran with errors"
grep -q "2 already finished" "$tmp/log" || fail "an unchanged sweep re-ran its points: $(cat "$tmp/log")"
# An edit of the base config (not of the sweep file) changes the resolved configuration: both points recompute.
sed -i 's/^seed: 1$/seed: 2/' "$tmp/base.yaml"
sweep 0 || fail "the sweep after the base edit failed"
grep -q "0 already finished" "$tmp/log" || fail "an edited base config did not recompute the points: $(cat "$tmp/log")"
grep -q '"seed": 2' "$tmp"/out/points/p0000*/point.json || fail "point.json does not record the resolved config"
grep -q '"version"' "$tmp"/out/points/p0000*/point.json || fail "point.json does not record the program version"
echo "sweep_stale: failed points leave no rows, re-runs recompute them, a base edit recomputes, old outputs kept in stale/"
