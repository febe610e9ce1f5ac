// dataset: quantisation of the input codes the accelerator sees, subsets, the class count.
#include <gtest/gtest.h>

#include <cmath>

#include "models/core/error.h"
#include "models/dataset/dataset.h"

namespace cim::dataset {
namespace {

dataset tiny() {
    dataset d;
    d.name = "tiny";
    d.n = 2;
    d.c = 1;
    d.h = 1;
    d.w = 4;
    d.pixels = {0.0f, 0.5f, 1.0f, 1.5f, -0.2f, 0.2f, 0.8f, 0.999f};
    d.labels = {3, 1};
    return d;
}

TEST(dataset, input_rounds_and_clamps) {
    const dataset d = tiny();
    EXPECT_EQ(d.input(0, 1), (std::vector<std::int32_t>{0, 1, 1, 1}));  // 0.5 rounds half away from zero
    EXPECT_EQ(d.input(0, 8), (std::vector<std::int32_t>{0, 128, 255, 255}));
    EXPECT_EQ(d.input(1, 8), (std::vector<std::int32_t>{0, 51, 204, 255}));
    EXPECT_EQ(d.input(1, 31)[2], static_cast<std::int32_t>(std::lround(0.8f * 2147483647.0)));
    EXPECT_THROW(d.input(2, 8), std::out_of_range);
    EXPECT_THROW(d.input(-1, 8), std::out_of_range);
    EXPECT_THROW(d.input(0, 0), config_error);
    EXPECT_THROW(d.input(0, 32), config_error);
}

TEST(dataset, subset_and_classes) {
    dataset d = tiny();
    EXPECT_EQ(d.num_classes(), 4);
    d.declared_classes = 10;
    const dataset one = d.subset(1);
    EXPECT_EQ(one.n, 1);
    EXPECT_EQ(one.pixels.size(), 4u);
    EXPECT_EQ(one.labels, (std::vector<int>{3}));
    EXPECT_EQ(one.num_classes(), 10);  // the declared count survives a subset that misses classes
    EXPECT_EQ(d.subset(0).n, 2);
    EXPECT_EQ(d.subset(5).n, 2);
    EXPECT_EQ(dataset{}.num_classes(), 0);
}

}  // namespace
}  // namespace cim::dataset
