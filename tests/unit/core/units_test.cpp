#include <gtest/gtest.h>

#include <cmath>

#include "models/core/rng.h"
#include "models/core/units.h"

using cim::parse_quantity;
using cim::unit;

TEST(Units, ParsesPrefixesAndSymbols) {
    EXPECT_DOUBLE_EQ(parse_quantity("2 ns", unit::second), 2e-9);
    EXPECT_DOUBLE_EQ(parse_quantity("100 kOhm", unit::ohm), 1e5);
    EXPECT_DOUBLE_EQ(parse_quantity("500MOhm", unit::ohm), 5e8);
    EXPECT_DOUBLE_EQ(parse_quantity("64 KiB", unit::byte), 65536);
    EXPECT_DOUBLE_EQ(parse_quantity("1 GHz", unit::hertz), 1e9);
    EXPECT_DOUBLE_EQ(parse_quantity("32 nm", unit::meter), 32e-9);
    EXPECT_DOUBLE_EQ(parse_quantity("1 um^2", unit::square_meter), 1e-12);
    EXPECT_DOUBLE_EQ(parse_quantity("1.5e-3", unit::watt), 1.5e-3);
    EXPECT_DOUBLE_EQ(parse_quantity("10 %", unit::none), 0.1);
    EXPECT_DOUBLE_EQ(parse_quantity("5 ms", unit::second), 5e-3);
    EXPECT_DOUBLE_EQ(parse_quantity("3 m", unit::meter), 3.0);
}

TEST(Units, RejectsWrongDimensionAndGarbage) {
    EXPECT_THROW(parse_quantity("2 ns", unit::ohm), std::invalid_argument);
    EXPECT_THROW(parse_quantity("abc", unit::ohm), std::invalid_argument);
    EXPECT_THROW(parse_quantity("2 parsecs", unit::meter), std::invalid_argument);
    EXPECT_THROW(parse_quantity("", unit::meter), std::invalid_argument);
}

// Issue 22: finiteness was checked before the prefix, so "1e300 TF/m" became an infinite capacitance.
TEST(Units, NotFiniteAfterThePrefixIsAnError) {
    EXPECT_THROW(parse_quantity("1e300 TF/m", unit::farad_per_meter), std::invalid_argument);
    EXPECT_THROW(parse_quantity("1e300 TOhm", unit::ohm), std::invalid_argument);
    EXPECT_THROW(parse_quantity("inf", unit::ohm), std::invalid_argument);
    EXPECT_THROW(parse_quantity("nan", unit::none), std::invalid_argument);
    EXPECT_DOUBLE_EQ(parse_quantity("1e300 fF/m", unit::farad_per_meter), 1e285);
}

TEST(Units, Ranges) {
    const cim::range r{0, 100, true};
    EXPECT_FALSE(r.contains(0));
    EXPECT_TRUE(r.contains(100));
    EXPECT_FALSE(r.contains(std::nan("")));
    EXPECT_EQ(cim::format_range(r, unit::none), "(0, 100]");
    EXPECT_EQ(cim::format_range({2, 4096}, unit::none, true), "2..4096");
    EXPECT_EQ(cim::format_range(cim::default_range(unit::ohm), unit::ohm), "[0 Ohm, 1 TOhm]");
    EXPECT_FALSE(cim::default_range(unit::ohm).contains(1e30));
    EXPECT_FALSE(cim::default_range(unit::ohm).declared);
    // Every unit has an envelope that holds 1 of it or less.
    for (int u = 0; u <= static_cast<int>(unit::feature_square); ++u) {
        const cim::range e = cim::default_range(static_cast<unit>(u));
        EXPECT_LT(e.lo, e.hi) << u;
        EXPECT_TRUE(e.contains(0)) << u;
    }
}

TEST(Units, FormatsWithPrefix) {
    EXPECT_EQ(cim::format_quantity(2e-9, unit::second), "2 ns");
    EXPECT_EQ(cim::format_quantity(65536, unit::byte), "64 KiB");
    EXPECT_EQ(cim::format_quantity(1e5, unit::ohm), "100 kOhm");
}

TEST(Rng, StreamsAreKeyedAndReproducible) {
    cim::rng_stream a(1, {2, 3}), b(1, {2, 3}), c(1, {3, 2});
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
    cim::rng_stream n(7, {1});
    double s = 0, s2 = 0;
    const int k = 20000;
    for (int i = 0; i < k; ++i) {
        const double v = n.normal();
        s += v;
        s2 += v * v;
    }
    EXPECT_NEAR(s / k, 0.0, 0.03);
    EXPECT_NEAR(s2 / k, 1.0, 0.05);
    for (int i = 0; i < 1000; ++i) {
        const auto v = n.uniform_int(-3, 4);
        EXPECT_GE(v, -3);
        EXPECT_LE(v, 4);
    }
}
