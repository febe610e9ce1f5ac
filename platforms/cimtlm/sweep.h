#pragma once
#include <sys/types.h>

#include <cstddef>
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
    unsigned threads = 1;  // run.threads of the point's effective config (the CPUs a cluster task asks for)
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

// The bookkeeping of a point's folder, apart from how a point is run (local worker processes, or a Slurm job array
// whose client calls finish_point() when a task reports the point's exit status):
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

/// How and where the points run (the sweep command's options).
struct sweep_options {
    std::string backend = "local";  // local | slurm
    unsigned jobs = 1;              // local: worker processes
    // slurm
    std::string partition;                 // sbatch --partition ("" = the cluster's default)
    std::string time_limit;                // sbatch --time of one array task ("" = the partition's default)
    unsigned max_running = 0;              // array tasks running at once (--array ...%N; 0 = no limit)
    unsigned per_task = 0;                 // points per array task (0 = auto)
    unsigned cpus_per_task = 0;            // 0 = the largest run.threads of the points
    double poll_s = 5;                     // seconds between squeue polls
    std::vector<std::string> sbatch_args;  // more sbatch options, passed as given
    bool no_wait = false;                  // submit and return; a later run collects
    bool quiet = false;
};

/// Checks the options before anything runs: a value out of range or an option of the other backend is a
/// config_error naming the option.
void check_options(const sweep_options& o);

/// A point that ran (or was to run) and left no report.json, and why.
struct point_failure {
    std::size_t index;
    std::string reason;  // e.g. "exit code 3", "not started (task 4 CANCELLED)"
};

/// Where the points of a sweep run: worker processes here (local) or a Slurm job array. The sweep's
/// mechanism is shared: the point folders, point.json, which points are finished, the command a point runs, the
/// failure report and results.csv (run_sweep); a backend only decides where and when the points run.
class sweep_backend {
public:
    virtual ~sweep_backend() = default;
    /// Runs the points `todo` (indices into s.points, none finished). Returns those left without a report.
    virtual std::vector<point_failure> run(const sweep_spec& s, const std::vector<std::size_t>& todo) = 0;
};

/// Runs the points not finished yet on the backend the options name, skipping points whose report.json exists for
/// the same overrides; reports each failed point with the tail of its log; then writes results.csv.
/// Returns the number of failed points. `self_exe` is this program (the workers run it).
int run_sweep(const sweep_spec& s, const sweep_options& o, const std::string& self_exe);

/// results.csv: one row per finished point, a column per swept parameter and per summary metric, and `warnings`
/// (the checks a report flagged, e.g. activation_collapse@conv6, separated by ';').
void write_results(const sweep_spec& s);

// --- the parts of a point that every backend shares -------------------------------------------------------------

/// The command line of a point's worker: this program's `run` (or `accuracy`) with the point's overrides.
std::vector<std::string> point_command(const sweep_spec& s, std::size_t i, const std::string& self_exe);

/// Starts a worker process with stdout and stderr in `dir`/log.txt. Returns its pid.
pid_t spawn_point(const std::vector<std::string>& args, const std::string& dir);

/// "exit code N" or "killed by signal N" for a wait status that is not a clean exit; "" for exit code 0.
std::string describe_status(int status);

/// The last `lines` lines of a file ("" when it does not exist).
std::string tail_of(const std::string& path, std::size_t lines);

/// "12s", "3m05s", "1h02m".
std::string fmt_duration(double seconds);

}  // namespace cim::cli
