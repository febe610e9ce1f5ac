// Integer semantics of the quantised network: a hand-checked conv, synthetic weights and calibration
// (determinism, sane activation statistics on VGG-8), the unsigned-crossbar-input rule and a residual net.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "models/core/error.h"
#include "models/engine/quantized_model.h"
#include "models/network/loader.h"

namespace cim::engine {
namespace {

using network::graph;
using network::op;

func::quant_config q8() { return {}; }  // 8-bit weights and inputs

graph vgg8() { return network::load_yaml(CIM_SOURCE_DIR "/configs/networks/vgg8_cifar10.yaml"); }

std::vector<std::vector<std::int32_t>> images(const graph& g, const func::quant_config& q, std::uint64_t seed,
                                              int first, int n) {
    std::vector<std::vector<std::int32_t>> v;
    for (int i = first; i < first + n; ++i) v.push_back(synthetic_image(g.input, q, seed, i));
    return v;
}

// C=2, H=2, W=3 input; conv 2x2 (2 out channels, no padding) -> 2x1x2; relu; flatten; linear 1 (the logits).
constexpr const char* tiny_yaml = R"(
input: {channels: 2, height: 2, width: 3}
layers:
  - {name: conv, type: conv2d, out_channels: 2, kernel: 2}
  - {name: act, type: relu}
  - {type: flatten}
  - {name: fc, type: linear, out_features: 1}
)";

struct tiny {
    graph g = network::load_yaml_text(tiny_yaml, "tiny.yaml");
    func::quant_config q;
    // ch0 = [[1,2,3],[4,5,6]], ch1 = [[0,1,0],[2,0,1]]
    std::vector<std::int32_t> image{1, 2, 3, 4, 5, 6, 0, 1, 0, 2, 0, 1};
    tiny() {
        q.weight_bits = 4;  // |w| <= 7
        q.input_bits = 4;   // A = 15
        auto& conv = g.layers[1];
        // Row r = (ky*2 + kx)*2 + c: (0,0,c0) (0,0,c1) (0,1,c0) (0,1,c1) (1,0,c0) (1,0,c1) (1,1,c0) (1,1,c1)
        conv.qweights = {1, -1, 2, 0, 0, 3, -1, 1,  //
                         -2, 1, 0, 1, 1, 0, 0, -3};
        conv.weight_scale = {1.0};
        g.layers[4].qweights = {1, -2, 3, 7};
        g.layers[4].weight_scale = {0.5};
    }
    // Hand-set scales: input 1, conv multiplier 1*1/2 = 0.5; relu and flatten keep 2.
    void set_scales() {
        g.layers[0].out_scale = 1.0;
        for (int i = 1; i <= 3; ++i) g.layers[static_cast<std::size_t>(i)].out_scale = 2.0;
    }
};

// Unrolled windows: x(ox=0) = [1,0,2,1,4,2,5,0], x(ox=1) = [2,1,3,0,5,0,6,1].
// acc: oc0 = (1+4+6-5, 2-1+6-6+1) = (6, 2); oc1 = (-2+1+4, -4+1+5-3) = (3, -1).
TEST(quantized_model, hand_checked_conv_relu_linear) {
    tiny t;
    t.set_scales();
    const auto acc = reference_accumulate(t.g, 1, t.image);
    EXPECT_EQ(acc, (std::vector<std::int64_t>{6, 3, 2, -1}));  // pixel-major: p0 (oc0, oc1), p1 (oc0, oc1)

    const auto out = reference_forward(t.g, t.q, t.image);
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(out[0], t.image);
    // x 0.5, rounded half away from zero: 6->3, 2->1, 3->1.5->2, -1->-0.5->-1; CHW order.
    EXPECT_EQ(out[1], (std::vector<std::int32_t>{3, 1, 2, -1}));
    EXPECT_EQ(out[2], (std::vector<std::int32_t>{3, 1, 2, 0}));
    EXPECT_EQ(out[3], (std::vector<std::int32_t>{3, 1, 2, 0}));
    // Logits are not requantised: 3 - 2 + 6 + 0 = 7.
    EXPECT_EQ(out[4], (std::vector<std::int32_t>{7}));

    EXPECT_FALSE(is_logits_layer(t.g, 1));
    EXPECT_TRUE(is_logits_layer(t.g, 4));
    EXPECT_DOUBLE_EQ(layer_in_scale(t.g, 1), 1.0);
    EXPECT_EQ(finish_weight_output(t.g, 1, 40, t.q), 15);  // 20 clamps to A
    EXPECT_EQ(finish_weight_output(t.g, 1, -40, t.q), -15);
    EXPECT_EQ(finish_weight_output(t.g, 4, std::int64_t{1} << 40, t.q), std::numeric_limits<std::int32_t>::max());
    EXPECT_EQ(finish_weight_output(t.g, 4, -123456789012LL, t.q), std::numeric_limits<std::int32_t>::min());
}

TEST(quantized_model, calibrate_sets_every_scale_by_hand) {
    tiny t;
    calibrate(t.g, t.q, {t.image});
    const double in = 1.0 / 15;
    EXPECT_DOUBLE_EQ(t.g.layers[0].out_scale, in);
    // max |acc| = 6 -> conv scale 6 * 1 * in / 15; relu and flatten inherit it; logits get ws * in_scale.
    const double conv = 6.0 * in / 15;
    EXPECT_DOUBLE_EQ(t.g.layers[1].out_scale, conv);
    EXPECT_DOUBLE_EQ(t.g.layers[2].out_scale, conv);
    EXPECT_DOUBLE_EQ(t.g.layers[3].out_scale, conv);
    EXPECT_DOUBLE_EQ(t.g.layers[4].out_scale, 0.5 * conv);
    // Multiplier 15/6 = 2.5: 6->15 (the peak maps to A exactly), 2->5, 3->7.5->8, -1->-2.5->-3.
    const auto out = reference_forward(t.g, t.q, t.image);
    EXPECT_EQ(out[1], (std::vector<std::int32_t>{15, 5, 8, -3}));
    EXPECT_EQ(out[4], (std::vector<std::int32_t>{15 - 10 + 24}));
}

TEST(quantized_model, missing_scales_weights_and_bad_images_are_model_errors) {
    tiny t;
    EXPECT_THROW(reference_forward(t.g, t.q, t.image), model_error);  // no scales yet
    t.set_scales();
    auto bad = t.image;
    bad[0] = 16;
    EXPECT_THROW(reference_forward(t.g, t.q, bad), model_error);
    bad.pop_back();
    EXPECT_THROW(reference_forward(t.g, t.q, bad), model_error);
    auto short_weights = t.g.layers[1].qweights.to_vector();
    short_weights.pop_back();
    t.g.layers[1].qweights = short_weights;
    EXPECT_THROW(reference_forward(t.g, t.q, t.image), model_error);
}

TEST(quantized_model, synthetic_weights_and_scales_are_deterministic) {
    const auto q = q8();
    graph a = vgg8(), b = vgg8(), c = vgg8();
    synthesize_weights(a, q, 1);
    synthesize_weights(b, q, 1);
    synthesize_weights(c, q, 2);
    for (int i : a.weight_layers()) {
        const auto& la = a.layers[static_cast<std::size_t>(i)];
        EXPECT_EQ(la.qweights, b.layers[static_cast<std::size_t>(i)].qweights) << la.name;
        EXPECT_NE(la.qweights, c.layers[static_cast<std::size_t>(i)].qweights) << la.name;
        EXPECT_EQ(la.weight_scale, b.layers[static_cast<std::size_t>(i)].weight_scale);
        ASSERT_EQ(la.weight_scale.size(), 1u);  // synthetic weights have one per-tensor scale
        EXPECT_DOUBLE_EQ(la.weight_scale[0], std::sqrt(2.0 / la.weight_rows()) * 3.0 / 127);
    }
    // Every level is used; the spread is sigma = 127/3.
    const auto w = a.layers[static_cast<std::size_t>(a.find("conv4"))].qweights.to_vector();
    EXPECT_EQ(*std::min_element(w.begin(), w.end()), -127);
    EXPECT_EQ(*std::max_element(w.begin(), w.end()), 127);
    double s = 0, s2 = 0;
    for (auto v : w) s += v, s2 += double(v) * v;
    const double mean = s / w.size(), sd = std::sqrt(s2 / w.size() - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.5);
    EXPECT_NEAR(sd, 127.0 / 3, 1.0);

    EXPECT_EQ(synthetic_image(a.input, q, 5, 0), synthetic_image(a.input, q, 5, 0));
    EXPECT_NE(synthetic_image(a.input, q, 5, 0), synthetic_image(a.input, q, 5, 1));

    const auto cal = images(a, q, 7, 0, 2);
    calibrate(a, q, cal);
    calibrate(b, q, cal);
    calibrate(c, q, cal);
    bool differs = false;
    for (std::size_t i = 0; i < a.layers.size(); ++i) {
        EXPECT_GT(a.layers[i].out_scale, 0.0) << a.layers[i].name;
        EXPECT_EQ(a.layers[i].out_scale, b.layers[i].out_scale) << a.layers[i].name;
        differs |= a.layers[i].out_scale != c.layers[i].out_scale;
    }
    EXPECT_TRUE(differs);
}

TEST(quantized_model, vgg8_activations_are_neither_dead_nor_saturated_after_calibration) {
    const auto q = q8();
    graph g = vgg8();
    synthesize_weights(g, q, 1);
    calibrate(g, q, images(g, q, 7, 0, 4));

    const auto img = synthetic_image(g.input, q, 7, 100);  // not in the calibration set
    const auto t0 = std::chrono::steady_clock::now();
    const auto out = reference_forward(g, q, img);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("VGG-8 reference_forward: %.3f s per image\n", secs);

    const std::int32_t a = 255;
    for (int i : g.weight_layers()) {
        if (is_logits_layer(g, i)) continue;
        const auto& y = out[static_cast<std::size_t>(i)];
        ASSERT_EQ(static_cast<std::int64_t>(y.size()), g.layers[static_cast<std::size_t>(i)].out.size());
        std::size_t clipped = 0, nonzero = 0;
        for (auto v : y) {
            clipped += (v == a || v == -a);
            nonzero += (v != 0);
        }
        const double fc = double(clipped) / y.size(), fn = double(nonzero) / y.size();
        std::printf("  %-6s clipped %.4f nonzero %.3f\n", g.layers[static_cast<std::size_t>(i)].name.c_str(), fc, fn);
        EXPECT_LT(fc, 0.05) << g.layers[static_cast<std::size_t>(i)].name;
        EXPECT_GT(fn, 0.05) << g.layers[static_cast<std::size_t>(i)].name;
    }
    const auto& logits = out.back();
    ASSERT_EQ(logits.size(), 10u);
    EXPECT_NE(*std::min_element(logits.begin(), logits.end()), *std::max_element(logits.begin(), logits.end()));
}

TEST(quantized_model, conv_fed_by_conv_without_relu_has_a_signed_input_and_runs) {
    graph g = network::load_yaml_text(R"(
input: {channels: 1, height: 4, width: 4}
layers:
  - {name: conv1, type: conv2d, out_channels: 2, kernel: 3, padding: 1}
  - {name: pool, type: max_pool, kernel: 2}
  - {name: conv2, type: conv2d, out_channels: 2, kernel: 1}
)",
                                      "signed.yaml");
    EXPECT_FALSE(signed_input(g, 1));  // the image
    EXPECT_TRUE(signed_input(g, 3));   // conv1 -> pool -> conv2, no relu
    synthesize_weights(g, q8(), 1);
    calibrate(g, q8(), images(g, q8(), 1, 0, 1));
    const auto out = reference_forward(g, q8(), synthetic_image(g.input, q8(), 1, 5));
    EXPECT_TRUE(std::any_of(out[1].begin(), out[1].end(), [](std::int32_t v) { return v < 0; }));
}

TEST(quantized_model, add_of_a_signed_tensor_feeding_a_conv_is_signed) {
    graph g = network::load_yaml_text(R"(
input: {channels: 2, height: 4, width: 4}
layers:
  - {name: conv1, type: conv2d, out_channels: 2, kernel: 3, padding: 1}
  - {name: relu1, type: relu}
  - {name: add1, type: add, inputs: [conv1, input]}
  - {name: conv2, type: conv2d, out_channels: 2, kernel: 1}
  - {name: add2, type: add, inputs: [relu1, input]}
  - {name: conv3, type: conv2d, out_channels: 2, kernel: 1}
)",
                                      "signed_add.yaml");
    EXPECT_TRUE(signed_input(g, g.find("conv2")));
    EXPECT_FALSE(signed_input(g, g.find("conv3")));  // relu + image: unsigned by construction
}

constexpr const char* residual_yaml = R"(
name: tiny_resnet
input: {channels: 3, height: 8, width: 8}
layers:
  - {name: conv1, type: conv2d, out_channels: 8, kernel: 3, padding: 1}
  - {name: relu1, type: relu}
  - {name: conv2, type: conv2d, out_channels: 8, kernel: 3, padding: 1}
  - {name: add1, type: add, inputs: [conv2, relu1]}
  - {name: relu2, type: relu}
  - {name: conv3, type: conv2d, out_channels: 8, kernel: 3, padding: 1}
  - {name: relu3, type: relu}
  - {name: add2, type: add, inputs: [relu3, relu2]}
  - {name: conv4, type: conv2d, out_channels: 16, kernel: 3, stride: 2, padding: 1}
  - {name: relu4, type: relu}
  - {name: gap, type: avg_pool, kernel: 4}
  - {type: flatten}
  - {name: fc, type: linear, out_features: 10}
)";

TEST(quantized_model, residual_network_runs_and_adds_use_their_own_scale) {
    const auto q = q8();
    graph g = network::load_yaml_text(residual_yaml, "residual.yaml");
    EXPECT_FALSE(signed_input(g, g.find("conv4")));  // add2 sums two relu outputs: unsigned by construction
    synthesize_weights(g, q, 3);
    calibrate(g, q, images(g, q, 9, 0, 3));
    const auto img = synthetic_image(g.input, q, 9, 50);
    const auto out = reference_forward(g, q, img);
    ASSERT_EQ(out.size(), g.layers.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(static_cast<std::int64_t>(out[i].size()), g.layers[i].out.size()) << g.layers[i].name;
        EXPECT_GT(g.layers[i].out_scale, 0.0) << g.layers[i].name;
    }
    // add1 by hand from its inputs' integers and scales.
    const int add1 = g.find("add1"), conv2 = g.find("conv2"), relu1 = g.find("relu1");
    const double so = g.layers[add1].out_scale;
    for (std::size_t e = 0; e < out[add1].size(); ++e) {
        const double v = std::fma(out[conv2][e], g.layers[conv2].out_scale / so,
                                  out[relu1][e] * (g.layers[relu1].out_scale / so));
        EXPECT_EQ(out[add1][e], static_cast<std::int32_t>(std::clamp(std::llround(v), -255LL, 255LL)));
    }
    const int add2 = g.find("add2");
    EXPECT_GE(*std::min_element(out[add2].begin(), out[add2].end()), 0);
    // The same image gives the same bits.
    EXPECT_EQ(reference_forward(g, q, img), out);
    const auto& logits = out.back();
    ASSERT_EQ(logits.size(), 10u);
    EXPECT_NE(*std::min_element(logits.begin(), logits.end()), *std::max_element(logits.begin(), logits.end()));
}

}  // namespace
}  // namespace cim::engine
