// The SystemC platform's functional data path against a plain reference convolution that this test computes
// itself (nested loops, no im2col, no crossbar slicing). With a lossless ADC every layer must match exactly.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <set>
#include <vector>

#include "models/engine/quantized_model.h"
#include "models/network/loader.h"
#include "platforms/inference/platform.h"

namespace {

using tensor = std::vector<std::int32_t>;

/// Platform options of these tests: keep every layer's output of the last image.
cim::inference::platform_options keep_outputs() {
    cim::inference::platform_options o;
    o.keep_outputs = true;
    return o;
}

/// Direct convolution / dense layer: acc[co][oy][ox] = sum w[co][ky][kx][ci] * x[ci][iy][ix].
std::vector<std::int64_t> plain_layer(const cim::network::layer& L, const tensor& x) {
    const int C = L.in.c(), H = L.in.h(), W = L.in.w();
    const bool conv = L.kind == cim::network::op::conv2d;
    const int kh = conv ? L.kernel_h : 1, kw = conv ? L.kernel_w : 1, s = conv ? L.stride : 1, p = conv ? L.padding : 0;
    const int OH = L.out.h(), OW = L.out.w(), CO = L.out_channels;
    const std::int64_t R = L.weight_rows();
    std::vector<std::int64_t> acc(static_cast<std::size_t>(CO) * OH * OW, 0);
    for (int co = 0; co < CO; ++co)
        for (int oy = 0; oy < OH; ++oy)
            for (int ox = 0; ox < OW; ++ox) {
                std::int64_t sum = 0;
                for (int ky = 0; ky < kh; ++ky)
                    for (int kx = 0; kx < kw; ++kx)
                        for (int ci = 0; ci < (conv ? C : static_cast<int>(R)); ++ci) {
                            std::int64_t xv;
                            if (conv) {
                                const int iy = oy * s - p + ky, ix = ox * s - p + kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                xv = x[(static_cast<std::size_t>(ci) * H + iy) * W + ix];
                            } else {
                                xv = x[static_cast<std::size_t>(ci)];
                            }
                            const std::int64_t r = conv ? (std::int64_t{ky} * kw + kx) * C + ci : ci;
                            sum += std::int64_t{L.qweights[static_cast<std::size_t>(co * R + r)]} * xv;
                        }
                acc[(static_cast<std::size_t>(co) * OH + oy) * OW + ox] = sum;
            }
    return acc;
}

void expect_platform_matches_reference(const std::string& config, std::vector<cim::cfg::override_spec> sets,
                                       const std::function<void(const cim::inference::platform&)>& also = {}) {
    const auto lc = cim::inference::load_run_config(config, sets);
    auto prepared = cim::inference::prepare(lc);
    cim::inference::platform plat(lc, std::move(prepared), keep_outputs());
    plat.simulate();
    const auto& g = plat.data().graph;
    const auto& got = plat.chip().ctrl().outputs();
    ASSERT_EQ(got.size(), g.layers.size());
    std::vector<tensor> want(g.layers.size());
    want[0] = plat.data().images.back();
    int checked_weight_layers = 0;
    for (std::size_t i = 1; i < g.layers.size(); ++i) {
        const auto& L = g.layers[i];
        if (L.has_weights()) {
            const auto acc = plain_layer(L, want[static_cast<std::size_t>(L.input_ids[0])]);
            const auto rule = cim::engine::weight_output(g, static_cast<int>(i), lc.cfg.quant);
            want[i].resize(acc.size());
            const std::size_t plane = static_cast<std::size_t>(L.out.h()) * L.out.w();  // acc is CHW here
            for (std::size_t k = 0; k < acc.size(); ++k) want[i][k] = rule.apply(acc[k], static_cast<int>(k / plane));
            ++checked_weight_layers;
        } else {
            cim::engine::apply_nonweight_layer(g, static_cast<int>(i), want, want[i], lc.cfg.quant);
        }
        ASSERT_EQ(got[i].size(), want[i].size()) << L.name;
        std::size_t mismatches = 0;
        for (std::size_t k = 0; k < want[i].size(); ++k) mismatches += got[i][k] != want[i][k];
        EXPECT_EQ(mismatches, 0u) << "layer " << L.name << " differs in " << mismatches << " of " << want[i].size();
        // Outputs must not be trivially zero (a vacuous match).
        std::size_t nonzero = 0;
        for (auto v : want[i]) nonzero += v != 0;
        EXPECT_GT(nonzero, 0u) << L.name;
    }
    EXPECT_GT(checked_weight_layers, 0);
    if (also) also(plat);  // one simulation per process: further checks share this run
}

}  // namespace

// VGG-8, 8-bit weights in 4-bit cells (offset encoding), 8-bit bit-serial inputs, 12-bit ADC: a 128-row column
// sum is at most 128 * 15 = 1920 < 2^12, so the ADC is lossless and the result must be integer-exact.
TEST(Platform, Vgg8LosslessMatchesPlainConvolution) {
    expect_platform_matches_reference(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml",
                                      {{"subarray.adc_bits", "12"}, {"run.images", "1"}});
}

// Differential encoding (G+/G-), 2-bit cells, 2-bit DAC, sequential read-out, no duplication.
TEST(Platform, Vgg8DifferentialTwoBitDacMatches) {
    expect_platform_matches_reference(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml",
                                      {{"subarray.adc_bits", "12"},
                                       {"quant.encoding", "differential"},
                                       {"cell.bits", "2"},
                                       {"quant.dac_bits", "2"},
                                       {"subarray.readout", "sequential"},
                                       {"mapping.duplication", "false"}});
}

// Table 1's sequential SRAM design: 1-bit cells read row by row into 1-bit sense amplifiers are exact, so the
// platform must reproduce the integer network with no activation collapsing to zero (the data path once sent
// the whole column through the 1-bit sense amplifier and every activation after conv1 was 0). The report's
// input-bit density of every weight layer is then a real, non-zero fraction.
TEST(Platform, SequentialOneBitSramIsExact) {
    const std::vector<cim::cfg::override_spec> sets = {{"technology", CIM_SOURCE_DIR "/configs/tech/32nm.yaml"},
                                                       {"cell", CIM_SOURCE_DIR "/configs/cells/sram.yaml"},
                                                       {"subarray.readout", "sequential"},
                                                       {"subarray.adc_bits", "1"},
                                                       {"run.images", "1"}};
    expect_platform_matches_reference(CIM_SOURCE_DIR "/configs/experiments/table1/base.yaml", sets,
                                      [](const cim::inference::platform& plat) {
                                          int weight_layers = 0;
                                          for (const auto& l : plat.report().layers) {
                                              if (l.input_bits == 0) continue;
                                              ++weight_layers;
                                              EXPECT_GT(l.input_density(), 0.05) << l.name;
                                              EXPECT_LT(l.input_density(), 0.95) << l.name;
                                          }
                                          EXPECT_EQ(weight_layers, 8);
                                      });
}

// A residual network (adds, 1x1 stride-2 downsample, average pooling) through the platform.
TEST(Platform, ResidualNetworkMatches) {
    expect_platform_matches_reference(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml",
                                      {{"subarray.adc_bits", "12"},
                                       {"network", CIM_SOURCE_DIR "/tests/sc/platform/resnet_tiny.yaml"}});
}

// The configured 5-bit ADC quantises 128-row column sums: outputs must differ from the exact result, and the
// run must report positive, finite costs.
TEST(Platform, LossyAdcChangesResultsAndCostsArePositive) {
    const auto lc = cim::inference::load_run_config(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml", {});
    auto prepared = cim::inference::prepare(lc);
    const auto ref = cim::engine::reference_forward(prepared.graph, lc.cfg.quant, prepared.images.back());
    cim::inference::platform plat(lc, std::move(prepared), keep_outputs());
    plat.simulate();
    const auto& got = plat.chip().ctrl().outputs();
    const int conv2 = plat.data().graph.find("conv2");
    ASSERT_GT(conv2, 0);
    EXPECT_NE(got[static_cast<std::size_t>(conv2)], ref[static_cast<std::size_t>(conv2)]);
    const auto r = plat.report();
    EXPECT_GT(r.area_m2, 0);
    EXPECT_GT(r.latency_s, 0);
    EXPECT_GT(r.dynamic_energy_j, 0);
    EXPECT_GT(r.tops_per_w, 0);
    EXPECT_NEAR(r.memory_utilization, plat.data().plan.utilization(), 1e-12);
    double layer_sum = 0;
    for (const auto& l : r.layers) layer_sum += l.latency_s;
    EXPECT_NEAR(layer_sum, r.latency_s, 1e-12 * r.latency_s);
}

namespace {

/// The SystemC platform and the batched engine (engine::hardware_model::forward) give bit-identical outputs
/// for every layer, with device non-idealities and calibrated ADC references switched on.
void expect_platform_equals_engine(std::vector<cim::cfg::override_spec> sets) {
    const std::vector<cim::cfg::override_spec> nonideal = {
        {"device.d2d_sigma", "0.05"},     {"device.stuck_on_rate", "0.001"}, {"device.stuck_off_rate", "0.002"},
        {"device.read_noise_sigma", "0.02"}, {"device.drift", "to_min"},    {"device.drift_rate", "6 %"},
        {"device.time", "3e7 s"},          {"adc.reference", "calibrated"}, {"adc.transfer", "nonlinear"},
        {"run.images", "2"}};
    sets.insert(sets.begin(), nonideal.begin(), nonideal.end());
    const auto lc = cim::inference::load_run_config(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml", sets);
    auto prepared = cim::inference::prepare(lc);
    cim::inference::platform plat(lc, std::move(prepared), keep_outputs());
    plat.simulate();
    const auto& got = plat.chip().ctrl().outputs();  // the last image (index 1)
    // The batched engine programs its own copy of every block (the same routine, not the same object).
    const auto want = plat.engine_model()->forward(plat.data().images.back(), 1);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
        EXPECT_EQ(got[i], want[i]) << "layer " << plat.data().graph.layers[i].name;
    // The non-idealities really act: the hardware logits differ from the exact integer network's.
    const auto exact = cim::engine::reference_forward(plat.data().graph, lc.cfg.quant, plat.data().images.back());
    EXPECT_NE(want.back(), exact.back());
}

}  // namespace

TEST(Platform, Vgg8NonIdealEqualsBatchedEngine) { expect_platform_equals_engine({}); }

TEST(Platform, ResidualNonIdealEqualsBatchedEngine) {
    expect_platform_equals_engine({{"network", CIM_SOURCE_DIR "/tests/sc/platform/resnet_tiny.yaml"}});
}

namespace {

/// A transformer (configs/networks/vit_tiny.yaml: patch embedding, two encoder blocks with two heads, class
/// token read-out) through the platform with synthetic inputs and the given overrides.
std::vector<cim::cfg::override_spec> vit_tiny(std::vector<cim::cfg::override_spec> sets) {
    sets.insert(sets.begin(), {{"network", CIM_SOURCE_DIR "/configs/networks/vit_tiny.yaml"},
                               {"run.dataset", "synthetic"}});
    return sets;
}

/// Every layer of the platform's last image equals the exact integer network's (engine::reference_forward:
/// integer products, the softmax/layernorm/GELU tables of models/functional/transformer_ops). The weight layers
/// are also checked against a per-token product this test computes itself.
void expect_transformer_exact(const std::vector<cim::cfg::override_spec>& sets) {
    const auto lc = cim::inference::load_run_config(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml", sets);
    auto prepared = cim::inference::prepare(lc);
    cim::inference::platform plat(lc, std::move(prepared), keep_outputs());
    plat.simulate();
    const auto& g = plat.data().graph;
    const auto& got = plat.chip().ctrl().outputs();
    const auto want = cim::engine::reference_forward(g, lc.cfg.quant, plat.data().images.back());
    ASSERT_EQ(got.size(), want.size());
    int kinds_seen = 0, linear_checked = 0;
    std::set<cim::network::op> kinds;
    for (std::size_t i = 1; i < want.size(); ++i) {
        const auto& L = g.layers[i];
        kinds.insert(L.kind);
        ASSERT_EQ(got[i].size(), want[i].size()) << L.name;
        std::size_t mismatches = 0, nonzero = 0;
        for (std::size_t k = 0; k < want[i].size(); ++k) {
            mismatches += got[i][k] != want[i][k];
            nonzero += want[i][k] != 0;
        }
        EXPECT_EQ(mismatches, 0u) << "layer " << L.name << " differs in " << mismatches << " of " << want[i].size();
        EXPECT_GT(nonzero, 0u) << L.name;
        if (L.kind == cim::network::op::linear && L.in.rank() == 2) {
            // (T, in) x (in, out)^T per token, before the output rule.
            const auto& x = want[static_cast<std::size_t>(L.input_ids[0])];
            const std::int64_t T = L.in.dims[0], R = L.weight_rows();
            const auto rule = cim::engine::weight_output(g, static_cast<int>(i), lc.cfg.quant);
            std::size_t bad = 0;
            for (std::int64_t t = 0; t < T; ++t)
                for (int o = 0; o < L.out_channels; ++o) {
                    std::int64_t s = 0;
                    for (std::int64_t r = 0; r < R; ++r)
                        s += std::int64_t{L.qweights[static_cast<std::size_t>(o * R + r)]} *
                             x[static_cast<std::size_t>(t * R + r)];
                    bad += rule.apply(s, o) != got[i][static_cast<std::size_t>(t * L.out_channels + o)];
                }
            EXPECT_EQ(bad, 0u) << L.name;
            ++linear_checked;
        }
    }
    for (auto k : {cim::network::op::matmul, cim::network::op::softmax, cim::network::op::layernorm,
                   cim::network::op::gelu, cim::network::op::transpose, cim::network::op::reshape})
        kinds_seen += kinds.count(k) ? 1 : 0;
    EXPECT_EQ(kinds_seen, 6);
    EXPECT_GT(linear_checked, 8);
}

}  // namespace

// Lossless 12-bit ADC: the transformer with digital attention products is integer-exact.
TEST(Platform, VitTinyLosslessMatchesIntegerNetwork) {
    expect_transformer_exact(vit_tiny({{"subarray.adc_bits", "12"}, {"run.images", "1"}}));
}

// The attention products on CIM subarrays (the key and value matrices written into a pool of subarrays during the
// run, signed queries read in two passes) are exact with a lossless ADC as well.
TEST(Platform, VitTinyCimAttentionLosslessMatchesIntegerNetwork) {
    expect_transformer_exact(
        vit_tiny({{"subarray.adc_bits", "12"}, {"chip.attention.impl", "cim"}, {"run.images", "1"}}));
}

// Non-ideal devices and a lossy ADC, CIM attention: the platform equals the batched engine bit for bit.
TEST(Platform, VitTinyCimAttentionNonIdealEqualsBatchedEngine) {
    expect_platform_equals_engine(vit_tiny({{"chip.attention.impl", "cim"}}));
}
