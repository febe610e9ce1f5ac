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

    std::uint64_t next_u64();
    /// Uniform in [0, 1).
    double uniform();
    /// Standard normal (Box-Muller, no cached second value so streams stay simple to reason about).
    double normal();
    /// Uniform integer in [lo, hi].
    std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);

private:
    std::uint64_t m_s[4];
};

/// splitmix64 mixing step, exposed for hashing ids into seeds.
std::uint64_t splitmix64(std::uint64_t& state);

}  // namespace cim
