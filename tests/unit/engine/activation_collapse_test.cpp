// engine::activation_collapse: issue 22 found VGG-8 at 64x64 subarrays (offset encoding, 5-bit ADC) whose input-bit
// densities fell 0.50, 0.20, 0.13, 0.032, 0.0076, 0.0025, 0.00006, 0 from conv1 to fc2, priced and reported without a
// word; the run's table and report must say so.
#include <gtest/gtest.h>

#include "models/engine/activation_collapse.h"

using cim::engine::activation_collapse;
using cim::engine::layer_density;

namespace {
std::vector<layer_density> net(const std::vector<double>& d) {
    const char* names[] = {"conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc1", "fc2"};
    std::vector<layer_density> out;
    for (std::size_t i = 0; i < d.size(); ++i) out.push_back({names[i], d[i]});
    return out;
}
}  // namespace

TEST(ActivationCollapse, TheIssuesRunCollapses) {
    const auto v = activation_collapse(net({0.496, 0.202, 0.126, 0.0318, 0.00758, 0.00254, 6.1e-5, 0}));
    EXPECT_TRUE(v.collapsed);
    EXPECT_EQ(v.layer, "conv6");  // the first below 1 % of 0.496
    EXPECT_DOUBLE_EQ(v.density, 0.00254);
    EXPECT_EQ(v.reference_layer, "conv1");
    EXPECT_EQ(v.dead_layer, "fc2");
    EXPECT_NE(v.message().find("activations collapse"), std::string::npos) << v.message();
    EXPECT_NE(v.message().find("conv6"), std::string::npos) << v.message();
    EXPECT_NE(v.message().find("reaches 0 at fc2"), std::string::npos) << v.message();
}

TEST(ActivationCollapse, HealthyRunsDoNot) {
    // VGG-8 at 128x128 (the issue), and at a lossless ADC.
    EXPECT_FALSE(activation_collapse(net({0.496, 0.202, 0.378, 0.353, 0.513, 0.381, 0.747, 0.229})).collapsed);
    EXPECT_FALSE(activation_collapse(net({0.496, 0.209, 0.276, 0.189, 0.247, 0.195, 0.260, 0.194})).collapsed);
    const auto v = activation_collapse(net({0.5, 0.2}));
    EXPECT_FALSE(v.collapsed);
    EXPECT_EQ(v.message(), "");
}

TEST(ActivationCollapse, EdgeCases) {
    EXPECT_FALSE(activation_collapse({}).collapsed);
    EXPECT_FALSE(activation_collapse(net({0.5})).collapsed);          // one weight layer: nothing to compare
    EXPECT_FALSE(activation_collapse(net({0.0, 0.0, 0.0})).collapsed);  // an all-zero input decides nothing
    EXPECT_TRUE(activation_collapse(net({0.5, 0.0})).collapsed);       // dead at once
    EXPECT_TRUE(activation_collapse(net({0.5, 0.3, 0.004})).collapsed);
    EXPECT_FALSE(activation_collapse(net({0.5, 0.3, 0.006})).collapsed);  // 1.2 % of the input: sparse, alive
    EXPECT_TRUE(activation_collapse(net({0.5, 0.3, 0.006}), 0.02).collapsed);
}
