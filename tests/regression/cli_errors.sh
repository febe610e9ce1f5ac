#!/usr/bin/env bash
# Bad input gives one clear error line naming the file/line/key and a non-zero exit, never a crash.
set -uo pipefail
cimtlm=$1; src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() {  # expect NAME EXPECTED_EXIT REGEX -- command...
  local name=$1 code=$2 regex=$3; shift 4
  "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  local lines
  lines=$(wc -l < "$tmp/err")
  if [ "$rc" -ne "$code" ] || ! grep -Eq -- "$regex" "$tmp/err" || [ "$lines" -ne 1 ]; then
    echo "FAIL $name: exit $rc (want $code), $lines line(s) on stderr:"; cat "$tmp/err"; fail=1
  else
    echo "ok   $name: $(cat "$tmp/err")"
  fi
}
cfg="$src/configs/experiments/vgg8_cifar10.yaml"
printf 'network: %s\nsubarray:\n  rows: 128\n  colz: 64\n' "$src/configs/networks/vgg8_cifar10.yaml" > "$tmp/unknown.yaml"
expect unknown_key 2 "unknown.yaml:4: subarray.colz: unknown key 'colz' \(did you mean 'cols'\?\)" -- "$cimtlm" run "$tmp/unknown.yaml" --out "$tmp/o" -q
printf 'technology:\n  lstp:\n    vdd: 3 ns\n' > "$tmp/unit.yaml"
expect bad_unit 2 "unit.yaml:3: technology.lstp.vdd: '3 ns' has unit s, expected a value in V" -- "$cimtlm" run "$tmp/unit.yaml" --out "$tmp/o" -q
expect missing_device 2 "technology.device: this node gives no high-performance transistors" -- "$cimtlm" run "$cfg" \
  --set technology="$src/configs/tech/5nm.yaml" --set technology.device=hp --out "$tmp/o" -q
expect missing_file 2 "nope.yaml: file not found" -- "$cimtlm" run "$tmp/nope.yaml" --out "$tmp/o" -q
printf 'subarray: {rows: 128\n' > "$tmp/bad.yaml"
expect malformed_yaml 2 "bad.yaml:[0-9]+: malformed YAML" -- "$cimtlm" run "$tmp/bad.yaml" --out "$tmp/o" -q
expect out_of_range 2 "subarray.rows: must be in 2..4096" -- "$cimtlm" run "$cfg" --set subarray.rows=1 --out "$tmp/o" -q
expect set_unknown 2 "--set: subarray.rwos: unknown key 'rwos' \(did you mean 'rows'\?\)" -- "$cimtlm" run "$cfg" --set subarray.rwos=3 --out "$tmp/o" -q
expect bad_choice 2 "readout: 'paralel' is not one of" -- "$cimtlm" run "$cfg" --set subarray.readout=paralel --out "$tmp/o" -q
expect chip_too_small 3 "mapping.tiles: the network needs 25 tiles but the chip is fixed at 4" -- "$cimtlm" run "$cfg" --set mapping.tiles=4 --out "$tmp/o" -q
# A global buffer that cannot hold the activations the layers need at once: one line naming the key and the layer,
# before any simulated time (the run once stopped mid-way in a deadlock).
expect buffer_too_small 3 "model error: chip.global_buffer.size: layer b0_[a-z0-9_]+ needs [0-9]+ B of live activations" -- "$cimtlm" run "$cfg" \
  --set network="$src/configs/networks/bert_base.yaml" --set run.dataset=synthetic --set 'chip.global_buffer.size=64 KiB' --out "$tmp/o" -q
printf '32,32,3,3,3,x,0,1\n' > "$tmp/net.csv"
expect bad_csv 2 "net.csv:1" -- "$cimtlm" map "$cfg" --set network="$tmp/net.csv"
# Datasets: a missing file, a file of the wrong kind, an image shape the network cannot take, a bad spec.
acc="$src/configs/experiments/fmnist_accuracy.yaml"
expect dataset_missing 2 "nope-images: file not found" -- "$cimtlm" accuracy "$acc" --dataset "idx:$tmp/nope-images,$tmp/nope-labels" --out "$tmp/o" -q
printf 'not an idx file' > "$tmp/bad-images"; printf 'x' > "$tmp/bad-labels"
expect dataset_magic 2 "bad-images: .*(magic|truncated)" -- "$cimtlm" accuracy "$acc" --dataset "idx:$tmp/bad-images,$tmp/bad-labels" --out "$tmp/o" -q
expect dataset_shape 2 "1x28x28 images .* network input is 3x32x32" -- "$cimtlm" run "$cfg" --dataset fashion-mnist --out "$tmp/o" -q
expect dataset_spec 2 "--dataset: .*valid forms|--dataset: .*unknown" -- "$cimtlm" accuracy "$acc" --dataset "mnist-please" --out "$tmp/o" -q
# Issue 22. Non-finite and absurd values (checked after the unit prefix, against the parameter's range):
expect wire_cap_infinite 2 "technology.wire_cap_per_length: '1e300 TF/m' is not finite" -- "$cimtlm" run "$cfg" \
  --set "technology.wire_cap_per_length=1e300 TF/m" --out "$tmp/o" -q
expect r_on_absurd 2 "cell.r_on: 1e\+30 Ohm is outside" -- "$cimtlm" run "$cfg" --set "cell.r_on=1e30 Ohm" --out "$tmp/o" -q
# Unbounded or untyped reads: a folder or a device named as a file.
expect cell_is_a_folder 2 "cell: .*configs/cells: is a folder" -- "$cimtlm" run "$cfg" --set cell="$src/configs/cells" --out "$tmp/o" -q
printf 'network: %s\ncell: /dev/zero\n' "$src/configs/networks/vgg8_cifar10.yaml" > "$tmp/zero.yaml"
expect include_is_a_device 2 "zero.yaml:2: cell: /dev/zero: is not a regular file" -- timeout 20 "$cimtlm" run "$tmp/zero.yaml" --out "$tmp/o" -q
ln -s /dev/zero "$tmp/zero-net.yaml"
expect network_is_a_device 2 "zero-net.yaml: is not a regular file" -- timeout 20 "$cimtlm" run "$cfg" --set network="$tmp/zero-net.yaml" --out "$tmp/o" -q
expect idx_is_a_device 2 "/dev/zero: is not a regular file" -- timeout 20 "$cimtlm" accuracy "$acc" --dataset idx:/dev/zero,/dev/zero --out "$tmp/o" -q
# Duplicate keys name both lines.
printf 'network: %s\nseed: 1\nsubarray:\n  rows: 64\n  rows: 128\n' "$src/configs/networks/vgg8_cifar10.yaml" > "$tmp/dup.yaml"
expect duplicate_key 2 "dup.yaml:5: subarray.rows: duplicate key 'rows': first on line 4, again on line 5" -- "$cimtlm" run "$tmp/dup.yaml" --out "$tmp/o" -q
# The error names the key that was set.
expect rows_3 3 "model error: subarray.rows: 3 rows give PEs .* subarray.cols = 128" -- "$cimtlm" run "$cfg" --set subarray.rows=3 --out "$tmp/o" -q
# CLI numbers follow the config rules, in the project's format, exit 2; a given flag is never ignored.
expect seed_negative 2 "^cimtlm: error: --seed: seed: '-5' is negative" -- "$cimtlm" run "$cfg" --seed -5 --out "$tmp/o" -q
expect limit_negative 2 "^cimtlm: error: --limit: run.limit: '-5' is negative" -- "$cimtlm" accuracy "$acc" --limit -5 --out "$tmp/o" -q
expect dataset_empty 2 "^cimtlm: error: --dataset: run.dataset: must name a dataset" -- "$cimtlm" accuracy "$acc" --dataset '' --out "$tmp/o" -q
expect threads_abc 2 "^cimtlm: error: --threads: run.threads: 'abc' is not an integer" -- "$cimtlm" accuracy "$acc" --threads abc --out "$tmp/o" -q
expect jobs_abc 2 "^cimtlm: error: .*--jobs.*abc" -- "$cimtlm" sweep "$tmp/none.yaml" --jobs abc
expect cli11_unknown_option 2 "^cimtlm: error: .*--bogus" -- "$cimtlm" run "$cfg" --bogus
# An output that cannot be written fails before the simulation, not after it.
printf 'x' > "$tmp/plain"
expect out_unwritable 2 "plain/o/report.json: --out: cannot create its folder" -- "$cimtlm" run "$cfg" --out "$tmp/plain/o" -q
[ ! -s "$tmp/out" ] || { echo "FAIL out_unwritable: the run printed a table before failing"; fail=1; }
expect vcd_is_a_folder 2 "--vcd: is a folder" -- "$cimtlm" run "$cfg" --out "$tmp/o" --vcd "$tmp" -q
# A bad key on line 12 of a sweep's base config is reported at the base config's line 12, not the sweep file's.
{ cat "$cfg"; printf 'mapping:\n  tilez: 3\n'; } | sed "s|\.\./|$src/configs/|" > "$tmp/base12.yaml"
line=$(grep -n "tilez" "$tmp/base12.yaml" | cut -d: -f1)
printf 'base: %s\ngrid: {subarray.adc_bits: [4, 5]}\n' "$tmp/base12.yaml" > "$tmp/base.sweep.yaml"
expect sweep_base_line 2 "base12.yaml:$line: mapping.tilez: point 0: unknown key 'tilez'" -- "$cimtlm" sweep "$tmp/base.sweep.yaml" -q
printf 'base: %s\nset: {run.images: 1}\ngrid:\n  subarray.adc_bits: [4, 99]\n' "$cfg" > "$tmp/value.sweep.yaml"
expect sweep_value_line 2 "value.sweep.yaml:4: subarray.adc_bits: point 1: must be in 1..16" -- "$cimtlm" sweep "$tmp/value.sweep.yaml" -q
# run.limit beyond an int evaluates every image instead of failing with a raw length_error.
"$cimtlm" run "$cfg" --set network="$src/tests/sc/platform/resnet_tiny.yaml" --dataset synthetic:3 --set run.limit=3000000000 \
  --out "$tmp/limit" -q > "$tmp/out" 2> "$tmp/err" || { echo "FAIL limit_3e9: $(cat "$tmp/err")"; fail=1; }
grep -q '"accuracy_images": 3' "$tmp/limit/report.json" || { echo "FAIL limit_3e9: not 3 images evaluated"; fail=1; }
# A failed run never removes results that were already written.
"$cimtlm" run "$cfg" --out "$tmp/keep" -q > /dev/null || { echo "FAIL: default run"; fail=1; }
"$cimtlm" run "$cfg" --out "$tmp/keep" -q --set subarray.rows=0 > /dev/null 2>&1
[ -s "$tmp/keep/report.json" ] || { echo "FAIL: earlier report.json lost"; fail=1; }
exit $fail
