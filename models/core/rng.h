#pragma once
#include <cstdint>
#include <initializer_list>

namespace cim {

/// Counter-based seeded random streams. A stream is keyed by (seed, ids...), e.g. (seed, layer, subarray),
/// so every part of the model draws the same numbers whatever the order of evaluation, the number of
/// threads or the engine (platform or batched). Generator: splitmix64 for keying, xoshiro256** for draws.
class rng_stream {
public:
    rng_stream(std::uint64_t seed, std::initializer_list<std::uint64_t> ids);

    /// xoshiro256** (inline: weight synthesis and device programming draw one per weight or cell).
    std::uint64_t next_u64() {
        const std::uint64_t result = rotl(m_s[1] * 5, 7) * 9;
        const std::uint64_t t = m_s[1] << 17;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = rotl(m_s[3], 45);
        return result;
    }
    /// Uniform in [0, 1).
    double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
    /// Standard normal (Box-Muller, no cached second value so streams stay simple to reason about).
    double normal();
    /// Uniform integer in [lo, hi].
    std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t m_s[4];
};

/// splitmix64 mixing step, exposed for hashing ids into seeds.
std::uint64_t splitmix64(std::uint64_t& state);

}  // namespace cim
