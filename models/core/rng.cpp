#include "models/core/rng.h"

#include <cmath>

namespace cim {

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

rng_stream::rng_stream(std::uint64_t seed, std::initializer_list<std::uint64_t> ids) {
    std::uint64_t h = seed;
    std::uint64_t mix = splitmix64(h);
    for (std::uint64_t id : ids) {
        h ^= id + 0x632be59bd9b4e019ULL + (mix << 6) + (mix >> 2);
        mix = splitmix64(h);
    }
    for (auto& s : m_s) s = splitmix64(h);
}

double rng_stream::normal() {
    double u1 = uniform();
    const double u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::int64_t rng_stream::uniform_int(std::int64_t lo, std::int64_t hi) {
    const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
    if (span == 0) return static_cast<std::int64_t>(next_u64());
    // Lemire-style rejection to avoid modulo bias.
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    std::uint64_t x;
    do { x = next_u64(); } while (x >= limit);
    return lo + static_cast<std::int64_t>(x % span);
}

}  // namespace cim
