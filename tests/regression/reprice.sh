#!/usr/bin/env bash
# cimtlm reprice: a finished run re-priced under a change that leaves its behaviour alone (calibration, wire,
# supply voltage, clock, execution mode) gives the same summary and breakdown, to the byte, as a fresh run with that
# change; re-pricing under nothing gives the run itself (and its counts); a change of the behaviour is refused
# with the key named.
set -euo pipefail
cimtlm=$1; compare=$2; src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfg="$src/configs/experiments/vgg8_cifar10.yaml"
"$cimtlm" run "$cfg" --out "$tmp/base" -q > /dev/null
"$cimtlm" reprice "$tmp/base" --out "$tmp/same" -q > /dev/null
"$compare" "$tmp/base/report.json" "$tmp/same/report.json" --exact --keys summary,breakdown,layers
cmp "$tmp/base/counts.json" "$tmp/same/counts.json"
n=0
for change in "circuit_calibration.energy_adc=0.5" "technology.wire_cap_per_length=3e-10" "technology.lstp.vdd=0.8 V" \
              "chip.clock=500 MHz" "subarray.adc_type=sar" "run.mode=pipelined"; do
  n=$((n + 1))
  "$cimtlm" reprice "$tmp/base" --set "$change" --out "$tmp/r$n" -q > /dev/null
  "$cimtlm" run "$cfg" --set "$change" --out "$tmp/f$n" -q > /dev/null
  "$compare" "$tmp/f$n/report.json" "$tmp/r$n/report.json" --exact --keys summary,breakdown
  # The change really changes the figures.
  if "$compare" "$tmp/base/report.json" "$tmp/r$n/report.json" --exact --keys summary > /dev/null; then
    echo "$change: re-priced report equals the original"; exit 1
  fi
  /usr/bin/python3 "$src/tests/regression/check_report.py" "$tmp/r$n/report.json" > /dev/null
  echo "reprice: $change matches a fresh run"
done
for change in "subarray.adc_bits=4" "cell.bits=2" "quant.encoding=differential" "subarray.rows=64"; do
  if "$cimtlm" reprice "$tmp/base" --set "$change" -q 2> "$tmp/err"; then echo "$change was re-priced"; exit 1; fi
  [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "${change%%=*}" "$tmp/err" && grep -q "behaviour" "$tmp/err"
done
echo "reprice: behaviour changes refused"
