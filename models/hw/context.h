#pragma once
#include <vector>

#include "models/circuit/components.h"
#include "models/circuit/technology.h"
#include "models/engine/hardware_model.h"
#include "models/functional/quant_config.h"
#include "models/hw/accumulator_impl.h"
#include "models/hw/component.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"

namespace cim::hw {

/// How the subarray read costs see the data (run.trace; Fig. 7 of the DNN+NeuroSim paper). The data path always
/// computes the real values; only the activity that prices a read changes.
struct trace_costing {
    enum class mode { real, pseudo, average } kind = mode::real;
    double average_activity = 0.5;                         // average: input-bit density and mean level fraction
    const std::vector<double>* layer_mean_level = nullptr;  // pseudo: mean programmed level per graph layer
};

/// Everything the modules of one chip share, passed down the constructor chain by reference (no globals).
struct context {
    const circuit::technology& tech;
    const circuit::calibration& calib;  // global fitted multipliers of the circuit models
    const circuit::cell& cell;
    const circuit::subarray_config& subarray;
    const func::quant_config& quant;
    const network::graph& graph;  // with quantised weights
    const mapping::plan& plan;
    const engine::hardware_model& model;  // programmed subarrays and ADCs, shared with the batched engine
    double clock_hz;
    recorder& rec;
    const accumulator_factory* make_accumulator = nullptr;  // PE accumulation paths (nullptr: all TLM)
    trace_costing trace{};
};

}  // namespace cim::hw
