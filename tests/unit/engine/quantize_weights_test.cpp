// engine::quantize_weights: symmetric post-training quantisation of imported float weights, per tensor and per
// output channel, and the per-channel requantisation rule it feeds (weight_output).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "models/core/error.h"
#include "models/engine/quantized_model.h"
#include "models/functional/quant_config.h"
#include "models/network/graph.h"

namespace cim::engine {
namespace {

/// A graph holding only its input layer, of the given shape.
network::graph input_graph(network::shape input) {
    network::graph g;
    g.source = "test";
    g.input = input;
    network::layer in;
    in.name = "input";
    g.layers.push_back(in);
    return g;
}

network::graph small_graph() {
    network::graph g = input_graph({1, 1, 2});
    network::layer f;
    f.name = "flat";
    f.kind = network::op::flatten;
    g.layers.push_back(f);
    network::layer fc;
    fc.name = "fc";
    fc.kind = network::op::linear;
    fc.out_channels = 3;
    fc.fweights = {0.5f, -1.0f, 0.25f, 0.0f, 0.124f, -0.126f};  // [3][2]
    g.layers.push_back(fc);
    network::layer z = fc;
    z.name = "zero";
    z.out_channels = 2;
    z.fweights.assign(6, 0.0f);  // [2][3]
    g.layers.push_back(z);
    g.infer_shapes();
    return g;
}

TEST(quantize_weights, symmetric_per_tensor) {
    func::quant_config q;
    q.weight_bits = 4;  // M = 7
    q.weight_granularity = "per_tensor";
    network::graph g = small_graph();
    quantize_weights(g, q);
    const network::layer& fc = g.layers[2];
    ASSERT_EQ(fc.weight_scale.size(), 1u);
    EXPECT_DOUBLE_EQ(fc.weight_scale[0], 1.0 / 7);
    // w / (1/7): 3.5 -> 4 (half away from zero), -7, 1.75 -> 2, 0, 0.868 -> 1, -0.882 -> -1
    EXPECT_EQ(fc.qweights, (std::vector<std::int32_t>{4, -7, 2, 0, 1, -1}));
    EXPECT_EQ(fc.fweights.size(), 6u);  // kept
    const network::layer& z = g.layers[3];
    EXPECT_EQ(z.weight_scale, std::vector<double>{1.0});  // all-zero layer: a positive scale all the same
    EXPECT_EQ(z.qweights, std::vector<std::int32_t>(6, 0));
}

TEST(quantize_weights, per_channel_is_the_default_and_maps_each_channel_max_to_m) {
    func::quant_config q;
    q.weight_bits = 4;  // M = 7
    EXPECT_EQ(q.weight_granularity, "per_channel");
    network::graph g = small_graph();
    quantize_weights(g, q);
    const network::layer& fc = g.layers[2];
    // Rows {0.5, -1}, {0.25, 0}, {0.124, -0.126}: one scale per row (output channel), max|w| / 7.
    ASSERT_EQ(fc.weight_scale.size(), 3u);
    EXPECT_DOUBLE_EQ(fc.weight_scale[0], 1.0 / 7);
    EXPECT_DOUBLE_EQ(fc.weight_scale[1], 0.25 / 7);
    EXPECT_DOUBLE_EQ(fc.weight_scale[2], static_cast<double>(0.126f) / 7);
    // 0.5*7 = 3.5 -> 4, -7 | 7, 0 | 0.124/0.126*7 = 6.89 -> 7, -7. Per tensor the last row was {1, -1}.
    EXPECT_EQ(fc.qweights, (std::vector<std::int32_t>{4, -7, 7, 0, 7, -7}));
    const network::layer& z = g.layers[3];
    EXPECT_EQ(z.weight_scale, (std::vector<double>{1.0, 1.0}));  // all-zero channels keep a positive scale
    EXPECT_EQ(z.qweights, std::vector<std::int32_t>(6, 0));
}

// One outlier channel: per channel, every other channel still spans the full +-M with its own scale and
// reconstructs within half a step; per tensor, the same channels collapse onto a few levels.
TEST(quantize_weights, an_outlier_channel_keeps_the_other_channels_resolution) {
    constexpr int oc = 4, rows = 64;
    network::graph g = input_graph({rows, 1, 1});
    network::layer fc;
    fc.name = "fc";
    fc.kind = network::op::linear;
    fc.out_channels = oc;
    for (int c = 0; c < oc; ++c)
        for (int r = 0; r < rows; ++r)  // channel 0 carries one weight 100x the others' range
            fc.fweights.push_back(c == 0 && r == 5 ? 100.0f : std::sin(0.37f * static_cast<float>(r * oc + c + 1)));
    g.layers.push_back(fc);
    g.infer_shapes();

    func::quant_config q;  // 8-bit: M = 127
    network::graph per_tensor = g;
    quantize_weights(g, q);
    q.weight_granularity = "per_tensor";
    quantize_weights(per_tensor, q);

    const network::layer& l = g.layers[1];
    ASSERT_EQ(l.weight_scale.size(), static_cast<std::size_t>(oc));
    for (int c = 0; c < oc; ++c) {
        const auto row = [&](const auto& v) { return std::vector(v.begin() + c * rows, v.begin() + (c + 1) * rows); };
        const auto qrow = row(l.qweights.to_vector());
        const auto frow = row(l.fweights);
        int qmax = 0;
        float fmax = 0.0f;
        for (int r = 0; r < rows; ++r) {
            qmax = std::max(qmax, std::abs(qrow[static_cast<std::size_t>(r)]));
            fmax = std::max(fmax, std::fabs(frow[static_cast<std::size_t>(r)]));
            EXPECT_LE(std::fabs(qrow[static_cast<std::size_t>(r)] * l.weight_scale[static_cast<std::size_t>(c)] -
                                frow[static_cast<std::size_t>(r)]),
                      0.5 * l.weight_scale[static_cast<std::size_t>(c)] * (1 + 1e-9))
                << "channel " << c << " row " << r;
        }
        EXPECT_EQ(qmax, 127) << "channel " << c;  // its own largest weight maps to +-M exactly
        EXPECT_DOUBLE_EQ(l.weight_scale[static_cast<std::size_t>(c)], static_cast<double>(fmax) / 127);
        if (c > 0) {
            const std::set<std::int32_t> levels(qrow.begin(), qrow.end());
            EXPECT_GT(levels.size(), 40u) << "channel " << c;
            const auto pt = row(per_tensor.layers[1].qweights.to_vector());
            const std::set<std::int32_t> pt_levels(pt.begin(), pt.end());
            EXPECT_LE(pt_levels.size(), 3u) << "channel " << c;  // |w| <= 1 at scale 100/127: -1, 0, 1
        }
    }
}

// The rule applies channel c's own multiplier; the logits layer keeps accumulator precision relative to its
// finest channel, so y_c * out_scale is the real logit for every channel.
TEST(quantize_weights, per_channel_scales_reach_the_requantisation_rule) {
    network::graph g;
    g.source = "test";
    g.input = {2, 1, 1};
    network::layer in;
    in.name = "input";
    in.out_scale = 0.5;
    g.layers.push_back(in);
    network::layer fc;
    fc.name = "fc";
    fc.kind = network::op::linear;
    fc.out_channels = 3;
    fc.fweights = {1.0f, -0.5f, 0.25f, 0.1f, -0.125f, 0.0f};  // channel maxima 1, 0.25, 0.125
    fc.bias = {0.0, 0.0, 0.5 * 0.125 / 7 * 3};                // 3 accumulator units of channel 2
    network::layer hidden = fc;
    hidden.name = "hidden";
    g.layers.push_back(hidden);
    network::layer act;
    act.name = "act";
    act.kind = network::op::relu;
    g.layers.push_back(act);
    fc.fweights = {1.0f, -0.5f, 0.25f, 0.1f, 0.25f, 0.0f, -0.125f, 0.0f, 0.125f};
    g.layers.push_back(fc);
    g.infer_shapes();
    func::quant_config q;
    q.weight_bits = 4;  // M = 7
    quantize_weights(g, q);
    g.layers[1].out_scale = 0.5;
    g.layers[2].out_scale = 0.5;

    // Hidden layer: multiplier_c = s_c * in_scale / out_scale = s_c, bias_c = llround(b_c / (s_c * 0.5)).
    const weight_output_rule h = weight_output(g, 1, q);
    EXPECT_FALSE(h.logits);
    ASSERT_EQ(h.multiplier.size(), 3u);
    for (std::size_t c = 0; c < 3; ++c) EXPECT_DOUBLE_EQ(h.multiplier[c], g.layers[1].weight_scale[c]);
    EXPECT_EQ(h.bias, (std::vector<std::int64_t>{0, 0, 3}));
    EXPECT_EQ(h.apply(700, 0), 100);      // 700 * 1/7
    EXPECT_EQ(h.apply(700, 1), 25);       // 700 * 0.25/7
    EXPECT_EQ(h.apply(26, 2), 1);         // (26 + 3) * 0.125/7 = 0.52 -> 1 (without the bias 0.46 -> 0)
    EXPECT_EQ(h.apply(1 << 20, 0), 255);  // clamps to A

    // Logits: scales 1/7, 0.25/7, 0.125/7 -> out_scale = (0.125/7) * 0.5, multipliers 8, 2, 1.
    const weight_output_rule lo = weight_output(g, 3, q);
    EXPECT_TRUE(lo.logits);
    EXPECT_EQ(lo.multiplier, (std::vector<double>{8.0, 2.0, 1.0}));
    EXPECT_EQ(lo.apply(-3, 0), -24);
    EXPECT_EQ(lo.apply(5, 1), 10);
    EXPECT_EQ(lo.apply(std::int64_t{1} << 40, 2), std::numeric_limits<std::int32_t>::max());
    const std::vector<std::vector<std::int32_t>> image{{3, 1}};
    calibrate(g, q, image);
    EXPECT_DOUBLE_EQ(g.layers[3].out_scale, 0.125 / 7 * g.layers[2].out_scale);

    // A scale vector that is neither per tensor nor per channel is an error, not a silent broadcast.
    g.layers[3].weight_scale.pop_back();
    EXPECT_THROW(weight_output(g, 3, q), cim::model_error);
}

TEST(quantize_weights, leaves_integer_layers_alone_and_checks_sizes) {
    func::quant_config q;
    network::graph g = small_graph();
    g.layers[2].qweights = {1, 2, 3, 4, 5, 6};
    g.layers[2].weight_scale = {0.5};
    quantize_weights(g, q);
    EXPECT_EQ(g.layers[2].qweights, (std::vector<std::int32_t>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(g.layers[2].weight_scale, std::vector<double>{0.5});
    EXPECT_EQ(g.layers[3].qweights.size(), 6u);  // the float one next to it is quantised

    network::graph bad = small_graph();
    bad.layers[2].fweights.pop_back();
    EXPECT_THROW(quantize_weights(bad, q), cim::model_error);
}

}  // namespace
}  // namespace cim::engine
