#include <gtest/gtest.h>

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
