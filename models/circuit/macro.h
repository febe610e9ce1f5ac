#pragma once
#include <array>
#include <string>
#include <vector>

#include "models/circuit/components.h"

namespace cim::circuit {

/// The `macro:` section of an experiment: a run of one compute-in-memory macro at its boundary (array, row drivers,
/// column read-out, ADCs and shift-add; no buffers, interconnect or rest of a chip), as measured silicon macros are
/// reported. The data statistics are the ones the paper measured at, stated as fractions of full scale.
struct macro_config {
    bool enabled = false;          // run the macro instead of a network on a chip
    double input_activity = 0.5;   // mean input as a fraction of its full scale (bit density of bit-serial inputs)
    double weight_activity = 0.5;  // mean programmed cell level as a fraction of the top level
    unsigned weight_rows = 1;      // rows per input (2: differential pairs on adjacent rows)
    unsigned weight_cols = 0;      // columns per weight (0: ceil(weight_bits / cell bits))
    unsigned cores = 1;            // identical macros working in parallel (throughput only)
    unsigned ops_per_mac = 2;      // operations counted per multiply-accumulate (silicon papers: 2)
    unsigned input_bits = 0;       // input precision (0: quant.input_bits)
    unsigned weight_bits = 0;      // weight precision (0: quant.weight_bits; 1 allowed here, as binary macros)

    template <class V>
    void visit(V& v) {
        v("enabled", enabled,
          "run one macro at its boundary (array, drivers, read-out, ADCs and shift-add) for one matrix-vector "
          "multiplication, instead of a network on a chip");
        v("input_activity", input_activity,
          "mean input as a fraction of its full scale: the input-bit density of bit-serial inputs, the mean pulse "
          "count or width of pulse-encoded ones");
        v("weight_activity", weight_activity, "mean programmed cell level as a fraction of the top level");
        v("weight_rows", weight_rows, "rows per input (2: a weight's differential pair on adjacent rows)");
        v("weight_cols", weight_cols, "columns per weight (0: ceil(quant.weight_bits / cell.bits))");
        v("cores", cores, "identical macros working in parallel; multiplies the throughput, not TOPS/W or area");
        v("ops_per_mac", ops_per_mac, "operations counted per multiply-accumulate in TOPS and TOPS/W (silicon papers count 2)");
        v("input_bits", input_bits, "input precision of the macro (0: quant.input_bits)");
        v("weight_bits", weight_bits, "weight precision of the macro (0: quant.weight_bits; 1: binary weights)");
    }
    void validate() const;
};

/// The figures of one matrix-vector multiplication on a macro: every action of the subarray's table with its count
/// and energy, the area and leakage by part, and the totals. `group` maps each action and area part onto the
/// macro-boundary components: array, drivers, readout (the column mux), adc, shift_add.
struct macro_result {
    struct line {
        std::string name, group;
        double count = 0, energy = 0;  // J
    };
    struct part {
        std::string name, group;
        double area = 0;  // m^2
    };
    std::vector<line> actions;
    std::vector<part> areas;
    double macs = 0;             // multiply-accumulates of one MVM
    double ops = 0;              // ops_per_mac x macs
    double dynamic_energy = 0;   // J per MVM
    double leakage_power = 0;    // W
    double latency = 0;          // s per MVM
    double energy = 0;           // J per MVM, dynamic + leakage over the latency
    double area = 0;             // m^2, one macro
    double tops_per_w = 0;       // ops / energy / 1e12
    double tops = 0;             // ops x cores / latency / 1e12
    double tops_per_mm2 = 0;     // tops / (cores x area in mm^2)
    std::array<double, 5> energy_by_group{};  // J: array, drivers, readout, adc, shift_add
    std::array<double, 5> area_by_group{};    // m^2
    std::string variant;         // the subarray table's geometry line
};

inline constexpr std::array<const char*, 5> k_macro_groups{"array", "drivers", "readout", "adc", "shift_add"};

/// One macro: a subarray_model of the experiment's geometry and read-out (no reference columns) and the activity of
/// one MVM from the stated statistics (every row driven, input_activity and weight_activity as the expected input
/// value and cell level). The counts are expectations, not a simulated data path. Does not model: data-dependent
/// ADC references, IR drop, partial use of the array.
macro_result evaluate_macro(const technology& t, const calibration& k, const cell& c, subarray_config g,
                            const macro_config& m, unsigned input_bits, unsigned weight_bits);

}  // namespace cim::circuit
