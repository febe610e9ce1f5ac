#pragma once
#include "models/circuit/components.h"
#include "models/circuit/technology.h"
#include "models/engine/hardware_model.h"
#include "models/functional/quant_config.h"
#include "models/hw/accumulator_impl.h"
#include "models/hw/component.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"

namespace cim::hw {

/// Everything the modules of one chip share, passed down the constructor chain by reference (no globals).
struct context {
    const circuit::technology& tech;
    const circuit::cell& cell;
    const circuit::subarray_config& subarray;
    const func::quant_config& quant;
    const network::graph& graph;  // with quantised weights
    const mapping::plan& plan;
    const engine::hardware_model& model;  // programmed subarrays and ADCs, shared with the batched engine
    double clock_hz;
    recorder& rec;
    const accumulator_factory* make_accumulator = nullptr;  // PE accumulation paths (nullptr: all TLM)
};

}  // namespace cim::hw
