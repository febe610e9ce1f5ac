#pragma once
#include <array>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/circuit/action_table.h"
#include "models/hw/chip.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"

namespace cim::report {

constexpr std::size_t k_cat = circuit::k_categories;

/// Operator kinds of the report's by_operator breakdown: weight_matmul (conv2d, linear: the crossbars),
/// attention (matmul of two activations), softmax, layernorm, gelu, data_movement (transpose, reshape, slice,
/// concat, flatten; for area the global buffer and the interconnect) and other (relu, pooling, add; for area
/// the accumulator, activation, pooling units and the controller).
enum class operator_kind { weight_matmul, attention, softmax, layernorm, gelu, data_movement, other };
constexpr std::size_t k_operator_kinds = 7;
extern const char* const k_operator_kind_names[k_operator_kinds];
/// The operator kind of a layer.
operator_kind operator_kind_of(network::op o);
/// The operator kind a component's area belongs to, from its path in the chip.
operator_kind operator_kind_of_component(const std::string& path);

/// One component's own figures (children excluded), priced from its counts and its action table.
struct component_row {
    std::string path, type;
    std::string table;  // "kind (variant)" of its action table, "" when it has none
    std::array<double, k_cat> area{};  // m^2 by category
    double leakage_w = 0;
    double energy_j = 0;  // dynamic energy per inference
    std::array<double, k_cat> energy_by{};
    bool idle = false;
    std::vector<std::pair<std::string, double>> counts;  // per action, per inference
    std::vector<std::pair<std::string, double>> stats;   // statistics over the run (times in s, ...)
    double busy_s = 0, critical_s = 0;  // over the run: time working, time on the critical path
};

/// Everything a run reports, per inference (totals divided by the number of images).
struct report_data {
    nlohmann::ordered_json config = nlohmann::ordered_json::object();
    std::vector<std::string> sources;
    std::vector<std::string> argv;
    std::string network;
    std::string network_path;  // resolved network file (machine-dependent, so it lives in the run block)
    std::string mode = "layer_by_layer";
    int images = 1;
    double area_m2 = 0, latency_s = 0, dynamic_energy_j = 0, leakage_power_w = 0, leakage_energy_j = 0;
    double tops_per_w = 0, tops = 0, fps = 0, tops_per_mm2 = 0, memory_utilization = 0;
    double macs = 0;
    double sim_time_s = 0;
    // Pipelined execution: the first image's latency, the simulated steady-state throughput and its bound (the
    // busiest module's or the slowest layer's own time per image); layer by layer all three follow from latency_s.
    double first_image_latency_s = 0, fps_bound = 0;
    // Hardware-aware accuracy (when the run had a labelled dataset): batched engine over `accuracy_images` images.
    bool has_accuracy = false;
    std::string dataset;
    double accuracy = 0, accuracy_ideal = 0, agreement = 0;
    std::int64_t accuracy_images = 0;
    std::array<double, k_cat> area_by{}, energy_by{}, latency_by{};
    // By calibration class: what each factor multiplies (area, dynamic energy per inference, leakage power), so a
    // fit of the factors is linear in them (scripts/fit_calibration.py).
    std::array<double, circuit::k_cost_classes> area_by_class{}, energy_by_class{};
    std::array<double, circuit::k_leakage_classes> leakage_by_class{};
    // By operator kind: area from the components that serve it, dynamic energy and latency from its layers
    // (dynamic energy no layer accounts for goes to other), so each adds up to the total.
    std::array<double, k_operator_kinds> area_by_operator{}, energy_by_operator{}, latency_by_operator{};
    struct layer_row {
        int layer = -1;
        std::string name;
        double latency_s = 0, dynamic_energy_j = 0;
        std::array<double, k_cat> latency_by{};  // the layer's part of the critical path, by category
        double utilization = -1;                  // -1: no weights
        int duplication = 0, tiles = 0;
        std::uint64_t input_bits = 0, input_ones = 0;
        double input_density() const { return input_bits ? double(input_ones) / double(input_bits) : 0.0; }
    };
    std::vector<layer_row> layers;  // every layer but the input, in order
    std::vector<component_row> components;
    /// Per component type: its actions' and statistics' units and descriptions (emitted once per type).
    nlohmann::ordered_json statistics = nlohmann::ordered_json::object();
    double wall_time_s = 0, peak_memory_bytes = 0;
    bool activations_collapsed = false;
    std::string collapse_note;
};

/// Walk the chip after sc_start() returned and price every count (counts x action tables): energy and area per
/// component, per layer and per category come from that one product, so the parts add up to the totals. The
/// latency breakdown is the critical path of simulated time, attributed to the category of each interval.
report_data collect(const hw::chip& chip, const hw::run_record& rec, const mapping::plan& plan,
                    const network::graph& graph, hw::run_mode mode);

/// Writes report.json (schema cimtlm.report/2, indented by 2) to `os`, with `warnings` as its last member, streamed
/// (a chip's report is megabytes). Keys end in their unit. Every number is checked finite as it is written
/// (cim::json_stream): a non-finite one throws cim::model_error keyed by its JSON path, naming `what`.
void write_json(std::ostream& os, const report_data& r, const nlohmann::ordered_json& warnings, const std::string& what);
/// Fixed-order human table: summary, breakdown, per layer, and components collapsed by type path.
std::string table(const report_data& r);
/// layers.csv: one row per layer.
std::string layers_csv(const report_data& r);
/// Writes counts.json (compact) to `os`: every component's action counts by layer and the run's read log, what
/// `cimtlm reprice` re-prices and replays. Streamed and checked like write_json.
void write_counts_json(std::ostream& os, const hw::chip& chip, const hw::run_record& rec, const std::string& what);

}  // namespace cim::report
