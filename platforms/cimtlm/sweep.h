#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/config/overrides.h"

namespace cim::cli {

/// One design point of a sweep: the --set overrides applied to the base experiment.
struct sweep_point {
    std::vector<cfg::override_spec> sets;
    std::string dir;  // output folder of the point
    /// What the point's result is computed from (point.json once it finished): the command, the overrides, the
    /// resolved configuration (every parameter, SI), the network file's size and CRC-32, and the program version.
    nlohmann::ordered_json record;
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
/// typo fails at once, naming the sweep file and line, or the base file and line, and the key). At most
/// k_max_sweep_points points. `out`, when not empty, replaces the file's `out` (the --out option).
sweep_spec load_sweep(const std::string& file, const std::string& out = "");

inline constexpr std::size_t k_max_sweep_points = 100000;

/// load_sweep from the file's text; `file` names it in errors and resolves its relative paths. `max_points` lowers
/// the limit (the fuzzer's harness keeps each input fast).
sweep_spec load_sweep_text(const std::string& text, const std::string& file, const std::string& out = "",
                           std::size_t max_points = k_max_sweep_points);

// The bookkeeping of a point's folder, apart from how a point is run (local worker processes today; a batch
// backend such as Slurm submits the same worker command after begin_point() and calls finish_point() when the job
// ends, from the job's exit status):
//   point.json                           the record of the finished result, written last, only after the worker
//                                        exited 0 and its report.json passed the checks;
//   report.json, layers.csv, log.txt     the worker's outputs;
//   stale/N/                             the outputs of an earlier computation whose record is not the point's
//                                        record any more (a changed config, network or program version), or that
//                                        never finished: moved aside, never deleted, before the point runs again.
// A point is finished iff its point.json equals its current record and report.json exists, so a result is never
// taken for a configuration it was not computed from, and a point that fails has no report counted.

/// True when the point's folder holds a finished result for its current record.
bool point_finished(const sweep_point& p);
/// Before a point runs: creates its folder and moves any earlier report (with its record and log) into stale/N/.
void begin_point(const sweep_point& p);
/// After the worker ended: with exit status 0 and a report.json that holds finite numbers only, writes point.json
/// and returns ""; else returns why the point failed (its report, if any, is left uncounted).
std::string finish_point(const sweep_point& p, int exit_status);

/// Run the points not finished yet on `jobs` worker processes (this program, re-executed); then write results.csv.
/// Returns the number of failed points.
int run_sweep(const sweep_spec& s, unsigned jobs, const std::string& self_exe, bool quiet);

/// results.csv: one row per finished point, a column per swept parameter and per summary metric, and `warnings`
/// (the checks a report flagged, e.g. activation_collapse@conv6, separated by ';').
void write_results(const sweep_spec& s);

}  // namespace cim::cli
