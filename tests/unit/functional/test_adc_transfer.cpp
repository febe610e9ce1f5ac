#include <gtest/gtest.h>

#include <cmath>

#include "models/core/error.h"
#include "models/functional/adc_transfer.h"

namespace cim::func {
namespace {

TEST(adc_transfer, lossless_when_levels_cover_full_scale) {
    adc_transfer a(5, 31);
    EXPECT_TRUE(a.lossless());
    for (std::int64_t s = 0; s <= 31; ++s) EXPECT_EQ(a.convert(s), s);
    EXPECT_FALSE(adc_transfer(5, 32).lossless());
}

TEST(adc_transfer, hand_checked_coarse) {
    // 2 bits, full scale 9: step 3, codes 0..3 -> values 0, 3, 6, 9.
    adc_transfer a(2, 9);
    EXPECT_FALSE(a.lossless());
    EXPECT_EQ(a.convert(0), 0);
    EXPECT_EQ(a.convert(1), 0);
    EXPECT_EQ(a.convert(2), 3);   // 0.667 -> code 1
    EXPECT_EQ(a.convert(4), 3);   // 1.333 -> 1
    EXPECT_EQ(a.convert(5), 6);   // 1.667 -> 2
    EXPECT_EQ(a.convert(9), 9);
    EXPECT_EQ(a.convert(100), 9);  // clipped at the top code
    EXPECT_EQ(a.convert(-5), 0);   // clipped at code 0

    // Non-integer step: 2 bits, full scale 10, step 10/3; sum 6 -> 1.8 -> code 2 -> 6.667 -> 7;
    // sum 4 -> 1.2 -> code 1 -> 3.333 -> 3.
    adc_transfer b(2, 10);
    EXPECT_EQ(b.convert(6), 7);
    EXPECT_EQ(b.convert(4), 3);
    EXPECT_EQ(b.convert(10), 10);
}

TEST(adc_transfer, table_matches_formula) {
    // The tabulated fast path must equal the defining formula everywhere.
    for (unsigned bits : {1u, 3u, 5u, 7u}) {
        const std::int64_t fs = 1000;
        adc_transfer a(bits, fs);
        const std::int64_t lmax = (std::int64_t{1} << bits) - 1;
        const double step = double(fs) / double(lmax);
        for (std::int64_t s = 0; s <= fs + 10; ++s) {
            std::int64_t code = std::llround(double(s) / step);
            code = std::min(std::max<std::int64_t>(code, 0), lmax);
            ASSERT_EQ(a.convert(s), std::llround(double(code) * step)) << "bits " << bits << " sum " << s;
        }
    }
}

TEST(adc_transfer, rejects_bad_parameters) {
    EXPECT_THROW(adc_transfer(0, 10), model_error);
    EXPECT_THROW(adc_transfer(17, 10), model_error);
    EXPECT_THROW(adc_transfer(5, -1), model_error);
}

}  // namespace
}  // namespace cim::func
