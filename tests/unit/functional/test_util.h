#pragma once
// Shared helpers of the functional unit tests.
#include "models/functional/quant_config.h"

namespace cim::func {

/// A quant_config from its four fields.
inline quant_config make(unsigned wb, unsigned ib, unsigned dac, const char* enc) {
    quant_config q;
    q.weight_bits = wb;
    q.input_bits = ib;
    q.dac_bits = dac;
    q.encoding = enc;
    return q;
}

}  // namespace cim::func
