// Loaders: the shipped networks, YAML vs NeuroSim CSV equivalence, and the errors users will meet.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/unit/common/error_helpers.h"
#include "tests/unit/common/temp_dir.h"
#include "models/core/error.h"
#include "models/network/loader.h"

namespace cim::network {
namespace {

const std::string k_networks = std::string(CIM_SOURCE_DIR) + "/configs/networks/";
/// What a crossbar mapper sees of a weight layer; the CSV and the YAML must agree on exactly this.
using weight_sig = std::tuple<op, int, int, int, int, int, int, int>;  // kind, in C/H/W, kh, kw, stride, out

std::vector<weight_sig> weight_signature(const graph& g) {
    std::vector<weight_sig> v;
    for (int i : g.weight_layers()) {
        const layer& l = g.layers[static_cast<std::size_t>(i)];
        v.emplace_back(l.kind, l.in.c(), l.in.h(), l.in.w(), l.kernel_h, l.kernel_w, l.stride, l.out_channels);
    }
    return v;
}

/// Writes `text` to a fresh file under the gtest temp dir; the loaders under test take paths.
std::string write_temp(const std::string& name, const std::string& text) {
    const std::string path = cim::testing::temp_path(name);
    std::ofstream(path) << text;
    return path;
}


// ---------------------------------------------------------------------------------------------------------
// Shipped networks

TEST(shipped, vgg8_shapes_and_macs) {
    const graph g = load(k_networks + "vgg8_cifar10.yaml");
    EXPECT_EQ(g.name, "vgg8_cifar10");
    EXPECT_TRUE(contains(g.provenance, "IEDM 2019"));
    ASSERT_EQ(g.weight_layers().size(), 8u);

    // (weight rows k*k*C_in, out channels, output pixels) per weight layer, worked by hand from the paper's net.
    const std::vector<std::tuple<std::int64_t, int, std::int64_t>> want = {
        {27, 128, 1024},  {1152, 128, 1024}, {1152, 256, 256}, {2304, 256, 256},
        {2304, 512, 64},  {4608, 512, 64},   {8192, 1024, 1},  {1024, 10, 1}};
    std::int64_t macs = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        const layer& l = g.layers[static_cast<std::size_t>(g.weight_layers()[i])];
        EXPECT_EQ(l.weight_rows(), std::get<0>(want[i])) << l.name;
        EXPECT_EQ(l.out_channels, std::get<1>(want[i])) << l.name;
        EXPECT_EQ(l.output_pixels(), std::get<2>(want[i])) << l.name;
        macs += std::get<0>(want[i]) * std::get<1>(want[i]) * std::get<2>(want[i]);
    }
    EXPECT_EQ(g.total_macs(), macs);
    EXPECT_EQ(g.total_macs(), 615917568);
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("pool3"))].out, (shape{512, 4, 4}));
    EXPECT_EQ(g.layers.back().out, (shape{10, 1, 1}));
}

// The transformers: every weight and attention product counted from the architecture's formula (T tokens, width D,
// MLP width F, L blocks: L * (T * (4 D^2 + 2 D F) + 2 T^2 D) plus the embedding and the head). ViT-B/16 is
// published at 17.6 G multiply-accumulates per 224x224 image (Touvron et al., ICML 2021, Table 1 "FLOPs").
TEST(shipped, vit_b16_and_bert_base_macs) {
    const graph vit = load(k_networks + "vit_b16_imagenet.yaml");
    const std::int64_t T = 197, D = 768, F = 3072, L = 12;
    const std::int64_t block = T * (4 * D * D + 2 * D * F) + 2 * T * T * D;
    EXPECT_EQ(vit.total_macs(), 768 * 768 * 196 + L * block + D * 1000);
    EXPECT_NEAR(static_cast<double>(vit.total_macs()), 17.6e9, 0.01 * 17.6e9);
    EXPECT_EQ(vit.layers.back().out, (shape{std::vector<int>{1, 1000}}));
    EXPECT_EQ(vit.layers[static_cast<std::size_t>(vit.find("b0_scores"))].out, (shape{std::vector<int>{12, 197, 197}}));
    int softmax = 0, layernorm = 0, gelu = 0, matmul = 0;
    for (const auto& l : vit.layers) {
        softmax += l.kind == op::softmax;
        layernorm += l.kind == op::layernorm;
        gelu += l.kind == op::gelu;
        matmul += l.kind == op::matmul;
    }
    EXPECT_EQ(softmax, 12);
    EXPECT_EQ(layernorm, 25);
    EXPECT_EQ(gelu, 12);
    EXPECT_EQ(matmul, 24);

    const graph bert = load(k_networks + "bert_base.yaml");
    const std::int64_t Tb = 128;
    const std::int64_t bblock = Tb * (4 * D * D + 2 * D * F) + 2 * Tb * Tb * D;
    EXPECT_EQ(bert.total_macs(), L * bblock + D * D + D * 2);
    EXPECT_EQ(bert.layers.back().out, (shape{std::vector<int>{1, 2}}));
}

TEST(yaml, transformer_ops_infer_shapes) {
    const graph g = load_yaml_text(R"(input: {tokens: 6, features: 8}
layers:
  - {name: ln, type: layernorm, eps: 1e-6}
  - {name: q, type: linear, out_features: 8}
  - {name: qh, type: reshape, shape: [6, 2, 4]}
  - {name: qt, type: transpose, perm: [1, 0, 2]}
  - {name: kt, type: transpose, perm: [1, 2, 0], inputs: [qh]}
  - {name: s, type: matmul, inputs: [qt, kt], scale: 0.5}
  - {name: p, type: softmax}
  - {name: c, type: matmul, inputs: [p, qt]}
  - {name: g, type: gelu}
  - {name: first, type: slice, axis: 1, begin: 0, end: 1}
  - {name: both, type: concat, axis: 1, inputs: [first, first]}
)",
                                   "net.yaml");
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("q"))].out, (shape{std::vector<int>{6, 8}}));
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("kt"))].out, (shape{std::vector<int>{2, 4, 6}}));
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("s"))].out, (shape{std::vector<int>{2, 6, 6}}));
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("c"))].out, (shape{std::vector<int>{2, 6, 4}}));
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("first"))].out, (shape{std::vector<int>{2, 1, 4}}));
    EXPECT_EQ(g.layers.back().out, (shape{std::vector<int>{2, 2, 4}}));
    // q: 6 tokens x 8 x 8; s: 2 heads x 6 x 6 x 4; c: 2 x 6 x 4 x 6.
    EXPECT_EQ(g.total_macs(), 6 * 8 * 8 + 2 * 6 * 6 * 4 + 2 * 6 * 6 * 4);
}

TEST(errors, matmul_inner_dimensions_name_both_shapes) {
    const config_error e = expect_config_error([] {
        load_yaml_text("input: {tokens: 6, features: 8}\nlayers:\n"
                       "  - {name: a, type: linear, out_features: 4}\n"
                       "  - {name: b, type: linear, out_features: 4, inputs: input}\n"
                       "  - {name: m, type: matmul, inputs: [a, b]}\n",
                       "net.yaml");
    });
    EXPECT_EQ(e.line(), 5);
    EXPECT_TRUE(contains(e.key(), "layers.m")) << e.key();
    EXPECT_TRUE(contains(e.format(), "(6,4)")) << e.format();
}

TEST(errors, reshape_of_another_size_and_bad_perm) {
    const config_error r = expect_config_error([] {
        load_yaml_text("input: {tokens: 6, features: 8}\nlayers:\n"
                       "  - {name: r, type: reshape, shape: [5, 8]}\n",
                       "net.yaml");
    });
    EXPECT_EQ(r.line(), 3);
    EXPECT_TRUE(contains(r.key(), "layers.r")) << r.key();
    const config_error t = expect_config_error([] {
        load_yaml_text("input: {tokens: 6, features: 8}\nlayers:\n"
                       "  - {name: t, type: transpose, perm: [0, 0]}\n",
                       "net.yaml");
    });
    EXPECT_EQ(t.line(), 3);
    EXPECT_TRUE(contains(t.key(), "layers.t")) << t.key();
}

TEST(shipped, resnet18_shapes_and_macs) {
    const graph g = load(k_networks + "resnet18_imagenet.yaml");
    const std::vector<int> w = g.weight_layers();
    ASSERT_EQ(w.size(), 21u);

    int downsample = 0;
    for (int i : w) {
        const layer& l = g.layers[static_cast<std::size_t>(i)];
        if (l.kind == op::conv2d && l.kernel_h == 1) {
            ++downsample;
            EXPECT_EQ(l.stride, 2) << l.name;
        }
    }
    EXPECT_EQ(downsample, 3);

    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("conv1"))].out, (shape{64, 112, 112}));
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("pool1"))].out, (shape{64, 56, 56}));
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("s4b2_relu"))].out, (shape{512, 7, 7}));
    EXPECT_EQ(g.layers.back().out, (shape{1000, 1, 1}));
    // Standard ResNet-18 is ~1.8 GMAC; the exact figure is the sum over its 21 weight layers.
    EXPECT_EQ(g.total_macs(), 1814073344);
    EXPECT_EQ(g.total_weights(), 11678912);  // 11.69 M parameters minus BN and biases

    // The residual adds read the shortcut, not just the previous layer.
    const layer& add = g.layers[static_cast<std::size_t>(g.find("s2b1_add"))];
    ASSERT_EQ(add.input_ids.size(), 2u);
    EXPECT_EQ(g.layers[static_cast<std::size_t>(add.input_ids[1])].name, "s2b1_down");
}

TEST(shipped, csv_matches_yaml_weight_layers) {
    for (const char* net : {"vgg8_cifar10", "resnet18_imagenet"}) {
        SCOPED_TRACE(net);
        const graph yaml = load(k_networks + net + ".yaml");
        const graph csv = load(k_networks + net + ".csv");
        EXPECT_EQ(weight_signature(csv), weight_signature(yaml));
        EXPECT_EQ(csv.total_macs(), yaml.total_macs());
    }
}

TEST(shipped, densenet40_csv_loads_by_shape_matching) {
    const graph g = load_neurosim_csv(k_networks + "densenet40_cifar10.csv");
    EXPECT_EQ(g.weight_layers().size(), 40u);
    // The classifier reads a 132x4x4 map, so the loader must have inserted a global pool and a flatten.
    const layer& fc = g.layers[static_cast<std::size_t>(g.find("fc1"))];
    EXPECT_EQ(fc.in, (shape{132, 1, 1}));
    EXPECT_EQ(g.layers[static_cast<std::size_t>(fc.input_ids[0])].kind, op::flatten);
}

// ---------------------------------------------------------------------------------------------------------
// CSV structure

TEST(csv, vgg8_inserts_flatten_and_names_layers) {
    const graph g = load_neurosim_csv(k_networks + "vgg8_cifar10.csv");
    EXPECT_EQ(g.name, "vgg8_cifar10");
    const layer& fc1 = g.layers[static_cast<std::size_t>(g.find("fc1"))];
    EXPECT_EQ(fc1.kind, op::linear);
    EXPECT_EQ(g.layers[static_cast<std::size_t>(fc1.input_ids[0])].kind, op::flatten);
    EXPECT_GE(g.find("conv6"), 0);
    EXPECT_EQ(g.layers.back().name, "fc2");  // no relu after the last row
}

TEST(csv, blank_lines_crlf_and_trailing_comma) {
    const graph g = load_neurosim_csv_text("\n4,4,2,3,3,8,1,1,\r\n\r\n1,1,32,1,1,5,0,1\r\n", "t.csv");
    EXPECT_EQ(g.input, (shape{2, 4, 4}));
    EXPECT_EQ(g.layers.back().out, (shape{5, 1, 1}));
}

TEST(csv, row_without_a_producer_names_its_line) {
    const config_error e =
        expect_config_error([] { load_neurosim_csv_text("8,8,3,3,3,16,0,1\n8,8,17,3,3,16,0,1\n", "t.csv"); });
    EXPECT_EQ(e.file(), "t.csv");
    EXPECT_EQ(e.line(), 2);
    EXPECT_TRUE(contains(e.format(), "(17,8,8)")) << e.format();
}

// ---------------------------------------------------------------------------------------------------------
// YAML details

TEST(yaml, auto_names_kernel_pairs_and_defaults) {
    const graph g = load_yaml_text(R"(
input: {channels: 2, height: 9, width: 8}
layers:
  - {type: conv2d, out_channels: 4, kernel: [3, 2]}
  - {type: relu}
  - {name: relu1, type: relu}
  - {type: relu}
  - {type: max_pool, kernel: 2}
)",
                                   "t.yaml");
    EXPECT_EQ(g.name, "t");
    ASSERT_EQ(g.layers.size(), 6u);
    EXPECT_EQ(g.layers[1].name, "conv2d1");
    EXPECT_EQ(g.layers[1].out, (shape{4, 7, 7}));
    // The explicit "relu1" keeps its name; the unnamed relus skip it.
    EXPECT_EQ(g.layers[2].name, "relu2");
    EXPECT_EQ(g.layers[3].name, "relu1");
    EXPECT_EQ(g.layers[4].name, "relu3");
    EXPECT_EQ(g.layers[5].stride, 2);  // pooling stride defaults to the kernel
    EXPECT_EQ(g.layers[5].out, (shape{4, 3, 3}));
    EXPECT_EQ(g.layers[1].line, 4);
}

// ---------------------------------------------------------------------------------------------------------
// Errors: each names the file and the line or key

TEST(errors, unknown_key_suggests_nearest) {
    const config_error e = expect_config_error([] {
        load_yaml_text("input: {channels: 3, height: 8, width: 8}\nlayers:\n"
                       "  - {name: c1, type: conv2d, out_channels: 4, kernal: 3}\n",
                       "net.yaml");
    });
    EXPECT_EQ(e.file(), "net.yaml");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "layers.c1.kernal");
    EXPECT_TRUE(contains(e.format(), "did you mean 'kernel'")) << e.format();
    EXPECT_TRUE(contains(e.format(), "net.yaml:3")) << e.format();
}

TEST(errors, key_of_another_type_lists_valid_keys) {
    const config_error e = expect_config_error([] {
        load_yaml_text("input: {channels: 3, height: 8, width: 8}\nlayers:\n  - {type: relu, kernel: 3}\n", "n.yaml");
    });
    EXPECT_EQ(e.key(), "layers.relu1.kernel");
    EXPECT_TRUE(contains(e.format(), "valid keys")) << e.format();
}

TEST(errors, unknown_type_suggests_nearest) {
    const config_error e = expect_config_error([] {
        load_yaml_text("input: {channels: 3, height: 8, width: 8}\nlayers:\n  - {type: relu}\n"
                       "  - {name: c1, type: conv, out_channels: 4, kernel: 3}\n",
                       "net.yaml");
    });
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.key(), "layers.c1.type");
    EXPECT_TRUE(contains(e.format(), "did you mean 'conv2d'")) << e.format();
}

TEST(errors, add_of_mismatched_shapes_names_both) {
    const config_error e = expect_config_error([] {
        load_yaml_text(R"(input: {channels: 3, height: 8, width: 8}
layers:
  - {name: a, type: conv2d, out_channels: 4, kernel: 3, padding: 1}
  - {name: b, type: conv2d, out_channels: 8, kernel: 3, padding: 1, inputs: input}
  - {name: sum, type: add, inputs: [a, b]}
)",
                       "net.yaml");
    });
    EXPECT_EQ(e.file(), "net.yaml");
    EXPECT_EQ(e.line(), 5);
    EXPECT_EQ(e.key(), "layers.sum.inputs");
    EXPECT_TRUE(contains(e.format(), "(4,8,8)")) << e.format();
    EXPECT_TRUE(contains(e.format(), "(8,8,8)")) << e.format();
}

TEST(errors, kernel_larger_than_input) {
    const config_error e = expect_config_error([] {
        load_yaml_text("input: {channels: 3, height: 4, width: 4}\nlayers:\n"
                       "  - {name: big, type: conv2d, out_channels: 4, kernel: 5}\n",
                       "net.yaml");
    });
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "layers.big.kernel");
    EXPECT_TRUE(contains(e.format(), "(3,4,4)")) << e.format();
}

TEST(errors, unknown_input_name_suggests_nearest) {
    const config_error e = expect_config_error([] {
        load_yaml_text("input: {channels: 3, height: 4, width: 4}\nlayers:\n"
                       "  - {name: conv_a, type: relu}\n  - {name: r, type: relu, inputs: [conv_b]}\n",
                       "net.yaml");
    });
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.key(), "layers.r.inputs");
    EXPECT_TRUE(contains(e.format(), "did you mean 'conv_a'")) << e.format();
}

TEST(errors, wrong_value_types_and_negative_sizes) {
    const std::string head = "input: {channels: 3, height: 8, width: 8}\nlayers:\n";
    struct bad_case {
        std::string layer, key, says;
    };
    const std::vector<bad_case> cases = {
        {"{name: c, type: conv2d, out_channels: many, kernel: 3}", "layers.c.out_channels", "not an integer"},
        {"{name: c, type: conv2d, out_channels: -4, kernel: 3}", "layers.c.out_channels", ">= 1"},
        {"{name: c, type: conv2d, out_channels: 4, kernel: [3, 3, 3]}", "layers.c.kernel", "[kh, kw]"},
        {"{name: c, type: conv2d, out_channels: 4, kernel: {h: 3}}", "layers.c.kernel", "single value"},
        {"{name: c, type: conv2d, out_channels: 4, kernel: 3, padding: -1}", "layers.c.padding", ">= 0"},
        {"{name: c, type: conv2d, kernel: 3}", "layers.c.out_channels", "missing"},
        {"{name: f, type: linear, out_features: 2.5}", "layers.f.out_features", "not an integer"},
        {"{name: p, type: max_pool, kernel: [2, 3]}", "layers.p.stride", "explicit stride"},
        {"{type: input}", "layers.0.type", "implicit"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.layer);
        const config_error e = expect_config_error([&] { load_yaml_text(head + "  - " + c.layer + "\n", "n.yaml"); });
        EXPECT_EQ(e.file(), "n.yaml");
        EXPECT_EQ(e.line(), 3);
        EXPECT_EQ(e.key(), c.key);
        EXPECT_TRUE(contains(e.format(), c.says)) << e.format();
    }
}

TEST(errors, unknown_top_level_key_and_input_key) {
    EXPECT_EQ(expect_config_error([] { load_yaml_text("input: {channels: 1, height: 1, width: 1}\nlayer: []\n", "n.yaml"); })
                  .key(),
              "layer");
    const config_error e =
        expect_config_error([] { load_yaml_text("input: {channels: 1, heigth: 1, width: 1}\nlayers: []\n", "n.yaml"); });
    EXPECT_EQ(e.key(), "input.heigth");
    EXPECT_TRUE(contains(e.format(), "did you mean 'height'")) << e.format();
}

TEST(errors, missing_file) {
    for (const char* ext : {".yaml", ".csv"}) {
        const std::string path = "/nonexistent/cim/net" + std::string(ext);
        const config_error e = expect_config_error([&] { load(path); });
        EXPECT_EQ(e.file(), path);
        EXPECT_TRUE(contains(e.format(), path)) << e.format();
        EXPECT_TRUE(contains(e.format(), "not found")) << e.format();
    }
}

TEST(errors, malformed_yaml_names_file_and_line) {
    const std::string path = write_temp("malformed.yaml", "input: {channels: 3, height: 8, width: 8}\nlayers:\n  - {type: relu\n");
    const config_error e = expect_config_error([&] { load(path); });
    EXPECT_EQ(e.file(), path);
    EXPECT_GT(e.line(), 0);
    EXPECT_TRUE(contains(e.format(), "malformed YAML")) << e.format();
}

TEST(errors, non_numeric_csv_field_names_file_line_and_column) {
    const std::string path = write_temp("bad.csv", "32,32,3,3,3,128,0,1\n32,32,x128,3,3,128,1,1\n");
    const config_error e = expect_config_error([&] { load(path); });
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "C_in");
    EXPECT_TRUE(contains(e.format(), path + ":2")) << e.format();
    EXPECT_TRUE(contains(e.format(), "x128")) << e.format();
}

TEST(errors, csv_field_count_and_ranges) {
    EXPECT_EQ(expect_config_error([] { load_neurosim_csv_text("32,32,3,3,3,128,0\n", "t.csv"); }).line(), 1);
    EXPECT_EQ(expect_config_error([] { load_neurosim_csv_text("32,32,3,3,3,128,2,1\n", "t.csv"); }).key(), "pool");
    EXPECT_EQ(expect_config_error([] { load_neurosim_csv_text("32,32,3,3,3,0,0,1\n", "t.csv"); }).key(), "C_out");
    EXPECT_TRUE(contains(expect_config_error([] { load_neurosim_csv_text("\n\n", "t.csv"); }).format(), "no layer rows"));
}

TEST(errors, unsupported_extension) {
    const config_error e = expect_config_error([] { load("model.pb"); });
    EXPECT_EQ(e.file(), "model.pb");
    EXPECT_TRUE(contains(e.format(), "unsupported network format")) << e.format();
}

}  // namespace
}  // namespace cim::network
