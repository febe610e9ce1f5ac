#pragma once
#include <string>

#include "models/core/units.h"

namespace cim::func {

/// Quantisation of one layer's data path: signed symmetric weights, unsigned inputs applied
/// bit-serially through a dac_bits-wide DAC, and the signed-weight encoding on the array.
/// Weights are integers in [-(2^(wb-1)-1), 2^(wb-1)-1] (WAGE-style range [-1, 1] with scale
/// 1/(2^(wb-1)-1)); inputs are integers in [0, 2^input_bits - 1].
/// Does not model: scales or zero points (the caller requantises; weight_granularity only tells post-training
/// quantisation how many weight scales to make), per-channel bit widths.
struct quant_config {
    unsigned weight_bits = 8;
    unsigned input_bits = 8;
    unsigned dac_bits = 1;
    std::string encoding = "offset";
    std::string weight_granularity = "per_channel";

    template <class V>
    void visit(V& v) {
        v("weight_bits", weight_bits, range{2, 16}, "signed symmetric weight width [bit]");
        v("input_bits", input_bits, range{1, 16}, "unsigned input (activation) width [bit]");
        v("dac_bits", dac_bits, range{1, 16}, "input bits applied per read cycle [bit], at most input_bits");
        v.choice("encoding", encoding, {"offset", "differential"},
                 "signed weights: offset (+2^(wb-1), reference columns subtracted digitally) "
                 "or differential (G+/G- column pairs)");
        v.choice("weight_granularity", weight_granularity, {"per_channel", "per_tensor"},
                 "weight scales of post-training quantisation (float ONNX models only): one per output channel "
                 "or one per layer; models with cimtlm.quant metadata and synthetic weights keep their per-tensor "
                 "scales");
    }
    /// Throws cim::config_error naming the offending key.
    void validate() const;

    bool differential() const { return encoding == "differential"; }
    bool per_channel_weights() const { return weight_granularity == "per_channel"; }
};

/// Largest weight magnitude, 2^(wb-1) - 1.
int weight_max(const quant_config& q);

/// Input slices per MVM: ceil(input_bits / dac_bits).
unsigned input_slices(const quant_config& q);

/// Array columns per weight. offset: ceil(wb / cell_bits) cells holding w + 2^(wb-1);
/// differential: 2 * ceil((wb-1) / cell_bits), the magnitude on G+ or on G-.
unsigned columns_per_weight(const quant_config& q, unsigned cell_bits);

/// Reference columns per subarray block. offset: ceil(wb / cell_bits), one reference weight that holds
/// 2^(wb-1) in every row; differential: 0.
unsigned reference_columns(const quant_config& q, unsigned cell_bits);

}  // namespace cim::func
