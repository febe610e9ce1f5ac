#include "models/network/graph.h"

#include <algorithm>
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
    }
    return "?";
}

std::int64_t layer::weight_rows() const {
    if (kind == op::conv2d) {  // saturated like shape::size()
        std::int64_t r = 0;
        if (__builtin_mul_overflow(std::int64_t{kernel_h}, std::int64_t{kernel_w}, &r) ||
            __builtin_mul_overflow(r, std::int64_t{in.c}, &r))
            return INT64_MAX;
        return r;
    }
    if (kind == op::linear) return in.size();  // (N,1,1): N in_features
    return 0;
}

std::int64_t layer::output_pixels() const {
    if (kind == op::conv2d) return std::int64_t{out.h} * out.w;
    if (kind == op::linear) return 1;
    return 0;
}

namespace {

std::string to_string(const shape& s) {
    return "(" + std::to_string(s.c) + "," + std::to_string(s.h) + "," + std::to_string(s.w) + ")";
}

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
    if (input.c < 1 || input.h < 1 || input.w < 1)
        throw config_error(source, layers.empty() ? 0 : layers[0].line, "input",
                           "input shape " + to_string(input) + " must have channels, height and width >= 1");
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
    const std::size_t want_inputs = l.kind == op::add ? 2 : 1;
    if (l.input_ids.size() != want_inputs)
        fail("inputs", std::string(op_name(l.kind)) + " takes exactly " + std::to_string(want_inputs) +
                           " input(s), got " + std::to_string(l.input_ids.size()));

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
            const std::int64_t oh = window_out(in.h, l.kernel_h, l.stride, l.padding);
            const std::int64_t ow = window_out(in.w, l.kernel_w, l.stride, l.padding);
            if (oh < 1 || ow < 1)
                fail("kernel", "kernel " + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) +
                                   " does not fit input " + to_string(in) + " with padding " +
                                   std::to_string(l.padding));
            l.out = {l.kind == op::conv2d ? l.out_channels : in.c, static_cast<int>(oh), static_cast<int>(ow)};
            break;
        }
        case op::linear:
            if (l.out_channels < 1) fail("out_features", "out_features must be >= 1");
            if (in.h != 1 || in.w != 1)
                fail("", "linear needs a flat (N,1,1) input but '" +
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
            const layer& b = layers[static_cast<std::size_t>(l.input_ids[1])];
            if (b.out != in)
                fail("inputs", "add needs inputs of equal shape, but '" +
                                   layers[static_cast<std::size_t>(l.input_ids[0])].name + "' is " + to_string(in) +
                                   " and '" + b.name + "' is " + to_string(b.out));
            l.out = in;
            break;
        }
        case op::input:
            break;  // handled above
    }
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
