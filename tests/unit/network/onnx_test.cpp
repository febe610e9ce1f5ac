// ONNX import: models built in C++ with the generated protobuf API (no Python), written to per-test temp files.
// Covers the operator mapping (BN and bias folding, weight reordering, Gemm transB), the cimtlm.quant metadata,
// and the errors users will meet, including damaged files (which must be config_errors, never crashes).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/unit/common/error_helpers.h"
#include "tests/unit/common/temp_dir.h"
#include "models/core/error.h"
#include "models/network/loader.h"
#include "models/network/onnx_loader.h"

namespace cim::network {
namespace {

// ---------------------------------------------------------------------------------------------------------
// Model building

onnx::TensorProto* add_float_init(onnx::GraphProto& g, const std::string& name, const std::vector<std::int64_t>& dims,
                                  const std::vector<float>& v, bool raw = false) {
    onnx::TensorProto* t = g.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (auto d : dims) t->add_dims(d);
    if (raw) {  // little-endian bytes, as PyTorch writes them
        std::string bytes;
        for (float f : v) {
            std::uint32_t u;
            std::memcpy(&u, &f, 4);
            for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<char>((u >> (8 * b)) & 0xff));
        }
        t->set_raw_data(bytes);
    } else {
        for (float f : v) t->add_float_data(f);
    }
    return t;
}

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, const std::vector<std::string>& in,
                          const std::vector<std::string>& out, const std::string& name = "") {
    onnx::NodeProto* n = g.add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& s : in) n->add_input(s);
    for (const auto& s : out) n->add_output(s);
    return n;
}

void attr_ints(onnx::NodeProto* n, const std::string& name, const std::vector<std::int64_t>& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (auto x : v) a->add_ints(x);
}

void attr_int(onnx::NodeProto* n, const std::string& name, std::int64_t v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(v);
}

void attr_float(onnx::NodeProto* n, const std::string& name, float v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
    a->set_f(v);
}

/// Graph input [N (symbolic), dims...] and the output value.
void set_io(onnx::GraphProto& g, const std::string& in, const std::vector<std::int64_t>& dims, const std::string& out) {
    onnx::ValueInfoProto* v = g.add_input();
    v->set_name(in);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("N");
    for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
    g.add_output()->set_name(out);
}

onnx::ModelProto new_model(const std::string& graph_name) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.set_producer_name("cimtlm-test");
    auto* o = m.add_opset_import();
    o->set_domain("");
    o->set_version(13);
    m.mutable_graph()->set_name(graph_name);
    return m;
}

std::string temp_path(const std::string& name) { return cim::testing::temp_path(name); }

std::string write_bytes(const std::string& name, const std::string& bytes) {
    const std::string path = temp_path(name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

std::string save(const onnx::ModelProto& m, const std::string& name = "model.onnx") {
    std::string bytes;
    EXPECT_TRUE(m.SerializeToString(&bytes));
    return write_bytes(name, bytes);
}

/// Deterministic, distinct, non-round weights: value i of a tensor with `salt`.
std::vector<float> pattern(std::size_t n, int salt) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(((static_cast<int>(i) * 7 + salt * 13) % 23 - 11) * 0.03125);
    return v;
}


// The small CNN: conv(+bias) -> bn -> relu -> maxpool -> conv (unnamed, 1x1) -> relu -> gap -> flatten -> gemm.
struct cnn {
    std::vector<float> w1 = pattern(3 * 2 * 3 * 3, 1), b1 = {0.5f, -0.25f, 0.125f};
    std::vector<float> gamma = {1.5f, 0.5f, 2.0f}, beta = {0.1f, -0.2f, 0.3f}, mean = {0.05f, -0.1f, 0.2f},
                       var = {0.25f, 1.0f, 4.0f};
    float eps = 1e-3f;
    std::vector<float> w2 = pattern(4 * 3, 2);
    std::vector<float> w3 = pattern(5 * 4, 3), b3 = {1, 2, 3, 4, 5};  // (out=5, in=4)

    onnx::ModelProto build(bool trans_b) const {
        onnx::ModelProto m = new_model("tiny_cnn");
        onnx::GraphProto& g = *m.mutable_graph();
        set_io(g, "x", {2, 6, 6}, "logits");
        add_float_init(g, "conv1.weight", {3, 2, 3, 3}, w1, /*raw=*/true);
        add_float_init(g, "conv1.bias", {3}, b1);
        add_float_init(g, "bn1.weight", {3}, gamma);
        add_float_init(g, "bn1.bias", {3}, beta);
        add_float_init(g, "bn1.running_mean", {3}, mean);
        add_float_init(g, "bn1.running_var", {3}, var);
        add_float_init(g, "conv2.weight", {4, 3, 1, 1}, w2);
        if (trans_b) {
            add_float_init(g, "fc.weight", {5, 4}, w3);
        } else {
            std::vector<float> t(w3.size());
            for (int o = 0; o < 5; ++o)
                for (int i = 0; i < 4; ++i) t[static_cast<std::size_t>(i * 5 + o)] = w3[static_cast<std::size_t>(o * 4 + i)];
            add_float_init(g, "fc.weight", {4, 5}, t);
        }
        add_float_init(g, "fc.bias", {5}, b3);
        g.mutable_input()->Add()->set_name("conv1.weight");  // old exporters list initializers as inputs too

        auto* c1 = add_node(g, "Conv", {"x", "conv1.weight", "conv1.bias"}, {"c1"}, "/features/conv1/Conv");
        attr_ints(c1, "kernel_shape", {3, 3});
        attr_ints(c1, "pads", {1, 1, 1, 1});
        attr_ints(c1, "strides", {1, 1});
        attr_ints(c1, "dilations", {1, 1});
        attr_int(c1, "group", 1);
        auto* bn = add_node(g, "BatchNormalization", {"c1", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"},
                            {"b1"}, "/features/bn1/BatchNormalization");
        attr_float(bn, "epsilon", eps);
        attr_float(bn, "momentum", 0.9f);
        add_node(g, "Relu", {"b1"}, {"r1"}, "/features/relu1/Relu");
        auto* mp = add_node(g, "MaxPool", {"r1"}, {"p1"}, "pool1");
        attr_ints(mp, "kernel_shape", {2, 2});
        attr_ints(mp, "strides", {2, 2});
        auto* c2 = add_node(g, "Conv", {"p1", "conv2.weight"}, {"c2"});  // unnamed: "conv4"
        attr_ints(c2, "kernel_shape", {1, 1});
        add_node(g, "Relu", {"c2"}, {"r2"}, "relu2");
        add_node(g, "GlobalAveragePool", {"r2"}, {"gap"}, "gap");
        auto* fl = add_node(g, "Flatten", {"gap"}, {"flat"}, "flatten");
        attr_int(fl, "axis", 1);
        auto* fc = add_node(g, "Gemm", {"flat", "fc.weight", "fc.bias"}, {"logits"}, "fc");
        attr_float(fc, "alpha", 1.0f);
        attr_float(fc, "beta", 1.0f);
        attr_int(fc, "transB", trans_b ? 1 : 0);
        return m;
    }
};

// ---------------------------------------------------------------------------------------------------------
// Operator mapping

TEST(onnx, cnn_structure_shapes_and_names) {
    const std::string path = save(cnn().build(true), "tiny.onnx");
    const graph g = load_onnx(path);
    EXPECT_EQ(g.name, "tiny_cnn");
    EXPECT_EQ(g.source, path);
    EXPECT_TRUE(contains(g.provenance, "cimtlm-test")) << g.provenance;
    EXPECT_FALSE(g.quantized);
    EXPECT_EQ(g.input, (shape{2, 6, 6}));

    const std::vector<op> kinds = {op::input, op::conv2d, op::relu, op::max_pool, op::conv2d,
                                   op::relu,  op::avg_pool, op::flatten, op::linear};
    ASSERT_EQ(g.layers.size(), kinds.size());
    for (std::size_t i = 0; i < kinds.size(); ++i) EXPECT_EQ(g.layers[i].kind, kinds[i]) << i;

    EXPECT_EQ(g.layers[1].name, "features_conv1_Conv");  // '/' -> '_', leading '_' stripped
    EXPECT_EQ(g.layers[2].name, "features_relu1_Relu");
    EXPECT_EQ(g.layers[4].name, "conv4");  // unnamed node 4
    EXPECT_EQ(g.layers[1].out, (shape{3, 6, 6}));
    EXPECT_EQ(g.layers[1].padding, 1);
    EXPECT_EQ(g.layers[3].out, (shape{3, 3, 3}));
    EXPECT_EQ(g.layers[4].out, (shape{4, 3, 3}));
    EXPECT_EQ(g.layers[6].kernel_h, 3);
    EXPECT_EQ(g.layers[6].kernel_w, 3);
    EXPECT_EQ(g.layers[6].out, (shape{4, 1, 1}));
    EXPECT_EQ(g.layers[8].out, (shape{5, 1, 1}));
    EXPECT_EQ(g.layers[8].in, (shape{4, 1, 1}));
    for (const auto& l : g.layers) EXPECT_TRUE(l.qweights.empty()) << l.name;  // float model
    EXPECT_TRUE(g.layers[4].bias.empty());                                     // conv2 has no bias

    // load() dispatches on the extension.
    EXPECT_EQ(load(path).layers.size(), kinds.size());
}

TEST(onnx, conv_reorder_and_batchnorm_folding) {
    const cnn c;
    const graph g = load_onnx(save(c.build(true)));
    const layer& l = g.layers[1];
    ASSERT_EQ(l.fweights.size(), 3u * 18u);
    // IR row r = (ky*kw + kx)*C_in + c; ONNX index ((o*C_in + c)*kh + ky)*kw + kx.
    for (int o = 0; o < 3; ++o) {
        const double s = c.gamma[o] / std::sqrt(static_cast<double>(c.var[o]) + c.eps);
        for (int ci = 0; ci < 2; ++ci)
            for (int ky = 0; ky < 3; ++ky)
                for (int kx = 0; kx < 3; ++kx) {
                    const float w = c.w1[static_cast<std::size_t>(((o * 2 + ci) * 3 + ky) * 3 + kx)];
                    EXPECT_NEAR(l.fweights[static_cast<std::size_t>(o * 18 + (ky * 3 + kx) * 2 + ci)], w * s, 1e-6);
                }
        EXPECT_NEAR(l.bias[static_cast<std::size_t>(o)], (c.b1[o] - c.mean[o]) * s + c.beta[o], 1e-6) << o;
    }
    // A hand-picked element: o=2, c=1, ky=0, kx=2 -> IR row (0*3+2)*2+1 = 5; ONNX index ((2*2+1)*3+0)*3+2 = 47.
    const double s2 = 2.0 / std::sqrt(4.0 + 1e-3);
    EXPECT_NEAR(l.fweights[2 * 18 + 5], c.w1[47] * s2, 1e-6);
    EXPECT_NEAR(l.bias[2], (0.125 - 0.2) * s2 + 0.3, 1e-6);
}

TEST(onnx, gemm_trans_b_both_layouts_and_bias) {
    const cnn c;
    for (bool tb : {true, false}) {
        const graph g = load_onnx(save(c.build(tb), tb ? "tb1.onnx" : "tb0.onnx"));
        const layer& fc = g.layers.back();
        ASSERT_EQ(fc.kind, op::linear);
        EXPECT_EQ(fc.out_channels, 5);
        ASSERT_EQ(fc.fweights.size(), 20u);
        for (std::size_t k = 0; k < 20; ++k) EXPECT_EQ(fc.fweights[k], c.w3[k]) << "transB " << tb << " k " << k;
        ASSERT_EQ(fc.bias.size(), 5u);
        for (std::size_t o = 0; o < 5; ++o) EXPECT_EQ(fc.bias[o], c.b3[o]);
    }
}

// conv -> relu -> conv -> Add(relu, conv) -> relu -> Reshape(Constant [1,-1]) -> Dropout -> MatMul + Add(bias)
onnx::ModelProto residual_model() {
    onnx::ModelProto m = new_model("main_graph");  // an exporter default: the name falls back to the file stem
    onnx::GraphProto& g = *m.mutable_graph();
    set_io(g, "input.1", {4, 4, 4}, "out");
    add_float_init(g, "a.weight", {4, 4, 3, 3}, pattern(144, 4));
    add_float_init(g, "b.weight", {4, 4, 3, 3}, pattern(144, 5));
    add_float_init(g, "fc.w", {64, 3}, pattern(192, 6));  // MatMul weight (in, out)
    add_float_init(g, "fc.b", {3}, {0.5f, 1.5f, -2.5f});
    auto* a = add_node(g, "Conv", {"input.1", "a.weight"}, {"a"}, "layer1.0.conv1");
    attr_ints(a, "pads", {1, 1, 1, 1});
    add_node(g, "Relu", {"a"}, {"ra"}, "layer1.0.relu");
    auto* b = add_node(g, "Conv", {"ra", "b.weight"}, {"b"}, "layer1.0.conv2");
    attr_ints(b, "pads", {1, 1, 1, 1});
    add_node(g, "Add", {"ra", "b"}, {"s"}, "layer1.0.add");
    add_node(g, "Relu", {"s"}, {"rs"}, "layer1.0.relu");  // a duplicate name: made unique
    auto* k = add_node(g, "Constant", {}, {"shape"}, "");
    onnx::AttributeProto* v = k->add_attribute();
    v->set_name("value");
    v->set_type(onnx::AttributeProto_AttributeType_TENSOR);
    v->mutable_t()->set_data_type(onnx::TensorProto_DataType_INT64);
    v->mutable_t()->add_dims(2);
    v->mutable_t()->add_int64_data(1);
    v->mutable_t()->add_int64_data(-1);
    add_node(g, "Reshape", {"rs", "shape"}, {"flat"}, "/Reshape");
    add_node(g, "Dropout", {"flat"}, {"drop"}, "dropout");
    add_node(g, "Identity", {"drop"}, {"id"}, "identity");
    add_node(g, "MatMul", {"id", "fc.w"}, {"mm"}, "fc/MatMul");
    add_node(g, "Add", {"mm", "fc.b"}, {"out"}, "fc/Add");
    return m;
}

TEST(onnx, residual_add_reshape_matmul_bias) {
    const std::string path = save(residual_model(), "resnetish.onnx");
    const graph g = load_onnx(path);
    EXPECT_EQ(g.name, "resnetish");  // the file stem
    const std::vector<op> kinds = {op::input, op::conv2d, op::relu, op::conv2d, op::add, op::relu, op::flatten, op::linear};
    ASSERT_EQ(g.layers.size(), kinds.size());
    for (std::size_t i = 0; i < kinds.size(); ++i) EXPECT_EQ(g.layers[i].kind, kinds[i]) << i;
    EXPECT_EQ(g.layers[1].name, "layer1_0_conv1");
    const layer& add = g.layers[4];
    EXPECT_EQ(add.name, "layer1_0_add");
    ASSERT_EQ(add.inputs.size(), 2u);
    EXPECT_EQ(add.inputs[0], "layer1_0_relu");
    EXPECT_EQ(add.inputs[1], "layer1_0_conv2");
    EXPECT_EQ(add.out, (shape{4, 4, 4}));
    EXPECT_EQ(g.layers[5].name, "layer1_0_relu_2");
    EXPECT_EQ(g.layers[6].name, "Reshape");
    EXPECT_EQ(g.layers[6].out, (shape{64, 1, 1}));
    const layer& fc = g.layers[7];
    EXPECT_EQ(fc.name, "fc_MatMul");
    EXPECT_EQ(fc.out_channels, 3);
    const std::vector<float> w = pattern(192, 6);
    EXPECT_EQ(fc.fweights[2 * 64 + 10], w[10 * 3 + 2]);  // IR [out][in] from ONNX (in, out)
    ASSERT_EQ(fc.bias.size(), 3u);
    EXPECT_EQ(fc.bias[2], -2.5);
}

TEST(onnx, gemm_on_unflattened_input_gets_a_flatten) {
    onnx::ModelProto m = new_model("g");
    onnx::GraphProto& g = *m.mutable_graph();
    set_io(g, "x", {2, 3, 3}, "y");
    add_float_init(g, "w", {4, 18}, pattern(72, 7));
    auto* n = add_node(g, "Gemm", {"x", "w"}, {"y"}, "fc");
    attr_int(n, "transB", 1);
    const graph ir = load_onnx(save(m));
    ASSERT_EQ(ir.layers.size(), 3u);
    EXPECT_EQ(ir.layers[1].kind, op::flatten);
    EXPECT_EQ(ir.layers[1].name, "fc_flatten");
    EXPECT_EQ(ir.layers[2].in, (shape{18, 1, 1}));
}

// ---------------------------------------------------------------------------------------------------------
// cimtlm.quant metadata

struct quant_model {
    std::vector<int> q1, q2, q3;
    double s1 = 0.01, s2 = 0.02, s3 = 0.005;

    quant_model() {
        for (int i = 0; i < 2 * 1 * 9; ++i) q1.push_back((i * 37) % 255 - 127);
        for (int i = 0; i < 2 * 2; ++i) q2.push_back(i * 40 - 60);
        for (int i = 0; i < 3 * 32; ++i) q3.push_back((i * 11) % 201 - 100);
    }

    static std::vector<float> real(const std::vector<int>& q, double s) {
        std::vector<float> v;
        for (int x : q) v.push_back(static_cast<float>(x * s));
        return v;
    }

    /// conv1 -> relu1 -> conv2(1x1) -> add1(relu1, conv2) -> relu -> flatten -> fc
    onnx::ModelProto build(const std::string& json) const {
        onnx::ModelProto m = new_model("quant");
        onnx::GraphProto& g = *m.mutable_graph();
        set_io(g, "x", {1, 4, 4}, "y");
        add_float_init(g, "conv1.weight", {2, 1, 3, 3}, real(q1, s1));
        add_float_init(g, "conv2.weight", {2, 2, 1, 1}, real(q2, s2));
        add_float_init(g, "fc.weight", {3, 32}, real(q3, s3));
        add_float_init(g, "fc.bias", {3}, {0.25f, 0.5f, 0.75f});
        auto* c = add_node(g, "Conv", {"x", "conv1.weight"}, {"c1"}, "conv1");
        attr_ints(c, "pads", {1, 1, 1, 1});
        add_node(g, "Relu", {"c1"}, {"r1"}, "relu1");
        add_node(g, "Conv", {"r1", "conv2.weight"}, {"c2"}, "conv2");
        add_node(g, "Add", {"r1", "c2"}, {"a"}, "add1");
        add_node(g, "Relu", {"a"}, {"r2"}, "relu2");
        add_node(g, "Flatten", {"r2"}, {"f"}, "flatten");
        auto* fc = add_node(g, "Gemm", {"f", "fc.weight", "fc.bias"}, {"y"}, "fc");
        attr_int(fc, "transB", 1);
        auto* p = m.add_metadata_props();
        p->set_key("cimtlm.quant");
        p->set_value(json);
        return m;
    }
};

const char* const k_quant_json = R"({"format": "cimtlm.quant/1", "weight_bits": 8, "input_bits": 8,
  "input_scale": 0.00392156862745098,
  "layers": {"conv1.weight": {"weight_scale": 0.01, "out_scale": 0.05},
             "conv2.weight": {"weight_scale": 0.02, "out_scale": 0.04},
             "fc.weight": {"weight_scale": 0.005, "out_scale": null}},
  "adds": {"add1": {"out_scale": 0.07}}})";

TEST(onnx, quant_metadata_sets_qweights_and_scales) {
    const quant_model qm;
    const graph g = load_onnx(save(qm.build(k_quant_json)));
    EXPECT_TRUE(g.quantized);
    EXPECT_EQ(g.weight_bits, 8u);
    EXPECT_EQ(g.input_bits, 8u);
    ASSERT_EQ(g.layers.size(), 8u);
    const layer& c1 = g.layers[static_cast<std::size_t>(g.find("conv1"))];
    const layer& c2 = g.layers[static_cast<std::size_t>(g.find("conv2"))];
    const layer& fc = g.layers[static_cast<std::size_t>(g.find("fc"))];
    // conv1 has C_in = 1 and a 3x3 kernel, so IR row (ky*3+kx) is ONNX index ky*3+kx: same order.
    ASSERT_EQ(c1.qweights.size(), qm.q1.size());
    for (std::size_t i = 0; i < qm.q1.size(); ++i) EXPECT_EQ(c1.qweights[i], qm.q1[i]) << i;
    // conv2 (2,2,1,1): IR [o][c] = ONNX [o][c].
    for (std::size_t i = 0; i < qm.q2.size(); ++i) EXPECT_EQ(c2.qweights[i], qm.q2[i]) << i;
    for (std::size_t i = 0; i < qm.q3.size(); ++i) EXPECT_EQ(fc.qweights[i], qm.q3[i]) << i;
    EXPECT_EQ(c1.weight_scale, std::vector<double>{0.01});  // metadata scales are per tensor
    EXPECT_EQ(c2.weight_scale, std::vector<double>{0.02});
    EXPECT_EQ(fc.weight_scale, std::vector<double>{0.005});

    EXPECT_EQ(g.layers[0].out_scale, 0.00392156862745098);
    EXPECT_EQ(c1.out_scale, 0.05);
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("relu1"))].out_scale, 0.05);  // relu: producer's
    EXPECT_EQ(c2.out_scale, 0.04);
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("add1"))].out_scale, 0.07);
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("relu2"))].out_scale, 0.07);
    EXPECT_EQ(g.layers[static_cast<std::size_t>(g.find("flatten"))].out_scale, 0.07);
    EXPECT_EQ(fc.out_scale, 0.005 * 0.07);  // logits: weight_scale * in_scale
    ASSERT_EQ(fc.bias.size(), 3u);
    EXPECT_FLOAT_EQ(static_cast<float>(fc.bias[1]), 0.5f);
}

TEST(onnx, quant_metadata_errors_name_the_key) {
    const quant_model qm;
    std::string missing = k_quant_json;
    missing.replace(missing.find("\"fc.weight\""), 11, "\"fc.weights\"");
    const std::string path = save(qm.build(missing), "missing.onnx");
    config_error e = expect_config_error([&] { load_onnx(path); });
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.key(), "cimtlm.quant.layers.fc.weight") << e.format();

    std::string no_add = k_quant_json;
    no_add.replace(no_add.find("\"add1\""), 6, "\"addX\"");
    e = expect_config_error([&] { load_onnx(save(qm.build(no_add), "noadd.onnx")); });
    EXPECT_EQ(e.key(), "cimtlm.quant.adds.add1") << e.format();

    std::string bad_scale = k_quant_json;  // weights are not multiples of 0.03
    bad_scale.replace(bad_scale.find("0.01,"), 4, "0.03");
    e = expect_config_error([&] { load_onnx(save(qm.build(bad_scale), "scale.onnx")); });
    EXPECT_EQ(e.key(), "cimtlm.quant.layers.conv1.weight") << e.format();
    EXPECT_TRUE(contains(e.what(), "multiple")) << e.format();

    std::string narrow = k_quant_json;  // 127 does not fit 4 bits
    narrow.replace(narrow.find("\"weight_bits\": 8"), 16, "\"weight_bits\": 4");
    e = expect_config_error([&] { load_onnx(save(qm.build(narrow), "narrow.onnx")); });
    EXPECT_EQ(e.key(), "cimtlm.quant.layers.conv1.weight") << e.format();

    e = expect_config_error([&] { load_onnx(save(qm.build("{not json"), "json.onnx")); });
    EXPECT_EQ(e.key(), "cimtlm.quant") << e.format();
    e = expect_config_error([&] { load_onnx(save(qm.build(R"({"format": "other"})"), "fmt.onnx")); });
    EXPECT_EQ(e.key(), "cimtlm.quant.format") << e.format();
}

// ---------------------------------------------------------------------------------------------------------
// Errors

TEST(onnx, unsupported_operator_names_the_node) {
    onnx::ModelProto m = cnn().build(true);
    add_node(*m.mutable_graph(), "LpNormalization", {"logits"}, {"prob"}, "head/norm");
    const std::string path = save(m);
    const config_error e = expect_config_error([&] { load_onnx(path); });
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.key(), "nodes.head/norm");
    EXPECT_TRUE(contains(e.what(), "unsupported operator 'LpNormalization'")) << e.format();
    EXPECT_EQ(e.format().find('\n'), std::string::npos) << e.format();  // one line
    EXPECT_TRUE(contains(e.what(), "supported: Conv")) << e.format();

    onnx::ModelProto m2 = cnn().build(true);
    add_node(*m2.mutable_graph(), "Sigmoid", {"logits"}, {"prob"});  // unnamed: op#index
    const config_error e2 = expect_config_error([&] { load_onnx(save(m2, "unnamed.onnx")); });
    EXPECT_EQ(e2.key(), "nodes.Sigmoid#9") << e2.format();
}

TEST(onnx, unsupported_attributes_name_the_node) {
    for (const std::string which : {"group", "dilations", "strides", "pads"}) {
        onnx::ModelProto m = cnn().build(true);
        onnx::NodeProto* conv = m.mutable_graph()->mutable_node(0);
        for (auto& a : *conv->mutable_attribute()) {
            if (a.name() != which) continue;
            if (which == "group") a.set_i(2);
            if (which == "dilations") a.set_ints(0, 2);
            if (which == "strides") a.set_ints(1, 2);  // unequal
            if (which == "pads") a.set_ints(2, 0);     // asymmetric
        }
        const std::string path = save(m, which + ".onnx");
        const config_error e = expect_config_error([&] { load_onnx(path); });
        EXPECT_EQ(e.file(), path);
        EXPECT_EQ(e.key(), "nodes./features/conv1/Conv") << which;
        EXPECT_TRUE(contains(e.what(), "unsupported attribute")) << which << ": " << e.format();
    }
    // An attribute the loader does not know is refused rather than ignored.
    onnx::ModelProto m = cnn().build(true);
    attr_int(m.mutable_graph()->mutable_node(3), "foo", 1);
    const config_error e = expect_config_error([&] { load_onnx(save(m, "foo.onnx")); });
    EXPECT_EQ(e.key(), "nodes.pool1");
    EXPECT_TRUE(contains(e.what(), "unsupported attribute 'foo'")) << e.format();
}

TEST(onnx, standalone_batchnorm_and_avgpool_padding) {
    onnx::ModelProto m = cnn().build(true);
    // BN reading the relu output instead of the conv's.
    m.mutable_graph()->mutable_node(1)->set_input(0, "x");
    config_error e = expect_config_error([&] { load_onnx(save(m, "bn.onnx")); });
    EXPECT_EQ(e.key(), "nodes./features/bn1/BatchNormalization") << e.format();

    onnx::ModelProto a = new_model("a");
    onnx::GraphProto& g = *a.mutable_graph();
    set_io(g, "x", {1, 4, 4}, "y");
    auto* p = add_node(g, "AveragePool", {"x"}, {"y"}, "avg");
    attr_ints(p, "kernel_shape", {3, 3});
    attr_ints(p, "pads", {1, 1, 1, 1});  // count_include_pad defaults to 0
    e = expect_config_error([&] { load_onnx(save(a, "avg.onnx")); });
    EXPECT_EQ(e.key(), "nodes.avg");
    EXPECT_TRUE(contains(e.what(), "count_include_pad")) << e.format();
    attr_int(p, "count_include_pad", 1);
    const graph ok = load_onnx(save(a, "avg_ok.onnx"));
    EXPECT_EQ(ok.layers[1].kind, op::avg_pool);
    EXPECT_EQ(ok.layers[1].padding, 1);
}

// ---------------------------------------------------------------------------------------------------------
// Transformers: the node patterns torch.onnx.export writes (opset 17 with LayerNormalization and the erf GELU;
// opset 14 with the decomposed LayerNorm, the tanh GELU, shape arithmetic, class token, fused qkv + Split)

void const_i64(onnx::GraphProto& g, const std::string& out, const std::vector<std::int64_t>& dims,
               const std::vector<std::int64_t>& v) {
    auto* k = add_node(g, "Constant", {}, {out}, "/c/" + out);
    onnx::AttributeProto* a = k->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto_AttributeType_TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto_DataType_INT64);
    for (auto d : dims) a->mutable_t()->add_dims(d);
    for (auto x : v) a->mutable_t()->add_int64_data(x);
}

void const_f(onnx::GraphProto& g, const std::string& out, float v) {
    auto* k = add_node(g, "Constant", {}, {out}, "/c/" + out);
    onnx::AttributeProto* a = k->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto_AttributeType_TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto_DataType_FLOAT);
    a->mutable_t()->add_float_data(v);
}

/// GELU, erf form: Div(x, sqrt 2), Erf, Add 1, Mul x, Mul 0.5 (node names /<p>/...); returns the output.
std::string gelu_erf(onnx::GraphProto& g, const std::string& x, const std::string& p) {
    const_f(g, p + "_sqrt2", 1.4142135f);
    const_f(g, p + "_one", 1.0f);
    const_f(g, p + "_half", 0.5f);
    add_node(g, "Div", {x, p + "_sqrt2"}, {p + "_d"}, "/" + p + "/Div");
    add_node(g, "Erf", {p + "_d"}, {p + "_e"}, "/" + p + "/Erf");
    add_node(g, "Add", {p + "_e", p + "_one"}, {p + "_a"}, "/" + p + "/Add");
    add_node(g, "Mul", {x, p + "_a"}, {p + "_m"}, "/" + p + "/Mul");
    add_node(g, "Mul", {p + "_m", p + "_half"}, {p + "_out"}, "/" + p + "/Mul_1");
    return p + "_out";
}

/// One opset-17 encoder block on tokens [N, 3, 4] (2 heads of 2), class-token readout and a Gemm head.
onnx::ModelProto encoder17(const std::string& meta = "") {
    onnx::ModelProto m = new_model("enc");
    m.mutable_opset_import(0)->set_version(17);
    onnx::GraphProto& g = *m.mutable_graph();
    set_io(g, "x", {3, 4}, "y");
    add_float_init(g, "ln.w", {4}, {1.0f, 0.5f, -0.75f, 2.0f});
    add_float_init(g, "ln.b", {4}, {0.0f, 0.25f, 0.5f, -0.5f});
    add_float_init(g, "q.w", {4, 4}, pattern(16, 1));
    add_float_init(g, "q.b", {4}, {0.125f, 0.25f, 0.375f, 0.5f});
    add_float_init(g, "k.w", {4, 4}, pattern(16, 2));
    add_float_init(g, "head.w", {2, 4}, pattern(8, 3));
    add_float_init(g, "head.b", {2}, {0.5f, -0.5f});
    auto* ln = add_node(g, "LayerNormalization", {"x", "ln.w", "ln.b"}, {"ln"}, "/ln/LayerNormalization");
    attr_int(ln, "axis", -1);
    attr_float(ln, "epsilon", 1e-5f);
    add_node(g, "MatMul", {"ln", "q.w"}, {"qm"}, "/q/MatMul");
    add_node(g, "Add", {"q.b", "qm"}, {"q"}, "/q/Add");  // bias first, as torch writes it
    add_node(g, "MatMul", {"ln", "k.w"}, {"k"}, "/k/MatMul");
    const_i64(g, "heads", {4}, {-1, 3, 2, 2});
    add_node(g, "Reshape", {"q", "heads"}, {"q4"}, "/Reshape");
    attr_ints(add_node(g, "Transpose", {"q4"}, {"qh"}, "/Transpose"), "perm", {0, 2, 1, 3});
    add_node(g, "Reshape", {"k", "heads"}, {"k4"}, "/Reshape_1");
    attr_ints(add_node(g, "Transpose", {"k4"}, {"kt"}, "/Transpose_1"), "perm", {0, 2, 3, 1});
    add_node(g, "MatMul", {"qh", "kt"}, {"s"}, "/qk/MatMul");
    const_f(g, "root", 1.4142135f);  // after the MatMul, as torch writes it
    add_node(g, "Div", {"s", "root"}, {"sd"}, "/qk/Div");
    attr_int(add_node(g, "Softmax", {"sd"}, {"p"}, "/softmax/Softmax"), "axis", -1);
    add_node(g, "MatMul", {"p", "qh"}, {"o"}, "/av/MatMul");
    attr_ints(add_node(g, "Transpose", {"o"}, {"ot"}, "/Transpose_2"), "perm", {0, 2, 1, 3});
    const_i64(g, "tokens", {3}, {-1, 3, 4});
    add_node(g, "Reshape", {"ot", "tokens"}, {"o3"}, "/Reshape_2");
    add_node(g, "Add", {"x", "o3"}, {"r"}, "/add1/Add");
    const std::string act = gelu_erf(g, "r", "act");
    const_i64(g, "zero", {}, {0});
    attr_int(add_node(g, "Gather", {act, "zero"}, {"cls"}, "/Gather"), "axis", 1);
    attr_int(add_node(g, "Gemm", {"cls", "head.w", "head.b"}, {"y"}, "/head/Gemm"), "transB", 1);
    if (!meta.empty()) {
        auto* p = m.add_metadata_props();
        p->set_key("cimtlm.quant");
        p->set_value(meta);
    }
    return m;
}

const layer& named(const graph& g, const std::string& name) {
    const int i = g.find(name);
    if (i < 0) throw std::runtime_error("no layer " + name);
    return g.layers[static_cast<std::size_t>(i)];
}

TEST(onnx, transformer_block_opset17) {
    const graph g = load_onnx(save(encoder17(), "enc17.onnx"));
    const std::vector<op> kinds = {op::input,     op::layernorm, op::linear,  op::linear,  op::reshape, op::transpose,
                                   op::reshape,   op::transpose, op::matmul,  op::softmax, op::matmul,  op::transpose,
                                   op::reshape,   op::add,       op::gelu,    op::slice,   op::flatten, op::linear};
    ASSERT_EQ(g.layers.size(), kinds.size());
    for (std::size_t i = 0; i < kinds.size(); ++i) EXPECT_EQ(g.layers[i].kind, kinds[i]) << i << " " << g.layers[i].name;
    EXPECT_EQ(g.input, shape(std::vector<int>{3, 4}));  // tokens, batch dropped
    const layer& ln = named(g, "ln_LayerNormalization");
    EXPECT_EQ(ln.gamma, (std::vector<double>{1.0, 0.5, -0.75, 2.0}));
    EXPECT_EQ(ln.beta[3], -0.5);
    EXPECT_EQ(ln.eps, static_cast<double>(1e-5f));
    const layer& q = named(g, "q_MatMul");  // per token, bias folded
    EXPECT_EQ(q.out, shape(std::vector<int>{3, 4}));
    EXPECT_EQ(q.bias, (std::vector<double>{0.125, 0.25, 0.375, 0.5}));
    EXPECT_EQ(q.fweights[1 * 4 + 2], pattern(16, 1)[2 * 4 + 1]);  // IR [out][in] from ONNX (in, out)
    EXPECT_EQ(named(g, "Transpose").perm, (std::vector<int>{1, 0, 2}));  // (0,2,1,3) without the batch
    EXPECT_EQ(named(g, "Transpose").out, shape(std::vector<int>{2, 3, 2}));
    EXPECT_EQ(named(g, "Transpose_1").perm, (std::vector<int>{1, 2, 0}));
    const layer& qk = named(g, "qk_MatMul");  // the Div by sqrt 2 folded in
    EXPECT_EQ(qk.multiplier, 1.0 / static_cast<double>(1.4142135f));
    EXPECT_EQ(qk.out, shape(std::vector<int>{2, 3, 3}));
    EXPECT_EQ(named(g, "av_MatMul").multiplier, 1.0);
    EXPECT_EQ(named(g, "Reshape_2").out, shape(std::vector<int>{3, 4}));
    EXPECT_EQ(named(g, "add1_Add").inputs, (std::vector<std::string>{"input", "Reshape_2"}));
    const layer& gelu = named(g, "act_Mul_1");  // the pattern answers to its last node
    EXPECT_FALSE(gelu.tanh_form);
    EXPECT_EQ(gelu.inputs, (std::vector<std::string>{"add1_Add"}));
    const layer& cls = named(g, "Gather");
    EXPECT_EQ(cls.axis, 0);
    EXPECT_EQ(cls.begin, 0);
    EXPECT_EQ(cls.end, 1);
    EXPECT_EQ(g.layers.back().out, (shape{2, 1, 1}));
    EXPECT_EQ(g.layers.back().bias, (std::vector<double>{0.5, -0.5}));
}

const char* const k_quant2_json = R"({"format": "cimtlm.quant/2", "weight_bits": 8, "input_bits": 8,
  "input_scale": 0.05,
  "layers": {"q.w": {"weight_scale": 0.03125, "out_scale": 0.02}, "k.w": {"weight_scale": 0.03125, "out_scale": 0.03},
             "head.w": {"weight_scale": 0.03125, "out_scale": null}},
  "nodes": {"/ln/LayerNormalization": {"out_scale": 0.01}, "/qk/Div": {"out_scale": 0.04},
            "/av/MatMul": {"out_scale": 0.005}, "/add1/Add": {"out_scale": 0.06}, "/act/Mul_1": {"out_scale": 0.07}}})";

TEST(onnx, quant2_metadata_scales_every_requantising_node) {
    const graph g = load_onnx(save(encoder17(k_quant2_json), "enc_q.onnx"));
    EXPECT_TRUE(g.quantized);
    EXPECT_EQ(g.layers[0].out_scale, 0.05);
    EXPECT_EQ(named(g, "ln_LayerNormalization").out_scale, 0.01);
    EXPECT_EQ(named(g, "q_MatMul").out_scale, 0.02);
    EXPECT_EQ(named(g, "q_MatMul").qweights[0], static_cast<int>(pattern(16, 1)[0] / 0.03125f));
    EXPECT_EQ(named(g, "Transpose").out_scale, 0.02);  // data movement keeps its input's scale
    EXPECT_EQ(named(g, "qk_MatMul").out_scale, 0.04);  // keyed by the folded Div
    EXPECT_EQ(named(g, "softmax_Softmax").out_scale, 1.0 / 255.0);
    EXPECT_EQ(named(g, "av_MatMul").out_scale, 0.005);
    EXPECT_EQ(named(g, "act_Mul_1").out_scale, 0.07);
    EXPECT_EQ(named(g, "Gather").out_scale, 0.07);
    EXPECT_EQ(g.layers.back().out_scale, 0.03125 * 0.07);  // logits: the accumulator's scale

    std::string missing = k_quant2_json;  // a requantising node without its scale
    missing.replace(missing.find("\"/act/Mul_1\""), 12, "\"/act/Mul_9\"");
    config_error e = expect_config_error([&] { load_onnx(save(encoder17(missing), "enc_m.onnx")); });
    EXPECT_EQ(e.key(), "cimtlm.quant.nodes./act/Mul_1") << e.format();

    std::string extra = k_quant2_json;  // a key naming no requantising node
    extra.replace(extra.find("\"/av/MatMul\""), 12, "\"/softmax/Softmax\": {\"out_scale\": 0.1}, \"/av/MatMul\"");
    e = expect_config_error([&] { load_onnx(save(encoder17(extra), "enc_x.onnx")); });
    EXPECT_EQ(e.key(), "cimtlm.quant.nodes./softmax/Softmax") << e.format();

    std::string v1 = k_quant2_json;  // the CNN format has no scales for transformer ops
    v1.replace(v1.find("cimtlm.quant/2"), 14, "cimtlm.quant/1");
    e = expect_config_error([&] { load_onnx(save(encoder17(v1), "enc_v1.onnx")); });
    EXPECT_TRUE(contains(e.what(), "cimtlm.quant/2")) << e.format();
}

/// The opset-14 forms: image input, patch Conv, flatten(2) through a Shape/Slice/Concat chain, class token
/// through Expand with the exporter's ConstantOfShape/Mul/Equal/Where target, positional Add, decomposed
/// LayerNorm, fused qkv reshaped through a Shape/Gather/Unsqueeze/Concat chain, Split + Squeeze, Mul by a
/// constant after Q.K^T, tanh GELU.
onnx::ModelProto encoder14() {
    onnx::ModelProto m = new_model("enc14");
    m.mutable_opset_import(0)->set_version(14);
    onnx::GraphProto& g = *m.mutable_graph();
    set_io(g, "img", {1, 4, 4}, "y");
    add_float_init(g, "pe.w", {4, 1, 2, 2}, pattern(16, 4));
    add_float_init(g, "cls", {1, 1, 4}, {0.1f, 0.2f, 0.3f, 0.4f});
    add_float_init(g, "pos", {1, 5, 4}, pattern(20, 5));
    add_float_init(g, "g", {4}, {1.0f, 2.0f, 3.0f, 4.0f});
    add_float_init(g, "b", {4}, {0.5f, 0.5f, 0.5f, 0.5f});
    add_float_init(g, "qkv.w", {4, 12}, pattern(48, 6));
    add_float_init(g, "qkv.b", {12}, pattern(12, 7));
    add_float_init(g, "head.w", {3, 4}, pattern(12, 8));
    auto* c = add_node(g, "Conv", {"img", "pe.w"}, {"pe"}, "/patch/Conv");
    attr_ints(c, "kernel_shape", {2, 2});
    attr_ints(c, "strides", {2, 2});
    // flatten(2): Reshape to Concat(Slice(Shape(pe), 0, 2), [-1]) = (N, 4, -1)
    add_node(g, "Shape", {"pe"}, {"pe_shape"}, "/Shape");
    const_i64(g, "s0", {1}, {0});
    const_i64(g, "s2", {1}, {2});
    add_node(g, "Slice", {"pe_shape", "s0", "s2", "s0"}, {"lead"}, "/Slice");
    const_i64(g, "m1", {1}, {-1});
    attr_int(add_node(g, "Concat", {"lead", "m1"}, {"flat_shape"}, "/Concat"), "axis", 0);
    add_node(g, "Reshape", {"pe", "flat_shape"}, {"pf"}, "/Reshape");
    attr_ints(add_node(g, "Transpose", {"pf"}, {"tok"}, "/Transpose"), "perm", {0, 2, 1});
    // cls_token.expand(N, -1, -1)
    add_node(g, "Shape", {"tok"}, {"tok_shape"}, "/cls/Shape");
    const_i64(g, "i0", {}, {0});
    attr_int(add_node(g, "Gather", {"tok_shape", "i0"}, {"nb"}, "/cls/Gather"), "axis", 0);
    add_node(g, "Unsqueeze", {"nb", "s0"}, {"nb1"}, "/cls/Unsqueeze");
    attr_int(add_node(g, "Concat", {"nb1", "m1", "m1"}, {"target"}, "/cls/Concat"), "axis", 0);
    const_i64(g, "three", {1}, {3});
    add_node(g, "ConstantOfShape", {"three"}, {"ones"}, "/cls/ConstantOfShape");
    {
        onnx::AttributeProto* a = g.mutable_node(g.node_size() - 1)->add_attribute();
        a->set_name("value");
        a->set_type(onnx::AttributeProto_AttributeType_TENSOR);
        a->mutable_t()->set_data_type(onnx::TensorProto_DataType_INT64);
        a->mutable_t()->add_dims(1);
        a->mutable_t()->add_int64_data(1);
    }
    const_i64(g, "neg", {}, {-1});
    add_node(g, "Mul", {"ones", "neg"}, {"negs"}, "/cls/Mul");
    add_node(g, "Equal", {"target", "negs"}, {"eq"}, "/cls/Equal");
    add_node(g, "Where", {"eq", "ones", "target"}, {"shp"}, "/cls/Where");
    add_node(g, "Expand", {"cls", "shp"}, {"cls_e"}, "/cls/Expand");
    attr_int(add_node(g, "Concat", {"cls_e", "tok"}, {"t5"}, "/Concat_2"), "axis", 1);
    add_node(g, "Add", {"t5", "pos"}, {"x"}, "/Add");
    // decomposed LayerNorm
    auto* rm = add_node(g, "ReduceMean", {"x"}, {"mu"}, "/norm/ReduceMean");
    attr_ints(rm, "axes", {-1});
    add_node(g, "Sub", {"x", "mu"}, {"xc"}, "/norm/Sub");
    const_f(g, "two", 2.0f);
    add_node(g, "Pow", {"xc", "two"}, {"sq"}, "/norm/Pow");
    attr_ints(add_node(g, "ReduceMean", {"sq"}, {"var"}, "/norm/ReduceMean_1"), "axes", {-1});
    const_f(g, "eps", 1e-5f);
    add_node(g, "Add", {"var", "eps"}, {"ve"}, "/norm/Add");
    add_node(g, "Sqrt", {"ve"}, {"sd"}, "/norm/Sqrt");
    add_node(g, "Div", {"xc", "sd"}, {"z"}, "/norm/Div");
    add_node(g, "Mul", {"z", "g"}, {"zg"}, "/norm/Mul");
    add_node(g, "Add", {"zg", "b"}, {"ln"}, "/norm/Add_1");
    // qkv -> (N, 5, 3, 2, 2) -> (3, N, 2, 5, 2) -> q, k, v
    add_node(g, "MatMul", {"ln", "qkv.w"}, {"qkv_m"}, "/qkv/MatMul");
    add_node(g, "Add", {"qkv.b", "qkv_m"}, {"qkv"}, "/qkv/Add");
    add_node(g, "Shape", {"ln"}, {"ln_shape"}, "/attn/Shape");
    attr_int(add_node(g, "Gather", {"ln_shape", "i0"}, {"nb2"}, "/attn/Gather"), "axis", 0);
    add_node(g, "Unsqueeze", {"nb2", "s0"}, {"nb3"}, "/attn/Unsqueeze");
    const_i64(g, "rest", {4}, {5, 3, 2, 2});
    attr_int(add_node(g, "Concat", {"nb3", "rest"}, {"qkv_shape"}, "/attn/Concat"), "axis", 0);
    add_node(g, "Reshape", {"qkv", "qkv_shape"}, {"qkv5"}, "/attn/Reshape");
    attr_ints(add_node(g, "Transpose", {"qkv5"}, {"qkvt"}, "/attn/Transpose"), "perm", {2, 0, 3, 1, 4});
    const_i64(g, "ones3", {3}, {1, 1, 1});
    attr_int(add_node(g, "Split", {"qkvt", "ones3"}, {"q1", "k1", "v1"}, "/attn/Split"), "axis", 0);
    add_node(g, "Squeeze", {"q1", "s0"}, {"q"}, "/attn/Squeeze");
    add_node(g, "Squeeze", {"k1", "s0"}, {"k"}, "/attn/Squeeze_1");
    add_node(g, "Squeeze", {"v1", "s0"}, {"v"}, "/attn/Squeeze_2");
    attr_ints(add_node(g, "Transpose", {"k"}, {"kt"}, "/attn/Transpose_1"), "perm", {0, 1, 3, 2});
    add_node(g, "MatMul", {"q", "kt"}, {"s"}, "/attn/MatMul");
    const_f(g, "scale", 0.70710677f);
    add_node(g, "Mul", {"s", "scale"}, {"ss"}, "/attn/Mul");
    attr_int(add_node(g, "Softmax", {"ss"}, {"p"}, "/attn/Softmax"), "axis", -1);
    add_node(g, "MatMul", {"p", "v"}, {"o"}, "/attn/MatMul_1");
    attr_ints(add_node(g, "Transpose", {"o"}, {"ot"}, "/attn/Transpose_2"), "perm", {0, 2, 1, 3});
    const_i64(g, "tok_shape3", {3}, {-1, 5, 4});
    add_node(g, "Reshape", {"ot", "tok_shape3"}, {"o3"}, "/attn/Reshape_1");
    // tanh GELU, as torch 1.13 writes GELU(approximate="tanh")
    const_f(g, "c0", 0.044715f);
    const_f(g, "c1", 0.7978845608f);
    const_f(g, "one", 1.0f);
    const_f(g, "half", 0.5f);
    add_node(g, "Mul", {"o3", "o3"}, {"x2"}, "/act/Mul");
    add_node(g, "Mul", {"o3", "x2"}, {"x3"}, "/act/Mul_1");
    add_node(g, "Mul", {"c0", "x3"}, {"cx3"}, "/act/Mul_2");
    add_node(g, "Add", {"o3", "cx3"}, {"inner"}, "/act/Add");
    add_node(g, "Mul", {"c1", "inner"}, {"arg"}, "/act/Mul_3");
    add_node(g, "Tanh", {"arg"}, {"th"}, "/act/Tanh");
    add_node(g, "Add", {"one", "th"}, {"th1"}, "/act/Add_1");
    add_node(g, "Mul", {"o3", "th1"}, {"xt"}, "/act/Mul_4");
    add_node(g, "Mul", {"half", "xt"}, {"gelu"}, "/act/Mul_5");
    attr_int(add_node(g, "Gather", {"gelu", "i0"}, {"c"}, "/Gather_1"), "axis", 1);
    attr_int(add_node(g, "Gemm", {"c", "head.w"}, {"y"}, "/head/Gemm"), "transB", 1);
    return m;
}

TEST(onnx, transformer_patterns_opset14) {
    const graph g = load_onnx(save(encoder14(), "enc14.onnx"));
    const std::vector<op> kinds = {op::input,   op::conv2d,  op::reshape, op::transpose, op::concat,  op::add,
                                   op::layernorm, op::linear, op::reshape, op::transpose, op::slice,  op::slice,
                                   op::slice,   op::reshape, op::reshape, op::reshape,   op::transpose, op::matmul,
                                   op::softmax, op::matmul,  op::transpose, op::reshape, op::gelu,    op::slice,
                                   op::flatten, op::linear};
    ASSERT_EQ(g.layers.size(), kinds.size());
    for (std::size_t i = 0; i < kinds.size(); ++i) EXPECT_EQ(g.layers[i].kind, kinds[i]) << i << " " << g.layers[i].name;
    EXPECT_EQ(named(g, "Reshape").out, shape(std::vector<int>{4, 4}));  // flatten(2) of (4, 2, 2)
    const layer& cat = named(g, "Concat_2");  // the class token joins first
    EXPECT_EQ(cat.axis, 0);
    EXPECT_EQ(cat.constant_shape, shape(std::vector<int>{1, 4}));
    EXPECT_EQ(cat.constant, (std::vector<double>{0.1f, 0.2f, 0.3f, 0.4f}));
    EXPECT_EQ(cat.out, shape(std::vector<int>{5, 4}));
    const layer& pos = named(g, "Add");
    ASSERT_EQ(pos.constant.size(), 20u);
    EXPECT_EQ(pos.constant[7], pattern(20, 5)[7]);
    const layer& ln = named(g, "norm_Add_1");  // the decomposed chain answers to its last Add
    EXPECT_EQ(ln.gamma, (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(ln.eps, static_cast<double>(1e-5f));
    EXPECT_EQ(named(g, "qkv_MatMul").bias.size(), 12u);
    EXPECT_EQ(named(g, "attn_Reshape").out, shape(std::vector<int>{5, 3, 2, 2}));
    EXPECT_EQ(named(g, "attn_Transpose").perm, (std::vector<int>{1, 2, 0, 3}));  // (2,0,3,1,4): batch moves to 1
    EXPECT_EQ(named(g, "attn_Split_1").begin, 1);
    EXPECT_EQ(named(g, "attn_Split_1").out, shape(std::vector<int>{1, 2, 5, 2}));
    EXPECT_EQ(named(g, "attn_Squeeze_2").out, shape(std::vector<int>{2, 5, 2}));
    EXPECT_EQ(named(g, "attn_Transpose_1").perm, (std::vector<int>{0, 2, 1}));
    EXPECT_EQ(named(g, "attn_MatMul").multiplier, static_cast<double>(0.70710677f));
    EXPECT_EQ(named(g, "attn_MatMul").inputs, (std::vector<std::string>{"attn_Squeeze", "attn_Transpose_1"}));
    EXPECT_EQ(named(g, "attn_MatMul_1").inputs, (std::vector<std::string>{"attn_Softmax", "attn_Squeeze_2"}));
    EXPECT_TRUE(named(g, "act_Mul_5").tanh_form);
    EXPECT_EQ(g.layers.back().out, (shape{3, 1, 1}));
}

TEST(onnx, transformer_errors_name_the_node) {
    // An Erf outside the GELU pattern (here: not followed by the rest of it).
    onnx::ModelProto m = encoder17();
    onnx::GraphProto& g = *m.mutable_graph();
    for (auto& n : *g.mutable_node())
        if (n.name() == "/act/Add") n.set_input(1, "act_sqrt2");  // Add(erf, sqrt2): no longer the GELU's + 1
    std::string path = save(m, "erf.onnx");
    config_error e = expect_config_error([&] { load_onnx(path); });
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.key(), "nodes./act/Div") << e.format();
    EXPECT_TRUE(contains(e.what(), "unsupported operator 'Div' on an activation")) << e.format();

    // Softmax over a non-last axis.
    m = encoder17();
    for (auto& n : *m.mutable_graph()->mutable_node())
        if (n.op_type() == "Softmax") n.mutable_attribute(0)->set_i(1);
    e = expect_config_error([&] { load_onnx(save(m, "sm.onnx")); });
    EXPECT_EQ(e.key(), "nodes./softmax/Softmax") << e.format();

    // A Reshape that folds the batch into the tokens.
    m = encoder17();
    for (auto& n : *m.mutable_graph()->mutable_node())
        if (n.name() == "/c/tokens") n.mutable_attribute(0)->mutable_t()->set_int64_data(0, 3);
    e = expect_config_error([&] { load_onnx(save(m, "rs.onnx")); });
    EXPECT_EQ(e.key(), "nodes./Reshape_2") << e.format();

    // An unsupported operator on tokens.
    m = encoder17();
    add_node(*m.mutable_graph(), "LSTM", {"y"}, {"z"}, "/rnn/LSTM");
    e = expect_config_error([&] { load_onnx(save(m, "lstm.onnx")); });
    EXPECT_EQ(e.key(), "nodes./rnn/LSTM") << e.format();
    EXPECT_TRUE(contains(e.what(), "unsupported operator 'LSTM'")) << e.format();
}

TEST(onnx, damaged_files_are_config_errors) {
    // Missing.
    const std::string missing = temp_path("does_not_exist.onnx");
    config_error e = expect_config_error([&] { load_onnx(missing); });
    EXPECT_EQ(e.file(), missing);
    EXPECT_TRUE(contains(e.what(), "file not found")) << e.format();
    // Empty.
    const std::string empty = write_bytes("empty.onnx", "");
    e = expect_config_error([&] { load_onnx(empty); });
    EXPECT_EQ(e.file(), empty);
    EXPECT_TRUE(contains(e.what(), "empty")) << e.format();
    // Corrupt bytes.
    const std::string corrupt = write_bytes("corrupt.onnx", std::string("this is not an ONNX model\n\xff\xfe\x01", 29));
    e = expect_config_error([&] { load_onnx(corrupt); });
    EXPECT_EQ(e.file(), corrupt);
    // Truncated: the first half of a valid model.
    std::string bytes;
    ASSERT_TRUE(cnn().build(true).SerializeToString(&bytes));
    const std::string half = write_bytes("half.onnx", bytes.substr(0, bytes.size() / 2));
    e = expect_config_error([&] { load_onnx(half); });
    EXPECT_EQ(e.file(), half);
    EXPECT_TRUE(contains(e.what(), "corrupt or truncated")) << e.format();
    // A model without a graph.
    onnx::ModelProto m = new_model("x");
    m.clear_graph();
    e = expect_config_error([&] { load_onnx(save(m, "nograph.onnx")); });
    EXPECT_EQ(e.key(), "graph") << e.format();
    // A tensor that declares more elements than it holds.
    onnx::ModelProto lie = cnn().build(true);
    lie.mutable_graph()->mutable_initializer(1)->set_dims(0, 1000000);
    e = expect_config_error([&] { load_onnx(save(lie, "lie.onnx")); });
    EXPECT_EQ(e.key(), "nodes./features/conv1/Conv") << e.format();
    EXPECT_TRUE(contains(e.what(), "conv1.bias")) << e.format();
}

TEST(onnx, every_truncation_and_random_damage_is_a_config_error) {
    // Whatever the bytes, the loader either returns a graph or throws config_error: no crash, no other
    // exception, no abort (the sanitizer build runs this too).
    for (int model = 0; model < 3; ++model) {
        std::string bytes;
        const onnx::ModelProto mp = model == 0 ? quant_model().build(k_quant_json)
                                  : model == 1 ? encoder17(k_quant2_json)
                                               : encoder14();
        ASSERT_TRUE(mp.SerializeToString(&bytes));
        const std::string path = temp_path("fuzz" + std::to_string(model) + ".onnx");
        auto try_load = [&](const std::string& b, const std::string& what) {
            std::ofstream(path, std::ios::binary | std::ios::trunc) << b;
            try {
                load_onnx(path);
            } catch (const config_error&) {
            } catch (const std::exception& ex) {
                ADD_FAILURE() << what << ": " << ex.what();
            }
        };
        for (std::size_t n = 0; n < bytes.size(); n += 7) try_load(bytes.substr(0, n), "prefix " + std::to_string(n));
        std::mt19937 rng(12345);
        for (int k = 0; k < 300; ++k) {
            std::string b = bytes;
            for (int f = 0; f < 3; ++f) b[rng() % b.size()] = static_cast<char>(rng() & 0xff);
            try_load(b, "model " + std::to_string(model) + " mutation " + std::to_string(k));
        }
    }
}

}  // namespace
}  // namespace cim::network
