// IR semantics: shape inference, weight-matrix geometry, and infer_shapes() errors on hand-built graphs.
#include <gtest/gtest.h>

#include "models/core/error.h"
#include "models/network/graph.h"

namespace cim::network {
namespace {

layer make(const std::string& name, op kind, int line) {
    layer l;
    l.name = name;
    l.kind = kind;
    l.line = line;
    return l;
}

graph small_graph(shape in) {
    graph g;
    g.name = "t";
    g.source = "t.yaml";
    g.input = in;
    g.layers.push_back(make("input", op::input, 1));
    return g;
}

TEST(graph, conv_output_uses_floor_and_counts_rows_and_pixels) {
    graph g = small_graph({3, 32, 32});
    layer c = make("c", op::conv2d, 2);
    c.out_channels = 16;
    c.kernel_h = 3;
    c.kernel_w = 5;
    c.stride = 2;
    c.padding = 1;
    g.layers.push_back(c);
    g.infer_shapes();

    const layer& r = g.layers[1];
    // H: (32 + 2 - 3) / 2 + 1 = 16; W: (32 + 2 - 5) / 2 + 1 = 15 (floor of 14.5).
    EXPECT_EQ(r.out, (shape{16, 16, 15}));
    EXPECT_EQ(r.weight_rows(), 3 * 5 * 3);
    EXPECT_EQ(r.output_pixels(), 16 * 15);
    EXPECT_EQ(r.macs(), std::int64_t{45} * 16 * 240);
    EXPECT_EQ(g.total_weights(), 45 * 16);
    EXPECT_EQ(r.input_ids, std::vector<int>{0});
}

TEST(graph, pool_flatten_linear_chain) {
    graph g = small_graph({8, 6, 6});
    layer p = make("p", op::avg_pool, 2);
    p.kernel_h = p.kernel_w = p.stride = 2;
    layer f = make("f", op::flatten, 3);
    layer fc = make("fc", op::linear, 4);
    fc.out_channels = 10;
    g.layers.push_back(p);
    g.layers.push_back(make("r", op::relu, 2));
    g.layers.push_back(f);
    g.layers.push_back(fc);
    g.infer_shapes();

    EXPECT_EQ(g.layers[1].out, (shape{8, 3, 3}));
    EXPECT_EQ(g.layers[2].out, (shape{8, 3, 3}));
    EXPECT_EQ(g.layers[3].out, (shape{72, 1, 1}));
    EXPECT_EQ(g.layers[4].out, (shape{10, 1, 1}));
    EXPECT_EQ(g.layers[4].weight_rows(), 72);
    EXPECT_EQ(g.layers[4].output_pixels(), 1);
    EXPECT_EQ(g.total_macs(), 720);
    EXPECT_EQ(g.weight_layers(), std::vector<int>{4});
    EXPECT_EQ(g.find("f"), 3);
    EXPECT_EQ(g.find("nope"), -1);
}

TEST(graph, infer_shapes_is_idempotent) {
    graph g = small_graph({4, 4, 4});
    g.layers.push_back(make("r", op::relu, 2));
    g.infer_shapes();
    g.infer_shapes();
    EXPECT_EQ(g.layers[1].input_ids, std::vector<int>{0});
}

TEST(graph, linear_on_spatial_input_suggests_flatten) {
    graph g = small_graph({8, 4, 4});
    layer fc = make("fc", op::linear, 7);
    fc.out_channels = 10;
    g.layers.push_back(fc);
    try {
        g.infer_shapes();
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        EXPECT_EQ(e.file(), "t.yaml");
        EXPECT_EQ(e.line(), 7);
        EXPECT_EQ(e.key(), "layers.fc");
        EXPECT_NE(e.format().find("flatten"), std::string::npos) << e.format();
        EXPECT_NE(e.format().find("(8,4,4)"), std::string::npos) << e.format();
    }
}

TEST(graph, duplicate_names_are_rejected) {
    graph g = small_graph({1, 2, 2});
    g.layers.push_back(make("r", op::relu, 2));
    g.layers.push_back(make("r", op::relu, 3));
    try {
        g.infer_shapes();
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        EXPECT_EQ(e.line(), 3);
        EXPECT_EQ(e.key(), "layers.r");
        EXPECT_NE(e.format().find("line 2"), std::string::npos) << e.format();
    }
}

TEST(graph, producer_must_precede_consumer) {
    graph g = small_graph({1, 2, 2});
    layer a = make("a", op::relu, 2);
    a.inputs = {"b"};
    g.layers.push_back(a);
    g.layers.push_back(make("b", op::relu, 3));
    try {
        g.infer_shapes();
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        EXPECT_EQ(e.line(), 2);
        EXPECT_EQ(e.key(), "layers.a.inputs");
        EXPECT_NE(e.format().find("after"), std::string::npos) << e.format();
    }
}

TEST(graph, add_needs_two_inputs) {
    graph g = small_graph({1, 2, 2});
    layer a = make("a", op::add, 2);
    g.layers.push_back(a);
    EXPECT_THROW(g.infer_shapes(), config_error);
}

TEST(graph, bad_input_shape) {
    graph g = small_graph({0, 2, 2});
    try {
        g.infer_shapes();
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        EXPECT_EQ(e.key(), "input");
    }
}

}  // namespace
}  // namespace cim::network
