#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "models/core/error.h"
#include "models/core/rng.h"
#include "models/functional/adc_transfer.h"
#include "models/functional/column_histogram.h"

namespace cim::func {
namespace {

TEST(adc_linear, lossless_range) {
    const adc_transfer a = adc_transfer::linear(5, 0, 31);
    EXPECT_TRUE(a.lossless());
    for (std::int64_t s = 0; s <= 31; ++s) {
        EXPECT_EQ(a.convert(s), s);
        EXPECT_EQ(a.convert_real(double(s) + 0.3), s);
        EXPECT_EQ(a.convert_real(double(s) - 0.3), s);
    }
    EXPECT_EQ(a.convert(40), 31);           // clipped at hi
    EXPECT_EQ(a.convert_real(-2.0), 0);     // and at lo
    EXPECT_EQ(a.convert_real(2.5), 3);      // half away from zero, like llround
    const adc_transfer shifted = adc_transfer::linear(3, -2.5, 4.5);  // 7 units wide, 8 codes: lossless
    EXPECT_TRUE(shifted.lossless());
    EXPECT_EQ(shifted.convert_real(-10), -3);  // llround(-2.5)
    EXPECT_EQ(shifted.convert_real(1.2), 1);
    EXPECT_FALSE(adc_transfer::linear(5, 0, 31.5).lossless());
}

TEST(adc_linear, lossy_matches_full_scale_kind_and_formula) {
    // [0, fs] linear equals the fixed-full-scale ADC on integer sums.
    for (unsigned bits : {2u, 4u, 6u}) {
        const adc_transfer fs(bits, 1000), lin = adc_transfer::linear(bits, 0, 1000);
        for (std::int64_t s = -5; s <= 1010; ++s) ASSERT_EQ(lin.convert(s), fs.convert(s)) << bits << " " << s;
    }
    // An offset range, by the formula.
    const adc_transfer a = adc_transfer::linear(3, -10, 60);  // step 10
    EXPECT_EQ(a.convert_real(-30), -10);
    EXPECT_EQ(a.convert_real(4.9), 0);
    EXPECT_EQ(a.convert_real(5.1), 10);
    EXPECT_EQ(a.convert_real(59), 60);
    EXPECT_EQ(a.convert_real(1e9), 60);
}

TEST(adc_kinds, integer_and_real_conversions_agree) {
    const adc_transfer kinds[] = {adc_transfer(4, 500), adc_transfer(10, 500), adc_transfer::linear(4, -3, 400.5),
                                  adc_transfer::nonlinear(2, {0, 3, 10, 100})};
    for (const adc_transfer& a : kinds)
        for (std::int64_t s = 0; s <= 520; ++s) ASSERT_EQ(a.convert(s), a.convert_real(double(s))) << s;
    // The real full-scale kind, lossless: a step-1 ADC with 2^bits codes.
    EXPECT_EQ(adc_transfer(10, 500).convert_real(7.4), 7);
    EXPECT_EQ(adc_transfer(10, 500).convert_real(-0.7), 0);
    EXPECT_EQ(adc_transfer(10, 500).convert_real(5000), 1023);
}

TEST(adc_nonlinear, hand_checked) {
    const adc_transfer a = adc_transfer::nonlinear(2, {0, 1, 4, 10.4});  // thresholds 0.5, 2.5, 7.2
    EXPECT_EQ(a.convert_real(-3), 0);
    EXPECT_EQ(a.convert_real(0.49), 0);
    EXPECT_EQ(a.convert_real(0.51), 1);
    EXPECT_EQ(a.convert_real(3), 4);
    EXPECT_EQ(a.convert_real(7.1), 4);
    EXPECT_EQ(a.convert_real(7.3), 10);
    EXPECT_EQ(a.convert(1000), 10);
    EXPECT_THROW(adc_transfer::nonlinear(2, {0, 1, 4}), model_error);
    EXPECT_THROW(adc_transfer::nonlinear(2, {0, 4, 1, 5}), model_error);
}

// convert_real's search (a bucket grid, then steps to the exact count) against the definition: the code of the
// last level whose lower threshold (the midpoint below it) is at or below x. Skewed levels crowd thresholds into a
// few buckets; repeated levels give equal thresholds; a grid of one bucket (all levels equal); exact thresholds,
// values far outside, infinities and NaN (read as 0).
TEST(adc_nonlinear, search_equals_upper_bound_of_the_thresholds) {
    rng_stream r(7, {1});
    std::vector<std::vector<double>> ladders;
    for (unsigned bits : {1u, 3u, 5u, 7u}) {
        std::vector<double> skewed(std::size_t{1} << bits);
        for (std::size_t k = 0; k < skewed.size(); ++k) skewed[k] = std::pow(static_cast<double>(k), 3.0) * 0.01 - 2.0;
        ladders.push_back(skewed);
    }
    ladders.push_back({0, 0, 0, 5, 5, 9, 9, 9});  // repeats
    ladders.push_back({3, 3, 3, 3});               // one bucket
    ladders.push_back({-1e9, 0, 1e-9, 1e9});        // extreme spread
    for (const auto& lv : ladders) {
        unsigned bits = 0;
        while ((std::size_t{1} << bits) < lv.size()) ++bits;
        const adc_transfer a = adc_transfer::nonlinear(bits, lv);
        std::vector<double> th;
        for (std::size_t k = 0; k + 1 < lv.size(); ++k) th.push_back(0.5 * (lv[k] + lv[k + 1]));
        auto want = [&](double x) {
            if (x != x) x = 0;
            const auto i = static_cast<std::size_t>(std::upper_bound(th.begin(), th.end(), x) - th.begin());
            return static_cast<std::int64_t>(std::llround(lv[i]));
        };
        std::vector<double> xs = {-INFINITY, INFINITY, NAN, -1e300, 1e300, 0.0, -0.0};
        for (double t : th) xs.insert(xs.end(), {t, std::nextafter(t, -INFINITY), std::nextafter(t, INFINITY)});
        const double span = lv.back() - lv.front() + 1.0;
        for (int k = 0; k < 4000; ++k) xs.push_back(lv.front() - 0.1 * span + 1.2 * span * r.uniform());
        std::vector<std::int64_t> got(xs.size());
        a.convert_real(xs.data(), got.data(), static_cast<int>(xs.size()));
        for (std::size_t k = 0; k < xs.size(); ++k) ASSERT_EQ(got[k], want(xs[k])) << "x = " << xs[k] << ", " << bits << " bits";
    }
}

TEST(column_histogram, percentiles_and_merge) {
    column_histogram h(0, 100, 100), a(0, 100, 100), b(0, 100, 100);
    for (int v = 0; v < 100; ++v) {
        h.add(v + 0.5);
        (v % 2 ? a : b).add(v + 0.5);
    }
    h.add(-5);   // clamped into bin 0, but min_seen keeps it
    h.add(250);  // clamped into the last bin
    EXPECT_EQ(h.count, 102u);
    EXPECT_EQ(h.min_seen, -5);
    EXPECT_EQ(h.max_seen, 250);
    EXPECT_EQ(h.bins.front(), 2u);
    EXPECT_EQ(h.bins.back(), 2u);
    EXPECT_EQ(h.percentile(0), -5);
    EXPECT_EQ(h.percentile(100), 250);
    EXPECT_NEAR(h.percentile(50), 50, 1.0);
    // Merge order does not matter.
    column_histogram ab(0, 100, 100), ba(0, 100, 100);
    ab.merge(a);
    ab.merge(b);
    ba.merge(b);
    ba.merge(a);
    EXPECT_EQ(ab.bins, ba.bins);
    EXPECT_EQ(ab.count, 100u);
    EXPECT_EQ(ab.percentile(37.5), ba.percentile(37.5));
    EXPECT_NEAR(ab.percentile(37.5), 37.5, 1.0);
    EXPECT_THROW(a.merge(column_histogram(0, 50, 100)), model_error);
    EXPECT_THROW(column_histogram(1, 1), model_error);
    EXPECT_THROW(column_histogram(0, 1).percentile(50), model_error);
}

// Exponentially distributed column sums (sparse activations make most partial sums small).
struct skewed {
    std::vector<double> samples;
    column_histogram h{0, 2048, 4096};
    skewed() {
        rng_stream r(3, {1});
        for (int k = 0; k < 40000; ++k) {
            const double v = -50.0 * std::log(1.0 - r.uniform());
            samples.push_back(v);
            h.add(v);
        }
    }
    double mae(const adc_transfer& a) const {
        double e = 0;
        for (double v : samples) e += std::fabs(double(a.convert_real(v)) - v);
        return e / double(samples.size());
    }
};

TEST(adc_calibration, nonlinear_beats_linear_on_skewed_sums_and_errors_shrink) {
    const skewed s;
    double prev_lin = INFINITY, prev_nl = INFINITY;
    for (unsigned bits = 3; bits <= 8; ++bits) {
        const adc_transfer lin = adc_transfer::from_histogram(bits, s.h, "linear", 100);
        const adc_transfer nl = adc_transfer::from_histogram(bits, s.h, "nonlinear", 100);
        EXPECT_EQ(lin.lo(), 0.0);
        EXPECT_EQ(lin.hi(), s.h.max_seen);
        EXPECT_EQ(nl.convert_real(0), 0);  // a level pinned at 0
        EXPECT_EQ(nl.levels().size(), std::size_t{1} << bits);
        const double e_lin = s.mae(lin), e_nl = s.mae(nl);
        EXPECT_LT(e_nl, e_lin) << bits;
        EXPECT_LT(e_lin, prev_lin) << bits;
        EXPECT_LT(e_nl, prev_nl) << bits;
        prev_lin = e_lin;
        prev_nl = e_nl;
    }
    // Deterministic: the same histogram gives the same levels.
    EXPECT_EQ(adc_transfer::from_histogram(5, s.h, "nonlinear", 100).levels(),
              adc_transfer::from_histogram(5, s.h, "nonlinear", 100).levels());
    // A lower percentile clips the tail and lowers the top reference.
    EXPECT_LT(adc_transfer::from_histogram(5, s.h, "linear", 99).hi(), s.h.max_seen);
    EXPECT_THROW(adc_transfer::from_histogram(5, s.h, "log", 100), model_error);
    EXPECT_THROW(adc_transfer::from_histogram(5, column_histogram(0, 1), "linear", 100), model_error);
}

}  // namespace
}  // namespace cim::func
