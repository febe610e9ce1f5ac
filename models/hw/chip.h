#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/hw/accumulator_impl.h"
#include "models/hw/buffer.h"
#include "models/hw/pe.h"
#include "models/hw/tile.h"

namespace cim::hw {

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
    pe_config pe;

    template <class V>
    void visit(V& v) {
        v("clock", clock, unit::hertz,
          "clock of the digital periphery, buffers and interconnect; 0 derives it from the node: 1 / (clock_fo4 FO4)");
        v("clock_fo4", clock_fo4, "clock period in FO4 inverter delays of the node, used when clock is 0");
        v("global_buffer", global_buffer, "the chip's global activation buffer");
        v("tile_buffer", tile_buffer, "each tile's input buffer");
        v("htree_bus_bits", htree_bus_bits, "width of the H-tree bus between global buffer and tiles");
        v("accumulator_lanes", accumulator_lanes, "adds per clock of the chip accumulation unit");
        v("activation_lanes", activation_lanes, "elements per clock of the activation (ReLU / requantisation) unit");
        v("pooling_lanes", pooling_lanes, "elements per clock of the pooling unit");
        v("pe", pe, "processing elements");
    }
    void validate() const;
    /// The clock in Hz: `clock`, or 1 / (clock_fo4 * FO4 delay of the node) when `clock` is 0.
    double clock_hz(const circuit::technology& t) const { return clock > 0 ? clock : 1.0 / (clock_fo4 * t.fo4_delay()); }
};

/// Per layer results of one run.
struct layer_result {
    int layer = -1;
    std::string name;
    double latency = 0;  // s
    double dynamic_energy = 0;  // J
    proto::latency_split split;
    // Bits of the layer's input activations (weight layers; summed over images) and how many of them are 1: the
    // input-bit density, the activity parameter of the paper's pseudo-traced simulation.
    std::uint64_t input_bits = 0, input_ones = 0;
    double input_density() const { return input_bits ? double(input_ones) / double(input_bits) : 0.0; }
};

class chip;

/// Runs the network layer by layer: reads inputs from the global buffer, sends them over the H-tree to the
/// layer's tiles (transfers share the bus, computation overlaps), accumulates across tiles, requantises, applies
/// activation and pooling in the chip's digital units and writes results back. It owns the functional tensors
/// (the contents of the global buffer); modules price and time their movement. Synchronises at layer ends.
/// Logs each layer's interval, the current layer and the global buffer's occupancy (bytes of live tensors) to
/// the transaction log, from which --vcd and --trace-json are written.
class controller : public component {
public:
    SC_HAS_PROCESS(controller);
    controller(const sc_core::sc_module_name& name, const context& ctx, chip& parent,
               std::vector<std::vector<std::int32_t>> images);

    const std::vector<std::vector<std::int32_t>>& outputs() const { return m_outputs; }  // last image, per layer
    const std::vector<layer_result>& results() const { return m_results; }               // summed over images
    bool finished() const { return m_finished; }
    int images() const { return static_cast<int>(m_images.size()); }

private:
    void run();
    double run_weight_layer(int li, proto::latency_split& split);
    double run_other_layer(int li, proto::latency_split& split);
    double move(tlm_utils::simple_initiator_socket<controller>& s, tlm::tlm_command cmd, std::uint64_t bytes,
                sc_core::sc_time& t);
    double op(proto::compute_initiator_socket<controller>& s, int layer, std::uint64_t elements, sc_core::sc_time& t);

    const context& m_ctx;
    chip& m_chip;
    std::vector<std::vector<std::int32_t>> m_images;
    std::vector<std::vector<std::int32_t>> m_outputs;
    std::vector<layer_result> m_results;
    std::vector<int> m_last_use;
    bool m_finished = false;
    std::int64_t m_image = 0;  // index of the image being run
    std::vector<std::int32_t> m_cols;  // im2col scratch
    std::vector<std::int64_t> m_acc;   // accumulator scratch

public:
    tlm_utils::simple_initiator_socket<controller> to_global_buffer{"to_global_buffer"};
    tlm_utils::simple_initiator_socket<controller> to_htree{"to_htree"};
    proto::compute_initiator_socket<controller> to_accumulator{"to_accumulator"};
    proto::compute_initiator_socket<controller> to_activation{"to_activation"};
    proto::compute_initiator_socket<controller> to_pooling{"to_pooling"};
    std::vector<std::unique_ptr<proto::compute_initiator_socket<controller>>> to_tiles;
};

/// The chip: global buffer, H-tree, tiles (elaborated from the mapping plan), chip-level accumulation,
/// activation and pooling units, and the controller. There is no hand-written topology.
class chip : public component {
public:
    chip(const sc_core::sc_module_name& name, const context& ctx, const chip_config& cfg,
         std::vector<std::vector<std::int32_t>> images);

    controller& ctrl() { return *m_controller; }
    const controller& ctrl() const { return *m_controller; }
    std::vector<std::unique_ptr<tile>>& tiles() { return m_tiles; }
    buffer& global_buffer() { return *m_global_buffer; }

private:
    std::vector<std::unique_ptr<tile>> m_tiles;
    std::unique_ptr<buffer> m_global_buffer;
    std::unique_ptr<htree> m_htree;
    std::unique_ptr<digital> m_accumulator, m_activation, m_pooling;
    std::unique_ptr<controller> m_controller;
};

/// Sum of own areas of a module and every component below it (m^2).
double subtree_area(const sc_core::sc_object& root);

}  // namespace cim::hw
