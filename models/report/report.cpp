#include "models/report/report.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <regex>
#include <sstream>

#include "models/core/file_io.h"

namespace cim::report {

namespace {

void walk(const sc_core::sc_object& obj, std::vector<component_row>& rows, double per_image) {
    if (const auto* c = dynamic_cast<const hw::component*>(&obj)) {
        component_row r;
        r.path = obj.name();
        r.type = c->type();
        r.area = c->own_area();
        r.leakage_w = c->own_leakage_power();
        r.idle = c->idle();
        for (const stats::entry* e : c->statistics().entries()) {
            const double v = e->value() * per_image;
            if (e->unit() == "J") r.energy_j += v;
            r.stats[e->name()] = {{"value", v}, {"unit", e->unit()}};
        }
        rows.push_back(std::move(r));
    }
    for (const sc_core::sc_object* child : obj.get_child_objects()) walk(*child, rows, per_image);
}

/// "chip.tile_12.pe_3.subarray_0" -> "chip.tile[*].pe[*].subarray[*]" (Accelergy-style instance collapse).
std::string collapse(const std::string& path) {
    static const std::regex idx("_([0-9]+)(?=\\.|$)");
    return std::regex_replace(path, idx, "[*]");
}

}  // namespace

report_data collect(const hw::chip& chip, const hw::energy_ledger& ledger, const mapping::plan& plan,
                    const network::graph& graph) {
    report_data r;
    const auto& ctrl = chip.ctrl();
    r.images = std::max(1, ctrl.images());
    const double per_image = 1.0 / r.images;
    walk(chip, r.components, per_image);
    for (const auto& c : r.components) {
        for (std::size_t k = 0; k < 6; ++k) r.area_by[k] += c.area[k];
        r.leakage_power_w += c.leakage_w;
    }
    for (double a : r.area_by) r.area_m2 += a;
    for (std::size_t k = 0; k < 6; ++k) r.energy_by[k] = ledger.by_category(static_cast<hw::category>(k)) * per_image;
    r.dynamic_energy_j = ledger.total() * per_image;
    for (auto l : ctrl.results()) {
        if (l.layer <= 0) continue;  // the input node
        l.latency *= per_image;
        l.dynamic_energy *= per_image;
        l.split.array *= per_image;
        l.split.adc *= per_image;
        l.split.accumulation *= per_image;
        l.split.buffer *= per_image;
        l.split.interconnect *= per_image;
        l.split.other *= per_image;
        r.latency_s += l.latency;
        r.latency_by[0] += l.split.array;
        r.latency_by[1] += l.split.adc;
        r.latency_by[2] += l.split.accumulation;
        r.latency_by[3] += l.split.buffer;
        r.latency_by[4] += l.split.interconnect;
        r.latency_by[5] += l.split.other;
        const mapping::layer_plan* lp = plan.find_layer(l.layer);
        r.layer_utilization.push_back(lp ? lp->utilization() : -1.0);
        r.layer_duplication.push_back(lp ? lp->duplication : 0);
        r.layer_tiles.push_back(lp ? lp->num_tiles : 0);
        r.layers.push_back(l);
    }
    // Split the remainder (controller bookkeeping between the parts) into "other" so the parts add up.
    double parts = 0;
    for (double v : r.latency_by) parts += v;
    if (r.latency_s > parts) r.latency_by[5] += r.latency_s - parts;
    double stage = 0;
    for (const auto& l : r.layers) {
        const network::layer& L = graph.layers[static_cast<std::size_t>(l.layer)];
        if (L.has_weights()) stage = 0;
        stage += l.latency;
        r.pipeline_stage_s = std::max(r.pipeline_stage_s, stage);
    }
    r.fps_pipelined = r.pipeline_stage_s > 0 ? 1.0 / r.pipeline_stage_s : 0.0;
    r.leakage_energy_j = r.leakage_power_w * r.latency_s;
    r.macs = static_cast<double>(graph.total_macs());
    const double ops = 2.0 * r.macs;
    const double energy = r.dynamic_energy_j + r.leakage_energy_j;
    r.tops = r.latency_s > 0 ? ops / r.latency_s / 1e12 : 0.0;
    r.tops_per_w = energy > 0 ? ops / energy / 1e12 : 0.0;
    r.fps = r.latency_s > 0 ? 1.0 / r.latency_s : 0.0;
    r.tops_per_mm2 = r.area_m2 > 0 ? r.tops / (r.area_m2 * 1e6) : 0.0;
    r.memory_utilization = plan.utilization();
    r.network = graph.name;
    return r;
}

nlohmann::ordered_json to_json(const report_data& r) {
    using J = nlohmann::ordered_json;
    auto split = [](const std::array<double, 6>& a) {
        J j = J::object();
        for (std::size_t k = 0; k < 6; ++k) j[hw::k_category_names[k]] = a[k];
        return j;
    };
    J j = J::object();
    j["schema"] = "cimtlm.report/1";
    J run = J::object();
    run["version"] = "0.1.0";
    run["argv"] = r.argv;
    run["wall_time_s"] = r.wall_time_s;
    run["sim_time_s"] = r.sim_time_s;
    run["peak_memory_bytes"] = r.peak_memory_bytes;
    run["images"] = r.images;
    run["sources"] = r.sources;
    run["network_path"] = r.network_path;
    j["run"] = run;
    j["config"] = r.config;
    J s = J::object();
    s["network"] = r.network;
    s["area_m2"] = r.area_m2;
    s["latency_s"] = r.latency_s;
    s["dynamic_energy_j"] = r.dynamic_energy_j;
    s["leakage_power_w"] = r.leakage_power_w;
    s["leakage_energy_j"] = r.leakage_energy_j;
    s["tops_per_w"] = r.tops_per_w;
    s["tops"] = r.tops;
    s["fps"] = r.fps;
    s["fps_pipelined"] = r.fps_pipelined;
    s["pipeline_stage_latency_s"] = r.pipeline_stage_s;
    s["tops_per_mm2"] = r.tops_per_mm2;
    s["memory_utilization"] = r.memory_utilization;
    s["macs"] = r.macs;
    if (r.has_accuracy) {
        s["dataset"] = r.dataset;
        s["accuracy_images"] = r.accuracy_images;
        s["accuracy"] = r.accuracy;
        s["accuracy_ideal"] = r.accuracy_ideal;
        s["agreement"] = r.agreement;
    }
    j["summary"] = s;
    j["breakdown"] = {{"area_m2", split(r.area_by)}, {"dynamic_energy_j", split(r.energy_by)}, {"latency_s", split(r.latency_by)}};
    J layers = J::array();
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
        const auto& l = r.layers[i];
        J o = J::object();
        o["name"] = l.name;
        o["latency_s"] = l.latency;
        o["dynamic_energy_j"] = l.dynamic_energy;
        o["memory_utilization"] = r.layer_utilization[i] < 0 ? J(nullptr) : J(r.layer_utilization[i]);
        o["duplication"] = r.layer_duplication[i];
        o["tiles"] = r.layer_tiles[i];
        o["input_bit_density"] = l.input_bits ? J(l.input_density()) : J(nullptr);
        layers.push_back(o);
    }
    j["layers"] = layers;
    J comps = J::array();
    for (const auto& c : r.components) {
        if (c.idle && c.type == std::string("subarray")) continue;  // idle subarrays: counted in the area only
        J o = J::object();
        o["path"] = c.path;
        o["type"] = c.type;
        double a = 0;
        for (double v : c.area) a += v;
        o["area_m2"] = a;
        o["leakage_w"] = c.leakage_w;
        o["dynamic_energy_j"] = c.energy_j;
        o["stats"] = c.stats;
        comps.push_back(o);
    }
    j["components"] = comps;
    return j;
}

std::string table(const report_data& r) {
    std::ostringstream os;
    char b[512];
    os << "cimtlm: " << r.network << ", " << r.images << " image(s), per inference\n";
    std::snprintf(b, sizeof b,
                  "  area            %12.4f mm^2\n  latency         %12.4f ms\n  dynamic energy  %12.4f uJ\n"
                  "  leakage power   %12.4f mW\n  leakage energy  %12.4f uJ\n  energy eff.     %12.4f TOPS/W\n"
                  "  throughput      %12.2f FPS  (%.4f TOPS), pipelined %.2f FPS\n  compute density %12.4f TOPS/mm^2\n"
                  "  memory util.    %12.2f %%\n  MACs            %12.4g\n",
                  r.area_m2 * 1e6, r.latency_s * 1e3, r.dynamic_energy_j * 1e6, r.leakage_power_w * 1e3,
                  r.leakage_energy_j * 1e6, r.tops_per_w, r.fps, r.tops, r.fps_pipelined, r.tops_per_mm2, 100.0 * r.memory_utilization,
                  r.macs);
    os << b;
    if (r.has_accuracy) {
        std::snprintf(b, sizeof b,
                      "  accuracy        %12.2f %%  (hardware-aware, %lld images of %s)\n"
                      "  accuracy ideal  %12.2f %%  (integer-exact quantised network; agreement %.2f %%)\n",
                      100.0 * r.accuracy, static_cast<long long>(r.accuracy_images), r.dataset.c_str(),
                      100.0 * r.accuracy_ideal, 100.0 * r.agreement);
        os << b;
    }
    os << "\nbreakdown       area mm^2  area %    dyn uJ  energy %   latency ms\n";
    for (std::size_t k = 0; k < 6; ++k) {
        std::snprintf(b, sizeof b, "  %-12s %10.4f %7.1f %9.4f %9.1f %12.5f\n", hw::k_category_names[k], r.area_by[k] * 1e6,
                      r.area_m2 > 0 ? 100 * r.area_by[k] / r.area_m2 : 0.0, r.energy_by[k] * 1e6,
                      r.dynamic_energy_j > 0 ? 100 * r.energy_by[k] / r.dynamic_energy_j : 0.0, r.latency_by[k] * 1e3);
        os << b;
    }
    os << "\nlayer            latency ms    dyn uJ   util %   dup  tiles\n";
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
        if (r.layer_utilization[i] < 0 && r.layers[i].latency == 0) continue;
        std::snprintf(b, sizeof b, "  %-14s %10.5f %9.4f %8s %5d %6d\n", r.layers[i].name.c_str(), r.layers[i].latency * 1e3,
                      r.layers[i].dynamic_energy * 1e6,
                      r.layer_utilization[i] < 0 ? "-" : std::to_string(int(std::lround(1000 * r.layer_utilization[i])) / 10.0).substr(0, 5).c_str(),
                      r.layer_duplication[i], r.layer_tiles[i]);
        os << b;
    }
    // Components collapsed by type path, sorted by path.
    struct agg {
        int inst = 0;
        double area = 0, dyn = 0, leak = 0;
    };
    std::map<std::string, agg> by;
    for (const auto& c : r.components) {
        agg& a = by[collapse(c.path)];
        a.inst += 1;
        for (double v : c.area) a.area += v;
        a.dyn += c.energy_j;
        a.leak += c.leakage_w * r.latency_s;
    }
    os << "\ncomponent                                inst   area mm^2  area %    dyn uJ   leak uJ  energy %\n";
    const double etot = r.dynamic_energy_j + r.leakage_energy_j;
    for (const auto& [path, a] : by) {
        const int depth = static_cast<int>(std::count(path.begin(), path.end(), '.'));
        std::string name = std::string(static_cast<std::size_t>(2 * depth), ' ') + path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
        std::snprintf(b, sizeof b, "  %-38s %5d %11.4f %7.1f %9.4f %9.4f %9.1f\n", name.c_str(), a.inst, a.area * 1e6,
                      r.area_m2 > 0 ? 100 * a.area / r.area_m2 : 0.0, a.dyn * 1e6, a.leak * 1e6,
                      etot > 0 ? 100 * (a.dyn + a.leak) / etot : 0.0);
        os << b;
    }
    return os.str();
}

std::string layers_csv(const report_data& r) {
    std::ostringstream os;
    os << "name,latency_s,dynamic_energy_j,memory_utilization,duplication,tiles,array_latency_s,adc_latency_s,"
          "accumulation_latency_s,buffer_latency_s,interconnect_latency_s,other_latency_s,input_bit_density\n";
    char b[512];
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
        const auto& l = r.layers[i];
        char density[32] = "";
        if (l.input_bits) std::snprintf(density, sizeof density, "%.6g", l.input_density());
        std::snprintf(b, sizeof b, "%s,%.9g,%.9g,%s,%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%s\n", l.name.c_str(), l.latency,
                      l.dynamic_energy, r.layer_utilization[i] < 0 ? "" : std::to_string(r.layer_utilization[i]).c_str(),
                      r.layer_duplication[i], r.layer_tiles[i], l.split.array, l.split.adc, l.split.accumulation,
                      l.split.buffer, l.split.interconnect, l.split.other, density);
        os << b;
    }
    return os.str();
}

void write_outputs(const report_data& r, const std::string& dir) {
    write_file_atomic(dir + "/report.json", to_json(r).dump(2) + "\n");
    write_file_atomic(dir + "/layers.csv", layers_csv(r));
}

}  // namespace cim::report
