#!/usr/bin/env bash
# make fuzz: runs every libFuzzer harness of BUILD (default build-fuzz) for SECONDS each (default 60), or until RUNS
# executions when RUNS is set, from the repository root, and prints one line per harness: executions, rate, corpus
# size and findings. The committed seed corpus (tests/fuzz/corpus/<name>) is read, never written: new inputs go to
# BUILD/fuzz-corpus/<name>, findings (crash-*, leak-*, timeout-*, oom-*) to BUILD/findings/<name>/. Exit 1 when any
# harness had a finding: copy it into tests/fuzz/corpus/<name>/repro-<what> with the fix, so make test replays it.
#   tests/fuzz/run.sh [BUILD] [SECONDS] [HARNESS...]        RUNS=1000000 tests/fuzz/run.sh build-fuzz 0 units
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}; seconds=${2:-60}; shift $(( $# > 2 ? 2 : $# ))
harnesses=("$@")
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=(units config network_yaml network_csv onnx npy idx cifar sweep)
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
printf '%-13s %12s %10s %8s %9s\n' harness executions exec/s corpus findings
for h in "${harnesses[@]}"; do
  exe="$build/tests/fuzz/fuzz_$h"
  [[ -x $exe ]] || { echo "$h: $exe not built (make fuzz builds it)"; status=1; continue; }
  work="$build/fuzz-corpus/$h"; findings="$build/findings/$h"
  mkdir -p "$work" "$findings"
  max_len=4096
  [[ $h == onnx ]] && max_len=131072
  [[ $h == idx ]] && max_len=16384
  limit=(-max_total_time="$seconds")
  [[ -n ${RUNS:-} ]] && limit=(-runs="$RUNS")
  log="$build/fuzz-$h.log"
  "$exe" "$work" "tests/fuzz/corpus/$h" "${limit[@]}" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 > "$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  corpus=$(find "$work" -type f | wc -l)
  found=$(find "$findings" -type f | wc -l)
  printf '%-13s %12s %10s %8s %9s\n' "$h" "${execs:-?}" "${rate:-?}" "$corpus" "$found"
  if [[ $rc -ne 0 || $found -ne 0 ]]; then
    status=1
    echo "  $h: exit $rc; see $log and $findings/"
  fi
done
exit $status
