#include "models/functional/quant_config.h"

#include "models/config/field.h"
#include "models/core/error.h"

namespace cim::func {

void quant_config::validate() const {
    // The declared ranges (a 1-bit symmetric weight can only hold 0, so weight_bits starts at 2), then the checks
    // that relate two fields.
    cfg::check_ranges(*this);
    if (dac_bits > input_bits)
        throw config_error("", 0, "dac_bits",
                           "must be in 1..input_bits (" + std::to_string(input_bits) + "), got " + std::to_string(dac_bits));
    if (encoding != "offset" && encoding != "differential")
        throw config_error("", 0, "encoding", "must be 'offset' or 'differential', got '" + encoding + "'");
    if (weight_granularity != "per_channel" && weight_granularity != "per_tensor")
        throw config_error("", 0, "weight_granularity",
                           "must be 'per_channel' or 'per_tensor', got '" + weight_granularity + "'");
}

int weight_max(const quant_config& q) { return (1 << (q.weight_bits - 1)) - 1; }

unsigned input_slices(const quant_config& q) { return (q.input_bits + q.dac_bits - 1) / q.dac_bits; }

static unsigned ceil_div(unsigned a, unsigned b) { return (a + b - 1) / b; }

unsigned columns_per_weight(const quant_config& q, unsigned cell_bits) {
    if (cell_bits == 0) throw model_error("cell_bits", "must be at least 1");
    return q.differential() ? 2 * ceil_div(q.weight_bits - 1, cell_bits) : ceil_div(q.weight_bits, cell_bits);
}

unsigned reference_columns(const quant_config& q, unsigned cell_bits) {
    if (cell_bits == 0) throw model_error("cell_bits", "must be at least 1");
    return q.differential() ? 0 : ceil_div(q.weight_bits, cell_bits);
}

}  // namespace cim::func
