#pragma once
#include <cstdint>
#include <vector>

#include "models/functional/crossbar_mvm.h"
#include "models/functional/quant_config.h"
#include "models/network/graph.h"

namespace cim::engine {

// The integer semantics of a quantised network, shared by both engines (docs/architecture.md §1, §5).
//
// Every activation tensor is int32, CHW row-major, with one real scale per tensor: real = int * scale,
// stored in the producing layer's network::layer::out_scale. Weights have one scale per tensor or one per
// output channel (layer::weight_scale; s_c below is output channel c's). With A = 2^input_bits - 1:
//  - input:     the image, integers in [0, A], scale 1/A;
//  - conv2d / linear: acc = sum(qweight * x) in int64 (the crossbar's column sums: scales play no part);
//               y_c = requantize(acc_c + bias_c, s_c*in_scale/out_scale, -A, A), a signed value with
//               input_bits magnitude bits. The logits layer (the last weight layer, followed by nothing but
//               flatten) keeps accumulator precision: out_scale = min_c(s_c)*in_scale and y_c =
//               requantize(acc_c + bias_c, s_c/min_c(s_c), int32 range), which with a per-tensor scale is
//               acc + bias clamped to int32 (multiplier exactly 1);
//  - relu:      clamp(x, 0, A), same scale;
//  - max_pool, avg_pool (func::avg_pool rounding), flatten: same scale;
//  - add:       y = func::add(a, sa/so, b, sb/so, -A, A) with its own calibrated scale so.
// A crossbar takes unsigned inputs in [0, A]: a signed input is read in two passes (signed_input()).
// Not modelled: batch norm (folded away or absent), zero points, per-channel activation scales, other ops.

/// The post-accumulation step of one weight layer: what turns an int64 column-sum total (acc, summed
/// over every subarray, PE and tile) into the layer's int32 output. The platform, which forms acc through
/// crossbar blocks, and the reference both call apply(), so their outputs are bit-identical.
struct weight_output_rule {
    bool logits = false;  ///< true: the output keeps accumulator precision (int32 range, see the header comment)
    /// Per output channel: s_c * in_scale / out_scale, or s_c / min(s) for the logits layer. One value per
    /// channel even for a per-tensor scale, so apply() has a single path.
    std::vector<double> multiplier;
    std::int32_t lo = 0, hi = 0;
    /// Per-channel bias in accumulator units, llround(bias_c / (s_c * in_scale)); empty without bias.
    std::vector<std::int64_t> bias;
    /// The output layout: channel-major (C, H, W) for a convolution or a flat linear, token-major (T, D) for a
    /// linear on tokens.
    bool token_major = false;
    /// requantize(acc + bias[channel], multiplier[channel], lo, hi).
    std::int32_t apply(std::int64_t acc, int channel) const;
};

/// A weight layer's accumulations (pixel-major: n x oc) through its rule into the output tensor (CHW, or (T, D)
/// for a token-major rule). The one post-accumulation routine of the reference, the batched engine and the
/// SystemC controller.
std::vector<std::int32_t> finish_layer(const weight_output_rule& rule, const std::vector<std::int64_t>& acc, int n,
                                       int oc);

/// An activation matmul's accumulators (batch x m x n) into its output: requantize(acc, ((s_a * s_b) * c) / s_out,
/// -A, A), c the layer's constant multiplier. The one rule of the reference, the digital and the CIM attention.
std::vector<std::int32_t> finish_matmul(const network::graph& g, int layer_index, const std::vector<std::int64_t>& acc,
                                        const func::quant_config& q);

/// The rule of weight layer `layer_index`. Throws cim::model_error ("layers.<name>") when the layer has no
/// weights, its weight_scale does not hold 1 or out_channels values, or a needed scale is not positive (run
/// calibrate() or import the scales first).
weight_output_rule weight_output(const network::graph& g, int layer_index, const func::quant_config& q);

/// weight_output(g, layer_index, q).apply(acc, channel), for one value.
std::int32_t finish_weight_output(const network::graph& g, int layer_index, std::int64_t acc,
                                  const func::quant_config& q, int channel = 0);

/// Real scale of the (first) input of a layer: the out_scale of its producer.
/// Throws cim::model_error when the layer is the input node or the producer's scale is not positive.
double layer_in_scale(const network::graph& g, int layer_index);

/// True for the logits layer: a weight layer after which only flatten layers follow in g.layers.
bool is_logits_layer(const network::graph& g, int layer_index);

/// Computes a layer that holds no weights (input, relu, max_pool, avg_pool, flatten, add) from the outputs of
/// earlier layers: outputs[j] is layer j's output (only the producers are read). For op::input, outputs[0]
/// must hold the image, which is range-checked and copied. out is resized and overwritten (it may be the
/// entry outputs[layer_index]). Throws cim::model_error for a weight layer, a producer output of the wrong
/// size, an image value outside [0, A], or (add) a missing scale.
void apply_nonweight_layer(const network::graph& g, int layer_index,
                           const std::vector<std::vector<std::int32_t>>& outputs, std::vector<std::int32_t>& out,
                           const func::quant_config& q);
/// The same from the layer's inputs in input_ids order (for op::input, the image): the form a vector unit of the
/// platform uses, which receives the tensors it works on.
void apply_nonweight_layer(const network::graph& g, int layer_index,
                           const std::vector<const std::vector<std::int32_t>*>& inputs, std::vector<std::int32_t>& out,
                           const func::quant_config& q);

/// True for a conv2d/linear whose input can be negative: its producer chain (through pooling, flatten and data
/// movement) reaches a weight layer, a matmul, a layer norm, a GELU or an add of a possibly negative tensor before an
/// input, a relu or a softmax. Crossbar inputs are applied as unsigned bit planes, so such a layer reads its input
/// twice, as x+ = max(x, 0) and x- = max(-x, 0), and subtracts (engine::read_block). Structural: does not look at
/// values, so the hardware's passes do not depend on the data.
bool signed_input(const network::graph& g, int layer_index);

/// Synthetic weights, for runs without a trained model. For weight layer i, every qweight is drawn in
/// row-major order from rng_stream(seed, {0x77, i}) from the distribution of round(N(0, sigma)) clamped to [-M, M],
/// with M = weight_max(q) and sigma = M/3 (every level is used and ~0.3 % of the mass sits on +-M), one 64-bit draw
/// per weight through an alias table. One per-tensor
/// weight_scale = sqrt(2/fan_in) * 3/M makes the real weights' standard deviation sqrt(2/fan_in) (He initialisation, so
/// activations neither vanish nor explode through relu layers). fan_in = weight_rows(). Leaves out_scale
/// alone (see calibrate). Does not model a trained network's accuracy: the logits are meaningless.
void synthesize_weights(network::graph& g, const func::quant_config& q, std::uint64_t seed);

/// Post-training quantisation of an imported float model: every weight layer that has fweights and no
/// qweights gets symmetric integer weights, with M = weight_max(q) = 2^(wb-1)-1 and, by q.weight_granularity:
///  - per_channel (default): output channel c gets its own scale s_c = max_k|w_ck| / M, so each channel's
///    largest weight maps to +-M exactly whatever the other channels hold. Folding BatchNorm multiplies each
///    channel by its own factor, so per-tensor scales leave small channels few levels;
///  - per_tensor: one scale s = max|w| / M for the whole layer (one outlier costs every channel resolution).
/// qweights = clamp(llround(w / s_c), -M, M). An all-zero channel (or layer) gets scale 1, so every scale
/// stays positive. The crossbar holds only qweights either way; scales act after accumulation (weight_output).
/// fweights and bias are kept. Layers that already hold qweights (synthetic or imported with scales) are left
/// alone. Leaves out_scale alone (run calibrate next). No clipping search. Throws cim::model_error
/// ("layers.<name>") when the number of fweights is not out_channels * weight_rows() or a weight is not finite.
void quantize_weights(network::graph& g, const func::quant_config& q);

/// A synthetic image of shape s: s.size() pixels, each uniform in [0, A], drawn in CHW order from
/// rng_stream(seed, {0x1a, index}).
std::vector<std::int32_t> synthetic_image(const network::shape& s, const func::quant_config& q,
                                          std::uint64_t seed, int index);

/// Sets every layer's out_scale, in layer order, by running the reference on `images` (at least one):
///  - input: 1/A; relu, pooling, flatten: the producer's scale; logits: min_c(s_c) * in_scale;
///  - other conv2d/linear and add: max over all images and elements of |real value before requantisation|,
///    divided by A, floored at 1e-12. Real values are (acc_c + bias_c) * s_c * in_scale (weight layers) or
///    a*sa + b*sb (add). Later layers see outputs requantised with the scales already fixed.
/// Deterministic (no threads in the reduction order). Max calibration never clips the calibration set;
/// it is not percentile or KL calibration. Throws cim::model_error as reference_forward does.
void calibrate(network::graph& g, const func::quant_config& q, const std::vector<std::vector<std::int32_t>>& images);

/// Every layer's integer output for one image (index = layer index; [0] is the image itself), computed with
/// func::im2col + func::reference_mvm + finish_weight_output + apply_nonweight_layer. The exact integer
/// network: no crossbar, ADC or device effects. Matrix products run on up to 8 threads, split by output
/// pixel; the result does not depend on the split. Throws cim::model_error for missing weights or scales,
/// a crossbar input that can be negative, or an image of the wrong size or range.
std::vector<std::vector<std::int32_t>> reference_forward(const network::graph& g, const func::quant_config& q,
                                                         const std::vector<std::int32_t>& image,
                                                         unsigned max_threads = 0 /* 0: up to 8 */);

/// The int64 accumulations of weight layer `layer_index` for its input tensor x (the producer's output):
/// output_pixels() x out_channels, row-major (pixel-major). The step reference_forward runs before
/// finish_weight_output; exposed for calibration and for tests against the crossbar path. `prepared`: the layer's
/// weights prepared by func::prepare_reference, for a caller that runs many inputs (else prepared here).
/// `cols`: where a convolution's unrolled inputs go, for a caller that keeps one buffer over many calls (else a
/// buffer of this call).
std::vector<std::int64_t> reference_accumulate(const network::graph& g, int layer_index,
                                               const std::vector<std::int32_t>& x, unsigned max_threads = 0,
                                               const func::reference_weights* prepared = nullptr,
                                               std::vector<std::int32_t>* cols = nullptr);

}  // namespace cim::engine
