#include "platforms/cimtlm/sweep.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include <zlib.h>

#include "models/config/json_writer.h"
#include "models/config/yaml_reader.h"
#include "models/core/check_finite.h"
#include "models/core/error.h"
#include "models/core/file_io.h"
#include "platforms/cimtlm/sweep_local.h"
#include "platforms/cimtlm/sweep_slurm.h"
#include "platforms/inference/run_config.h"

namespace cim::cli {

namespace {

std::string scalar(const YAML::Node& n, const std::string& file, const std::string& key) {
    if (!n.IsScalar()) throw config_error(file, cfg::line_of(n), key, "expected a single value");
    return n.Scalar();
}

/// A value naming a file (.yaml, .yml, .csv, .onnx, .npy) is a path relative to the sweep file, like `base`; the
/// workers get it resolved, since they run from the caller's directory.
std::string sweep_value(const std::string& file, const std::string& raw) {
    for (const char* ext : {".yaml", ".yml", ".csv", ".onnx", ".npy"}) {
        const std::string e = ext;
        if (raw.size() > e.size() && raw.compare(raw.size() - e.size(), e.size(), e) == 0 && raw.find(':') == std::string::npos)
            return cfg::resolve_relative(file, raw);
    }
    return raw;
}

/// A point's folder name: its index and its overrides, readable in a file browser.
std::string point_name(std::size_t i, const std::vector<cfg::override_spec>& sets) {
    std::string s = fmt::format("p{:04}", i);
    for (const auto& o : sets) {
        // A file value (a resolved path) is shown by its stem: technology=7nm, cell=sram.
        const std::string value = o.value.find('/') == std::string::npos ? o.value : std::filesystem::path(o.value).stem().string();
        std::string v = o.path.substr(o.path.rfind('.') == std::string::npos ? 0 : o.path.rfind('.') + 1) + "=" + value;
        for (char& c : v)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '=' && c != '.' && c != '-' && c != '_') c = '_';
        s += "_" + v;
    }
    return s.substr(0, 120);
}

nlohmann::ordered_json sets_json(const std::vector<cfg::override_spec>& sets) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& o : sets) j[o.path] = o.value;
    return j;
}

/// A JSON file the sweep wrote or a worker wrote, or nothing when it is missing or unreadable.
std::optional<nlohmann::ordered_json> read_json(const std::string& path) {
    try {
        auto j = nlohmann::ordered_json::parse(read_input_file(path, file_kind::record), nullptr, false);
        if (j.is_discarded()) return std::nullopt;
        return j;
    } catch (const config_error&) {
        return std::nullopt;
    }
}

/// Size and CRC-32 of a file the config names, so editing it in place makes the points that read it stale.
nlohmann::ordered_json file_digest(const std::string& path) {
    const std::string bytes = read_input_file(path, path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0
                                                        ? file_kind::model : file_kind::network);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (std::size_t at = 0; at < bytes.size(); at += 1u << 30) {
        const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - at, 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + at), n);
    }
    return {{"bytes", bytes.size()}, {"crc32", fmt::format("{:08x}", crc)}};  // the content, not where it is
}

}  // namespace

sweep_spec load_sweep(const std::string& file, const std::string& out) {
    return load_sweep_text(read_input_file(file, file_kind::config), file, out);
}

sweep_spec load_sweep_text(const std::string& text, const std::string& file, const std::string& out,
                           std::size_t max_points) {
    const YAML::Node root = cfg::load_yaml_text(text, file);
    if (!root.IsMap()) throw config_error(file, cfg::line_of(root), "", "a sweep file is a map (base, command, grid, list, set, out)");
    sweep_spec s;
    s.file = file;
    s.name = std::filesystem::path(file).stem().string();
    const std::vector<std::string> keys = {"source", "base", "command", "out", "set", "grid", "list"};
    for (auto it = root.begin(); it != root.end(); ++it) {
        const std::string k = it->first.Scalar();
        bool ok = false;
        for (const auto& v : keys) ok = ok || v == k;
        if (!ok) {
            std::string msg = "unknown key '" + k + "'";
            const std::string near = cfg::nearest(k, keys);
            if (!near.empty()) msg += " (did you mean '" + near + "'?)";
            throw config_error(file, cfg::line_of(it->first), k, msg);
        }
    }
    if (!root["base"]) throw config_error(file, 0, "base", "missing: the experiment every point starts from");
    s.base = cfg::resolve_relative(file, scalar(root["base"], file, "base"));
    if (root["command"]) {
        s.command = scalar(root["command"], file, "command");
        if (s.command != "run" && s.command != "accuracy")
            throw config_error(file, cfg::line_of(root["command"]), "command", "'" + s.command + "' is not one of: run accuracy");
    }
    s.out = root["out"] ? cfg::resolve_relative(file, scalar(root["out"], file, "out")) : "out/sweeps/" + s.name;
    if (!out.empty()) s.out = out;
    if (const YAML::Node set = root["set"]) {
        if (!set.IsMap()) throw config_error(file, cfg::line_of(set), "set", "expected a map of key.path: value");
        for (auto it = set.begin(); it != set.end(); ++it)
            s.shared.push_back({it->first.Scalar(), sweep_value(file, scalar(it->second, file, "set." + it->first.Scalar())), file,
                                cfg::line_of(it->second)});
    }
    // Grid: cartesian product in file order (the last key varies fastest).
    std::vector<std::vector<cfg::override_spec>> combos{{}};
    if (const YAML::Node grid = root["grid"]) {
        if (!grid.IsMap()) throw config_error(file, cfg::line_of(grid), "grid", "expected a map of key.path: [values]");
        for (auto it = grid.begin(); it != grid.end(); ++it) {
            const std::string key = it->first.Scalar();
            // A copy: `it->second` is a member of a temporary, which a range-for would outlive (the fuzzer found it).
            const YAML::Node values = it->second;
            if (!values.IsSequence() || values.size() == 0)
                throw config_error(file, cfg::line_of(values), "grid." + key, "expected a non-empty list of values");
            s.params.push_back(key);
            std::vector<std::vector<cfg::override_spec>> next;
            if (combos.size() * values.size() > max_points)
                throw config_error(file, cfg::line_of(values), "grid." + key,
                                   "the sweep has more than " + std::to_string(max_points) + " points");
            for (const auto& c : combos)
                for (const auto& v : values) {
                    auto d = c;
                    d.push_back({key, sweep_value(file, scalar(v, file, "grid." + key)), file, cfg::line_of(v)});
                    next.push_back(std::move(d));
                }
            combos = std::move(next);
        }
    }
    if (const YAML::Node list = root["list"]) {
        if (!list.IsSequence() || list.size() == 0) throw config_error(file, cfg::line_of(list), "list", "expected a list of maps");
        if (combos.size() * list.size() > max_points)
            throw config_error(file, cfg::line_of(list), "list",
                               "the sweep has more than " + std::to_string(max_points) + " points");
        std::vector<std::vector<cfg::override_spec>> next;
        for (const auto& c : combos)
            for (std::size_t i = 0; i < list.size(); ++i) {
                if (!list[i].IsMap()) throw config_error(file, cfg::line_of(list[i]), "list", "each entry is a map of key.path: value");
                auto d = c;
                for (auto it = list[i].begin(); it != list[i].end(); ++it) {
                    const std::string key = it->first.Scalar();
                    bool known = false;
                    for (const auto& p : s.params) known = known || p == key;
                    if (!known) s.params.push_back(key);
                    d.push_back({key, sweep_value(file, scalar(it->second, file, "list." + key)), file,
                                 cfg::line_of(it->second)});
                }
                next.push_back(std::move(d));
            }
        combos = std::move(next);
    }
    if (s.params.empty()) throw config_error(file, 0, "grid", "a sweep needs a grid or a list");
    std::map<std::string, nlohmann::ordered_json> digests;  // network files, read once each
    for (std::size_t i = 0; i < combos.size(); ++i) {
        sweep_point p;
        p.sets = s.shared;
        p.sets.insert(p.sets.end(), combos[i].begin(), combos[i].end());
        // Validate now: a bad key or value fails before any point runs. The error keeps its own file and line:
        // the sweep file's line for an override, the base config's (or an include's) for a bad key there.
        inference::loaded_config lc;
        try {
            lc = inference::load_run_config(s.base, p.sets);
            p.threads = std::max(1u, lc.cfg.run.threads);
        } catch (const config_error& e) {
            throw config_error(e.file().empty() ? file : e.file(), e.line(), e.key(), "point " + std::to_string(i) + ": " + e.what());
        }
        if (!digests.count(lc.network_path)) digests[lc.network_path] = file_digest(lc.network_path);
        p.record = {{"command", s.command}, {"sets", sets_json(p.sets)}, {"config", cfg::to_json(lc.cfg)},
                    {"network", digests[lc.network_path]}, {"version", CIMTLM_VERSION}};
        p.dir = s.out + "/points/" + point_name(i, combos[i]);
        s.points.push_back(std::move(p));
    }
    return s;
}

bool point_finished(const sweep_point& p) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_regular_file(p.dir + "/report.json", ec)) return false;
    const auto record = read_json(p.dir + "/point.json");
    return record && *record == p.record;
}

void begin_point(const sweep_point& p) {
    namespace fs = std::filesystem;
    fs::create_directories(p.dir);
    std::error_code ec;
    if (!fs::exists(p.dir + "/report.json", ec) && !fs::exists(p.dir + "/point.json", ec)) return;
    // An earlier result, of another record or never finished: keep it, out of the way.
    int k = 1;
    while (fs::exists(p.dir + "/stale/" + std::to_string(k), ec)) ++k;
    const std::string to = p.dir + "/stale/" + std::to_string(k);
    fs::create_directories(to);
    for (const char* f : {"point.json", "report.json", "layers.csv", "log.txt"})
        if (fs::exists(p.dir + "/" + f, ec)) fs::rename(p.dir + "/" + f, to + "/" + f);
}

std::string finish_point(const sweep_point& p, int exit_status) {
    const std::string how = describe_status(exit_status);
    if (!how.empty()) return "the worker ended with " + how;
    const auto report = read_json(p.dir + "/report.json");
    if (!report) return "the worker wrote no readable report.json";
    try {
        check_finite(*report, p.dir + "/report.json");
    } catch (const model_error& e) {
        return e.format();
    }
    write_file_atomic(p.dir + "/point.json", p.record.dump(2) + "\n");
    return "";
}

std::vector<std::string> point_command(const sweep_spec& s, std::size_t i, const std::string& self_exe) {
    const sweep_point& p = s.points[i];
    std::vector<std::string> args = {self_exe, s.command, s.base, "--out", p.dir, "-q"};
    for (const auto& o : p.sets) {
        args.push_back("--set");
        args.push_back(o.path + "=" + o.value);
    }
    return args;
}

pid_t spawn_point(const std::vector<std::string>& args, const std::string& dir) {
    const std::string log = dir + "/log.txt";
    const pid_t pid = fork();
    if (pid == 0) {
        FILE* f = std::freopen(log.c_str(), "w", stdout);
        if (f) dup2(fileno(stdout), STDERR_FILENO);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        std::fprintf(stderr, "cimtlm: cannot start %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    if (pid < 0) throw model_error("sweep", std::string("cannot start a worker process: ") + std::strerror(errno));
    return pid;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? "" : "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "stopped (wait status " + std::to_string(status) + ")";
}

std::string tail_of(const std::string& path, std::size_t lines) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "";
    std::vector<std::string> last;
    std::string line;
    while (std::getline(in, line)) {
        // A progress bar redraws with \r: keep what a terminal would show last.
        const auto cr = line.find_last_of('\r', line.size() > 1 ? line.size() - 2 : 0);
        if (cr != std::string::npos && cr + 1 < line.size()) line = line.substr(cr + 1);
        last.push_back(line);
        if (last.size() > lines) last.erase(last.begin());
    }
    std::string out;
    for (const auto& l : last) out += l + "\n";
    return out;
}

std::string fmt_duration(double s) {
    if (s < 60) return fmt::format("{:.0f}s", s);
    if (s < 3600) return fmt::format("{}m{:02}s", int(s) / 60, int(s) % 60);
    return fmt::format("{}h{:02}m", int(s) / 3600, (int(s) % 3600) / 60);
}

void check_options(const sweep_options& o) {
    if (o.backend != "local" && o.backend != "slurm")
        throw config_error("", 0, "--backend", "'" + o.backend + "' is not one of: local slurm");
    if (o.backend == "local") {
        const std::pair<const char*, bool> slurm_only[] = {
            {"--partition", !o.partition.empty()}, {"--time", !o.time_limit.empty()}, {"--max-running", o.max_running > 0},
            {"--per-task", o.per_task > 0}, {"--cpus-per-task", o.cpus_per_task > 0}, {"--sbatch", !o.sbatch_args.empty()},
            {"--no-wait", o.no_wait}};
        for (const auto& [name, given] : slurm_only)
            if (given) throw config_error("", 0, name, "only for --backend slurm");
        if (o.jobs < 1 || o.jobs > 256) throw config_error("", 0, "--jobs", std::to_string(o.jobs) + " is outside 1..256");
        return;
    }
    if (o.jobs != 1) throw config_error("", 0, "--jobs", "only for --backend local (use --max-running with slurm)");
    if (!(o.poll_s >= 0.2 && o.poll_s <= 3600)) throw config_error("", 0, "--poll", "must be in 0.2..3600 seconds");
    slurm_time_seconds(o.time_limit);  // throws on a malformed limit
}

int run_sweep(const sweep_spec& s, const sweep_options& o, const std::string& self_exe) {
    namespace fs = std::filesystem;
    check_writable(s.out + "/results.csv", "out");
    fs::create_directories(s.out + "/points");
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < s.points.size(); ++i)
        if (!point_finished(s.points[i])) todo.push_back(i);
    std::unique_ptr<sweep_backend> backend;
    if (o.backend == "slurm") backend = std::make_unique<slurm_backend>(o, self_exe);
    else backend = std::make_unique<local_backend>(o, self_exe);
    if (!o.quiet)
        std::fprintf(stderr, "sweep %s: %zu points, %zu already finished, %zu to run %s\n", s.name.c_str(),
                     s.points.size(), s.points.size() - todo.size(), todo.size(),
                     o.backend == "slurm" ? "on Slurm" : ("on " + std::to_string(o.jobs) + " job(s)").c_str());
    const auto failures = todo.empty() ? std::vector<point_failure>{} : backend->run(s, todo);
    for (const auto& f : failures) {
        const sweep_point& p = s.points[f.index];
        const std::string log = p.dir + "/log.txt";
        if (!std::filesystem::exists(log)) {
            std::fprintf(stderr, "[sweep] point %zu failed: %s; no log (%s)\n", f.index, f.reason.c_str(), p.dir.c_str());
            continue;
        }
        std::fprintf(stderr, "[sweep] point %zu failed: %s; the end of %s:\n", f.index, f.reason.c_str(), log.c_str());
        std::string tail = tail_of(log, 5);
        std::istringstream lines(tail);
        for (std::string l; std::getline(lines, l);) std::fprintf(stderr, "    | %s\n", l.c_str());
    }
    write_results(s);
    return static_cast<int>(failures.size());
}

/// One CSV field as RFC 4180 writes it: quoted (with doubled quotes) when it holds a comma, a quote or a line break.
static std::string csv_field(const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

void write_results(const sweep_spec& s) {
    // Columns: point, swept parameters, then every numeric or string summary key of the first finished report.
    std::vector<std::string> metrics;
    std::ostringstream rows;
    for (std::size_t i = 0; i < s.points.size(); ++i) {
        const sweep_point& p = s.points[i];
        if (!point_finished(p)) continue;
        const auto read = read_json(p.dir + "/report.json");
        if (!read) continue;
        const nlohmann::ordered_json& rep = *read;
        const nlohmann::ordered_json summary = rep.contains("summary") ? rep["summary"] : nlohmann::ordered_json::object();
        if (metrics.empty())
            for (auto it = summary.begin(); it != summary.end(); ++it) metrics.push_back(it.key());
        rows << i;
        std::map<std::string, std::string> vals;
        for (const auto& o : p.sets) vals[o.path] = o.value;
        for (const auto& k : s.params) rows << "," << csv_field(vals[k]);
        for (const auto& m : metrics) {
            rows << ",";
            if (!summary.contains(m)) continue;
            const auto& v = summary[m];
            if (v.is_number()) {
                rows << fmt::format("{:.9g}", v.get<double>());
            } else if (v.is_string()) {
                rows << csv_field(v.get<std::string>());
            }
        }
        std::string warnings;
        if (rep.contains("warnings") && rep["warnings"].is_array())
            for (const auto& w : rep["warnings"]) {
                if (!w.is_object()) continue;
                warnings += (warnings.empty() ? "" : ";") + w.value("check", std::string("?"));
                if (w.contains("layer") && w["layer"].is_string()) warnings += "@" + w["layer"].get<std::string>();
            }
        rows << "," << csv_field(warnings) << "\n";
    }
    std::string csv = "point";
    for (const auto& k : s.params) csv += "," + csv_field(k);
    for (const auto& m : metrics) csv += "," + csv_field(m);
    csv += ",warnings\n" + rows.str();
    write_file_atomic(s.out + "/results.csv", csv);
}

}  // namespace cim::cli
