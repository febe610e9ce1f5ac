#pragma once
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/circuit/components.h"
#include "models/circuit/technology.h"
#include "models/engine/hardware_model.h"
#include "models/hw/buffer.h"
#include "models/hw/chip_config.h"
#include "models/hw/controller.h"
#include "models/hw/function_block.h"
#include "models/hw/interconnect.h"
#include "models/hw/tile.h"
#include "models/hw/vector_unit.h"

namespace cim::hw {

/// Everything a chip is elaborated from, passed down by reference (no globals).
struct chip_inputs {
    const circuit::technology& tech;
    const circuit::calibration& calib;
    const circuit::cell& cell;
    const circuit::subarray_config& subarray;
    const engine::hardware_options& options;  // the data path: quant, cell bits, ADC bits, device, seed
    const network::graph& graph;              // with quantised weights and scales
    const mapping::plan& plan;
    /// One ADC per used subarray in plan order (tile, PE, subarray), set by calibration; nullptr: each block's own
    /// full-scale ADC.
    const std::vector<func::adc_transfer>* adcs = nullptr;
    activity_costing activity;
    run_mode mode = run_mode::layer_by_layer;
    std::vector<std::vector<std::int32_t>> images;
    int image_count = 0;
    const accumulation_factory* rtl = nullptr;
    /// Called when a subarray has programmed its block of graph layer `layer` at elaboration, so the graph's owner
    /// may free a layer's weights once all its blocks hold them (empty: nothing is told).
    std::function<void(int layer)> programmed;
};

/// The chip, elaborated from the mapping plan (no hand-written topology): tiles of PEs of subarrays, the global
/// buffer, the H-tree interconnect, the accumulation, activation and pooling units, and the controller. It owns
/// the circuit models whose action tables its modules count against (one per distinct geometry).
class chip : public component {
public:
    chip(const sc_core::sc_module_name& name, run_record& rec, const chip_inputs& in, const chip_config& cfg);
    ~chip() override;

    controller& ctrl() { return *m_controller; }
    const controller& ctrl() const { return *m_controller; }
    double clock_hz() const { return m_clock_hz; }

private:
    double m_clock_hz;
    std::unique_ptr<circuit::subarray_model> m_subarray_model;
    std::unique_ptr<subarray_setup> m_subarray_setup;
    std::unique_ptr<circuit::sram_buffer> m_global_buffer_model, m_tile_buffer_model;
    std::map<std::pair<unsigned, bool>, std::unique_ptr<circuit::adder_tree>> m_adders;
    std::unique_ptr<tile_setup> m_tile_setup;
    std::unique_ptr<circuit::htree> m_htree_model;
    std::unique_ptr<circuit::digital_unit> m_accumulator_model, m_activation_model, m_pooling_model;
    std::vector<std::unique_ptr<tile>> m_tiles;
    std::unique_ptr<buffer> m_global_buffer;
    std::unique_ptr<interconnect> m_interconnect;
    std::unique_ptr<vector_unit> m_accumulator, m_activation, m_pooling;
    // transformers: the function units' models, the attention pool's setup, and the block that holds them
    std::unique_ptr<circuit::digital_unit> m_softmax_model, m_layernorm_model, m_gelu_model, m_mac_model;
    std::unique_ptr<engine::hardware_options> m_attention_options;
    std::unique_ptr<circuit::subarray_model> m_attention_subarray_model;
    std::unique_ptr<subarray_setup> m_attention_subarray_setup;
    std::unique_ptr<attention_setup> m_attention_setup;
    std::unique_ptr<function_block> m_functions;
    std::unique_ptr<controller> m_controller;
};

/// Sum of own areas of a module and every component below it (m^2).
double subtree_area(const sc_core::sc_object& root);

}  // namespace cim::hw
