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
printf '32,32,3,3,3,x,0,1\n' > "$tmp/net.csv"
expect bad_csv 2 "net.csv:1" -- "$cimtlm" map "$cfg" --set network="$tmp/net.csv"
# Datasets: a missing file, a file of the wrong kind, an image shape the network cannot take, a bad spec.
acc="$src/configs/experiments/fmnist_accuracy.yaml"
expect dataset_missing 2 "nope-images: file not found" -- "$cimtlm" accuracy "$acc" --dataset "idx:$tmp/nope-images,$tmp/nope-labels" --out "$tmp/o" -q
printf 'not an idx file' > "$tmp/bad-images"; printf 'x' > "$tmp/bad-labels"
expect dataset_magic 2 "bad-images: .*(magic|truncated)" -- "$cimtlm" accuracy "$acc" --dataset "idx:$tmp/bad-images,$tmp/bad-labels" --out "$tmp/o" -q
expect dataset_shape 2 "1x28x28 images .* network input is 3x32x32" -- "$cimtlm" run "$cfg" --dataset fashion-mnist --out "$tmp/o" -q
expect dataset_spec 2 "--dataset: .*valid forms|--dataset: .*unknown" -- "$cimtlm" accuracy "$acc" --dataset "mnist-please" --out "$tmp/o" -q
# A failed run never removes results that were already written.
"$cimtlm" run "$cfg" --out "$tmp/keep" -q > /dev/null || { echo "FAIL: default run"; fail=1; }
"$cimtlm" run "$cfg" --out "$tmp/keep" -q --set subarray.rows=0 > /dev/null 2>&1
[ -s "$tmp/keep/report.json" ] || { echo "FAIL: earlier report.json lost"; fail=1; }
exit $fail
