#!/usr/bin/env bash
# The VCD is valid (GTKWave's vcd2fst converts it) and its busy intervals match the transaction log
# (--trace-json) of the same run; --vcd-scope limits what is traced.
set -euo pipefail
cimtlm=$1; src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cfg="$src/configs/experiments/vgg8_cifar10.yaml"
"$cimtlm" run "$cfg" --out "$out" -q --vcd "$out/waves.vcd" --trace-json "$out/trace.json" \
  --vcd-scope 'chip.tile_1*' --vcd-scope 'chip.htree' --vcd-scope 'chip.global_buffer*' --vcd-scope 'chip.controller*' > /dev/null
if command -v vcd2fst > /dev/null; then
  vcd2fst "$out/waves.vcd" "$out/waves.fst" > /dev/null
  echo "vcd2fst: converted"
else
  echo "vcd2fst not installed (Debian package gtkwave): skipping the conversion check"
fi
/usr/bin/python3 "$src/tests/regression/check_waves.py" "$out/waves.vcd" "$out/trace.json"
# The scope really limits the file: no subarray of tile_2 is traced.
if grep -q "scope module tile_2 " "$out/waves.vcd"; then echo "tile_2 traced despite --vcd-scope"; exit 1; fi
grep -q "current_layer" "$out/waves.vcd"
grep -q "occupancy" "$out/waves.vcd"
