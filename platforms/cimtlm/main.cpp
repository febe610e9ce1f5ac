// cimtlm: the command-line program. Sub-commands: run, accuracy, map, sweep, actions, reprice, params (docs/cli.md).
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <systemc>

#include "models/config/describe.h"
#include "models/config/json_writer.h"
#include "models/core/check_finite.h"
#include "models/core/error.h"
#include "models/core/file_io.h"
#include "models/engine/activation_collapse.h"
#include "models/mapping/plan.h"
#include "models/report/macro_report.h"
#include "models/report/report.h"
#include "models/engine/hardware_model.h"
#include "models/network/loader.h"
#include "models/dataset/readers.h"
#include "platforms/cimtlm/sweep.h"
#include "platforms/cimtlm/sweep_slurm.h"
#include "platforms/inference/platform.h"
#include "platforms/inference/reprice.h"

namespace {

double peak_memory_bytes() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) * 1024.0;  // Linux reports KiB
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/// Common flags are --set overrides of their config key, so a config file and the command line say the same.
/// They stay text here: the config reader parses and range-checks them as it does a file's values, so a bad
/// number is a config error (exit 2) in the project's words, and a flag that was given is never ignored.
struct common_flags {
    std::vector<std::string> sets;
    std::string seed, dataset, limit, threads;
};

bool given(const CLI::App* cmd, const char* name) {
    const CLI::Option* o = cmd->get_option_no_throw(name);
    return o != nullptr && o->count() > 0;
}

std::vector<cim::cfg::override_spec> parse_sets(const common_flags& f, const CLI::App* cmd) {
    std::vector<cim::cfg::override_spec> o;
    for (const auto& s : f.sets) o.push_back(cim::cfg::parse_override(s));
    if (given(cmd, "--seed")) o.push_back({"seed", f.seed, "--seed"});
    if (given(cmd, "--dataset")) o.push_back({"run.dataset", f.dataset, "--dataset"});
    if (given(cmd, "--limit")) o.push_back({"run.limit", f.limit, "--limit"});
    if (given(cmd, "--threads")) o.push_back({"run.threads", f.threads, "--threads"});
    return o;
}

/// Every output of a command, checked for writability before any long work starts.
void check_outputs(const std::vector<std::pair<std::string, const char*>>& files) {
    for (const auto& [path, option] : files)
        if (!path.empty()) cim::check_writable(path, option);
}

/// report.json, layers.csv and counts.json of `run`, with two checks: every number is finite (cim::check_finite; the
/// report's numbers as they are streamed, and layers.csv before anything is written), and the activations did not
/// collapse (a warning in the report's `warnings` and in the table). Returns the collapse warning ("" when none).
std::string write_run_outputs(const cim::report::report_data& r, const cim::inference::platform& plat,
                              const std::string& out) {
    std::vector<cim::engine::layer_density> densities;
    for (const auto& l : r.layers)
        if (l.input_bits > 0) densities.push_back({l.name, l.input_density()});
    const cim::engine::collapse_verdict collapse = cim::engine::activation_collapse(densities);
    nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
    if (collapse.collapsed)
        warnings.push_back({{"check", "activation_collapse"}, {"layer", collapse.layer},
                            {"input_bit_density", collapse.density}, {"reference_layer", collapse.reference_layer},
                            {"reference_input_bit_density", collapse.reference},
                            {"dead_layer", collapse.dead_layer}, {"message", collapse.message()}});
    const std::string csv = cim::report::layers_csv(r);
    cim::check_finite_csv(csv, out + "/layers.csv");
    // Streamed, one document at a time: a chip's report and counts are megabytes of JSON.
    const std::string report = out + "/report.json", counts = out + "/counts.json";
    cim::write_file_atomic(report, [&](std::ostream& os) {
        cim::report::write_json(os, r, warnings, report);
        os << "\n";
    });
    cim::write_file_atomic(out + "/layers.csv", csv);
    cim::write_file_atomic(counts, [&](std::ostream& os) {
        plat.write_counts(os, counts);
        os << "\n";
    });
    return collapse.message();
}

/// Blocks of 4 MiB and up (a large layer's weights or unrolled inputs) are mapped on their own and unmapped when
/// freed, so the memory a layer's weights leave when its cells are programmed goes back to the system (3 MB of peak
/// on the paper's VGG-8). glibc's own threshold would follow the first large block freed; smaller blocks are reused
/// from the heap (an 8 MiB threshold held 11 MiB more in the accuracy pass's threads on the default job).
void fix_mmap_threshold() {
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
#endif
}

/// Ends the process once a run's outputs are written and closed, without destroying the chip: taking apart
/// thousands of modules one by one (SystemC unregisters each port by a search of its registry) costs more than the
/// system takes to reclaim the whole process (0.02 CPU-s of 0.4 on the paper's VGG-8). Only `run` does this, after
/// its last output; every other path destroys what it built.
[[noreturn]] void exit_without_teardown() {
    std::cout.flush();
    std::fflush(nullptr);
    std::_Exit(0);
}

/// Gives the freed pages in the heap back to the system, so a phase that allocates next does not add to the peak.
void return_free_memory() {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/// The dataset a config names, or nothing for synthetic inputs.
/// synthetic:N images take the network's input shape and class count.
std::unique_ptr<cim::dataset::dataset> load_dataset(const cim::inference::loaded_config& lc) {
    const auto& c = lc.cfg;
    if (c.run.dataset == "synthetic") return nullptr;
    if (c.run.dataset.rfind("synthetic:", 0) == 0) {
        const auto g = cim::network::load(lc.network_path);
        const auto classes = static_cast<int>(g.layers.back().out.size());
        return std::make_unique<cim::dataset::dataset>(cim::dataset::load_spec(c.run.dataset, g.input, classes, c.seed));
    }
    return std::make_unique<cim::dataset::dataset>(cim::dataset::load_spec(c.run.dataset, std::nullopt, 10, c.seed));
}

/// The calibration images' dataset when run.calibration_dataset names one (else the evaluated dataset is used).
std::unique_ptr<cim::dataset::dataset> load_calibration(const cim::inference::run_config& c) {
    if (c.run.calibration_dataset == "same") return nullptr;
    auto d = cim::dataset::load_spec(c.run.calibration_dataset, std::nullopt, 10, c.seed);
    return std::make_unique<cim::dataset::dataset>(d.subset(static_cast<int>(c.run.calibration_images)));
}

/// A progress line on stderr when it is a terminal: done/total, rate and time left.
class progress_bar {
public:
    explicit progress_bar(bool enabled) : m_on(enabled && isatty(STDERR_FILENO)), m_t0(std::chrono::steady_clock::now()) {}
    void operator()(std::int64_t done, std::int64_t total) {
        if (!m_on || total <= 0) return;
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_t0).count();
        const double rate = s > 0 ? done / s : 0.0;
        const double left = rate > 0 ? (total - done) / rate : 0.0;
        const int width = 30, filled = static_cast<int>(width * done / total);
        std::fprintf(stderr, "\r[%s%s] %lld/%lld images, %.1f img/s, %.0f s left   ", std::string(filled, '#').c_str(),
                     std::string(width - filled, ' ').c_str(), static_cast<long long>(done), static_cast<long long>(total),
                     rate, left);
        if (done == total) std::fprintf(stderr, "\n");
    }

private:
    bool m_on;
    std::chrono::steady_clock::time_point m_t0;
};

/// Moves the VCD SystemC wrote to `partial` into `path` atomically, without its $date section (SystemC stamps the
/// wall-clock date), so the same run gives the same bytes.
void finish_vcd(const std::string& partial, const std::string& path) {
    std::ifstream f(partial, std::ios::binary);
    if (!f) throw cim::model_error("--vcd", "the waveform " + partial + " was not written");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto a = text.find("$date");
    if (a != std::string::npos) {
        const auto b = text.find("$end", a);
        if (b != std::string::npos) text.erase(a, b + 4 - a);
        while (a < text.size() && (text[a] == '\n' || text[a] == ' ')) text.erase(a, 1);
    }
    cim::write_file_atomic(path, text);
    std::remove(partial.c_str());
}

int cmd_params(bool markdown) {
    const auto docs = cim::cfg::describe(cim::inference::run_config{});
    // A range the parameter declares is printed as is; the envelope of its unit (or an integer type's limits) is
    // marked, since the section's validate() may check a narrower range that is not declared yet.
    auto range_text = [](const cim::cfg::param_doc& d) {
        if (d.range.empty()) return std::string();
        return d.range_declared ? d.range : d.range + " *";
    };
    if (markdown) {
        std::cout << "# cimtlm configuration reference\n\nGenerated by `cimtlm params --markdown`. Values are SI; "
                     "YAML may carry units (\"2 ns\", \"100 kOhm\", \"64 KiB\", \"1 GHz\").\n\n"
                     "Every number is checked after unit conversion against its range: an infinity, NaN or a value "
                     "outside it is a config error naming the file, the line and the key (exit 2). A range without "
                     "`*` is declared with the parameter; `*` marks the physical envelope of the parameter's unit "
                     "(below) or an integer type's limits, and the section's own check may be narrower.\n\n"
                     "| unit | envelope |\n|---|---|\n";
        for (int u = 0; u <= static_cast<int>(cim::unit::feature_square); ++u) {
            const auto un = static_cast<cim::unit>(u);
            const std::string sym(cim::unit_symbol(un));
            std::cout << "| " << (sym.empty() ? "number" : sym) << " | " << cim::format_range(cim::default_range(un), un)
                      << " |\n";
        }
        std::cout << "\n| key | unit / type | default | range | description |\n|---|---|---|---|---|\n";
        for (const auto& d : docs)
            std::cout << "| `" << d.path << "` | " << d.kind << " | " << d.default_value << " | " << range_text(d) << " | "
                      << d.description << " |\n";
        return 0;
    }
    for (const auto& d : docs) {
        if (d.kind == "section") {
            std::printf("%-40s [section] %s\n", d.path.c_str(), d.description.c_str());
            continue;
        }
        std::printf("%-40s %-12s %-14s %-26s %s\n", d.path.c_str(), d.kind.c_str(), d.default_value.c_str(),
                    range_text(d).c_str(), d.description.c_str());
    }
    return 0;
}

int cmd_accuracy(const std::string& config, const std::vector<cim::cfg::override_spec>& sets, const std::string& out,
                 const std::string& predictions, bool quiet, const std::vector<std::string>& argv) {
    const auto t0 = std::chrono::steady_clock::now();
    auto lc = cim::inference::load_run_config(config, sets);
    check_outputs({{out + "/report.json", "--out"}, {predictions, "--predictions"}});
    const auto& c = lc.cfg;
    if (c.run.dataset == "synthetic") {  // seeded images with random labels: the accuracy is chance
        if (c.run.limit > static_cast<unsigned>(std::numeric_limits<int>::max()))
            throw cim::config_error("", 0, "run.limit", std::to_string(c.run.limit) + " synthetic images are more than " +
                                                            std::to_string(std::numeric_limits<int>::max()));
        lc.cfg.run.dataset = "synthetic:" + std::to_string(c.run.limit ? c.run.limit : 100);
    }
    auto data = load_dataset(lc);
    if (c.run.limit && c.run.limit < static_cast<unsigned>(data->n)) *data = data->subset(static_cast<int>(c.run.limit));
    if (!quiet) std::fprintf(stderr, "cimtlm: %s: %d images; preparing %s\n", data->name.c_str(), data->n, lc.network_path.c_str());
    const auto calib = load_calibration(c);
    auto prepared = cim::inference::prepare(lc, data.get(), calib.get());
    const auto model = cim::inference::build_model(c, prepared);
    const auto& ds = *data;
    progress_bar bar(!quiet);
    const auto r = cim::engine::evaluate(
        *model, ds.n, [&](std::int64_t i) { return ds.input(static_cast<int>(i), c.quant.input_bits); }, ds.labels,
        c.run.threads, [&](std::int64_t d, std::int64_t t) { bar(d, t); });

    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    j["schema"] = "cimtlm.report/1";
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    j["run"] = {{"version", CIMTLM_VERSION}, {"argv", argv}, {"wall_time_s", wall}, {"peak_memory_bytes", peak_memory_bytes()},
                {"threads", c.run.threads}, {"sources", lc.sources}, {"network_path", lc.network_path}};
    j["config"] = cim::cfg::to_json(c);
    j["summary"] = {{"network", prepared.graph.name}, {"dataset", ds.name}, {"images", r.images},
                    {"accuracy", r.accuracy()}, {"accuracy_ideal", r.accuracy_ideal()},
                    {"agreement", r.images ? double(r.agree) / double(r.images) : 0.0},
                    {"memory_utilization", prepared.plan.utilization()},
                    {"macs", static_cast<double>(prepared.graph.total_macs())}};
    cim::check_finite(j, out + "/report.json");
    cim::write_file_atomic(out + "/report.json", j.dump(2) + "\n");
    if (!predictions.empty()) {
        std::string csv = "index,label,prediction,prediction_ideal\n";
        for (std::int64_t i = 0; i < r.images; ++i)
            csv += std::to_string(i) + "," + std::to_string(ds.labels[static_cast<std::size_t>(i)]) + "," +
                   std::to_string(r.predictions[static_cast<std::size_t>(i)]) + "," +
                   std::to_string(r.predictions_ideal[static_cast<std::size_t>(i)]) + "\n";
        cim::write_file_atomic(predictions, csv);
    }
    std::printf("cimtlm accuracy: %s on %s, %lld images\n", prepared.graph.name.c_str(), ds.name.c_str(),
                static_cast<long long>(r.images));
    std::printf("  hardware accuracy   %8.2f %%  (%lld correct)\n", 100.0 * r.accuracy(), static_cast<long long>(r.correct));
    std::printf("  ideal accuracy      %8.2f %%  (%lld correct; integer-exact quantised network)\n",
                100.0 * r.accuracy_ideal(), static_cast<long long>(r.correct_ideal));
    std::printf("  agreement           %8.2f %%  (same class as the ideal network)\n",
                r.images ? 100.0 * double(r.agree) / double(r.images) : 0.0);
    std::printf("wrote %s/report.json\nwall time %.2f s, CPU time %.2f s, peak memory %.1f MiB, %u thread(s)\n",
                out.c_str(), wall, cpu_seconds(), peak_memory_bytes() / 1048576.0, c.run.threads);
    return 0;
}

/// Every component class of the chip a config elaborates (one action table per distinct geometry), with its
/// actions priced for that config, its own area and leakage, and how many instances use it.
int cmd_actions(const std::string& config, const std::vector<cim::cfg::override_spec>& sets, bool json) {
    const auto lc = cim::inference::load_run_config(config, sets);
    cim::hw::read_log none;
    cim::inference::platform_options o;
    o.replay = &none;  // structure only: no weights, images or calibration
    cim::inference::platform plat(lc, cim::inference::prepare_structure(lc), o);
    struct use {
        const cim::circuit::action_table* table;
        int instances = 0;
    };
    std::vector<use> tables;
    std::function<void(const sc_core::sc_object&)> walk = [&](const sc_core::sc_object& obj) {
        if (const auto* c = dynamic_cast<const cim::hw::component*>(&obj))
            if (const auto* t = c->table()) {
                auto it = std::find_if(tables.begin(), tables.end(), [&](const use& u) {
                    return u.table->kind() == t->kind() && u.table->variant() == t->variant();
                });
                if (it == tables.end()) tables.push_back({t, 1});
                else ++it->instances;
            }
        for (const auto* child : obj.get_child_objects()) walk(*child);
    };
    walk(plat.chip());
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const auto& u : tables) {
        const auto& t = *u.table;
        if (json) {
            nlohmann::ordered_json a = nlohmann::ordered_json::array(), ar = nlohmann::ordered_json::array(),
                                   lk = nlohmann::ordered_json::array();
            for (const auto& x : t.actions())
                a.push_back({{"name", x.name}, {"unit", x.unit}, {"category", cim::circuit::name_of(x.cat)},
                             {"class", cim::circuit::name_of(x.cls)}, {"energy_j", x.energy}, {"latency_s", x.latency},
                             {"description", x.description}});
            for (const auto& x : t.areas())
                ar.push_back({{"name", x.name}, {"category", cim::circuit::name_of(x.cat)}, {"class", cim::circuit::name_of(x.cls)},
                              {"area_m2", x.area}});
            for (const auto& x : t.leakages())
                lk.push_back({{"name", x.name}, {"class", cim::circuit::name_of(x.cls)}, {"power_w", x.power}});
            j.push_back({{"kind", t.kind()}, {"variant", t.variant()}, {"instances", u.instances}, {"actions", a},
                         {"areas", ar}, {"leakages", lk}});
            continue;
        }
        std::printf("%s (%s): %d instance(s), own area %.4g um^2, leakage %.4g uW\n", t.kind().c_str(),
                    t.variant().c_str(), u.instances, t.area() * 1e12, t.leakage() * 1e6);
        std::printf("  %-16s %-6s %-13s %-13s %14s %14s  %s\n", "action", "unit", "category", "class", "energy/count",
                    "latency/count", "description");
        for (const auto& x : t.actions())
            std::printf("  %-16s %-6s %-13s %-13s %11.4g fJ %11.4g ns  %s\n", x.name.c_str(), x.unit.c_str(),
                        cim::circuit::name_of(x.cat), cim::circuit::name_of(x.cls), x.energy * 1e15, x.latency * 1e9,
                        x.description.c_str());
        for (const auto& x : t.areas())
            std::printf("  area    %-16s %-13s %-13s %11.4g um^2\n", x.name.c_str(), cim::circuit::name_of(x.cat),
                        cim::circuit::name_of(x.cls), x.area * 1e12);
        for (const auto& x : t.leakages())
            std::printf("  leakage %-16s %-13s %-13s %11.4g uW\n", x.name.c_str(), "", cim::circuit::name_of(x.cls),
                        x.power * 1e6);
        std::printf("\n");
    }
    if (json) std::printf("%s\n", j.dump(2).c_str());
    return 0;
}

/// Re-prices a finished run under other cost-only parameters: the platform replays the run's recorded reads (no
/// data path, no weights, no calibration), counts them against the new action tables and re-times them.
int cmd_reprice(const std::string& dir, const std::vector<cim::cfg::override_spec>& sets, std::string out, bool quiet,
                const std::vector<std::string>& argv) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto run = cim::inference::load_finished_run(dir);
    const auto lc = cim::inference::reprice_config(run, sets);
    if (out.empty()) out = dir + "/reprice";
    if (!quiet) std::fprintf(stderr, "cimtlm: re-pricing %s (%zu recorded reads)\n", dir.c_str(), run.reads.reads().size());
    cim::inference::platform_options o;
    o.replay = &run.reads;
    cim::inference::platform plat(lc, cim::inference::prepare_structure(lc), o);
    plat.simulate();
    auto r = plat.report();
    // The behaviour is the run's: its accuracy stands.
    const auto& s = run.report["summary"];
    if (s.contains("accuracy")) {
        r.has_accuracy = true;
        r.dataset = s.value("dataset", "");
        r.accuracy_images = s.value("accuracy_images", std::int64_t{0});
        r.accuracy = s.value("accuracy", 0.0);
        r.accuracy_ideal = s.value("accuracy_ideal", 0.0);
        r.agreement = s.value("agreement", 0.0);
    }
    r.sources = lc.sources;
    for (const auto& src : run.report["run"].value("sources", std::vector<std::string>{})) r.sources.push_back(src);
    r.argv = argv;
    r.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.peak_memory_bytes = peak_memory_bytes();
    write_run_outputs(r, plat, out);
    std::cout << cim::report::table(r);
    std::printf("\nwrote %s/report.json and %s/layers.csv\nwall time %.2f s, CPU time %.2f s, peak memory %.1f MiB\n",
                out.c_str(), out.c_str(), r.wall_time_s, cpu_seconds(), r.peak_memory_bytes / 1048576.0);
    return 0;
}

int cmd_map(const std::string& config, const std::vector<cim::cfg::override_spec>& sets) {
    const auto lc = cim::inference::load_run_config(config, sets);
    const auto p = cim::inference::prepare_structure(lc);
    std::cout << cim::mapping::describe(p.plan, p.graph);
    return 0;
}

/// A macro run (macro.enabled): one MVM of one macro at its boundary, priced from the stated data statistics; no
/// network, no chip, no SystemC. Writes report.json (schema cimtlm.macro/1) and prints the table.
int cmd_run_macro(const cim::inference::loaded_config& lc, const std::string& out, const std::vector<std::string>& argv) {
    const auto& c = lc.cfg;
    const auto r = cim::circuit::evaluate_macro(c.technology, c.circuit_calibration, c.cell, c.subarray, c.macro,
                                                c.quant.input_bits, c.quant.weight_bits);
    std::filesystem::create_directories(out);
    const auto j = cim::report::macro_json(r, cim::cfg::to_json(c), lc.sources, argv);
    cim::check_finite(j, out + "/report.json");
    cim::write_file_atomic(out + "/report.json", j.dump(2) + "\n");
    std::cout << cim::report::macro_table(r);
    std::printf("\nwrote %s/report.json\n", out.c_str());
    return 0;
}

int cmd_run(const std::string& config, const std::vector<cim::cfg::override_spec>& sets, const std::string& out,
            const std::string& vcd, const std::vector<std::string>& vcd_scopes, const std::string& timeline_json, bool quiet,
            const std::vector<std::string>& argv) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto lc = cim::inference::load_run_config(config, sets);
    check_outputs({{out + "/report.json", "--out"}, {out + "/layers.csv", "--out"}, {vcd, "--vcd"}, {timeline_json, "--timeline-json"}});
    if (lc.cfg.macro.enabled) return cmd_run_macro(lc, out, argv);
    const auto data = load_dataset(lc);
    if (!quiet) std::fprintf(stderr, "cimtlm: preparing %s (weights, calibration, floorplan)\n", lc.network_path.c_str());
    const auto calib = data ? load_calibration(lc.cfg) : nullptr;
    auto prepared = cim::inference::prepare(lc, data.get(), calib.get());
    if (!quiet)
        std::fprintf(stderr, "cimtlm: elaborating %zu tiles, %lld subarrays\n", prepared.plan.tiles.size(),
                     static_cast<long long>(prepared.plan.num_subarrays()));
    cim::inference::platform_options popt;
    if (!vcd.empty()) {
        const auto dir = std::filesystem::path(vcd).parent_path();
        if (!dir.empty()) std::filesystem::create_directories(dir);
        popt.vcd = vcd + ".partial";
    }
    popt.vcd_scopes = vcd_scopes;
    popt.keep_weights = data != nullptr;  // the accuracy pass builds the batched engine from the graph's weights
    cim::inference::platform plat(lc, std::move(prepared), popt);

    if (!quiet) std::fprintf(stderr, "cimtlm: simulating %u image(s)\n", lc.cfg.run.images);
    plat.simulate();
    return_free_memory();  // the chip's cells were freed when the run ended; the report reuses those pages
    if (!vcd.empty()) finish_vcd(popt.vcd + ".vcd", vcd);
    if (!timeline_json.empty()) {
        std::vector<std::string> names;
        for (const auto& l : plat.data().graph.layers) names.push_back(l.name);
        cim::write_file_atomic(timeline_json, plat.record().time.chrome_json(names));
    }

    auto r = plat.report();
    if (data) {  // a labelled dataset: the hardware-aware accuracy from the same programmed chip
        const auto& c = lc.cfg;
        const int n = c.run.limit ? static_cast<int>(std::min<std::int64_t>(data->n, c.run.limit)) : data->n;
        if (!quiet) std::fprintf(stderr, "cimtlm: accuracy over %d images of %s\n", n, data->name.c_str());
        progress_bar bar(!quiet);
        const auto model = plat.engine_model();
        const auto acc = cim::engine::evaluate(
            *model, n, [&](std::int64_t i) { return data->input(static_cast<int>(i), c.quant.input_bits); },
            data->labels, c.run.threads, [&](std::int64_t d, std::int64_t t) { bar(d, t); });
        r.has_accuracy = true;
        r.dataset = data->name;
        r.accuracy_images = acc.images;
        r.accuracy = acc.accuracy();
        r.accuracy_ideal = acc.accuracy_ideal();
        r.agreement = acc.images ? double(acc.agree) / double(acc.images) : 0.0;
    }
    r.argv = argv;
    r.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.peak_memory_bytes = peak_memory_bytes();
    const std::string warning = write_run_outputs(r, plat, out);
    std::cout << cim::report::table(r);
    if (!warning.empty()) {
        std::cout << "\nwarning: " << warning << "\n";
        std::fprintf(stderr, "cimtlm: warning: %s\n", warning.c_str());
    }
    std::printf("\nwrote %s/report.json and %s/layers.csv%s%s%s%s\n", out.c_str(), out.c_str(), vcd.empty() ? "" : ", ",
                vcd.c_str(), timeline_json.empty() ? "" : ", ", timeline_json.c_str());
    std::printf("wall time %.2f s, CPU time %.2f s, peak memory %.1f MiB\n", r.wall_time_s, cpu_seconds(),
                r.peak_memory_bytes / 1048576.0);
    exit_without_teardown();
}

/// `cimtlm search` is a Python driver (scripts/search.py, optuna) that runs its trials as sweeps of this program;
/// this checks the command line and hands over with exec, so the driver's exit code is the command's.
int cmd_search(const std::string& space, const std::string& out, long long trials, long long seed,
               const cim::cli::sweep_options& o, bool jobs_given) {
    namespace fs = std::filesystem;
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    std::string script = std::string(CIMTLM_SOURCE_DIR) + "/scripts/search.py";
    if (!fs::exists(script)) script = (fs::path(self).parent_path().parent_path() / "scripts/search.py").string();
    if (!fs::exists(script))
        throw cim::config_error("", 0, "search", "the driver scripts/search.py is not in " CIMTLM_SOURCE_DIR);
    const char* env_py = std::getenv("CIMTLM_PYTHON");
    const std::string python = env_py && *env_py ? env_py : access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    std::vector<std::string> args = {python, script, space, "--cimtlm", self, "--backend", o.backend};
    if (!out.empty()) args.insert(args.end(), {"--out", out});
    if (trials >= 0) args.insert(args.end(), {"--trials", std::to_string(trials)});
    if (seed >= 0) args.insert(args.end(), {"--seed", std::to_string(seed)});
    auto opt = [&](const char* name, const std::string& v) {
        if (!v.empty()) args.insert(args.end(), {name, v});
    };
    if (jobs_given) opt("--jobs", std::to_string(o.jobs));
    opt("--partition", o.partition);
    opt("--time", o.time_limit);
    if (o.max_running) opt("--max-running", std::to_string(o.max_running));
    if (o.per_task) opt("--per-task", std::to_string(o.per_task));
    if (o.cpus_per_task) opt("--cpus-per-task", std::to_string(o.cpus_per_task));
    if (o.backend == "slurm") opt("--poll", std::to_string(o.poll_s));
    for (const auto& a : o.sbatch_args) args.push_back("--sbatch=" + a);
    if (o.no_wait) throw cim::config_error("", 0, "--no-wait", "not for search (each batch of trials waits for the last)");
    if (o.quiet) args.push_back("--quiet");
    std::fflush(stdout);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    throw cim::config_error("", 0, "search", "cannot run " + python + ": " + std::strerror(errno) +
                                                 " (set CIMTLM_PYTHON to a Python 3 with optuna)");
}

}  // namespace

/// A number given on the command line, read by the project's rules (models/config/field.h): a bad one is a
/// config_error naming the option (exit code 2).
template <class T>
T cli_number(const std::string& text, const char* option) {
    try {
        return cim::cfg::parse_scalar<T>(text);
    } catch (const std::invalid_argument& e) {
        throw cim::config_error(option, 0, "", e.what());
    }
}

int sc_main(int argc, char** argv) {
    fix_mmap_threshold();
    std::vector<std::string> args(argv, argv + argc);
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);  // e.g. the VCD timescale note
    CLI::App app{"cimtlm: SystemC/TLM-2.0 simulator of compute-in-memory DNN accelerators"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("cimtlm ") + CIMTLM_VERSION);

    std::string config, out = "out", vcd, predictions, timeline_json, old_trace_json;
    std::vector<std::string> vcd_scopes;
    common_flags flags;
    bool quiet = false, markdown = false;

    auto add_common = [&](CLI::App* c) {
        c->add_option("--set", flags.sets, "override a parameter: key.path=value (repeatable; last wins)");
        c->add_option("--seed", flags.seed, "seed of every random stream (same as --set seed=N)");
        c->add_option("--dataset", flags.dataset,
                      "input images (same as --set run.dataset=SPEC): fashion-mnist[:train|:test], idx:IMAGES,LABELS, "
                      "cifar10:FILE[,FILE...], npy:IMAGES,LABELS, synthetic:N");
    };
    auto* run = app.add_subcommand("run", "simulate a network on the chip and write report.json, layers.csv");
    run->add_option("config", config, "experiment YAML (configs/experiments/...)")->required();
    add_common(run);
    run->add_option("--out", out, "output folder")->capture_default_str();
    run->add_option("--vcd", vcd, "write a VCD waveform: a busy flag per module, buffer occupancy, current layer");
    run->add_option("--vcd-scope", vcd_scopes,
                    "put in the VCD only modules whose path matches this glob (repeatable), e.g. 'chip.tile_*' or 'chip.htree'");
    run->add_option("--timeline-json", timeline_json,
                    "write the timeline of every transaction as Perfetto / Chrome trace-event JSON, one track per module");
    run->add_option("--trace-json", old_trace_json)->group("");  // the old name of --timeline-json: refused below
    run->add_flag("-q,--quiet", quiet, "no progress lines on stderr");
    auto* acc = app.add_subcommand("accuracy", "hardware-aware accuracy of a dataset through the batched engine");
    acc->add_option("config", config, "experiment YAML")->required();
    add_common(acc);
    acc->add_option("--limit", flags.limit, "evaluate the first N images (same as --set run.limit=N; 0 = all)");
    acc->add_option("--threads", flags.threads, "worker threads over images (same as --set run.threads=N)");
    acc->add_option("--out", out, "output folder")->capture_default_str();
    acc->add_flag("-q,--quiet", quiet, "no progress on stderr");
    acc->add_option("--predictions", predictions, "also write per-image predictions (index,label,prediction,prediction_ideal) as CSV");
    auto* map = app.add_subcommand("map", "print the floorplan of a config's network");
    map->add_option("config", config, "experiment YAML")->required();
    add_common(map);
    auto* sweep = app.add_subcommand("sweep", "run a design-space sweep (a grid or list of --set overrides) in parallel, "
                                               "here or on a Slurm cluster");
    std::string sweep_file;
    cim::cli::sweep_options sweep_opts;
    // Numbers arrive as text and are read by the project's own rules (cli_number), with its error format.
    std::string jobs_text = "1", max_running_text, per_task_text, cpus_text, poll_text = "5";
    bool dry_run = false;
    auto add_backend = [&](CLI::App* c) {
        c->add_option("--backend", sweep_opts.backend, "where the points run: local (worker processes here) or slurm "
                                                       "(one sbatch job array)")
            ->capture_default_str();
        c->add_option("--jobs,-j", jobs_text, "local: points run in parallel processes, 1..256")->capture_default_str();
        c->add_option("--partition", sweep_opts.partition, "slurm: partition of the job array (default: the cluster's)");
        c->add_option("--time", sweep_opts.time_limit, "slurm: time limit of one array task (minutes, HH:MM:SS, D-HH:MM, ...)");
        c->add_option("--max-running", max_running_text, "slurm: array tasks running at once (default: no limit)");
        c->add_option("--per-task", per_task_text, "slurm: points per array task (default: from the points' "
                                                         "measured time, about a minute per task)");
        c->add_option("--cpus-per-task", cpus_text, "slurm: CPUs per array task (default: the largest "
                                                                   "run.threads of the points)");
        c->add_option("--poll", poll_text, "slurm: seconds between squeue polls")->capture_default_str();
        c->add_option("--sbatch", sweep_opts.sbatch_args, "slurm: one more sbatch option, e.g. --sbatch=--account=proj "
                                                          "(repeatable)");
        c->add_flag("--no-wait", sweep_opts.no_wait, "slurm: submit and return; running the command again collects");
        c->add_flag("-q,--quiet", sweep_opts.quiet, "no progress line");
    };
    sweep->add_option("sweep", sweep_file, "sweep YAML (configs/experiments/*.sweep.yaml)")->required();
    add_backend(sweep);
    sweep->add_flag("--dry-run", dry_run, "check the sweep and list its points, one a line: index, finished or to-run, "
                                          "folder, overrides (tab-separated); run nothing");
    std::string sweep_out;
    sweep->add_option("--out", sweep_out, "results folder (default: the sweep file's out, else out/sweeps/<name>)");
    // One Slurm array task of a sweep (submitted by `sweep --backend slurm`; not for direct use).
    auto* sweep_task = app.add_subcommand("sweep-task", "");
    std::string manifest;
    long task_index = -1;
    sweep_task->add_option("manifest", manifest, "manifest.json of a submission")->required();
    sweep_task->add_option("--task", task_index, "array task index (default: $SLURM_ARRAY_TASK_ID)");
    sweep_task->group("");
    auto* search = app.add_subcommand("search", "multi-objective design-space search (optuna: NSGA-II or TPE), trials "
                                                "run as sweeps, here or on a Slurm cluster");
    std::string space_file, search_out;
    long long search_trials = -1, search_seed = -1;
    std::string trials_text, search_seed_text;
    search->add_option("space", space_file, "search space YAML (params, objectives, constraints)")->required();
    search->add_option("--trials", trials_text, "trials in all, counting those of an earlier run (default: the file's trials)");
    search->add_option("--seed", search_seed_text, "sampler seed (default: the file's seed)");
    search->add_option("--out", search_out, "results folder (default: the file's out, else out/search/<name>)");
    add_backend(search);
    search->get_option("--jobs")
        ->description("local: trials run in parallel processes (default: the file's parallel)")
        ->default_str("");
    auto* actions = app.add_subcommand("actions", "list every component class of a config's chip with its priced actions");
    actions->add_option("config", config, "experiment YAML")->required();
    add_common(actions);
    bool actions_json = false;
    actions->add_flag("--json", actions_json, "print JSON instead of tables");
    auto* reprice = app.add_subcommand("reprice", "re-price a finished run under other cost-only parameters, without "
                                                  "running its data path again");
    std::string run_dir;
    reprice->add_option("run_dir", run_dir, "the --out folder of a cimtlm run (report.json and counts.json)")->required();
    reprice->add_option("--set", flags.sets, "a cost-only parameter to change: key.path=value (repeatable)");
    std::string reprice_out;
    reprice->add_option("--out", reprice_out, "output folder (default RUN_DIR/reprice)");
    reprice->add_flag("-q,--quiet", quiet, "no progress lines on stderr");
    auto* params = app.add_subcommand("params", "list every parameter with unit, default and description");
    params->add_flag("--markdown", markdown, "print a Markdown table (docs/config-reference.md)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        // A command-line mistake is a config error: one line, exit 2.
        std::fprintf(stderr, "cimtlm: error: %s (see cimtlm --help)\n", cim::one_line(e.what()).c_str());
        return 2;
    }
    try {
        if (*params) return cmd_params(markdown);
        if (*sweep) {
            sweep_opts.jobs = cli_number<unsigned>(jobs_text, "--jobs");
            if (!max_running_text.empty()) sweep_opts.max_running = cli_number<unsigned>(max_running_text, "--max-running");
            if (!per_task_text.empty()) sweep_opts.per_task = cli_number<unsigned>(per_task_text, "--per-task");
            if (!cpus_text.empty()) sweep_opts.cpus_per_task = cli_number<unsigned>(cpus_text, "--cpus-per-task");
            sweep_opts.poll_s = cli_number<double>(poll_text, "--poll");
            cim::cli::check_options(sweep_opts);
            const auto spec = cim::cli::load_sweep(sweep_file, sweep_out);
            if (dry_run) {
                for (std::size_t i = 0; i < spec.points.size(); ++i) {
                    std::printf("%zu\t%s\t%s\t", i, cim::cli::point_finished(spec.points[i]) ? "finished" : "to-run",
                                spec.points[i].dir.c_str());
                    for (std::size_t k = 0; k < spec.points[i].sets.size(); ++k)
                        std::printf("%s%s=%s", k ? " " : "", spec.points[i].sets[k].path.c_str(), spec.points[i].sets[k].value.c_str());
                    std::printf("\n");
                }
                return 0;
            }
            const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
            const int failed = cim::cli::run_sweep(spec, sweep_opts, self);
            std::printf("sweep %s: %zu points; results in %s/results.csv\n", spec.name.c_str(), spec.points.size(),
                        spec.out.c_str());
            if (failed) {
                std::fprintf(stderr, "cimtlm: %d sweep point(s) failed\n", failed);
                return 5;
            }
            return 0;
        }
        if (*sweep_task) {
            if (task_index < 0) {
                const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
                if (!id) throw cim::config_error("", 0, "--task", "no --task and no SLURM_ARRAY_TASK_ID");
                task_index = std::strtol(id, nullptr, 10);
            }
            return cim::cli::run_slurm_task(manifest, task_index);
        }
        if (*search) {
            sweep_opts.jobs = cli_number<unsigned>(jobs_text, "--jobs");
            if (!max_running_text.empty()) sweep_opts.max_running = cli_number<unsigned>(max_running_text, "--max-running");
            if (!per_task_text.empty()) sweep_opts.per_task = cli_number<unsigned>(per_task_text, "--per-task");
            if (!cpus_text.empty()) sweep_opts.cpus_per_task = cli_number<unsigned>(cpus_text, "--cpus-per-task");
            sweep_opts.poll_s = cli_number<double>(poll_text, "--poll");
            if (!trials_text.empty()) search_trials = cli_number<long long>(trials_text, "--trials");
            if (!search_seed_text.empty()) search_seed = cli_number<long long>(search_seed_text, "--seed");
            cim::cli::check_options(sweep_opts);
            return cmd_search(space_file, search_out, search_trials, search_seed, sweep_opts,
                              search->get_option("--jobs")->count() > 0);
        }
        if (run->get_option("--trace-json")->count() > 0)
            throw cim::config_error("", 0, "--trace-json", "renamed: it is now --timeline-json");
        const auto overrides = parse_sets(flags, app.get_subcommands().front());
        if (*map) return cmd_map(config, overrides);
        if (*actions) return cmd_actions(config, overrides, actions_json);
        if (*reprice) return cmd_reprice(run_dir, overrides, reprice_out, quiet, args);
        if (*acc) return cmd_accuracy(config, overrides, out, predictions, quiet, args);
        if (*run) return cmd_run(config, overrides, out, vcd, vcd_scopes, timeline_json, quiet, args);
    } catch (const cim::config_error& e) {
        std::fprintf(stderr, "cimtlm: error: %s\n", e.format().c_str());
        return 2;
    } catch (const cim::model_error& e) {
        std::fprintf(stderr, "cimtlm: model error: %s\n", e.format().c_str());
        return 3;
    } catch (const sc_core::sc_report& e) {
        std::fprintf(stderr, "cimtlm: SystemC error: %s\n", cim::one_line(e.what()).c_str());
        return 4;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cimtlm: error: %s\n", cim::one_line(e.what()).c_str());
        return 1;
    }
    return 0;
}
