#pragma once
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
#include "models/hw/controller.h"
#include "models/hw/function_block.h"
#include "models/hw/interconnect.h"
#include "models/hw/tile.h"
#include "models/hw/vector_unit.h"

namespace cim::hw {

/// PE options (the `chip.pe:` config section).
struct pe_config {
    struct accumulator_config {
        std::string impl = "tlm";  // tlm | rtl
        std::string scope = "*";   // glob over PE paths that use `impl` (e.g. "chip.tile_3.*")
        std::string block = "pe_accumulator";  // the RTL block (platforms/rtl)
        double clock = 0;                      // Hz; 0: the chip clock
        template <class V>
        void visit(V& v) {
            v.choice("impl", impl, {"tlm", "rtl"},
                     "PE accumulation path: the TLM adder tree, or a verilated RTL block (platforms/rtl) driven pin by "
                     "pin by its transactor, whose clock cycles are the accumulation time");
            v("scope", scope, "glob over PE paths (e.g. chip.tile_0.pe_*) that use impl; the others use tlm");
            v.choice("block", block, {"pe_accumulator", "pe_accumulator_lanes4"},
                     "the RTL block: pe_accumulator (one word per clock, latency 1) or pe_accumulator_lanes4 (four "
                     "words per clock, a 3-stage pipeline)");
            v("clock", clock, unit::hertz, "clock of the RTL block; 0 runs it at the chip clock");
        }
    } accumulator;
    template <class V>
    void visit(V& v) {
        v("accumulator", accumulator, "the PE's accumulation path of its subarrays' partial sums");
    }
};

/// Attention products (activation x activation matmuls) options (the `chip.attention:` config section).
struct attention_config {
    std::string impl = "digital";  // digital | cim
    unsigned mac_lanes = 256;
    unsigned subarrays = 64;
    template <class V>
    void visit(V& v) {
        v.choice("impl", impl, {"digital", "cim"},
                 "where Q.K^T and A.V run: digital multiply-accumulate lanes (exact), or a pool of compute-in-memory "
                 "subarrays written at run time with K^T and V (write energy, time and endurance counted)");
        v("mac_lanes", mac_lanes, "multiply-accumulates per clock of the digital attention unit");
        v("subarrays", subarrays, "subarrays of the attention pool (impl: cim); blocks beyond it wait for a free one");
    }
};

/// Chip-level options (the `chip:` config section).
struct chip_config {
    double clock = 0.0;  // Hz; 0: derived from the node, 1 / (clock_fo4 * FO4)
    double clock_fo4 = 45.0;  // clock period in FO4 delays when clock is 0
    buffer_config global_buffer{1024.0 * 1024.0, 512};
    buffer_config tile_buffer{64.0 * 1024.0, 256};
    unsigned htree_bus_bits = 512;
    unsigned accumulator_lanes = 64;
    unsigned activation_lanes = 64;
    unsigned pooling_lanes = 64;
    unsigned softmax_lanes = 16;
    unsigned layernorm_lanes = 16;
    unsigned gelu_lanes = 64;
    attention_config attention;
    pe_config pe;

    template <class V>
    void visit(V& v) {
        v("clock", clock, unit::hertz,
          "clock of the digital periphery, buffers and interconnect; 0 derives it from the node: 1 / (clock_fo4 FO4)");
        v("clock_fo4", clock_fo4, "clock period in FO4 inverter delays of the node, used when clock is 0");
        v("global_buffer", global_buffer, "the chip's global activation buffer (its size bounds the activations held)");
        v("tile_buffer", tile_buffer, "each tile's input buffer");
        v("htree_bus_bits", htree_bus_bits, "width of the H-tree bus between global buffer and tiles");
        v("accumulator_lanes", accumulator_lanes, "adds per clock of the chip accumulation unit");
        v("activation_lanes", activation_lanes, "elements per clock of the activation (ReLU / requantisation) unit");
        v("pooling_lanes", pooling_lanes, "elements per clock of the pooling unit");
        v("softmax_lanes", softmax_lanes, "elements per clock of the softmax unit (transformers)");
        v("layernorm_lanes", layernorm_lanes, "elements per clock of the layer-norm unit (transformers)");
        v("gelu_lanes", gelu_lanes, "elements per clock of the GELU unit (transformers)");
        v("attention", attention, "the attention products Q.K^T and A.V (transformers)");
        v("pe", pe, "processing elements");
    }
    void validate() const;
    /// The clock in Hz: `clock`, or 1 / (clock_fo4 * FO4 delay of the node) when `clock` is 0.
    double clock_hz(const circuit::technology& t) const { return clock > 0 ? clock : 1.0 / (clock_fo4 * t.fo4_delay()); }
};

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
