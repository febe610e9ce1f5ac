#include "models/engine/quantized_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <thread>

#include "models/core/error.h"
#include "models/core/rng.h"
#include "models/engine/work_pool.h"
#include "models/functional/crossbar_mvm.h"
#include "models/functional/quant_ops.h"
#include "models/functional/transformer_ops.h"

namespace cim::engine {

using network::graph;
using network::int_weights;
using network::layer;
using network::op;
using network::shape;

namespace {

constexpr double scale_floor = 1e-12;  // calibrated scale of an all-zero tensor

std::int32_t act_max(const func::quant_config& q) {
    if (q.input_bits < 1 || q.input_bits > 16)
        throw model_error("quant.input_bits", "input_bits must be in 1..16, got " + std::to_string(q.input_bits));
    return static_cast<std::int32_t>((1u << q.input_bits) - 1u);
}

std::string key(const layer& l) { return "layers." + l.name; }

const layer& at(const graph& g, int i) {
    if (i < 0 || static_cast<std::size_t>(i) >= g.layers.size())
        throw model_error("layers", "layer index " + std::to_string(i) + " out of range");
    return g.layers[static_cast<std::size_t>(i)];
}

int producer(const layer& l, std::size_t k = 0) {
    if (l.input_ids.size() <= k) throw model_error(key(l), "layer has no resolved input (run infer_shapes)");
    return l.input_ids[k];
}

const std::vector<std::int32_t>& producer_output(const graph& g, const layer& l, std::size_t k,
                                                 const std::vector<std::vector<std::int32_t>>& outputs) {
    const int p = producer(l, k);
    if (static_cast<std::size_t>(p) >= outputs.size())
        throw model_error(key(l), "output of producer '" + at(g, p).name + "' is missing");
    const auto& x = outputs[static_cast<std::size_t>(p)];
    if (static_cast<std::int64_t>(x.size()) != at(g, p).out.size())
        throw model_error(key(l), "output of producer '" + at(g, p).name + "' has " + std::to_string(x.size()) +
                                      " values, expected " + std::to_string(at(g, p).out.size()));
    return x;
}

// Row-major strides of dims.
std::vector<std::int64_t> strides_of(const std::vector<int>& d) {
    std::vector<std::int64_t> st(d.size(), 1);
    for (int k = static_cast<int>(d.size()) - 2; k >= 0; --k)
        st[static_cast<std::size_t>(k)] = st[static_cast<std::size_t>(k) + 1] * d[static_cast<std::size_t>(k) + 1];
    return st;
}

// out[i] = x[i] moved by the layer (transpose: permuted axes; slice: a range along one axis).
void move_data(const layer& l, const std::vector<std::int32_t>& x, std::vector<std::int32_t>& y) {
    const auto& od = l.out.dims;
    const auto in_st = strides_of(l.in.dims);
    const int r = static_cast<int>(od.size());
    std::vector<std::int64_t> src_st(static_cast<std::size_t>(r));
    std::int64_t base = 0;
    for (int k = 0; k < r; ++k)
        src_st[static_cast<std::size_t>(k)] =
            l.kind == op::transpose ? in_st[static_cast<std::size_t>(l.perm[static_cast<std::size_t>(k)])] : in_st[static_cast<std::size_t>(k)];
    if (l.kind == op::slice) base = static_cast<std::int64_t>(l.begin) * in_st[static_cast<std::size_t>(l.axis)];
    y.resize(static_cast<std::size_t>(l.out.size()));
    std::vector<int> idx(static_cast<std::size_t>(r), 0);
    for (std::size_t i = 0; i < y.size(); ++i) {
        std::int64_t src = base;
        for (int k = 0; k < r; ++k) src += idx[static_cast<std::size_t>(k)] * src_st[static_cast<std::size_t>(k)];
        y[i] = x[static_cast<std::size_t>(src)];
        for (int k = r - 1; k >= 0; --k) {
            if (++idx[static_cast<std::size_t>(k)] < od[static_cast<std::size_t>(k)]) break;
            idx[static_cast<std::size_t>(k)] = 0;
        }
    }
}

// The operands of an activation matmul: batch, M, K, N.
struct mm_dims {
    int batch = 1, m = 0, k = 0, n = 0;
};
mm_dims matmul_dims(const graph& g, const layer& l) {
    const shape& b = at(g, producer(l, 1)).out;
    mm_dims d;
    const int r = l.in.rank();
    d.batch = r == 3 ? l.in.dims[0] : 1;
    d.m = l.in.dims[static_cast<std::size_t>(r - 2)];
    d.k = l.in.dims[static_cast<std::size_t>(r - 1)];
    d.n = b.dims[static_cast<std::size_t>(r - 1)];
    return d;
}

// Real value before requantisation of an add: a*sa + b*sb (as a double, for calibration).
double add_real(std::int32_t a, double sa, std::int32_t b, double sb) { return a * sa + b * sb; }

double scale_of(const graph& g, int i) {
    const layer& l = at(g, i);
    if (!(l.out_scale > 0.0)) throw model_error(key(l), "out_scale is not set (run calibrate or import the scales)");
    return l.out_scale;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Post-accumulation step

std::int32_t weight_output_rule::apply(std::int64_t acc, int channel) const {
    const auto c = static_cast<std::size_t>(channel);
    return func::requantize(bias.empty() ? acc : acc + bias[c], multiplier[c], lo, hi);
}

bool is_logits_layer(const graph& g, int layer_index) {
    if (!at(g, layer_index).has_weights()) return false;
    for (std::size_t j = static_cast<std::size_t>(layer_index) + 1; j < g.layers.size(); ++j)
        if (g.layers[j].kind != op::flatten) return false;
    return true;
}

double layer_in_scale(const graph& g, int layer_index) {
    const layer& l = at(g, layer_index);
    if (l.kind == op::input) throw model_error(key(l), "the input layer has no producer");
    const layer& p = at(g, producer(l));
    if (!(p.out_scale > 0.0))
        throw model_error(key(p), "out_scale is not set (run calibrate or import the scales)");
    return p.out_scale;
}

namespace {

// Checks that layer l holds one weight scale or one per output channel, all positive.
void check_weight_scales(const layer& l) {
    const std::size_t n = l.weight_scale.size();
    if (n != 1 && n != static_cast<std::size_t>(l.out_channels))
        throw model_error(key(l), n == 0 ? std::string("weight_scale is not set")
                                         : "has " + std::to_string(n) + " weight scales for " +
                                               std::to_string(l.out_channels) + " output channels (expected 1 or " +
                                               std::to_string(l.out_channels) + ")");
    for (double s : l.weight_scale)
        if (!(s > 0.0)) throw model_error(key(l), "weight_scale is not positive");
}

// Per-channel bias in accumulator units, llround(bias_c / (s_c * in_scale)); empty without bias.
std::vector<std::int64_t> bias_units(const layer& l, double in_scale) {
    if (!l.bias.empty() && static_cast<int>(l.bias.size()) != l.out_channels)
        throw model_error(key(l), "has " + std::to_string(l.bias.size()) + " biases for " +
                                      std::to_string(l.out_channels) + " output channels");
    std::vector<std::int64_t> b;
    for (std::size_t c = 0; c < l.bias.size(); ++c)
        b.push_back(std::llround(l.bias[c] / (l.channel_weight_scale(static_cast<int>(c)) * in_scale)));
    return b;
}

// Scale of the logits layer's output: the finest channel's accumulator unit, so no channel loses precision.
double logits_scale(const layer& l, double in_scale) {
    return *std::min_element(l.weight_scale.begin(), l.weight_scale.end()) * in_scale;
}

}  // namespace

weight_output_rule weight_output(const graph& g, int layer_index, const func::quant_config& q) {
    const layer& l = at(g, layer_index);
    if (!l.has_weights()) throw model_error(key(l), std::string(network::op_name(l.kind)) + " has no weights");
    check_weight_scales(l);
    weight_output_rule r;
    r.token_major = l.kind == op::linear && l.in.rank() == 2;
    const std::int32_t a = act_max(q);
    const int oc = l.out_channels;
    if (!l.bias.empty()) r.bias = bias_units(l, layer_in_scale(g, layer_index));
    r.logits = is_logits_layer(g, layer_index);
    if (r.logits) {
        r.lo = std::numeric_limits<std::int32_t>::min();
        r.hi = std::numeric_limits<std::int32_t>::max();
        // Relative to the finest channel; x / x == 1 exactly, so a per-tensor scale gives acc + bias unchanged.
        const double finest = logits_scale(l, 1.0);
        for (int c = 0; c < oc; ++c) r.multiplier.push_back(l.channel_weight_scale(c) / finest);
        return r;
    }
    if (!(l.out_scale > 0.0)) throw model_error(key(l), "out_scale is not set (run calibrate or import the scales)");
    r.lo = -a;
    r.hi = a;
    const double in_scale = layer_in_scale(g, layer_index);
    for (int c = 0; c < oc; ++c) r.multiplier.push_back(l.channel_weight_scale(c) * in_scale / l.out_scale);
    return r;
}

std::vector<std::int32_t> finish_matmul(const graph& g, int layer_index, const std::vector<std::int64_t>& acc,
                                        const func::quant_config& q) {
    const layer& l = at(g, layer_index);
    const std::int32_t a = act_max(q);
    const double m = ((scale_of(g, producer(l, 0)) * scale_of(g, producer(l, 1))) * l.multiplier) / scale_of(g, layer_index);
    std::vector<std::int32_t> y(acc.size());
    for (std::size_t k = 0; k < acc.size(); ++k) y[k] = func::requantize(acc[k], m, -a, a);
    return y;
}

std::int32_t finish_weight_output(const graph& g, int layer_index, std::int64_t acc, const func::quant_config& q,
                                  int channel) {
    return weight_output(g, layer_index, q).apply(acc, channel);
}

std::vector<std::int32_t> finish_layer(const weight_output_rule& rule, const std::vector<std::int64_t>& acc, int n,
                                       int oc) {
    std::vector<std::int32_t> y(static_cast<std::size_t>(n) * static_cast<std::size_t>(oc));
    for (int p = 0; p < n; ++p)
        for (int c = 0; c < oc; ++c) {
            const std::size_t dst = rule.token_major ? static_cast<std::size_t>(p) * oc + c : static_cast<std::size_t>(c) * n + p;
            y[dst] = rule.apply(acc[static_cast<std::size_t>(p) * oc + c], c);
        }
    return y;
}

// ---------------------------------------------------------------------------------------------------------
// Layers without weights

void apply_nonweight_layer(const graph& g, int layer_index, const std::vector<std::vector<std::int32_t>>& outputs,
                           std::vector<std::int32_t>& out, const func::quant_config& q) {
    const layer& l = at(g, layer_index);
    std::vector<const std::vector<std::int32_t>*> inputs;
    if (l.kind == op::input) {
        if (outputs.empty()) throw model_error(key(l), "image is missing");
        inputs.push_back(&outputs[0]);
    } else {
        for (std::size_t k = 0; k < l.input_ids.size(); ++k) inputs.push_back(&producer_output(g, l, k, outputs));
    }
    apply_nonweight_layer(g, layer_index, inputs, out, q);
}

void apply_nonweight_layer(const graph& g, int layer_index, const std::vector<const std::vector<std::int32_t>*>& inputs,
                           std::vector<std::int32_t>& out, const func::quant_config& q) {
    const layer& l = at(g, layer_index);
    const std::int32_t a = act_max(q);
    const auto n = static_cast<std::size_t>(l.out.size());
    // The k-th input, checked against its producer's shape.
    auto input = [&](std::size_t k) -> const std::vector<std::int32_t>& {
        if (k >= inputs.size() || inputs[k] == nullptr) throw model_error(key(l), "input " + std::to_string(k) + " is missing");
        const auto& x = *inputs[k];
        const int p = producer(l, k);
        if (static_cast<std::int64_t>(x.size()) != at(g, p).out.size())
            throw model_error(key(l), "output of producer '" + at(g, p).name + "' has " + std::to_string(x.size()) +
                                          " values, expected " + std::to_string(at(g, p).out.size()));
        return x;
    };
    switch (l.kind) {
        case op::conv2d:
        case op::linear: throw model_error(key(l), "apply_nonweight_layer called on a weight layer");
        case op::input: {
            if (inputs.empty() || inputs[0] == nullptr || static_cast<std::int64_t>(inputs[0]->size()) != g.input.size())
                throw model_error(key(l), "image has " + std::to_string(inputs.empty() || !inputs[0] ? 0 : inputs[0]->size()) +
                                              " values, expected " + std::to_string(g.input.size()));
            for (std::int32_t v : *inputs[0])
                if (v < 0 || v > a)
                    throw model_error(key(l), "image value " + std::to_string(v) + " outside [0, " +
                                                  std::to_string(a) + "]");
            if (&out != inputs[0]) out = *inputs[0];
            return;
        }
        case op::relu: {
            const auto& x = input(0);
            std::vector<std::int32_t> y(n);
            for (std::size_t k = 0; k < n; ++k) y[k] = std::clamp(x[k], 0, a);
            out = std::move(y);
            return;
        }
        case op::flatten: {
            const auto& x = input(0);
            if (&out != &x) out = x;  // CHW row-major is already the flat order
            return;
        }
        case op::max_pool:
        case op::avg_pool: {
            const auto& x = input(0);
            std::vector<std::int32_t> y(n);
            const auto& in = l.in;
            if (l.kind == op::max_pool)
                func::max_pool(x.data(), in.c(), in.h(), in.w(), l.kernel_h, l.kernel_w, l.stride, l.padding, y.data());
            else
                func::avg_pool(x.data(), in.c(), in.h(), in.w(), l.kernel_h, l.kernel_w, l.stride, l.padding, y.data());
            out = std::move(y);
            return;
        }
        case op::add: {
            const auto& x0 = input(0);
            const double sa = scale_of(g, producer(l, 0)), so = scale_of(g, layer_index);
            std::vector<std::int32_t> y(n);
            if (!l.constant.empty()) {  // y = clamp(llround((a * ma) + (c / s_out))), c repeating over the leading dims
                const double ma = sa / so;
                const std::size_t cn = l.constant.size();
                for (std::size_t k = 0; k < n; ++k) {
                    const double t = static_cast<double>(x0[k]) * ma;
                    const double c = l.constant[k % cn] / so;
                    const double v = t + c;
                    y[k] = v <= -a ? -a : v >= a ? a : static_cast<std::int32_t>(std::llround(v));
                }
                out = std::move(y);
                return;
            }
            const auto& x1 = input(1);
            const double sb = scale_of(g, producer(l, 1));
            func::add(x0.data(), sa / so, x1.data(), sb / so, n, -a, a, y.data());
            out = std::move(y);
            return;
        }
        case op::matmul: {
            const auto& x0 = input(0);
            const auto& x1 = input(1);
            const mm_dims d = matmul_dims(g, l);
            std::vector<std::int64_t> acc(n);
            func::matmul_exact(x0.data(), x1.data(), d.batch, d.m, d.k, d.n, acc.data());
            out = finish_matmul(g, layer_index, acc, q);
            return;
        }
        case op::softmax: {
            const auto& x = input(0);
            const int last = l.in.last();
            std::vector<std::int32_t> y(n);
            func::softmax_rows(x.data(), static_cast<std::int64_t>(n) / last, last,
                               func::softmax_table(scale_of(g, producer(l)), a), a, y.data());
            out = std::move(y);
            return;
        }
        case op::layernorm: {
            const auto& x = input(0);
            const auto p = func::layernorm_constants(l.in.last(), l.eps, l.gamma, l.beta, scale_of(g, producer(l)),
                                                     scale_of(g, layer_index), func::weight_max(q));
            std::vector<std::int32_t> y(n);
            func::layernorm_rows(x.data(), static_cast<std::int64_t>(n) / p.n, p, a, y.data());
            out = std::move(y);
            return;
        }
        case op::gelu: {
            const auto& x = input(0);
            const auto t = func::gelu_table(scale_of(g, producer(l)), scale_of(g, layer_index), a, l.tanh_form);
            std::vector<std::int32_t> y(n);
            for (std::size_t k = 0; k < n; ++k) {
                if (x[k] < -a || x[k] > a) throw model_error(key(l), "input outside [-A, A]");
                y[k] = t[static_cast<std::size_t>(x[k] + a)];
            }
            out = std::move(y);
            return;
        }
        case op::reshape: {
            const auto& x = input(0);
            if (&out != &x) out = x;  // row-major order is unchanged
            return;
        }
        case op::transpose:
        case op::slice: {
            std::vector<std::int32_t> y;
            move_data(l, input(0), y);
            out = std::move(y);
            return;
        }
        case op::concat: {
            // Row-major: the output is `outer` blocks, each the inputs' slabs (dims from `axis` on) one after another.
            const double so = scale_of(g, layer_index);
            std::int64_t outer = 1;
            for (int k = 0; k < l.axis; ++k) outer *= l.out.dims[static_cast<std::size_t>(k)];
            std::vector<std::int32_t> y;
            y.reserve(n);
            for (std::int64_t o = 0; o < outer; ++o) {
                if (!l.constant.empty()) {
                    const std::int64_t slab = static_cast<std::int64_t>(l.constant.size()) / outer;
                    for (std::int64_t e = 0; e < slab; ++e) {
                        const double v = l.constant[static_cast<std::size_t>(o * slab + e)] / so;
                        y.push_back(v <= -a ? -a : v >= a ? a : static_cast<std::int32_t>(std::llround(v)));
                    }
                }
                for (std::size_t k = 0; k < l.input_ids.size(); ++k) {
                    const auto& x = input(k);
                    const double m = scale_of(g, producer(l, k)) / so;
                    const std::int64_t slab = static_cast<std::int64_t>(x.size()) / outer;
                    for (std::int64_t e = 0; e < slab; ++e)
                        y.push_back(func::requantize(x[static_cast<std::size_t>(o * slab + e)], m, -a, a));
                }
            }
            out = std::move(y);
            return;
        }
    }
    throw model_error(key(l), "unknown layer kind");
}

bool signed_input(const graph& g, int layer_index) { return at(g, layer_index).signed_input; }

// ---------------------------------------------------------------------------------------------------------
// Reference accumulation

std::vector<std::int64_t> reference_accumulate(const graph& g, int layer_index, const std::vector<std::int32_t>& x,
                                               unsigned max_threads, const func::reference_weights* prepared,
                                               std::vector<std::int32_t>* cols) {
    const layer& l = at(g, layer_index);
    if (!l.has_weights()) throw model_error(key(l), "reference_accumulate needs a conv2d or linear layer");
    const std::int64_t rows = l.weight_rows();
    const int oc = l.out_channels;
    if (static_cast<std::int64_t>(l.qweights.size()) != rows * oc)
        throw model_error(key(l), "has " + std::to_string(l.qweights.size()) + " weights, expected " +
                                      std::to_string(rows * oc) + " (synthesize or import them)");
    if (static_cast<std::int64_t>(x.size()) != l.in.size())
        throw model_error(key(l), "input has " + std::to_string(x.size()) + " values, expected " +
                                      std::to_string(l.in.size()));

    const int n = static_cast<int>(l.output_pixels());
    std::vector<std::int32_t> own;
    if (cols == nullptr) cols = &own;
    const std::int32_t* xv = x.data();  // linear: the (N,1,1) input is the one input vector
    if (l.kind == op::conv2d) {
        cols->resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(rows));
        func::im2col(x.data(), l.in.c(), l.in.h(), l.in.w(), l.kernel_h, l.kernel_w, l.stride, l.padding, cols->data());
        xv = cols->data();
    }
    std::vector<std::int64_t> acc(static_cast<std::size_t>(n) * static_cast<std::size_t>(oc));

    // Each output vector is an independent exact integer sum, so splitting the vectors across threads
    // cannot change a bit. Small layers stay on the calling thread.
    const std::int64_t work = l.macs();
    const unsigned hw = max_threads ? max_threads : std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    const int threads = work < (std::int64_t{1} << 22) ? 1 : static_cast<int>(std::min<unsigned>(hw, n));
    // The weights prepared once for every thread (packed for the int8 kernel), unless the caller did, or the layer
    // reads too few vectors for the packing to pay.
    func::reference_weights local;
    if (prepared == nullptr) {
        local = l.qweights.visit([&](const auto* w) { return func::prepare_reference(w, rows, oc, n >= 8); });
        prepared = &local;
    }
    auto run = [&](int begin, int end) {
        if (end > begin)
            func::reference_mvm(*prepared, xv + static_cast<std::int64_t>(begin) * rows, end - begin,
                                acc.data() + static_cast<std::int64_t>(begin) * oc);
    };
    if (threads <= 1) {
        run(0, n);
    } else {
        const int chunk = (n + threads - 1) / threads;
        work_pool(static_cast<unsigned>(threads)).run(threads, [&](std::int64_t t) {
            const int k = static_cast<int>(t);
            run(std::min(n, k * chunk), std::min(n, (k + 1) * chunk));
        });
    }
    return acc;
}

namespace {

// acc (pixel-major) -> CHW output through the layer's rule.
std::vector<std::int32_t> finish_all(const layer& l, const std::vector<std::int64_t>& acc,
                                     const weight_output_rule& rule) {
    return finish_layer(rule, acc, static_cast<int>(l.output_pixels()), l.out_channels);
}

// Computes layer i for one image into outputs[i].
void forward_layer(const graph& g, int i, const func::quant_config& q, std::vector<std::vector<std::int32_t>>& outputs,
                   unsigned max_threads) {
    const layer& l = at(g, i);
    auto& out = outputs[static_cast<std::size_t>(i)];
    if (l.has_weights()) {
        const auto acc = reference_accumulate(g, i, producer_output(g, l, 0, outputs), max_threads);
        out = finish_all(l, acc, weight_output(g, i, q));
    } else {
        apply_nonweight_layer(g, i, outputs, out, q);
    }
}

void check_graph(const graph& g) {
    if (g.layers.empty() || g.layers[0].kind != op::input)
        throw model_error("layers", "the network must start with its input layer");
}

}  // namespace

std::vector<std::vector<std::int32_t>> reference_forward(const graph& g, const func::quant_config& q,
                                                         const std::vector<std::int32_t>& image, unsigned max_threads) {
    check_graph(g);
    std::vector<std::vector<std::int32_t>> outputs(g.layers.size());
    outputs[0] = image;
    for (int i = 0; i < static_cast<int>(g.layers.size()); ++i) forward_layer(g, i, q, outputs, max_threads);
    return outputs;
}

// ---------------------------------------------------------------------------------------------------------
// Synthetic weights, images and calibration

namespace {

/// Walker's alias method (Vose's construction) for a discrete distribution over 0..n-1: one 64-bit draw per
/// sample, the high half picking a column and the low half choosing between its value and its alias.
class alias_table {
public:
    explicit alias_table(const std::vector<double>& p) : m_prob(p.size()), m_alias(p.size()) {
        const std::size_t n = p.size();
        std::vector<double> scaled(n);
        std::vector<std::size_t> small, large;
        for (std::size_t i = 0; i < n; ++i) {
            scaled[i] = p[i] * static_cast<double>(n);
            (scaled[i] < 1.0 ? small : large).push_back(i);
        }
        while (!small.empty() && !large.empty()) {
            const std::size_t s = small.back(), l = large.back();
            small.pop_back();
            m_prob[s] = scaled[s];
            m_alias[s] = static_cast<std::uint32_t>(l);
            scaled[l] -= 1.0 - scaled[s];
            if (scaled[l] < 1.0) {
                large.pop_back();
                small.push_back(l);
            }
        }
        for (std::size_t i : large) m_prob[i] = 1.0, m_alias[i] = static_cast<std::uint32_t>(i);
        for (std::size_t i : small) m_prob[i] = 1.0, m_alias[i] = static_cast<std::uint32_t>(i);
        m_keep.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            m_keep[i] = static_cast<std::uint64_t>(std::ceil(std::ldexp(std::max(0.0, m_prob[i]), 32)));
    }
    // Column i = the high 32 bits scaled to n; keep i when the low 32 bits f * 2^32 fall below prob[i] * 2^32, i.e.
    // below its ceiling m_keep[i] (f < p exactly when the integer f * 2^32 < ceil(p * 2^32)). Branch-free: the
    // comparison is a coin flip per draw, which a branch would mispredict half the time.
    std::uint32_t sample(rng_stream& r) const {
        const std::uint64_t u = r.next_u64();
        const std::uint64_t i = ((u >> 32) * m_keep.size()) >> 32;
        const std::uint64_t keep = static_cast<std::uint64_t>((u & 0xffffffffu) < m_keep[i]);
        const std::uint32_t a = m_alias[i];
        return static_cast<std::uint32_t>(a ^ ((static_cast<std::uint32_t>(i) ^ a) & (0u - static_cast<std::uint32_t>(keep))));
    }

private:
    std::vector<double> m_prob;
    std::vector<std::uint32_t> m_alias;
    std::vector<std::uint64_t> m_keep;  // ceil(prob * 2^32)
};

}  // namespace

void synthesize_weights(graph& g, const func::quant_config& q, std::uint64_t seed) {
    const int m = func::weight_max(q);
    const double sigma = m / 3.0;
    // round(N(0, sigma)) clamped to [-M, M], as a discrete distribution: P(k) = Phi((k + 1/2) / sigma) -
    // Phi((k - 1/2) / sigma), the clamped tails added to -M and M.
    const auto phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
    std::vector<double> p(static_cast<std::size_t>(2 * m + 1));
    for (int k = -m; k <= m; ++k) {
        const double lo = k == -m ? 0.0 : phi((k - 0.5) / sigma), hi = k == m ? 1.0 : phi((k + 0.5) / sigma);
        p[static_cast<std::size_t>(k + m)] = hi - lo;
    }
    const alias_table table(p);
    for (int i : g.weight_layers()) {
        layer& l = g.layers[static_cast<std::size_t>(i)];
        const std::int64_t fan_in = l.weight_rows();
        if (fan_in < 1 || l.out_channels < 1) throw model_error(key(l), "empty weight matrix");
        rng_stream rng(seed, {0x77, static_cast<std::uint64_t>(i)});
        const auto count = static_cast<std::size_t>(fan_in * l.out_channels);
        // Drawn straight into the storage int_weights keeps (bytes for 8-bit weights).
        auto draw = [&](auto zero) {
            using T = decltype(zero);
            std::vector<T> w(count);
            for (auto& v : w) v = static_cast<T>(static_cast<std::int32_t>(table.sample(rng)) - m);
            l.qweights = int_weights(std::move(w));
        };
        if (m <= 127)
            draw(std::int8_t{0});
        else
            draw(std::int16_t{0});  // weight_bits <= 16
        l.weight_scale = {std::sqrt(2.0 / static_cast<double>(fan_in)) * 3.0 / m};
    }
    // Constants (a class token, a positional embedding) without values: N(0, 0.02^2), as ViT and BERT initialise them.
    for (std::size_t i = 0; i < g.layers.size(); ++i) {
        layer& l = g.layers[i];
        if (l.constant_shape.rank() == 0 || !l.constant.empty()) continue;
        rng_stream rng(seed, {0x7c, static_cast<std::uint64_t>(i)});
        l.constant.resize(static_cast<std::size_t>(l.constant_shape.size()));
        for (auto& c : l.constant) c = 0.02 * rng.normal();
    }
}

void quantize_weights(graph& g, const func::quant_config& q) {
    const int m = func::weight_max(q);
    const bool per_channel = q.per_channel_weights();
    for (int i : g.weight_layers()) {
        layer& l = g.layers[static_cast<std::size_t>(i)];
        if (l.fweights.empty() || !l.qweights.empty()) continue;  // nothing to quantise, or already integer
        const std::int64_t rows = l.weight_rows();
        const int oc = l.out_channels;
        if (rows * oc != static_cast<std::int64_t>(l.fweights.size()))
            throw model_error(key(l), "has " + std::to_string(l.fweights.size()) + " float weights for a " +
                                          std::to_string(oc) + " x " + std::to_string(rows) + " weight matrix");
        // Row-major [out_channels][rows]: channel c's weights are one contiguous row.
        std::vector<double> max_abs(per_channel ? static_cast<std::size_t>(oc) : 1, 0.0);
        for (std::size_t k = 0; k < l.fweights.size(); ++k) {
            const float w = l.fweights[k];
            if (!std::isfinite(w)) throw model_error(key(l), "has a non-finite float weight");
            double& mx = max_abs[per_channel ? k / static_cast<std::size_t>(rows) : 0];
            mx = std::max(mx, std::fabs(static_cast<double>(w)));
        }
        // An all-zero channel still needs a positive scale: weight_output() rejects scales <= 0.
        l.weight_scale.clear();
        for (double mx : max_abs) l.weight_scale.push_back(mx > 0.0 ? mx / m : 1.0);
        l.qweights = int_weights::zeros(l.fweights.size(), m);
        for (std::size_t k = 0; k < l.fweights.size(); ++k) {
            const double scale = l.channel_weight_scale(static_cast<int>(k / static_cast<std::size_t>(rows)));
            const long long v = std::llround(static_cast<double>(l.fweights[k]) / scale);
            l.qweights.set(k, static_cast<std::int32_t>(std::clamp<long long>(v, -m, m)));
        }
    }
}

std::vector<std::int32_t> synthetic_image(const network::shape& s, const func::quant_config& q, std::uint64_t seed,
                                          int index) {
    const std::int32_t a = act_max(q);
    rng_stream rng(seed, {0x1a, static_cast<std::uint64_t>(index)});
    std::vector<std::int32_t> img(static_cast<std::size_t>(s.size()));
    for (auto& v : img) v = static_cast<std::int32_t>(rng.uniform_int(0, a));
    return img;
}

void calibrate(graph& g, const func::quant_config& q, const std::vector<std::vector<std::int32_t>>& images) {
    if (images.empty()) throw model_error("calibration", "needs at least one image");
    check_graph(g);
    const double a = act_max(q);
    const std::size_t L = g.layers.size();

    // Last consumer of each layer, so intermediate tensors of all images can be dropped early.
    std::vector<int> last_use(L, -1);
    for (std::size_t i = 0; i < L; ++i)
        for (int p : g.layers[i].input_ids) last_use[static_cast<std::size_t>(p)] = static_cast<int>(i);

    std::vector<std::vector<std::vector<std::int32_t>>> outs(images.size(),
                                                             std::vector<std::vector<std::int32_t>>(L));
    for (std::size_t k = 0; k < images.size(); ++k) outs[k][0] = images[k];
    std::vector<std::int32_t> cols;  // the unrolled inputs of every convolution, one buffer for all (freed on return)

    for (int i = 0; i < static_cast<int>(L); ++i) {
        layer& l = g.layers[static_cast<std::size_t>(i)];
        switch (l.kind) {
            case op::input: l.out_scale = 1.0 / a; break;
            case op::relu:
            case op::max_pool:
            case op::avg_pool:
            case op::flatten:
            case op::transpose:
            case op::reshape:
            case op::slice: l.out_scale = layer_in_scale(g, i); break;
            case op::softmax: l.out_scale = 1.0 / a; break;
            case op::add: {
                const double sa = layer_in_scale(g, i);
                double peak = 0.0;
                if (!l.constant.empty()) {
                    const std::size_t cn = l.constant.size();
                    for (auto& o : outs) {
                        const auto& x0 = producer_output(g, l, 0, o);
                        for (std::size_t e = 0; e < x0.size(); ++e)
                            peak = std::max(peak, std::abs(x0[e] * sa + l.constant[e % cn]));
                    }
                } else {
                    const double sb = at(g, producer(l, 1)).out_scale;
                    for (auto& o : outs) {
                        const auto& x0 = producer_output(g, l, 0, o);
                        const auto& x1 = producer_output(g, l, 1, o);
                        for (std::size_t e = 0; e < x0.size(); ++e)
                            peak = std::max(peak, std::abs(add_real(x0[e], sa, x1[e], sb)));
                    }
                }
                l.out_scale = std::max(peak / a, scale_floor);
                break;
            }
            case op::matmul: {
                const double s = (scale_of(g, producer(l, 0)) * scale_of(g, producer(l, 1))) * l.multiplier;
                const mm_dims d = matmul_dims(g, l);
                std::int64_t peak = 0;
                std::vector<std::int64_t> acc(static_cast<std::size_t>(l.out.size()));
                for (auto& o : outs) {
                    func::matmul_exact(producer_output(g, l, 0, o).data(), producer_output(g, l, 1, o).data(), d.batch,
                                       d.m, d.k, d.n, acc.data());
                    for (std::int64_t v : acc) peak = std::max(peak, v < 0 ? -v : v);
                }
                l.out_scale = std::max(static_cast<double>(peak) * s / a, scale_floor);
                break;
            }
            case op::layernorm: {
                // The normalised, scaled values (units of s_z) do not depend on the output scale.
                const auto p = func::layernorm_constants(l.in.last(), l.eps, l.gamma, l.beta, layer_in_scale(g, i), 1.0,
                                                         func::weight_max(q));
                std::vector<std::int64_t> acc(static_cast<std::size_t>(l.out.size()));
                std::int64_t peak = 0;
                for (auto& o : outs) {
                    func::layernorm_rows(producer_output(g, l, 0, o).data(), l.out.size() / p.n, p, act_max(q), nullptr,
                                         acc.data());
                    for (std::int64_t v : acc) peak = std::max(peak, v < 0 ? -v : v);
                }
                l.out_scale = std::max(static_cast<double>(peak) * p.multiplier / a, scale_floor);  // multiplier = s_z
                break;
            }
            case op::gelu: {
                const double s = layer_in_scale(g, i);
                double peak = 0.0;
                for (auto& o : outs)
                    for (std::int32_t v : producer_output(g, l, 0, o)) peak = std::max(peak, std::abs(func::gelu_real(v, s, l.tanh_form)));
                l.out_scale = std::max(peak / a, scale_floor);
                break;
            }
            case op::concat: {
                double peak = 0.0;
                for (double c : l.constant) peak = std::max(peak, std::abs(c));
                for (std::size_t k = 0; k < l.input_ids.size(); ++k) {
                    const double s = at(g, producer(l, k)).out_scale;
                    for (auto& o : outs)
                        for (std::int32_t v : producer_output(g, l, k, o)) peak = std::max(peak, std::abs(v * s));
                }
                l.out_scale = std::max(peak / a, scale_floor);
                break;
            }
            case op::conv2d:
            case op::linear: {
                const double in_scale = layer_in_scale(g, i);
                const bool logits = is_logits_layer(g, i);
                if (logits) l.out_scale = logits_scale(l, in_scale);
                check_weight_scales(l);
                const std::vector<std::int64_t> bias = bias_units(l, in_scale);  // the rule's own conversion
                std::vector<std::vector<std::int64_t>> accs;
                accs.reserve(outs.size());
                const std::size_t oc = static_cast<std::size_t>(l.out_channels);
                std::vector<std::int64_t> peak(oc, 0);  // per channel, in that channel's accumulator units
                // The weights prepared once for all the images.
                const bool many = l.output_pixels() * static_cast<std::int64_t>(outs.size()) >= 8 &&
                                  static_cast<std::int64_t>(l.qweights.size()) == l.weight_rows() * l.out_channels;
                const func::reference_weights w = l.qweights.visit(
                    [&](const auto* p) { return func::prepare_reference(p, l.weight_rows(), l.out_channels, many); });
                for (auto& o : outs) {
                    accs.push_back(reference_accumulate(g, i, producer_output(g, l, 0, o), 0, &w, &cols));
                    const auto& a_k = accs.back();
                    for (std::size_t e = 0; e < a_k.size(); ++e) {
                        const std::int64_t v = a_k[e] + (bias.empty() ? 0 : bias[e % oc]);
                        peak[e % oc] = std::max(peak[e % oc], v < 0 ? -v : v);
                    }
                }
                if (!logits) {
                    double real_peak = 0.0;
                    for (std::size_t c = 0; c < oc; ++c)
                        real_peak = std::max(real_peak, static_cast<double>(peak[c]) *
                                                            l.channel_weight_scale(static_cast<int>(c)) * in_scale / a);
                    l.out_scale = std::max(real_peak, scale_floor);
                }
                const weight_output_rule rule = weight_output(g, i, q);
                for (std::size_t k = 0; k < outs.size(); ++k)
                    outs[k][static_cast<std::size_t>(i)] = finish_all(l, accs[k], rule);
                break;
            }
        }
        if (!l.has_weights())
            for (auto& o : outs) apply_nonweight_layer(g, i, o, o[static_cast<std::size_t>(i)], q);
        for (int p : l.input_ids)
            if (last_use[static_cast<std::size_t>(p)] == i)
                for (auto& o : outs) std::vector<std::int32_t>().swap(o[static_cast<std::size_t>(p)]);
    }
}

}  // namespace cim::engine
