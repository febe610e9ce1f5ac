#pragma once
#include <cstdint>
#include <optional>

namespace cim {

// Sizes computed from a file header or from user input: an overflow is a value the caller rejects (with its own
// error naming the file and the field), never a silent wrap to a small number that passes a size check.

/// a * b, or nothing when it does not fit in 64 bits.
inline std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
    std::uint64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
    return r;
}

/// a + b, or nothing when it does not fit in 64 bits.
inline std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
    std::uint64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
    return r;
}

/// The product of `dims`, or nothing when it exceeds `limit` (or 64 bits) at any step.
template <class Range>
std::optional<std::uint64_t> checked_product(const Range& dims, std::uint64_t limit = UINT64_MAX) {
    std::uint64_t p = 1;
    for (const auto d : dims) {
        if (d < 0) return std::nullopt;
        const auto r = checked_mul(p, static_cast<std::uint64_t>(d));
        if (!r || *r > limit) return std::nullopt;
        p = *r;
    }
    return p;
}

}  // namespace cim
