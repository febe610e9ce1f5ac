#!/usr/bin/env bash
# cimtlm sweep: a killed sweep loses nothing, and re-running it completes without redoing finished points.
set -euo pipefail
cimtlm=$1; src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/s.sweep.yaml" <<YAML
base: $src/configs/experiments/vgg8_cifar10.yaml
command: run
out: $tmp/out
set: {network: $src/tests/sc/platform/resnet_tiny.yaml, run.images: 1}
grid:
  subarray.adc_bits: [3, 4, 5, 6]
  cell.bits: [1, 2, 4]
YAML
# A bad key fails before anything runs, naming the sweep file.
sed 's/cell.bits/cell.bitz/' "$tmp/s.sweep.yaml" > "$tmp/bad.sweep.yaml"
if "$cimtlm" sweep "$tmp/bad.sweep.yaml" -q 2> "$tmp/err"; then echo "bad sweep accepted"; exit 1; fi
grep -q "bad.sweep.yaml" "$tmp/err" && grep -q "bitz" "$tmp/err"
# Start, let some points finish, kill the whole process group. A point is finished once the sweep committed its
# point.json (after the worker exited 0); a report.json without it is recomputed on the re-run.
setsid "$cimtlm" sweep "$tmp/s.sweep.yaml" --jobs 1 -q > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  n=$( (find "$tmp/out/points" -name point.json 2> /dev/null || true) | wc -l)
  [ "$n" -ge 3 ] && break
  sleep 0.1
done
kill -TERM -- "-$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
before=$(ls "$tmp"/out/points/*/point.json | wc -l)
[ "$before" -ge 3 ] || { echo "no point finished before the kill"; exit 1; }
[ "$before" -lt 12 ] || { echo "the sweep finished before it could be killed"; exit 1; }
stamp=$(stat -c %Y.%N "$tmp"/out/points/p0000*/report.json)
"$cimtlm" sweep "$tmp/s.sweep.yaml" --jobs 2 2> "$tmp/log" > /dev/null
grep -q "$before already finished" "$tmp/log" || { echo "finished points were not skipped:"; cat "$tmp/log"; exit 1; }
[ "$stamp" = "$(stat -c %Y.%N "$tmp"/out/points/p0000*/report.json)" ] || { echo "a finished point was redone"; exit 1; }
rows=$(($(wc -l < "$tmp/out/results.csv") - 1))
[ "$rows" -eq 12 ] || { echo "results.csv has $rows rows, expected 12"; exit 1; }
head -1 "$tmp/out/results.csv" | grep -q "^point,subarray.adc_bits,cell.bits,network,mode,images,area_m2"
echo "sweep: killed after $before of 12 points; the re-run skipped them and completed results.csv"
