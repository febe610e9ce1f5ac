#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/network/int_weights.h"

namespace cim::network {

/// Layer kinds of the IR. conv2d and linear are the weight layers that map onto crossbars; matmul multiplies two
/// computed tensors (attention's Q.K^T and A.V); softmax, layernorm and gelu are the transformer's nonlinear
/// functions; transpose, reshape, slice and concat move data.
enum class op {
    input, conv2d, linear, max_pool, avg_pool, relu, add, flatten,
    matmul, softmax, layernorm, gelu, transpose, reshape, slice, concat
};

const char* op_name(op o);

/// The largest number of multiply-accumulates of one layer (2^48): infer_shapes() rejects more, so sums over a network
/// stay far inside int64. Tensors and weight matrices are limited to 2^31 - 1 values (the engine indexes with int).
inline constexpr std::int64_t k_max_layer_macs = std::int64_t{1} << 48;

/// Activation tensor shape: row-major dims without the batch. A CNN tensor is (C, H, W) and a flattened vector
/// (N, 1, 1); a token tensor is (T, D); attention heads are (H, T, d).
struct shape {
    std::vector<int> dims;
    shape() = default;
    shape(int c, int h, int w) : dims{c, h, w} {}
    explicit shape(std::vector<int> d) : dims(std::move(d)) {}
    int rank() const { return static_cast<int>(dims.size()); }
    /// Channels, height and width of a rank-3 (CNN) tensor; 0 for another rank.
    int c() const { return rank() == 3 ? dims[0] : 0; }
    int h() const { return rank() == 3 ? dims[1] : 0; }
    int w() const { return rank() == 3 ? dims[2] : 0; }
    /// The last dimension (features of a token tensor); 0 for an empty shape.
    int last() const { return dims.empty() ? 0 : dims.back(); }
    /// The product of the dims, saturated at INT64_MAX: a hostile shape reads as too large, never wraps
    /// (infer_shapes rejects it).
    std::int64_t size() const {
        if (dims.empty()) return 0;
        std::int64_t n = 1;
        for (int d : dims)
            if (__builtin_mul_overflow(n, std::int64_t{d}, &n)) return INT64_MAX;
        return n;
    }
    bool operator==(const shape& o) const { return dims == o.dims; }
    bool operator!=(const shape& o) const { return !(*this == o); }
};

std::string to_string(const shape& s);

/// One node of the network. Parameters that do not apply to the op are left at 0.
/// Quantised tensors (filled by a weight source: synthetic generator, ONNX import):
///  - qweights: signed integer weights (in the narrowest storage that fits them), row-major
///    [out_channels][k_h*k_w*in_channels] with the unrolled
///    row index r = (kh*k_w + kw)*in_channels + c (NeuroSim's unrolling: channel fastest);
///  - weight_scale: real weight = qweight * weight_scale[c] for output channel c. One value (per-tensor scale:
///    synthetic weights, imported cimtlm.quant metadata) or out_channels values (per-output-channel scales:
///    post-training quantisation). The crossbar only ever sums qweights; the scales act after accumulation;
///  - out_scale: real activation = integer activation * out_scale, for this layer's output.
struct layer {
    std::string name;
    op kind = op::input;
    std::vector<std::string> inputs;  // producer layer names; empty = previous layer
    // conv2d / pooling
    int out_channels = 0;  // conv2d, linear (out_features)
    int kernel_h = 0, kernel_w = 0;
    int stride = 1;
    int padding = 0;
    // filled by infer_shapes()
    std::vector<int> input_ids;  // indices of producers in graph::layers
    shape in;                    // shape of the (first) input
    shape out;
    // quantisation (filled by a weight source)
    int_weights qweights;
    std::vector<float> fweights;  // float weights of an imported float model, same layout (quantised by the engine)
    std::vector<double> bias;     // real per-output-channel bias (empty: none); added in accumulator precision
    std::vector<double> weight_scale;  // 1 or out_channels values; empty until a weight source fills it
    double out_scale = 0.0;
    int line = 0;  // line in the source file, for errors
    // transformer ops
    int axis = 0;                 // slice, concat: the axis (>= 0, after the batch is dropped)
    int begin = 0, end = 0;       // slice: [begin, end) along axis
    std::vector<int> perm;        // transpose: output axis k is input axis perm[k]
    std::vector<int> new_dims;    // reshape: the output dims (their product is the input size)
    double multiplier = 1.0;      // matmul: a constant folded into the product (1/sqrt(d) of attention)
    double eps = 1e-5;            // layernorm: added to the variance (real units)
    std::vector<double> gamma, beta;  // layernorm: per feature (empty: 1 and 0)
    bool tanh_form = false;       // gelu: the tanh approximation instead of the erf form
    // add with a constant operand (positional embedding), concat with a constant first part (class token): real
    // values of that shape, broadcast over the leading dims of the computed input (add) or joined before it
    // along `axis` (concat).
    std::vector<double> constant;
    shape constant_shape;

    bool has_weights() const { return kind == op::conv2d || kind == op::linear; }
    // filled by infer_shapes(): the output can hold a negative value (by construction, not by data), and, for a
    // weight layer, its input can (a crossbar then reads it in two unsigned passes)
    bool may_be_negative = true;
    bool signed_input = false;
    /// True when the op writes a requantised tensor with a scale of its own (calibrated or imported).
    bool requantizes() const;
    /// Scale of output channel c's weights: weight_scale[0] for a per-tensor scale, else weight_scale[c].
    double channel_weight_scale(int c) const {
        return weight_scale[weight_scale.size() == 1 ? 0 : static_cast<std::size_t>(c)];
    }
    /// Unrolled weight-matrix rows: k*k*C_in (conv), in_features (linear: the last dim of a token tensor, the
    /// whole of a flat one).
    std::int64_t weight_rows() const;
    /// Output vectors computed per image: H_out*W_out (conv), the tokens of a token tensor (linear), else 1.
    std::int64_t output_pixels() const;
    /// Multiply-accumulates per image of a weight layer or an activation matmul.
    std::int64_t macs() const;
};

/// A network: an input and a list of layers in topological order (each layer's inputs precede it).
struct graph {
    std::string name;
    std::string source;  // file it came from (for errors)
    std::string provenance;  // the file's own `source:` line (paper, repository), echoed in reports
    shape input;
    std::vector<layer> layers;  // layers[0] is the op::input node named "input"
    bool quantized = false;  // scales imported (ONNX cimtlm.quant): no calibration needed
    unsigned weight_bits = 0, input_bits = 0;  // from the import metadata, 0 if none

    /// Resolve producer names, infer and validate shapes. Throws config_error naming the source file,
    /// the layer's line and "layers.<name>" on an inconsistency.
    void infer_shapes();
    /// Resolve and check layer i alone; layers before i must already be inferred. Lets a loader that
    /// connects layers by shape (the NeuroSim CSV) see each new tensor as it is added.
    void infer_layer(int i);
    int find(const std::string& layer_name) const;  // -1 when absent
    std::vector<int> weight_layers() const;         // indices of conv2d/linear layers
    std::int64_t total_macs() const;
    std::int64_t total_weights() const;
};

}  // namespace cim::network
