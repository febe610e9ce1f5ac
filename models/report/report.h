#pragma once
#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/hw/chip.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"

namespace cim::report {

/// One component's own figures (children excluded).
struct component_row {
    std::string path, type;
    std::array<double, 6> area{};  // m^2 by category
    double leakage_w = 0;
    double energy_j = 0;  // dynamic energy, sum of its J statistics (per inference)
    bool idle = false;
    nlohmann::ordered_json stats = nlohmann::ordered_json::object();
};

/// Everything a run reports, per inference (totals divided by the number of images).
struct report_data {
    nlohmann::ordered_json config = nlohmann::ordered_json::object();
    std::vector<std::string> sources;
    std::vector<std::string> argv;
    std::string network;
    std::string network_path;  // resolved network file (machine-dependent, so it lives in the run block)
    int images = 1;
    double area_m2 = 0, latency_s = 0, dynamic_energy_j = 0, leakage_power_w = 0, leakage_energy_j = 0;
    double tops_per_w = 0, tops = 0, fps = 0, tops_per_mm2 = 0, memory_utilization = 0;
    double macs = 0;
    // Pipelined execution (DNN+NeuroSim V1.3 pipeline mode): every weight layer with the non-weight layers after it
    // is a stage on its own tiles; images overlap, so the slowest stage sets the throughput. Derived from the
    // simulated per-layer latencies; contention between overlapping stages is not simulated.
    double pipeline_stage_s = 0, fps_pipelined = 0;
    // Hardware-aware accuracy (when the run had a labelled dataset): batched engine over `accuracy_images` images.
    bool has_accuracy = false;
    std::string dataset;
    double accuracy = 0, accuracy_ideal = 0, agreement = 0;
    std::int64_t accuracy_images = 0;
    std::array<double, 6> area_by{}, energy_by{}, latency_by{};
    std::vector<hw::layer_result> layers;  // weight and other layers, per inference
    std::vector<double> layer_utilization;  // -1 for layers without weights
    std::vector<int> layer_duplication, layer_tiles;
    std::vector<component_row> components;
    double wall_time_s = 0, sim_time_s = 0, peak_memory_bytes = 0;
};

/// Walk the chip after sc_start() returned and price everything (ARCHITECTURE.md §3, §7).
report_data collect(const hw::chip& chip, const hw::energy_ledger& ledger, const mapping::plan& plan,
                    const network::graph& graph);

/// report.json (schema cimtlm.report/1). Keys end in their unit.
nlohmann::ordered_json to_json(const report_data& r);
/// Fixed-order human table: summary, breakdown, per layer, and components collapsed by type path.
std::string table(const report_data& r);
/// layers.csv: one row per layer.
std::string layers_csv(const report_data& r);

/// Write report.json and layers.csv into `dir` atomically.
void write_outputs(const report_data& r, const std::string& dir);

}  // namespace cim::report
