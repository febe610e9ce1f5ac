#include "platforms/cimtlm/sweep_local.h"

#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "platforms/cimtlm/sweep_progress.h"

namespace cim::cli {

std::vector<point_failure> local_backend::run(const sweep_spec& s, const std::vector<std::size_t>& todo) {
    std::vector<point_failure> failures;
    std::map<pid_t, std::size_t> running;
    std::size_t next = 0, done = 0;
    sweep_progress progress(s.points.size(), s.points.size() - todo.size(), todo.size(), m_opts.quiet);
    while (next < todo.size() || !running.empty()) {
        while (next < todo.size() && running.size() < std::max(1u, m_opts.jobs)) {
            const std::size_t i = todo[next++];
            begin_point(s.points[i]);
            running[spawn_point(point_command(s, i, m_self), s.points[i].dir)] = i;
            progress.update(done, failures.size(), running.size());
        }
        int status = 0;
        const pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) break;
        const auto it = running.find(pid);
        if (it == running.end()) continue;
        const std::size_t i = it->second;
        if (const std::string why = finish_point(s.points[i], status); !why.empty()) failures.push_back({i, why});
        running.erase(it);
        ++done;
        progress.update(done, failures.size(), running.size());
    }
    progress.break_line();
    std::sort(failures.begin(), failures.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    return failures;
}

}  // namespace cim::cli
