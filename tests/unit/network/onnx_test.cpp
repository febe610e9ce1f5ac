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
    add_node(*m.mutable_graph(), "Softmax", {"logits"}, {"prob"}, "head/softmax");
    const std::string path = save(m);
    const config_error e = expect_config_error([&] { load_onnx(path); });
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.key(), "nodes.head/softmax");
    EXPECT_TRUE(contains(e.what(), "unsupported operator 'Softmax'")) << e.format();
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
    std::string bytes;
    ASSERT_TRUE(quant_model().build(k_quant_json).SerializeToString(&bytes));
    const std::string path = temp_path("fuzz.onnx");
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
        try_load(b, "mutation " + std::to_string(k));
    }
}

}  // namespace
}  // namespace cim::network
