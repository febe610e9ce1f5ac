#include "models/network/graph.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "models/config/field.h"
#include "models/core/error.h"

namespace cim::network {

const char* op_name(op o) {
    switch (o) {
        case op::input: return "input";
        case op::conv2d: return "conv2d";
        case op::linear: return "linear";
        case op::max_pool: return "max_pool";
        case op::avg_pool: return "avg_pool";
        case op::relu: return "relu";
        case op::add: return "add";
        case op::flatten: return "flatten";
        case op::matmul: return "matmul";
        case op::softmax: return "softmax";
        case op::layernorm: return "layernorm";
        case op::gelu: return "gelu";
        case op::transpose: return "transpose";
        case op::reshape: return "reshape";
        case op::slice: return "slice";
        case op::concat: return "concat";
    }
    return "?";
}

std::int64_t layer::weight_rows() const {
    if (kind == op::conv2d) {  // saturated like shape::size()
        std::int64_t r = 0;
        if (__builtin_mul_overflow(std::int64_t{kernel_h}, std::int64_t{kernel_w}, &r) ||
            __builtin_mul_overflow(r, std::int64_t{in.c()}, &r))
            return INT64_MAX;
        return r;
    }
    if (kind == op::linear) return in.rank() == 2 ? in.last() : in.size();  // tokens: per token; flat: all
    return 0;
}

std::int64_t layer::output_pixels() const {
    if (kind == op::conv2d) return std::int64_t{out.h()} * out.w();
    if (kind == op::linear) return in.rank() == 2 ? in.dims[0] : 1;
    return 0;
}

std::int64_t layer::macs() const {
    if (has_weights()) return weight_rows() * out_channels * output_pixels();
    if (kind == op::matmul && in.rank() >= 2 && out.rank() >= 2) return out.size() * in.last();  // (.., M, N) x K
    return 0;
}

bool layer::requantizes() const {
    switch (kind) {
        case op::conv2d:
        case op::linear:
        case op::add:
        case op::matmul:
        case op::layernorm:
        case op::gelu:
        case op::concat: return true;
        default: return false;
    }
}

std::string to_string(const shape& s) {
    std::string r = "(";
    for (std::size_t i = 0; i < s.dims.size(); ++i) r += (i ? "," : "") + std::to_string(s.dims[i]);
    return r + ")";
}

namespace {

/// Output extent of a sliding window, floor((in + 2p - k) / s) + 1; <= 0 when the window does not fit.
/// Computed in 64 bit so absurd configs cannot overflow into a plausible size.
std::int64_t window_out(int in, int k, int s, int p) {
    const std::int64_t span = std::int64_t{in} + 2 * std::int64_t{p} - k;
    if (span < 0) return 0;
    return span / s + 1;
}

}  // namespace

int graph::find(const std::string& layer_name) const {
    for (std::size_t i = 0; i < layers.size(); ++i)
        if (layers[i].name == layer_name) return static_cast<int>(i);
    return -1;
}

std::vector<int> graph::weight_layers() const {
    std::vector<int> ids;
    for (std::size_t i = 0; i < layers.size(); ++i)
        if (layers[i].has_weights()) ids.push_back(static_cast<int>(i));
    return ids;
}

std::int64_t graph::total_macs() const {
    std::int64_t n = 0;
    for (const auto& l : layers) n += l.macs();
    return n;
}

std::int64_t graph::total_weights() const {
    std::int64_t n = 0;
    for (const auto& l : layers)
        if (l.has_weights()) n += l.weight_rows() * l.out_channels;
    return n;
}

void graph::infer_shapes() {
    const bool image = input.rank() == 3 && input.c() >= 1 && input.h() >= 1 && input.w() >= 1;
    const bool tokens = input.rank() == 2 && input.dims[0] >= 1 && input.dims[1] >= 1;
    if (!image && !tokens)
        throw config_error(source, layers.empty() ? 0 : layers[0].line, "input",
                           "input shape " + to_string(input) + " must be (channels, height, width) or (tokens, features), "
                           "each >= 1");
    if (layers.empty() || layers[0].kind != op::input)
        throw config_error(source, 0, "layers", "layers[0] must be the input node");

    // Names are the keys of error paths and of `inputs` references, so they must be unique and non-empty.
    std::map<std::string, int> first_line;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const layer& l = layers[i];
        if (l.name.empty())
            throw config_error(source, l.line, "layers." + std::to_string(i), "layer has no name");
        const auto [it, inserted] = first_line.emplace(l.name, l.line);
        if (!inserted) {
            std::string msg = "duplicate layer name '" + l.name + "'";
            if (it->second > 0) msg += " (first defined at line " + std::to_string(it->second) + ")";
            throw config_error(source, l.line, "layers." + l.name, msg);
        }
    }
    for (std::size_t i = 0; i < layers.size(); ++i) infer_layer(static_cast<int>(i));
}

void graph::infer_layer(int i) {
    layer& l = layers.at(static_cast<std::size_t>(i));
    const std::string key = "layers." + l.name;
    auto fail = [&](const std::string& sub, const std::string& msg) {
        throw config_error(source, l.line, sub.empty() ? key : key + "." + sub, msg);
    };

    l.input_ids.clear();
    if (l.kind == op::input) {
        if (i != 0) fail("type", "only layers[0] may be the input node");
        if (!l.inputs.empty()) fail("inputs", "the input node takes no inputs");
        l.in = l.out = input;
        l.may_be_negative = false;
        l.signed_input = false;
        if (input.size() > std::numeric_limits<int>::max())
            fail("", "input " + to_string(input) + " has more than " + std::to_string(std::numeric_limits<int>::max()) +
                         " values");
        return;
    }

    if (i == 0) fail("type", "layers[0] must be the input node");

    // Resolve producers. Order matters: the IR is executed front to back, so a producer must precede.
    if (l.inputs.empty()) {
        l.input_ids.push_back(i - 1);
    } else {
        for (const auto& name : l.inputs) {
            const int id = find(name);
            if (id < 0) {
                std::vector<std::string> names;
                for (int j = 0; j < i; ++j) names.push_back(layers[static_cast<std::size_t>(j)].name);
                std::string msg = "unknown input layer '" + name + "'";
                const std::string near = cfg::nearest(name, names);
                if (!near.empty()) msg += " (did you mean '" + near + "'?)";
                fail("inputs", msg);
            }
            if (id == i) fail("inputs", "layer '" + name + "' cannot take its own output as input");
            if (id > i)
                fail("inputs", "input '" + name + "' is defined after '" + l.name +
                                   "'; list layers so that producers come before consumers");
            l.input_ids.push_back(id);
        }
    }
    const bool has_constant = l.constant_shape.rank() > 0;  // values may come later (synthetic)
    if (has_constant && l.kind != op::add && l.kind != op::concat) fail("constant", "only add and concat take a constant");
    if (l.kind == op::concat) {
        if (l.input_ids.empty()) fail("inputs", "concat takes at least one input");
    } else {
        const std::size_t want_inputs = ((l.kind == op::add && !has_constant) || l.kind == op::matmul) ? 2 : 1;
        if (l.input_ids.size() != want_inputs)
            fail("inputs", std::string(op_name(l.kind)) + " takes exactly " + std::to_string(want_inputs) +
                               " input(s), got " + std::to_string(l.input_ids.size()));
    }
    if (!l.constant.empty() && static_cast<std::int64_t>(l.constant.size()) != l.constant_shape.size())
        fail("constant", "has " + std::to_string(l.constant.size()) + " values for shape " + to_string(l.constant_shape));

    const shape in = layers[static_cast<std::size_t>(l.input_ids[0])].out;
    l.in = in;

    switch (l.kind) {
        case op::conv2d:
        case op::max_pool:
        case op::avg_pool: {
            if (l.kind == op::conv2d && l.out_channels < 1) fail("out_channels", "out_channels must be >= 1");
            if (l.kernel_h < 1 || l.kernel_w < 1) fail("kernel", "kernel must be >= 1");
            if (l.stride < 1) fail("stride", "stride must be >= 1");
            if (l.padding < 0) fail("padding", "padding must be >= 0");
            if (in.rank() != 3) fail("", std::string(op_name(l.kind)) + " needs a (C,H,W) input, got " + to_string(in));
            const std::int64_t oh = window_out(in.h(), l.kernel_h, l.stride, l.padding);
            const std::int64_t ow = window_out(in.w(), l.kernel_w, l.stride, l.padding);
            if (oh < 1 || ow < 1)
                fail("kernel", "kernel " + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) +
                                   " does not fit input " + to_string(in) + " with padding " +
                                   std::to_string(l.padding));
            l.out = {l.kind == op::conv2d ? l.out_channels : in.c(), static_cast<int>(oh), static_cast<int>(ow)};
            break;
        }
        case op::linear:
            if (l.out_channels < 1) fail("out_features", "out_features must be >= 1");
            if (in.rank() == 2) {  // tokens: the same weights on every token's features
                l.out = shape(std::vector<int>{in.dims[0], l.out_channels});
                break;
            }
            if (in.rank() != 3 || in.h() != 1 || in.w() != 1)
                fail("", "linear needs a flat (N,1,1) or a token (T,D) input but '" +
                             layers[static_cast<std::size_t>(l.input_ids[0])].name + "' gives " + to_string(in) +
                             "; insert a {type: flatten} layer before it");
            l.out = {l.out_channels, 1, 1};
            break;
        case op::relu:
            l.out = in;
            break;
        case op::flatten:
            if (in.size() > std::int64_t{std::numeric_limits<int>::max()}) fail("", "flattened size too large");
            l.out = {static_cast<int>(in.size()), 1, 1};
            break;
        case op::add: {
            if (has_constant) {  // the constant matches the trailing dims and repeats over the leading ones
                const auto& cd = l.constant_shape.dims;
                const bool fits = cd.size() <= in.dims.size() &&
                                  std::equal(cd.begin(), cd.end(), in.dims.end() - static_cast<std::ptrdiff_t>(cd.size()));
                if (!fits) fail("constant", "constant of shape " + to_string(l.constant_shape) +
                                                " does not broadcast over the input " + to_string(in));
                l.out = in;
                break;
            }
            const layer& b = layers[static_cast<std::size_t>(l.input_ids[1])];
            if (b.out != in)
                fail("inputs", "add needs inputs of equal shape, but '" +
                                   layers[static_cast<std::size_t>(l.input_ids[0])].name + "' is " + to_string(in) +
                                   " and '" + b.name + "' is " + to_string(b.out));
            l.out = in;
            break;
        }
        case op::matmul: {
            const shape& b = layers[static_cast<std::size_t>(l.input_ids[1])].out;
            const int r = in.rank();
            if (r < 2 || r > 3 || b.rank() != r)
                fail("inputs", "matmul needs two (M,K) x (K,N) or (B,M,K) x (B,K,N) inputs, got " + to_string(in) +
                                   " and " + to_string(b));
            if (r == 3 && in.dims[0] != b.dims[0])
                fail("inputs", "matmul batch dims differ: " + to_string(in) + " and " + to_string(b));
            if (in.dims[static_cast<std::size_t>(r - 1)] != b.dims[static_cast<std::size_t>(r - 2)])
                fail("inputs", "matmul inner dims differ: " + to_string(in) + " and " + to_string(b));
            if (!(std::isfinite(l.multiplier) && l.multiplier > 0)) fail("multiplier", "must be a positive number");
            std::vector<int> d = in.dims;
            d.back() = b.dims.back();
            l.out = shape(d);
            break;
        }
        case op::softmax:
        case op::gelu:
            if (in.size() < 1) fail("", "empty input");
            l.out = in;
            break;
        case op::layernorm: {
            const int n = in.last();
            if (n < 1) fail("", "empty input");
            if (!l.gamma.empty() && static_cast<int>(l.gamma.size()) != n)
                fail("gamma", "has " + std::to_string(l.gamma.size()) + " values for " + std::to_string(n) + " features");
            if (!l.beta.empty() && static_cast<int>(l.beta.size()) != n)
                fail("beta", "has " + std::to_string(l.beta.size()) + " values for " + std::to_string(n) + " features");
            if (!(std::isfinite(l.eps) && l.eps >= 0)) fail("eps", "must be a non-negative number");
            l.out = in;
            break;
        }
        case op::transpose: {
            std::vector<int> seen(in.dims.size(), 0);
            if (l.perm.size() != in.dims.size()) fail("perm", "needs " + std::to_string(in.rank()) + " axes for " + to_string(in));
            std::vector<int> d;
            for (int a : l.perm) {
                if (a < 0 || a >= in.rank() || seen[static_cast<std::size_t>(a)]++)
                    fail("perm", "is not a permutation of the " + std::to_string(in.rank()) + " axes");
                d.push_back(in.dims[static_cast<std::size_t>(a)]);
            }
            l.out = shape(d);
            break;
        }
        case op::reshape: {
            const shape s(l.new_dims);
            for (int d : l.new_dims)
                if (d < 1) fail("shape", "every dim must be >= 1, got " + to_string(s));
            if (l.new_dims.empty() || s.size() != in.size())
                fail("shape", "reshape of " + to_string(in) + " to " + to_string(s) + " changes the size");
            l.out = s;
            break;
        }
        case op::slice: {
            if (l.axis < 0 || l.axis >= in.rank()) fail("axis", "axis " + std::to_string(l.axis) + " outside " + to_string(in));
            const int n = in.dims[static_cast<std::size_t>(l.axis)];
            if (l.begin < 0 || l.end > n || l.begin >= l.end)
                fail("begin", "slice [" + std::to_string(l.begin) + ", " + std::to_string(l.end) + ") outside 0.." +
                                  std::to_string(n));
            std::vector<int> d = in.dims;
            d[static_cast<std::size_t>(l.axis)] = l.end - l.begin;
            l.out = shape(d);
            break;
        }
        case op::concat: {
            if (l.axis < 0 || l.axis >= in.rank()) fail("axis", "axis " + std::to_string(l.axis) + " outside " + to_string(in));
            std::vector<int> d = in.dims;
            auto same_but_axis = [&](const shape& s) {
                if (s.rank() != in.rank()) return false;
                for (int k = 0; k < in.rank(); ++k)
                    if (k != l.axis && s.dims[static_cast<std::size_t>(k)] != in.dims[static_cast<std::size_t>(k)]) return false;
                return true;
            };
            d[static_cast<std::size_t>(l.axis)] = 0;
            if (has_constant) {
                if (!same_but_axis(l.constant_shape))
                    fail("constant", "constant of shape " + to_string(l.constant_shape) + " does not join " + to_string(in));
                d[static_cast<std::size_t>(l.axis)] += l.constant_shape.dims[static_cast<std::size_t>(l.axis)];
            }
            for (int id : l.input_ids) {
                const shape& s = layers[static_cast<std::size_t>(id)].out;
                if (!same_but_axis(s))
                    fail("inputs", "concat inputs " + to_string(in) + " and " + to_string(s) + " differ off axis " +
                                       std::to_string(l.axis));
                d[static_cast<std::size_t>(l.axis)] += s.dims[static_cast<std::size_t>(l.axis)];
            }
            l.out = shape(d);
            break;
        }

        case op::input:
            break;  // handled above
    }

    // Signed-ness by construction.
    auto neg = [&](std::size_t k) { return layers[static_cast<std::size_t>(l.input_ids[k])].may_be_negative; };
    // A constant whose values are not known yet (synthetic) may be negative.
    const bool const_neg = has_constant && (l.constant.empty() ||
                                            std::any_of(l.constant.begin(), l.constant.end(), [](double c) { return c < 0; }));
    switch (l.kind) {
        case op::input:
        case op::relu:
        case op::softmax: l.may_be_negative = false; break;
        case op::conv2d:
        case op::linear:
        case op::matmul:
        case op::layernorm:
        case op::gelu: l.may_be_negative = true; break;
        case op::max_pool:
        case op::avg_pool:
        case op::flatten:
        case op::transpose:
        case op::reshape:
        case op::slice: l.may_be_negative = neg(0); break;
        case op::add:  // positive multipliers: the sum of non-negative tensors stays non-negative
        case op::concat: {
            bool any = const_neg;
            for (std::size_t k = 0; k < l.input_ids.size(); ++k) any = any || neg(k);
            l.may_be_negative = any;
            break;
        }
    }
    l.signed_input = l.has_weights() && neg(0);

    // Sizes the engine indexes with int and sums in int64 (the fuzzer found a NeuroSim CSV whose MACs overflowed):
    // no real network comes near these limits.
    constexpr std::int64_t max_values = std::numeric_limits<int>::max();
    if (l.out.size() > max_values)
        fail("", "output " + to_string(l.out) + " has more than " + std::to_string(max_values) + " values");
    if (l.has_weights()) {
        const std::int64_t rows = l.weight_rows();
        if (rows > max_values || rows * l.out_channels > max_values)
            fail("", "a weight matrix of " + std::to_string(rows) + " x " + std::to_string(l.out_channels) +
                         " is more than " + std::to_string(max_values) + " weights");
        if (rows * l.out_channels > k_max_layer_macs / std::max<std::int64_t>(1, l.output_pixels()))
            fail("", "more than 2^48 multiply-accumulates in one layer");
    }
}

}  // namespace cim::network
