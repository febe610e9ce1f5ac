// Quantities and scalars as the config reader parses them: "2 ns", "1e300 TF/m", "0x10", ...
#include <cmath>

#include "models/config/field.h"
#include "models/core/units.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string s = cim::fuzz::text(data, size);
    for (int k = 0; k <= static_cast<int>(cim::unit::feature_square); ++k) {
        const auto u = static_cast<cim::unit>(k);
        try {
            const double v = cim::parse_quantity(s, u);
            if (!std::isfinite(v)) cim::fuzz::finding();  // finiteness holds after the prefix
            (void)cim::format_quantity(v, u);
            (void)cim::cfg::range_violation(v, cim::default_range(u), u, false);
        } catch (const std::invalid_argument&) {
        }
    }
    auto scalar = [&](auto tag) {
        using T = decltype(tag);
        try {
            const T v = cim::cfg::parse_scalar<T>(s);
            if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
                (void)cim::cfg::range_violation(static_cast<double>(v), cim::cfg::default_range_of<T>(), cim::unit::none,
                                                std::is_integral_v<T>);
        } catch (const std::invalid_argument&) {
        }
    };
    scalar(bool{});
    scalar(int{});
    scalar(unsigned{});
    scalar(std::uint64_t{});
    scalar(double{});
    return 0;
}
