#include "models/report/macro_report.h"

#include <fmt/format.h>

namespace cim::report {

nlohmann::ordered_json macro_json(const circuit::macro_result& r, const nlohmann::ordered_json& config,
                                  const std::vector<std::string>& sources, const std::vector<std::string>& argv) {
    nlohmann::ordered_json j;
    j["schema"] = "cimtlm.macro/1";
    j["run"] = {{"version", CIMTLM_VERSION}, {"argv", argv}, {"sources", sources}};
    j["summary"] = {{"macs_per_mvm", r.macs},
                    {"ops_per_mvm", r.ops},
                    {"dynamic_energy_j", r.dynamic_energy},
                    {"leakage_power_w", r.leakage_power},
                    {"energy_j", r.energy},
                    {"latency_s", r.latency},
                    {"area_m2", r.area},
                    {"tops_per_w", r.tops_per_w},
                    {"tops", r.tops},
                    {"tops_per_mm2", r.tops_per_mm2},
                    {"subarray", r.variant}};
    nlohmann::ordered_json comps = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < circuit::k_macro_groups.size(); ++i)
        comps.push_back({{"component", circuit::k_macro_groups[i]},
                         {"energy_j", r.energy_by_group[i]},
                         {"area_m2", r.area_by_group[i]}});
    comps.push_back({{"component", "leakage"}, {"energy_j", r.leakage_power * r.latency}, {"area_m2", 0.0}});
    j["components"] = comps;
    nlohmann::ordered_json acts = nlohmann::ordered_json::array(), parts = nlohmann::ordered_json::array();
    for (const auto& a : r.actions)
        acts.push_back({{"name", a.name}, {"component", a.group}, {"count", a.count}, {"energy_j", a.energy}});
    for (const auto& p : r.areas) parts.push_back({{"name", p.name}, {"component", p.group}, {"area_m2", p.area}});
    j["actions"] = acts;
    j["areas"] = parts;
    j["config"] = config;
    return j;
}

std::string macro_table(const circuit::macro_result& r) {
    std::string s = fmt::format("macro {}: one MVM of {:.0f} MACs ({:.0f} ops)\n", r.variant, r.macs, r.ops);
    s += fmt::format("{:<12} {:>12} {:>9} {:>12} {:>9}\n", "component", "energy pJ", "energy %", "area um^2", "area %");
    for (std::size_t i = 0; i < circuit::k_macro_groups.size(); ++i)
        s += fmt::format("{:<12} {:>12.4f} {:>9.1f} {:>12.1f} {:>9.1f}\n", circuit::k_macro_groups[i],
                         r.energy_by_group[i] * 1e12, r.energy > 0 ? 100.0 * r.energy_by_group[i] / r.energy : 0.0,
                         r.area_by_group[i] * 1e12, r.area > 0 ? 100.0 * r.area_by_group[i] / r.area : 0.0);
    const double leak = r.leakage_power * r.latency;
    s += fmt::format("{:<12} {:>12.4f} {:>9.1f}\n", "leakage", leak * 1e12, r.energy > 0 ? 100.0 * leak / r.energy : 0.0);
    s += fmt::format("{:<12} {:>12.4f} {:>9.1f} {:>12.1f} {:>9.1f}\n\n", "total", r.energy * 1e12, 100.0, r.area * 1e12, 100.0);
    s += fmt::format("latency per MVM {:.4g} ns, TOPS/W {:.4g}, TOPS {:.4g}, TOPS/mm^2 {:.4g}\n", r.latency * 1e9,
                     r.tops_per_w, r.tops, r.tops_per_mm2);
    return s;
}

}  // namespace cim::report
