#!/usr/bin/env bash
# cimtlm search (scripts/search.py) on a small space (ADC bits, cell bits, array size of a tiny ResNet; objectives
# TOPS/W, area and latency; one constraint):
#  - a bad space file or option gives one line naming the file and key, exit 2, before any trial runs;
#  - pareto.csv is exactly the feasible trials that no other feasible trial dominates (checked here independently);
#  - a search killed in the middle (kill -9 of its process group) and run again continues where it stopped: the
#    finished points are not redone and trials.csv equals an uninterrupted search's byte for byte;
#  - --trials extends a finished search, keeping its earlier trials; pareto.png is a PNG.
set -euo pipefail
cimtlm=$(realpath "$1"); src=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/space.yaml" << YAML
base: $src/configs/experiments/vgg8_cifar10.yaml
command: run
seed: 7
trials: 16
parallel: 4
method: nsga2
population: 4
set: {network: $src/tests/sc/platform/resnet_tiny.yaml, run.images: 1, run.threads: 1}
params:
  adc_bits: {range: [3, 7], keys: [subarray.adc_bits]}
  cell_bits: {choices: [1, 2, 4], keys: [cell.bits]}
  array: {choices: [64, 128, 256], keys: [subarray.rows, subarray.cols]}
  read_pulse: {range: [2.0e-9, 2.0e-8], log: true, keys: [cell.read_pulse]}
objectives:
  tops_per_w: max
  area_m2: min
  latency_s: min
constraints:
  - "tops_per_w >= 6"
YAML

# 1. Bad input: one line naming the file (and line) and the key; exit 2; nothing written.
expect_error() {  # expect_error SED PATTERN
  sed "$1" "$tmp/space.yaml" > "$tmp/bad.yaml"
  local rc=0
  "$cimtlm" search "$tmp/bad.yaml" --out "$tmp/bad" -q > /dev/null 2> "$tmp/err" || rc=$?
  [[ $rc -eq 2 && $(wc -l < "$tmp/err") -eq 1 ]] && grep -qF -- "$2" "$tmp/err" \
    || { echo "for '$1' (exit $rc, want 2 and '$2'):"; cat "$tmp/err"; exit 1; }
  [[ ! -e $tmp/bad/study.db ]] || { echo "a bad space started a study"; exit 1; }
}
expect_error 's/tops_per_w: max/tops_per_ww: max/' "bad.yaml:15: objectives.tops_per_ww: unknown metric 'tops_per_ww' of \`run\` (did you mean 'tops_per_w'?)"
expect_error 's/area_m2: min/area_m2: smallest/' "bad.yaml:16: objectives.area_m2: 'smallest' is not one of: max min"
expect_error 's/\[cell.bits\]/[cell.bitz]/' "bad.yaml:11: params.cell_bits: cell.bitz = 1: unknown key 'bitz' (did you mean 'bits'?)"
expect_error 's/range: \[3, 7\]/range: [3, 40]/' "bad.yaml:10: params.adc_bits: subarray.adc_bits = 40: must be in 1..16"
expect_error 's/range: \[3, 7\]/range: [7, 3]/' "bad.yaml:10: params.adc_bits.range: low 7 is not below high 3"
expect_error 's/choices: \[1, 2, 4\]/choices: 4/' "bad.yaml:11: params.cell_bits.choices: expected a non-empty list of values"
expect_error 's/run.threads: 1/run.threadz: 1/' "bad.yaml:8: set.run.threadz: unknown key 'threadz' (did you mean 'threads'?)"
expect_error 's/tops_per_w >= 6/tops_per_W >= 6/' "bad.yaml:19: constraints[0]: unknown metric 'tops_per_W' (did you mean 'tops_per_w'?)"
expect_error 's/tops_per_w >= 6/tops_per_w > 6/' "bad.yaml:19: constraints[0]: 'tops_per_w > 6' is not 'EXPR >= EXPR' or 'EXPR <= EXPR'"
expect_error 's/^method: nsga2/method: grid/' "bad.yaml:6: method: 'grid' is not one of: nsga2 tpe"
expect_error 's/^trials: 16/trialz: 16/' "bad.yaml:4: trialz: unknown key 'trialz' (did you mean 'trials'?)"
expect_error 's/^base: .*/base: nosuch.yaml/' "bad.yaml:1: base: nosuch.yaml: file not found"
expect_error 's/^params:/params: [/' "bad.yaml:11: malformed YAML"
rc=0; "$cimtlm" search "$tmp/nosuch.yaml" -q 2> "$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -qxF "cimtlm: error: $tmp/nosuch.yaml: file not found" "$tmp/err" || { cat "$tmp/err"; exit 1; }
rc=0; "$cimtlm" search "$tmp/space.yaml" --no-wait -q 2> "$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q -- "error: --no-wait: " "$tmp/err" || { cat "$tmp/err"; exit 1; }

# 2. The reference: one uninterrupted search.
"$cimtlm" search "$tmp/space.yaml" --out "$tmp/ref" --jobs 2 > "$tmp/ref.out" 2> "$tmp/ref.err"
grep -q "search space: 16 trials" "$tmp/ref.out" || { cat "$tmp/ref.out" "$tmp/ref.err"; exit 1; }
[[ $(head -c 8 "$tmp/ref/pareto.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || { echo "pareto.png is no PNG"; exit 1; }

# pareto.csv: the feasible, complete trials that no feasible trial dominates (a repeated design counts once);
# trials.csv: 16 rows, trial numbers 0..15; the report metrics the driver knows are those the reports have.
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 - "$tmp/ref" "$src/scripts" << 'PY'
import csv, json, os, sys
out = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import search
rows = list(csv.DictReader(open(os.path.join(out, "trials.csv"))))
assert [int(r["trial"]) for r in rows] == list(range(16)), [r["trial"] for r in rows]
objs = [("tops_per_w", 1), ("area_m2", -1), ("latency_s", -1)]
def better_eq(a, b): return all(s * float(a[m]) >= s * float(b[m]) for m, s in objs)
def dominates(a, b): return better_eq(a, b) and any(s * float(a[m]) > s * float(b[m]) for m, s in objs)
done = [r for r in rows if r["state"] == "COMPLETE"]
assert len(done) == 16, "failed trials in a valid space"
for r in done:
    assert int(r["feasible"]) == (float(r["tops_per_w"]) >= 6), r
feas = [r for r in done if r["feasible"] == "1" and r["same_as"] == ""]
assert feas and len(feas) < 16, "the constraint should cut some trials and keep others"
front = [r for r in feas if not any(dominates(o, r) for o in feas)]
pareto = list(csv.DictReader(open(os.path.join(out, "pareto.csv"))))
assert [r["trial"] for r in pareto] == [r["trial"] for r in front], ([r["trial"] for r in pareto], [r["trial"] for r in front])
assert all(r["pareto"] == ("1" if r in front else "0") for r in rows)
for a in pareto:
    for b in pareto:
        assert a is b or not dominates(a, b), f"trial {a['trial']} dominates {b['trial']} on the front"
designs = {(r["adc_bits"], r["cell_bits"], r["array"], r["read_pulse"]) for r in rows}
assert len(designs) >= 8, f"only {len(designs)} distinct designs in 16 trials"
# The metrics scripts/search.py lists are exactly the numeric summary keys of a run without a dataset (+ those of one).
keys = set()
for r in done:
    s = json.load(open(os.path.join(out, r["point"], "report.json")))["summary"]
    keys |= {k for k, v in s.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
assert keys == set(search.RUN_METRICS) - search.DATASET_METRICS, keys ^ (set(search.RUN_METRICS) - search.DATASET_METRICS)
PY

# 3. Killed in the middle and run again: continues, redoes no finished point, ends as the reference did.
setsid "$cimtlm" search "$tmp/space.yaml" --out "$tmp/res" --jobs 1 -q > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  n=$( (find "$tmp/res/batches" -name point.json 2> /dev/null || true) | wc -l)
  [[ $n -ge 6 ]] && break
  sleep 0.05
done
kill -KILL -- "-$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
# A finished point is one with its point.json (written after the worker's report passed its checks); a report
# whose point.json the kill prevented is recomputed by design, so only finished points must keep their report.
killed=$(find "$tmp/res/batches" -name point.json | wc -l)
[[ $killed -ge 6 ]] || { echo "the search had not run 6 trials"; exit 1; }
stamps=$(find "$tmp/res/batches" -name point.json -printf '%h\n' | while read -r d; do find "$d" -maxdepth 1 -name report.json -printf '%p %T@\n'; done)
"$cimtlm" search "$tmp/space.yaml" --out "$tmp/res" --jobs 2 > /dev/null 2> "$tmp/res.err"
after=$(find "$tmp/res/batches" -name report.json -printf '%p %T@\n')
redone=$(comm -23 <(sort <<< "$stamps") <(sort <<< "$after"))
[[ -z $redone ]] || { echo "finished points were redone: $redone"; exit 1; }
cmp "$tmp/ref/trials.csv" "$tmp/res/trials.csv" || { echo "the resumed search differs from the uninterrupted one"; diff "$tmp/ref/trials.csv" "$tmp/res/trials.csv" | head; exit 1; }
cmp "$tmp/ref/pareto.csv" "$tmp/res/pareto.csv"

# 4. --trials extends a finished search: the first 16 trials stay, 4 more run.
"$cimtlm" search "$tmp/space.yaml" --out "$tmp/res" --trials 20 -q > /dev/null
[[ $(($(wc -l < "$tmp/res/trials.csv") - 1)) -eq 20 ]]
cmp <(head -17 "$tmp/ref/trials.csv" | cut -d, -f1-4,6-12) <(head -17 "$tmp/res/trials.csv" | cut -d, -f1-4,6-12)
# A finished search run again does nothing new.
"$cimtlm" search "$tmp/space.yaml" --out "$tmp/res" --trials 20 -q > /dev/null
[[ $(($(wc -l < "$tmp/res/trials.csv") - 1)) -eq 20 ]]
# Another space in the same folder is refused.
sed 's/^seed: 7/seed: 8/' "$tmp/space.yaml" > "$tmp/other.yaml"
rc=0; "$cimtlm" search "$tmp/other.yaml" --out "$tmp/res" -q 2> "$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "study.db: holds a search of another space" "$tmp/err" || { cat "$tmp/err"; exit 1; }

echo "search: $(($(wc -l < "$tmp/ref/pareto.csv") - 1)) trial(s) on the front of 16; killed after $killed point(s) and resumed to the same trials"
