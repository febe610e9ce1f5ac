#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "platforms/cimtlm/sweep.h"

namespace cim::cli {

/// Runs the points as one Slurm job array (`sbatch --array`), several points per array task when they are short.
/// The tasks run `cimtlm sweep-task`, which runs its points one after another with the local backend's command
/// line, into the same point folders (the output folder must be on a filesystem the nodes share). The client waits
/// with squeue, then asks squeue and sacct how each task ended. Each submission keeps its manifest, job id and task
/// logs in OUT/slurm/sNNN/; a re-run attaches to a job that is still queued or running instead of submitting its
/// points again, and submits only what is missing or failed.
/// Does not: move files between filesystems, retry a failed point by itself, or cancel the job when the client
/// is killed (the job runs on; a re-run collects it).
class slurm_backend : public sweep_backend {
public:
    /// Checks that sbatch and squeue are on PATH (config_error naming --backend otherwise).
    slurm_backend(const sweep_options& o, std::string self_exe);
    std::vector<point_failure> run(const sweep_spec& s, const std::vector<std::size_t>& todo) override;

private:
    /// One sbatch submission: its folder, job id and the points of each array task.
    struct submission {
        std::string dir, job;
        std::vector<std::vector<std::size_t>> tasks;
    };
    std::vector<submission> in_flight(const sweep_spec& s, const std::vector<std::size_t>& todo) const;
    submission submit(const sweep_spec& s, const std::vector<std::size_t>& points);
    std::size_t points_per_task(const sweep_spec& s, std::size_t n) const;

    sweep_options m_opts;
    std::string m_self;
};

/// The seconds of a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS; 0 for "" and
/// UNLIMITED). Throws config_error naming --time when malformed.
double slurm_time_seconds(const std::string& limit);

/// The `sweep-task` subcommand, run by one array task: the points of task `task` of the manifest, one after
/// another (a point whose report.json exists, from an earlier attempt of a requeued task, is skipped). Each point's
/// exit status goes to the submission's exit/ folder. Returns 0 when every point wrote its report.
int run_slurm_task(const std::string& manifest, long task);

}  // namespace cim::cli
