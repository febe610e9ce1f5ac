#!/usr/bin/env bash
# cimtlm sweep --backend slurm on a real single-node Slurm cluster started here (scripts/local_slurm.sh: munged,
# slurmctld and slurmd with their configuration and state in this test's temp folder):
#  - bad options fail before anything is submitted;
#  - a sweep whose client is killed is re-attached by a re-run (nothing submitted twice), a cancelled job leaves
#    its missing points reported as failed (exit 5), and the next run submits only those, several per task;
#  - every report.json equals the local backend's byte for byte outside its `run` block, and results.csv is equal;
#  - a point that fails is reported with the tail of its log;
#  - a search on the Slurm backend gives the same trials.csv and pareto.csv as on the local one.
# Skips (with the reason) only when the daemons cannot start on a machine without the packages or without root;
# where `make test` set the machine up (root, slurm-wlm and munge installed) a cluster that does not start fails.
set -euo pipefail
cimtlm=$(realpath "$1"); src=$(realpath "$2")
tmp=$(mktemp -d)
cluster=$tmp/cluster
cleanup() {
  bash "$src/scripts/local_slurm.sh" stop "$cluster" > /dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

if ! bash "$src/scripts/local_slurm.sh" start "$cluster" > "$tmp/start.log" 2>&1; then
  reason=$(tail -1 "$tmp/start.log")
  if [[ $(id -u) -eq 0 ]] && dpkg-query -W -f='${Status}' slurm-wlm munge 2> /dev/null | grep -c "install ok installed" | grep -q 2; then
    echo "the Slurm cluster did not start on a machine with slurm-wlm and munge, as root: $reason"
    cat "$tmp/start.log"
    exit 1
  fi
  echo "SKIPPED: no Slurm cluster here: $reason"
  exit 0
fi
export SLURM_CONF=$cluster/slurm.conf
echo "cluster up: $(sinfo -h -o '%P %D %C' | tr '\n' ' ')"

cat > "$tmp/s.sweep.yaml" << YAML
base: $src/configs/experiments/vgg8_cifar10.yaml
command: run
out: $tmp/local
set: {network: $src/tests/sc/platform/resnet_tiny.yaml, run.images: 1, run.threads: 1}
grid:
  subarray.adc_bits: [3, 4, 5]
  cell.bits: [1, 2]
YAML
n=6
slurm=(--backend slurm --out "$tmp/slurm" --poll 0.3)

# Bad options: one line naming the option, exit 2, no job submitted.
expect_error() {  # expect_error PATTERN ARGS...
  local pattern=$1; shift
  if "$cimtlm" sweep "$tmp/s.sweep.yaml" -q "$@" > /dev/null 2> "$tmp/err"; then echo "accepted: $*"; exit 1; fi
  [[ $(wc -l < "$tmp/err") -eq 1 ]] && grep -q -- "$pattern" "$tmp/err" || { echo "for $*:"; cat "$tmp/err"; exit 1; }
}
expect_error "error: --time: '5x' is not a Slurm time limit" "${slurm[@]}" --time 5x
expect_error "error: --partition: no partition 'nosuch'" "${slurm[@]}" --partition nosuch
expect_error "error: --time: '20' is over the MaxTime 00:10:00 of partition short" "${slurm[@]}" --partition short --time 20
expect_error "error: --jobs: only for --backend local" "${slurm[@]}" --jobs 2
expect_error "error: --max-running: only for --backend slurm" --max-running 2
[[ -z $(squeue -h -o %i) ]] || { echo "a bad command submitted a job"; exit 1; }
[[ ! -e $tmp/slurm/slurm ]] || { echo "a bad command left a submission"; exit 1; }

# The reference: the local backend.
"$cimtlm" sweep "$tmp/s.sweep.yaml" --jobs 2 -q > /dev/null

done_points() { (ls "$tmp"/slurm/points/*/report.json 2> /dev/null || true) | wc -l; }
wait_points() {  # wait_points N: until N points have their report (30 s at most)
  for _ in $(seq 1 300); do [[ $(done_points) -ge $1 ]] && return 0; sleep 0.1; done
  echo "timed out waiting for $1 points ($(done_points) finished)"; squeue -r; exit 1
}

# 1. One task at a time; the client is killed after two points. The job runs on.
setsid "$cimtlm" sweep "$tmp/s.sweep.yaml" "${slurm[@]}" --max-running 1 --per-task 1 > /dev/null 2> "$tmp/run1.err" &
client=$!
wait_points 2
kill -KILL -- "-$client"
wait "$client" 2> /dev/null || true
job=$(cat "$tmp/slurm/slurm/s001/job_id")
[[ -n $(squeue -h -j "$job" -o %i) ]] || { echo "the job ended with its client"; exit 1; }
grep -q "submitted Slurm job $job: $n point(s) in $n array task(s), 1 per task" "$tmp/run1.err"

# 2. A re-run attaches to the job (submits nothing); the job is cancelled after four points.
"$cimtlm" sweep "$tmp/s.sweep.yaml" "${slurm[@]}" --max-running 1 > /dev/null 2> "$tmp/run2.err" &
client=$!
wait_points 4
scancel "$job"
rc=0; wait "$client" || rc=$?
[[ $rc -eq 5 ]] || { echo "a cancelled sweep exited $rc, expected 5"; cat "$tmp/run2.err"; exit 1; }
grep -q "attached to Slurm job $job" "$tmp/run2.err" || { echo "no re-attach:"; cat "$tmp/run2.err"; exit 1; }
[[ $(ls "$tmp/slurm/slurm") == s001 ]] || { echo "the re-run submitted again while the job was queued"; exit 1; }
missing=$((n - $(done_points)))
[[ $missing -ge 1 ]] || { echo "every point finished before the cancel"; exit 1; }
[[ $(grep -c "failed: .*CANCELLED" "$tmp/run2.err") -eq $missing ]] || { echo "cancelled points not reported:"; cat "$tmp/run2.err"; exit 1; }
stamps=$(stat -c '%n %Y.%y' "$tmp"/slurm/points/*/report.json)

# 3. The next run submits only the missing points, several per task (their time is measured now), and completes.
"$cimtlm" sweep "$tmp/s.sweep.yaml" "${slurm[@]}" --max-running 1 > /dev/null 2> "$tmp/run3.err"
grep -q "$((n - missing)) already finished, $missing to run on Slurm" "$tmp/run3.err" || { cat "$tmp/run3.err"; exit 1; }
/usr/bin/python3 - "$tmp/slurm/slurm/s002/manifest.json" "$missing" << 'PY'
import json, sys
m = json.load(open(sys.argv[1]))
points = [p["point"] for t in m["tasks"] for p in t]
assert len(points) == int(sys.argv[2]), f"resubmitted {points}"
if len(points) > 1:
    assert len(m["tasks"]) < len(points), f"short points not bundled: {m['tasks']}"
PY
for f in $(echo "$stamps" | cut -d' ' -f1); do
  grep -qxF "$f $(stat -c '%Y.%y' "$f")" <<< "$stamps" || { echo "a finished point was redone: $f"; exit 1; }
done

# 4. Same results as the local backend: report.json byte for byte outside its run block, counts.json, layers.csv,
#    results.csv.
cmp "$tmp/local/results.csv" "$tmp/slurm/results.csv"
for d in "$tmp"/local/points/*/; do
  p=$(basename "$d")
  /usr/bin/python3 - "$d/report.json" "$tmp/slurm/points/$p/report.json" << 'PY'
import re, sys
a, b = (re.sub(r'\n  "run": \{.*?\n  \},', "", open(f).read(), count=1, flags=re.S) for f in sys.argv[1:])
assert '\n  "run": {' not in a and '\n  "summary": {' in a, "no run block removed"
assert a == b, f"report.json differs from the local backend's: {sys.argv[2]}"
PY
  cmp "$d/counts.json" "$tmp/slurm/points/$p/counts.json"
  cmp "$d/layers.csv" "$tmp/slurm/points/$p/layers.csv"
done

# 5. A point that fails (the chip is fixed at one tile) is reported with the end of its log; exit 5.
cat > "$tmp/f.sweep.yaml" << YAML
base: $src/configs/experiments/vgg8_cifar10.yaml
out: $tmp/fail
set: {network: $src/tests/sc/platform/resnet_tiny.yaml, run.images: 1, run.threads: 1}
list:
  - {mapping.tiles: 0}
  - {mapping.tiles: 1}
YAML
rc=0; "$cimtlm" sweep "$tmp/f.sweep.yaml" --backend slurm --poll 0.3 > /dev/null 2> "$tmp/fail.err" || rc=$?
[[ $rc -eq 5 ]] || { echo "a failed point gave exit $rc"; cat "$tmp/fail.err"; exit 1; }
grep -q "point 1 failed: exit code 3; the end of .*/p0001_tiles=1/log.txt:" "$tmp/fail.err" || { cat "$tmp/fail.err"; exit 1; }
grep -q "    | cimtlm: model error: mapping.tiles: the network needs" "$tmp/fail.err" || { cat "$tmp/fail.err"; exit 1; }
[[ $(($(wc -l < "$tmp/fail/results.csv") - 1)) -eq 1 ]]

# 6. A search on the Slurm backend proposes and measures the same trials as on the local one (two batches).
cat > "$tmp/space.yaml" << YAML
base: $src/configs/experiments/vgg8_cifar10.yaml
seed: 5
trials: 6
parallel: 3
population: 3
set: {network: $src/tests/sc/platform/resnet_tiny.yaml, run.images: 1, run.threads: 1}
params:
  adc_bits: {range: [3, 7], keys: [subarray.adc_bits]}
  cell_bits: {choices: [1, 2, 4], keys: [cell.bits]}
objectives: {tops_per_w: max, area_m2: min}
YAML
"$cimtlm" search "$tmp/space.yaml" --out "$tmp/search_local" -q > /dev/null
"$cimtlm" search "$tmp/space.yaml" --out "$tmp/search_slurm" --backend slurm --poll 0.3 -q > /dev/null
cmp "$tmp/search_local/trials.csv" "$tmp/search_slurm/trials.csv"
cmp "$tmp/search_local/pareto.csv" "$tmp/search_slurm/pareto.csv"
[[ -f $tmp/search_slurm/batches/b0001/slurm/s001/job_id ]] || { echo "the search's second batch did not run on Slurm"; exit 1; }

echo "sweep_slurm: killed client re-attached, cancelled job resumed with $missing point(s), $n reports equal the local backend's"
