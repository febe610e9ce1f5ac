#pragma once
#include <string>
#include <vector>

#include "models/config/overrides.h"

namespace cim::cli {

/// One design point of a sweep: the --set overrides applied to the base experiment.
struct sweep_point {
    std::vector<cfg::override_spec> sets;
    std::string dir;  // output folder of the point
};

/// A parsed sweep file:
///
///   base: ../experiments/default.yaml   # the experiment every point starts from (relative to this file)
///   command: run                        # run | accuracy
///   out: ../../out/sweeps/adc           # results folder (relative to this file; default out/sweeps/<name>)
///   set: {run.images: 1}                # overrides shared by every point
///   grid:                               # cartesian product, keys are --set paths
///     subarray.adc_bits: [3, 4, 5]
///     cell.bits: [1, 2, 4]
///   list:                               # and/or explicit points (multiplied with the grid)
///     - {subarray.rows: 64, subarray.cols: 64}
///     - {subarray.rows: 128, subarray.cols: 128}
struct sweep_spec {
    std::string file, name, base, command = "run", out;
    std::vector<cfg::override_spec> shared;
    std::vector<std::string> params;  // swept keys, in file order (the columns of results.csv)
    std::vector<sweep_point> points;
};

/// Parse and validate (every point's overrides are applied to the base config before anything runs, so a
/// typo fails at once, naming the sweep file, line and key).
/// `out`, when not empty, replaces the file's `out` (the --out option).
sweep_spec load_sweep(const std::string& file, const std::string& out = "");

/// Run the points not finished yet on `jobs` worker processes (this program, re-executed), skipping points whose
/// report.json exists for the same overrides; then write results.csv. Returns the number of failed points.
int run_sweep(const sweep_spec& s, unsigned jobs, const std::string& self_exe, bool quiet);

/// results.csv: one row per finished point, a column per swept parameter and per summary metric.
void write_results(const sweep_spec& s);

}  // namespace cim::cli
