#include "platforms/cimtlm/sweep_slurm.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "models/core/error.h"
#include "models/core/file_io.h"
#include "platforms/cimtlm/sweep_progress.h"

namespace cim::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

/// A Slurm command's exit status, stdout and stderr.
struct command_result {
    int status = -1;
    std::string out, err;
    bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

/// Runs a program found on PATH and collects its output (no shell: arguments are passed as they are).
command_result capture(const std::vector<std::string>& args) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) throw model_error("slurm", std::string("pipe: ") + std::strerror(errno));
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(out[0]);
        close(err[0]);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        std::fprintf(stderr, "cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    command_result r;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* dst[2] = {&r.out, &r.err};
    int open_fds = 2;
    char buf[4096];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int k = 0; k < 2; ++k) {
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t n = read(fds[k].fd, buf, sizeof buf);
            if (n > 0) {
                dst[k]->append(buf, static_cast<std::size_t>(n));
            } else {
                close(fds[k].fd);
                fds[k].fd = -1;
                --open_fds;
            }
        }
    }
    waitpid(pid, &r.status, 0);
    return r;
}

bool on_path(const std::string& prog) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "");
    for (std::string d; std::getline(dirs, d, ':');)
        if (!d.empty() && access((d + "/" + prog).c_str(), X_OK) == 0) return true;
    return false;
}

/// The last non-empty line of a command's stderr, without the program's "sbatch: error: " prefix.
std::string last_error_line(const std::string& err) {
    std::istringstream in(err);
    std::string last;
    for (std::string l; std::getline(in, l);)
        if (l.find_first_not_of(" \t\r") != std::string::npos) last = l;
    for (const char* p : {"sbatch: error: ", "squeue: error: ", "sacct: error: ", "error: "})
        if (last.rfind(p, 0) == 0) last = last.substr(std::strlen(p));
    return last;
}

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t a = 0;
    while (a < s.size() && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
    return s.substr(a);
}

/// A task's state and, while it is pending, why.
struct task_state {
    std::string state, reason;
};

/// Task states of array jobs, "JOB_TASK" -> state, from `squeue -r` (active tasks only, or every state the
/// controller still remembers with `all`). A job the controller no longer knows gives no entries.
/// `ok` is false when squeue itself failed (the controller did not answer).
std::map<std::string, task_state> task_states(const std::vector<std::string>& jobs, bool all, bool& ok) {
    std::string ids;
    for (const auto& j : jobs) ids += (ids.empty() ? "" : ",") + j;
    std::vector<std::string> args = {"squeue", "-h", "-r", "-j", ids, "-o", "%i|%T|%r"};
    if (all) args.insert(args.begin() + 1, {"-t", "all"});
    const auto r = capture(args);
    std::map<std::string, task_state> states;
    ok = r.ok() || r.err.find("Invalid job id") != std::string::npos;
    if (!r.ok()) return states;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) {
        const auto a = l.find('|'), b = l.rfind('|');
        if (a != std::string::npos && b > a) states[trim(l.substr(0, a))] = {trim(l.substr(a + 1, b - a - 1)), trim(l.substr(b + 1))};
    }
    return states;
}

/// Final states from Slurm's accounting (sacct), for the tasks the controller forgot. Empty without accounting.
std::map<std::string, std::string> accounting_states(const std::vector<std::string>& jobs) {
    std::string ids;
    for (const auto& j : jobs) ids += (ids.empty() ? "" : ",") + j;
    std::map<std::string, std::string> states;
    if (!on_path("sacct")) return states;
    const auto r = capture({"sacct", "-n", "-P", "-X", "-j", ids, "-o", "JobID,State"});
    if (!r.ok()) return states;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) {
        const auto bar = l.find('|');
        if (bar == std::string::npos) continue;
        std::string state = trim(l.substr(bar + 1));
        state = state.substr(0, state.find(' '));  // "CANCELLED by 0"
        states[trim(l.substr(0, bar))] = state;
    }
    return states;
}

/// Slurm's MaxArraySize (array indices must stay below it); Slurm's default when scontrol does not say.
std::size_t max_array_size() {
    const auto r = capture({"scontrol", "show", "config"});
    std::smatch m;
    const std::regex re(R"(MaxArraySize\s*=\s*(\d+))");
    if (r.ok() && std::regex_search(r.out, m, re)) return std::max<std::size_t>(1, std::stoul(m[1].str()));
    return 1001;
}

}  // namespace

double slurm_time_seconds(const std::string& limit) {
    if (limit.empty() || limit == "UNLIMITED" || limit == "INFINITE" || limit == "unlimited" || limit == "infinite")
        return 0;
    static const std::regex re(R"(^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$)");
    std::smatch m;
    if (!std::regex_match(limit, m, re))
        throw config_error("", 0, "--time",
                           "'" + limit + "' is not a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)");
    const double a = std::stod(m[2].str());
    const double b = m[3].matched ? std::stod(m[3].str()) : -1, c = m[4].matched ? std::stod(m[4].str()) : -1;
    double s;
    if (m[1].matched) {  // D-HH[:MM[:SS]]
        s = std::stod(m[1].str()) * 86400 + a * 3600 + std::max(0.0, b) * 60 + std::max(0.0, c);
    } else if (c >= 0) {  // HH:MM:SS
        s = a * 3600 + b * 60 + c;
    } else if (b >= 0) {  // MM:SS
        s = a * 60 + b;
    } else {  // minutes
        s = a * 60;
    }
    if (s <= 0) throw config_error("", 0, "--time", "'" + limit + "' is zero; give a positive time limit");
    return s;
}

slurm_backend::slurm_backend(const sweep_options& o, std::string self_exe) : m_opts(o), m_self(std::move(self_exe)) {
    for (const char* prog : {"sbatch", "squeue", "scontrol"})
        if (!on_path(prog))
            throw config_error("", 0, "--backend", std::string("slurm: '") + prog +
                                                       "' is not on PATH (run the sweep on a node that can submit jobs)");
    // The partition (the named one, else the cluster's default) must exist and allow the time limit: Slurm accepts
    // a job over a partition's MaxTime and leaves it pending for ever.
    const auto r = capture({"scontrol", "show", "partition"});
    if (!r.ok()) throw config_error("", 0, "--backend", "slurm: scontrol show partition failed: " + last_error_line(r.err + r.out));
    std::string name, max_time;
    bool found = false;
    std::istringstream blocks(r.out);
    std::string block, line;
    auto check_block = [&](const std::string& b) {
        std::smatch m;
        if (!std::regex_search(b, m, std::regex(R"(PartitionName=(\S+))"))) return;
        const std::string pn = m[1].str();
        const bool is_default = b.find("Default=YES") != std::string::npos;
        if (found || !(m_opts.partition.empty() ? is_default : pn == m_opts.partition)) return;
        found = true;
        name = pn;
        if (std::regex_search(b, m, std::regex(R"(MaxTime=(\S+))"))) max_time = m[1].str();
    };
    while (std::getline(blocks, line)) {
        if (line.rfind("PartitionName=", 0) == 0) {
            check_block(block);
            block.clear();
        }
        block += line + "\n";
    }
    check_block(block);
    if (!found && !m_opts.partition.empty())
        throw config_error("", 0, "--partition", "no partition '" + m_opts.partition + "' on this cluster");
    if (found && !m_opts.time_limit.empty() && max_time != "UNLIMITED" && !max_time.empty()) {
        double max_s = 0;
        try {
            max_s = slurm_time_seconds(max_time);
        } catch (const config_error&) {
        }
        if (max_s > 0 && slurm_time_seconds(m_opts.time_limit) > max_s)
            throw config_error("", 0, "--time", "'" + m_opts.time_limit + "' is over the MaxTime " + max_time +
                                                    " of partition " + name);
    }
}

/// Points per array task. With --per-task N, N. Otherwise from the median wall time of the sweep's finished points:
/// tasks of about a minute (starting an array task costs seconds of scheduling, docs/cluster.md section 4; a point
/// of a few seconds alone in a task wastes a large part of it), but at least as many tasks as may run at once
/// (--max-running, else 100), and a task within half its time limit. Without finished points, one point per task. Never more tasks than the
/// cluster's MaxArraySize.
std::size_t slurm_backend::points_per_task(const sweep_spec& s, std::size_t n) const {
    std::size_t per = 1;
    if (m_opts.per_task > 0) {
        per = m_opts.per_task;
    } else {
        std::vector<double> walls;
        for (const auto& p : s.points) {
            if (!point_finished(p)) continue;
            try {
                std::ifstream in(p.dir + "/report.json");
                json j;
                in >> j;
                const double w = j["run"].value("wall_time_s", 0.0);
                if (w > 0) walls.push_back(w);
            } catch (...) {
            }
        }
        if (!walls.empty()) {
            std::nth_element(walls.begin(), walls.begin() + static_cast<long>(walls.size() / 2), walls.end());
            const double median = walls[walls.size() / 2];
            constexpr double target_task_s = 60;
            const std::size_t parallel = m_opts.max_running ? m_opts.max_running : 100;
            per = static_cast<std::size_t>(std::max(1.0, std::floor(target_task_s / median)));
            per = std::min(per, (n + parallel - 1) / parallel);
            const double limit = slurm_time_seconds(m_opts.time_limit);
            if (limit > 0) per = std::min(per, static_cast<std::size_t>(std::max(1.0, std::floor(0.5 * limit / median))));
            per = std::max<std::size_t>(per, 1);
        }
    }
    const std::size_t max_tasks = max_array_size();
    return std::max(per, (n + max_tasks - 1) / max_tasks);
}

std::vector<slurm_backend::submission> slurm_backend::in_flight(const sweep_spec& s, const std::vector<std::size_t>& todo) const {
    std::vector<submission> subs;
    const std::string root = s.out + "/slurm";
    if (!fs::exists(root)) return subs;
    std::vector<std::string> dirs;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory() && fs::exists(e.path() / "job_id") && fs::exists(e.path() / "manifest.json"))
            dirs.push_back(e.path().string());
    std::sort(dirs.begin(), dirs.end());
    const std::set<std::size_t> want(todo.begin(), todo.end());
    for (const auto& d : dirs) {
        submission sub;
        sub.dir = d;
        sub.job = trim(read_text(d + "/job_id"));
        bool relevant = false;
        try {
            std::ifstream in(d + "/manifest.json");
            json m;
            in >> m;
            for (const auto& t : m["tasks"]) {
                std::vector<std::size_t> pts;
                for (const auto& p : t) {
                    const std::size_t i = p["point"].get<std::size_t>();
                    // The same point only if the sweep still gives it the same folder and command.
                    if (i < s.points.size() && want.count(i) && p["dir"].get<std::string>() == s.points[i].dir &&
                        p["args"].get<std::vector<std::string>>() == point_command(s, i, m_self)) {
                        pts.push_back(i);
                        relevant = true;
                    }
                }
                sub.tasks.push_back(pts);
            }
        } catch (...) {
            continue;
        }
        if (relevant && !sub.job.empty()) subs.push_back(sub);
    }
    if (subs.empty()) return subs;
    std::vector<std::string> jobs;
    for (const auto& sub : subs) jobs.push_back(sub.job);
    bool ok = true;
    const auto active = task_states(jobs, false, ok);
    if (!ok) throw model_error("slurm", "squeue does not answer, so the state of earlier submissions is unknown; try again");
    std::vector<submission> alive;
    for (auto& sub : subs) {
        bool any = false;
        for (std::size_t t = 0; t < sub.tasks.size(); ++t) {
            if (!active.count(sub.job + "_" + std::to_string(t))) sub.tasks[t].clear();
            any = any || !sub.tasks[t].empty();
        }
        if (any) alive.push_back(std::move(sub));
    }
    return alive;
}

slurm_backend::submission slurm_backend::submit(const sweep_spec& s, const std::vector<std::size_t>& points) {
    // The next free submission folder: s001, s002, ...
    const std::string root = fs::absolute(s.out + "/slurm").lexically_normal().string();
    fs::create_directories(root);
    int k = 1;
    std::string name;
    for (;; ++k) {
        name = fmt::format("s{:03}", k);
        if (fs::create_directory(root + "/" + name)) break;
    }
    submission sub;
    sub.dir = root + "/" + name;
    const std::size_t per = points_per_task(s, points.size());
    unsigned cpus = m_opts.cpus_per_task;
    json tasks = json::array();
    for (std::size_t a = 0; a < points.size(); a += per) {
        std::vector<std::size_t> t(points.begin() + static_cast<long>(a),
                                   points.begin() + static_cast<long>(std::min(points.size(), a + per)));
        json jt = json::array();
        for (const std::size_t i : t) {
            begin_point(s.points[i]);
            jt.push_back({{"point", i}, {"dir", s.points[i].dir}, {"args", point_command(s, i, m_self)}});
            if (m_opts.cpus_per_task == 0) cpus = std::max(cpus, s.points[i].threads);
        }
        tasks.push_back(jt);
        sub.tasks.push_back(std::move(t));
    }
    json manifest = {{"schema", "cimtlm.sweep-task/1"}, {"sweep", s.name}, {"file", s.file}, {"tasks", tasks}};
    write_file_atomic(sub.dir + "/manifest.json", manifest.dump(1) + "\n");

    std::string array = "0-" + std::to_string(sub.tasks.size() - 1);
    if (m_opts.max_running) array += "%" + std::to_string(m_opts.max_running);
    std::string job_name = "cimtlm-" + s.name;
    for (char& c : job_name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    std::vector<std::string> args = {"sbatch", "--parsable", "--job-name=" + job_name, "--array=" + array,
                                     "--output=" + sub.dir + "/task-%a.log", "--chdir=" + fs::current_path().string(),
                                     "--cpus-per-task=" + std::to_string(std::max(1u, cpus))};
    if (!m_opts.partition.empty()) args.push_back("--partition=" + m_opts.partition);
    if (!m_opts.time_limit.empty()) args.push_back("--time=" + m_opts.time_limit);
    for (const auto& a : m_opts.sbatch_args) args.push_back(a);
    args.push_back(sub.dir + "/job.sh");
    std::string cmdline;
    for (const auto& a : args) cmdline += (cmdline.empty() ? "" : " ") + shell_quote(a);
    write_file_atomic(sub.dir + "/job.sh", "#!/bin/sh\n# cimtlm sweep " + s.name + ": " + std::to_string(points.size()) +
                                               " point(s) in " + std::to_string(sub.tasks.size()) +
                                               " array task(s). Submitted with:\n# " + cmdline + "\nexec " +
                                               shell_quote(m_self) + " sweep-task " + shell_quote(sub.dir + "/manifest.json") + "\n");
    fs::permissions(sub.dir + "/job.sh", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                             fs::perms::others_read | fs::perms::others_exec);
    const auto r = capture(args);
    if (!r.ok()) {
        fs::remove_all(sub.dir);
        const std::string why = last_error_line(r.err.empty() ? r.out : r.err);
        std::string key = "--backend";
        if (why.find("artition") != std::string::npos) key = "--partition";
        else if (why.find("ime limit") != std::string::npos) key = "--time";
        throw config_error("", 0, key, "sbatch refused the job array: " + why);
    }
    sub.job = trim(r.out.substr(0, r.out.find(';')));
    if (sub.job.empty() || sub.job.find_first_not_of("0123456789") != std::string::npos)
        throw model_error("slurm", "sbatch gave no job id (it printed '" + trim(r.out) + "')");
    write_file_atomic(sub.dir + "/job_id", sub.job + "\n");
    if (!m_opts.quiet)
        std::fprintf(stderr, "[sweep] submitted Slurm job %s: %zu point(s) in %zu array task(s), %zu per task; logs in %s\n",
                     sub.job.c_str(), points.size(), sub.tasks.size(), per, sub.dir.c_str());
    return sub;
}

std::vector<point_failure> slurm_backend::run(const sweep_spec& s, const std::vector<std::size_t>& todo_in) {
    // Points whose task of an earlier submission ended with exit code 0 while no client was there to collect them
    // (a killed client): finish_point() takes their reports now, so they are neither resubmitted nor moved aside.
    std::vector<std::size_t> todo;
    {
        std::map<std::size_t, std::string> exit_of;  // point -> the exit file of its latest submission
        const std::string root = s.out + "/slurm";
        if (fs::exists(root)) {
            std::vector<std::string> dirs;
            for (const auto& e : fs::directory_iterator(root))
                if (e.is_directory() && fs::exists(e.path() / "manifest.json")) dirs.push_back(e.path().string());
            std::sort(dirs.begin(), dirs.end());
            for (const auto& d : dirs) {
                try {
                    std::ifstream in(d + "/manifest.json");
                    json m;
                    in >> m;
                    for (const auto& t : m["tasks"])
                        for (const auto& p : t) {
                            const std::size_t i = p["point"].get<std::size_t>();
                            if (i < s.points.size() && p["dir"].get<std::string>() == s.points[i].dir &&
                                p["args"].get<std::vector<std::string>>() == point_command(s, i, m_self))
                                exit_of[i] = d + "/exit/" + std::to_string(i);
                        }
                } catch (...) {
                }
            }
        }
        for (const std::size_t i : todo_in) {
            const auto it = exit_of.find(i);
            if (it != exit_of.end() && fs::exists(it->second) && trim(read_text(it->second)) == "exit code 0" &&
                finish_point(s.points[i], 0).empty())
                continue;
            todo.push_back(i);
        }
        if (todo.empty()) return {};
    }
    std::vector<submission> subs = in_flight(s, todo);
    std::set<std::size_t> flying;
    for (const auto& sub : subs)
        for (const auto& t : sub.tasks) flying.insert(t.begin(), t.end());
    if (!subs.empty() && !m_opts.quiet)
        for (const auto& sub : subs)
            std::fprintf(stderr, "[sweep] attached to Slurm job %s, still queued or running (%s)\n", sub.job.c_str(), sub.dir.c_str());
    std::vector<std::size_t> fresh;
    for (const std::size_t i : todo)
        if (!flying.count(i)) fresh.push_back(i);
    if (!fresh.empty()) subs.push_back(submit(s, fresh));
    if (m_opts.no_wait) {
        if (!m_opts.quiet)
            std::fprintf(stderr, "[sweep] not waiting (--no-wait); run the same command again to collect the results\n");
        return {};
    }

    // Which task of which job holds each point.
    std::map<std::size_t, std::pair<const submission*, std::size_t>> where;
    std::vector<std::string> jobs;
    for (const auto& sub : subs) {
        jobs.push_back(sub.job);
        for (std::size_t t = 0; t < sub.tasks.size(); ++t)
            for (const std::size_t i : sub.tasks[t]) where[i] = {&sub, t};
    }
    auto exit_file = [&](std::size_t i) {
        const auto& [sub, t] = where.at(i);
        return sub->dir + "/exit/" + std::to_string(i);
    };
    // A point is finished once its task reported exit code 0 and finish_point() accepted its report (point.json).
    std::map<std::size_t, std::string> rejected;  // exit code 0, but finish_point() refused the report: why
    auto finished = [&](std::size_t i) {
        if (point_finished(s.points[i])) return true;
        if (rejected.count(i) || !fs::exists(exit_file(i)) || trim(read_text(exit_file(i))) != "exit code 0") return false;
        const std::string why = finish_point(s.points[i], 0);
        if (!why.empty()) rejected[i] = why;
        return why.empty();
    };
    auto ended = [&](std::size_t i) { return finished(i) || fs::exists(exit_file(i)); };

    sweep_progress progress(s.points.size(), s.points.size() - todo.size(), todo.size(), m_opts.quiet);
    std::string job_list;
    for (const auto& j : jobs) job_list += (job_list.empty() ? "" : ",") + j;
    double last_warning = -1e9;
    for (;;) {
        bool ok = true;
        const auto active = task_states(jobs, false, ok);
        std::size_t done = 0, failed = 0, running_tasks = 0;
        for (const auto& [i, loc] : where) {
            if (!ended(i)) continue;
            ++done;
            if (!finished(i)) ++failed;
        }
        // A pending reason that waiting will not cure (a limit of the partition, the account or the QOS) is shown.
        std::set<std::string> stuck;
        for (const auto& [id, st] : active) {
            if (st.state == "RUNNING" || st.state == "COMPLETING") ++running_tasks;
            if (st.state == "PENDING" && st.reason != "None" && st.reason != "Priority" && st.reason != "Resources" &&
                st.reason != "JobArrayTaskLimit" && st.reason != "BeginTime" && st.reason != "Dependency")
                stuck.insert(st.reason);
        }
        std::string extra = ", Slurm job " + job_list + (ok ? "" : " (squeue does not answer)");
        for (const auto& why : stuck) extra += ", pending: " + why;
        progress.update(done, failed, std::min(running_tasks, where.size() - done), extra);
        if (ok && active.empty()) break;
        if (!ok && progress.elapsed() - last_warning > 60) {
            last_warning = progress.elapsed();
            progress.break_line();
            std::fprintf(stderr, "[sweep] squeue failed; still waiting (the job runs on; kill this client and re-run to "
                                 "re-attach)\n");
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(m_opts.poll_s));
    }
    progress.break_line();

    // How each task ended: the controller remembers recent jobs (MinJobAge); accounting, where there is one, the rest.
    bool ok = true;
    std::map<std::string, std::string> states;
    for (const auto& [id, st] : task_states(jobs, true, ok)) states[id] = st.state;
    bool need_acct = false;
    for (const auto& [i, loc] : where)
        if (!finished(i) && !states.count(loc.first->job + "_" + std::to_string(loc.second))) need_acct = true;
    if (need_acct)
        for (const auto& [id, st] : accounting_states(jobs)) states.emplace(id, st);

    std::vector<point_failure> failures;
    for (const auto& [i, loc] : where) {
        if (finished(i)) continue;
        const std::string task = loc.first->job + "_" + std::to_string(loc.second);
        const auto st = states.find(task);
        const std::string state = st == states.end() ? "state unknown" : st->second;
        const std::string tag = "task " + task + " " + state;
        std::string why;
        if (fs::exists(exit_file(i))) {
            why = trim(read_text(exit_file(i)));
            if (why == "exit code 0") why = rejected.count(i) ? rejected[i] : why + " but no report.json";
            if (state != "COMPLETED" && state != "FAILED") why += " (" + tag + ")";
        } else if (fs::exists(s.points[i].dir + "/log.txt")) {
            why = "stopped while running (" + tag + ")";
        } else {
            why = "not started (" + tag + ")";
        }
        failures.push_back({i, why});
    }
    return failures;
}

int run_slurm_task(const std::string& manifest_path, long task) {
    std::ifstream in(manifest_path);
    if (!in) throw config_error(manifest_path, 0, "", "file not found");
    json m;
    try {
        in >> m;
    } catch (const std::exception& e) {
        throw config_error(manifest_path, 0, "", std::string("not a sweep-task manifest: ") + e.what());
    }
    if (!m.contains("tasks") || task < 0 || static_cast<std::size_t>(task) >= m["tasks"].size())
        throw config_error(manifest_path, 0, "tasks", "no task " + std::to_string(task) + " in this manifest");
    const std::string exit_dir = fs::path(manifest_path).parent_path().string() + "/exit";
    int bad = 0;
    for (const auto& p : m["tasks"][static_cast<std::size_t>(task)]) {
        const std::size_t i = p["point"].get<std::size_t>();
        const std::string dir = p["dir"].get<std::string>();
        if (fs::exists(dir + "/report.json")) {  // a requeued task: this point finished in an earlier attempt
            std::printf("point %zu: finished earlier\n", i);
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        const pid_t pid = spawn_point(p["args"].get<std::vector<std::string>>(), dir);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        std::string why = describe_status(status);
        if (why.empty()) why = "exit code 0";
        write_file_atomic(exit_dir + "/" + std::to_string(i), why + "\n");
        const bool ok = why == "exit code 0" && fs::exists(dir + "/report.json");
        if (!ok) ++bad;
        std::printf("point %zu: %s after %.2f s\n", i, why.c_str(),
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        std::fflush(stdout);
    }
    return bad ? 1 : 0;
}

}  // namespace cim::cli
