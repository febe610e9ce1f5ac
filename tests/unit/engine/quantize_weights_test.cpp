// engine::quantize_weights: symmetric per-tensor post-training quantisation of imported float weights.
#include <gtest/gtest.h>

#include <cmath>

#include "models/core/error.h"
#include "models/engine/quantized_model.h"
#include "models/functional/quant_config.h"
#include "models/network/graph.h"

namespace cim::engine {
namespace {

network::graph small_graph() {
    network::graph g;
    g.source = "test";
    g.input = {1, 1, 2};
    network::layer in;
    in.name = "input";
    g.layers.push_back(in);
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
    network::graph g = small_graph();
    quantize_weights(g, q);
    const network::layer& fc = g.layers[2];
    EXPECT_DOUBLE_EQ(fc.weight_scale, 1.0 / 7);
    // w / (1/7): 3.5 -> 4 (half away from zero), -7, 1.75 -> 2, 0, 0.868 -> 1, -0.882 -> -1
    EXPECT_EQ(fc.qweights, (std::vector<std::int32_t>{4, -7, 2, 0, 1, -1}));
    EXPECT_EQ(fc.fweights.size(), 6u);  // kept
    const network::layer& z = g.layers[3];
    EXPECT_EQ(z.weight_scale, 1.0);  // all-zero layer: a positive scale all the same
    EXPECT_EQ(z.qweights, std::vector<std::int32_t>(6, 0));
}

TEST(quantize_weights, leaves_integer_layers_alone_and_checks_sizes) {
    func::quant_config q;
    network::graph g = small_graph();
    g.layers[2].qweights = {1, 2, 3, 4, 5, 6};
    g.layers[2].weight_scale = 0.5;
    quantize_weights(g, q);
    EXPECT_EQ(g.layers[2].qweights, (std::vector<std::int32_t>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(g.layers[2].weight_scale, 0.5);
    EXPECT_EQ(g.layers[3].qweights.size(), 6u);  // the float one next to it is quantised

    network::graph bad = small_graph();
    bad.layers[2].fweights.pop_back();
    EXPECT_THROW(quantize_weights(bad, q), cim::model_error);
}

}  // namespace
}  // namespace cim::engine
