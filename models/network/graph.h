#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cim::network {

/// Layer kinds of the IR. conv2d and linear are the weight layers that map onto crossbars.
enum class op { input, conv2d, linear, max_pool, avg_pool, relu, add, flatten };

const char* op_name(op o);

/// Activation tensor shape, channels-first (C, H, W). A flattened vector is (N, 1, 1).
/// The largest number of multiply-accumulates of one layer (2^48): infer_shapes() rejects more, so sums over a network
/// stay far inside int64. Tensors and weight matrices are limited to 2^31 - 1 values (the engine indexes with int).
inline constexpr std::int64_t k_max_layer_macs = std::int64_t{1} << 48;

struct shape {
    int c = 0, h = 0, w = 0;
    /// c*h*w, saturated at INT64_MAX: a hostile shape reads as too large, never wraps (infer_shapes rejects it).
    std::int64_t size() const {
        std::int64_t r = 0;
        if (__builtin_mul_overflow(std::int64_t{c}, std::int64_t{h}, &r) || __builtin_mul_overflow(r, std::int64_t{w}, &r))
            return INT64_MAX;
        return r;
    }
    bool operator==(const shape& o) const { return c == o.c && h == o.h && w == o.w; }
    bool operator!=(const shape& o) const { return !(*this == o); }
};

/// One node of the network. Parameters that do not apply to the op are left at 0.
/// Quantised tensors (filled by a weight source: synthetic generator, ONNX import):
///  - qweights: signed integer weights, row-major [out_channels][k_h*k_w*in_channels] with the unrolled
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
    std::vector<std::int32_t> qweights;
    std::vector<float> fweights;  // float weights of an imported float model, same layout (quantised by the engine)
    std::vector<double> bias;     // real per-output-channel bias (empty: none); added in accumulator precision
    std::vector<double> weight_scale;  // 1 or out_channels values; empty until a weight source fills it
    double out_scale = 0.0;
    int line = 0;  // line in the source file, for errors

    bool has_weights() const { return kind == op::conv2d || kind == op::linear; }
    /// Scale of output channel c's weights: weight_scale[0] for a per-tensor scale, else weight_scale[c].
    double channel_weight_scale(int c) const {
        return weight_scale[weight_scale.size() == 1 ? 0 : static_cast<std::size_t>(c)];
    }
    /// Unrolled weight-matrix rows: k*k*C_in (conv) or in_features (linear).
    std::int64_t weight_rows() const;
    /// Output vectors computed per image: H_out*W_out (conv) or 1 (linear).
    std::int64_t output_pixels() const;
    /// Multiply-accumulates per image.
    std::int64_t macs() const { return has_weights() ? weight_rows() * out_channels * output_pixels() : 0; }
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
