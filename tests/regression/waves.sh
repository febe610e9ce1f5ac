#!/usr/bin/env bash
# The VCD (SystemC's tracing of the modules' signals) is valid (GTKWave's vcd2fst converts it) and its busy intervals
# match the timeline (--timeline-json) of the same run; --vcd-scope limits what the VCD holds; the RTL block's pins appear
# under its module path in the same waveform.
set -euo pipefail
cimtlm=$1; src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cfg="$src/configs/experiments/vgg8_cifar10.yaml"
"$cimtlm" run "$cfg" --out "$out" -q --vcd "$out/waves.vcd" --timeline-json "$out/timeline.json" \
  --vcd-scope 'chip.tile_1*' --vcd-scope 'chip.interconnect' --vcd-scope 'chip.global_buffer*' --vcd-scope 'chip.controller*' > /dev/null
if command -v vcd2fst > /dev/null; then
  vcd2fst "$out/waves.vcd" "$out/waves.fst" > /dev/null
  echo "vcd2fst: converted"
else
  echo "vcd2fst not installed (Debian package gtkwave): skipping the conversion check"
fi
/usr/bin/python3 "$src/tests/regression/check_waves.py" "$out/waves.vcd" "$out/timeline.json"
# The scope really limits the file: no subarray of tile_2 is in the VCD.
if grep -q "scope module tile_2 " "$out/waves.vcd"; then echo "tile_2 in the VCD despite --vcd-scope"; exit 1; fi
grep -q " image " "$out/waves.vcd"
grep -q "occupancy" "$out/waves.vcd"
# The same run twice gives the same bytes (no date stamp).
"$cimtlm" run "$cfg" --out "$out/b" -q --vcd "$out/b.vcd" --vcd-scope 'chip.global_buffer*' > /dev/null
"$cimtlm" run "$cfg" --out "$out/c" -q --vcd "$out/c.vcd" --vcd-scope 'chip.global_buffer*' > /dev/null
cmp "$out/b.vcd" "$out/c.vcd"
# RTL mode: the verilated block's pins in the waveform, under the PE's path.
"$cimtlm" run "$cfg" --out "$out/r" -q --vcd "$out/r.vcd" --vcd-scope 'chip.tile_3.pe_0*' \
  --set chip.pe.accumulator.impl=rtl --set 'chip.pe.accumulator.scope=chip.tile_3.pe_0' > /dev/null
grep -q "scope module accumulator" "$out/r.vcd"
for pin in clk in_valid in_ready out_valid sum; do grep -q " $pin " "$out/r.vcd" || { echo "RTL pin $pin not in the VCD"; exit 1; }; done
command -v vcd2fst > /dev/null && vcd2fst "$out/r.vcd" "$out/r.fst" > /dev/null
echo "waves: deterministic; RTL pins in the VCD"
