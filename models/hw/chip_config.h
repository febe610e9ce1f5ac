#pragma once
#include <string>

#include "models/circuit/technology.h"
#include "models/core/error.h"
#include "models/core/units.h"

// The `chip:` config section: plain structs without SystemC, header-only, so code that only reads or checks a run
// config (the Python extension, the config fuzz harness) links neither models/hw nor the SystemC kernel.
namespace cim::hw {

/// Buffer options (global buffer and tile buffer sections).
struct buffer_config {
    double size = 64 * 1024;  // bytes
    unsigned bus_bits = 128;
    template <class V>
    void visit(V& v) {
        v("size", size, unit::byte, "capacity");
        v("bus_bits", bus_bits, "bits moved per clock on the buffer port");
    }
    void validate() const {
        if (size < 1) throw config_error("", 0, "size", "must be at least 1 B");
        if (bus_bits < 1 || bus_bits > 65536) throw config_error("", 0, "bus_bits", "must be in 1..65536");
    }
};

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
    void validate() const {
        if (clock < 0 || clock > 20e9) throw config_error("", 0, "clock", "must be in [0, 20 GHz] (0: derived from the node)");
        if (!(clock_fo4 >= 5 && clock_fo4 <= 1000)) throw config_error("", 0, "clock_fo4", "must be in [5, 1000]");
        if (htree_bus_bits < 1) throw config_error("", 0, "htree_bus_bits", "must be at least 1");
        if (accumulator_lanes < 1) throw config_error("", 0, "accumulator_lanes", "must be at least 1");
        if (activation_lanes < 1) throw config_error("", 0, "activation_lanes", "must be at least 1");
        if (pooling_lanes < 1) throw config_error("", 0, "pooling_lanes", "must be at least 1");
        if (softmax_lanes < 1) throw config_error("", 0, "softmax_lanes", "must be at least 1");
        if (layernorm_lanes < 1) throw config_error("", 0, "layernorm_lanes", "must be at least 1");
        if (gelu_lanes < 1) throw config_error("", 0, "gelu_lanes", "must be at least 1");
        if (attention.mac_lanes < 1) throw config_error("", 0, "attention.mac_lanes", "must be at least 1");
        if (attention.subarrays < 1 || attention.subarrays > 1u << 20)
            throw config_error("", 0, "attention.subarrays", "must be in 1..1048576");
        if (pe.accumulator.clock < 0 || pe.accumulator.clock > 20e9)
            throw config_error("", 0, "pe.accumulator.clock", "must be in [0, 20 GHz] (0: the chip clock)");
    }
    /// The clock in Hz: `clock`, or 1 / (clock_fo4 * FO4 delay of the node) when `clock` is 0.
    double clock_hz(const circuit::technology& t) const { return clock > 0 ? clock : 1.0 / (clock_fo4 * t.fo4_delay()); }
};

}  // namespace cim::hw
