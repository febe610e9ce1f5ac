#include "platforms/inference/reprice.h"

#include <fstream>
#include <map>
#include <sstream>

#include "models/config/json_writer.h"
#include "models/config/yaml_reader.h"
#include "models/core/error.h"
#include "models/network/loader.h"

namespace cim::inference {

namespace {

nlohmann::ordered_json read_json(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw config_error(path, 0, "", "cannot read the file (is it a run folder of cimtlm run?)");
    try {
        return nlohmann::ordered_json::parse(f);
    } catch (const std::exception& e) {
        throw config_error(path, 0, "", std::string("malformed JSON: ") + e.what());
    }
}

/// Every leaf of a JSON object as dotted key -> value text.
void flatten(const nlohmann::ordered_json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
        return;
    }
    out[prefix] = j.dump();
}

}  // namespace

finished_run load_finished_run(const std::string& dir) {
    finished_run r;
    r.dir = dir;
    const std::string report = dir + "/report.json", counts = dir + "/counts.json";
    r.report = read_json(report);
    if (!r.report.contains("config") || !r.report.contains("run") || r.report.value("schema", "") != "cimtlm.report/2")
        throw config_error(report, 0, "schema", "not a report of cimtlm run (schema cimtlm.report/2)");
    // The effective config is JSON, which the YAML reader takes: every parameter, validated as a config file.
    cfg::load_text(r.report["config"].dump(), report + " (config)", r.config.cfg);
    r.config.file = report;
    r.config.network_path = r.report["run"].value("network_path", "");
    if (r.config.network_path.empty()) throw config_error(report, 0, "run.network_path", "missing");
    const auto c = read_json(counts);
    if (c.value("schema", "") != "cimtlm.counts/1") throw config_error(counts, 0, "schema", "expected cimtlm.counts/1");
    try {
        for (const auto& e : c.at("reads"))
            r.reads.add(hw::read_log::read{e.at(0).get<std::uint64_t>(), e.at(1).get<int>(), e.at(2).get<std::int64_t>(),
                                           e.at(3).get<std::uint64_t>(), e.at(4).get<double>()});
        for (const auto& e : c.value("writes", nlohmann::ordered_json::array()))
            r.reads.add(hw::read_log::write{e.at(0).get<std::uint64_t>(), e.at(1).get<int>(), e.at(2).get<std::int64_t>(),
                                            e.at(3).get<double>()});
        for (const auto& e : c.at("layer_inputs"))
            r.reads.add(hw::read_log::layer_input{e.at(0).get<int>(), e.at(1).get<std::int64_t>(), e.at(2).get<std::uint64_t>(),
                                                  e.at(3).get<std::uint64_t>()});
    } catch (const nlohmann::json::exception& e) {
        throw config_error(counts, 0, "reads", std::string("malformed read log: ") + e.what());
    }
    return r;
}

bool cost_only(const std::string& key) {
    static const char* const prefixes[] = {
        "technology.", "circuit_calibration.", "cell.r_on", "cell.read_voltage", "cell.read_pulse", "cell.area_f2",
        "cell.access_width_f", "subarray.adc_type", "subarray.cols_per_adc", "subarray.sense_time",
        "subarray.ir_drop_tolerance", "subarray.level_shifters", "subarray.skip_zero_rows", "chip.", "run.mode",
        "run.activity", "run.average_activity", "run.threads"};
    for (const char* p : prefixes)
        if (key.rfind(p, 0) == 0) return true;
    return false;
}

loaded_config reprice_config(const finished_run& run, const std::vector<cfg::override_spec>& sets) {
    loaded_config lc = run.config;
    cfg::apply_overrides(lc.cfg, sets);
    std::map<std::string, std::string> before, after;
    flatten(cfg::to_json(run.config.cfg), "", before);
    flatten(cfg::to_json(lc.cfg), "", after);
    for (const auto& [key, value] : after) {
        if (before[key] == value || cost_only(key)) continue;
        std::string arg = "--set";
        for (const auto& s : sets)
            if (key.rfind(s.path, 0) == 0) arg = s.origin.empty() ? "--set" : s.origin;
        throw config_error(arg, 0, key,
                           "changes the behaviour of the run (what the data path computes), so it cannot be re-priced; "
                           "run it again with cimtlm run");
    }
    if (lc.cfg.run.activity == "pseudo")
        throw config_error("--set", 0, "run.activity", "pseudo activity needs the programmed cells; it cannot be re-priced");
    return lc;
}

prepared prepare_structure(const loaded_config& lc) {
    prepared p;
    p.graph = network::load(lc.network_path);
    mapping::geometry geo;
    geo.rows = lc.cfg.subarray.rows;
    geo.cols = lc.cfg.subarray.cols;
    geo.columns_per_weight = func::columns_per_weight(lc.cfg.quant, lc.cfg.cell.bits);
    p.plan = mapping::build(p.graph, lc.cfg.mapping, geo);
    return p;
}

}  // namespace cim::inference
