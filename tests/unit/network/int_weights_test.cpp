#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "models/core/error.h"
#include "models/network/int_weights.h"

namespace cim::network {
namespace {

TEST(int_weights, holds_each_value_in_the_narrowest_width) {
    const int_weights w8 = std::vector<std::int32_t>{-128, 0, 127};
    const int_weights w16 = std::vector<std::int32_t>{-129, 5};
    const int_weights w16b = std::vector<std::int32_t>{32767, -32768};
    const int_weights w32 = std::vector<std::int32_t>{40000, -1};
    EXPECT_EQ(w8.width(), 1u);
    EXPECT_EQ(w16.width(), 2u);
    EXPECT_EQ(w16b.width(), 2u);
    EXPECT_EQ(w32.width(), 4u);
    EXPECT_EQ(w8.to_vector(), (std::vector<std::int32_t>{-128, 0, 127}));
    EXPECT_EQ(w16.to_vector(), (std::vector<std::int32_t>{-129, 5}));
    EXPECT_EQ(w16b.to_vector(), (std::vector<std::int32_t>{32767, -32768}));
    EXPECT_EQ(w32.to_vector(), (std::vector<std::int32_t>{40000, -1}));
    EXPECT_EQ(w32[0], 40000);
}

TEST(int_weights, zeros_are_wide_enough_for_their_bound_and_set_checks_it) {
    int_weights w = int_weights::zeros(3, 127);
    EXPECT_EQ(w.width(), 1u);
    w.set(0, -127);
    w.set(2, 127);
    EXPECT_EQ(w, (std::vector<std::int32_t>{-127, 0, 127}));
    EXPECT_THROW(w.set(1, 128), model_error);
    EXPECT_THROW(w.set(3, 0), model_error);
    EXPECT_EQ(int_weights::zeros(2, 128).width(), 2u);
    EXPECT_EQ(int_weights::zeros(2, 32768).width(), 4u);
    int_weights w2 = int_weights::zeros(1, 200);
    EXPECT_THROW(w2.set(0, 40000), model_error);
}

TEST(int_weights, visit_reads_the_storage_and_equality_compares_values) {
    const int_weights a = std::vector<std::int32_t>{3, -4};
    const int_weights b = int_weights::zeros(2, 30000);  // same values, wider storage
    int_weights c = b;
    c.set(0, 3);
    c.set(1, -4);
    EXPECT_EQ(a, c);
    EXPECT_NE(a, b);
    const long sum = a.visit([](const auto* p) { return long{p[0]} + long{p[1]}; });
    EXPECT_EQ(sum, -1);
    EXPECT_EQ(c.visit([](const auto* p) { return static_cast<unsigned>(sizeof(*p)); }), 2u);
    EXPECT_TRUE(int_weights().empty());
}

}  // namespace
}  // namespace cim::network
