#include "models/network/int_weights.h"

#include <string>

#include "models/core/error.h"

namespace cim::network {

namespace {
unsigned width_for(std::int64_t lo, std::int64_t hi) {
    if (lo >= -128 && hi <= 127) return 1;
    if (lo >= -32768 && hi <= 32767) return 2;
    return 4;
}
}  // namespace

void int_weights::reserve_width(std::size_t n, unsigned width) {
    m_size = n;
    m_width = width;
    m_8.clear();
    m_16.clear();
    m_32.clear();
    if (width == 1) m_8.assign(n, 0);
    if (width == 2) m_16.assign(n, 0);
    if (width == 4) m_32.assign(n, 0);
}

int_weights::int_weights(const std::vector<std::int32_t>& v) {
    std::int32_t lo = 0, hi = 0;
    for (std::int32_t x : v) {
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    reserve_width(v.size(), width_for(lo, hi));
    for (std::size_t k = 0; k < v.size(); ++k) {
        if (m_width == 1) m_8[k] = static_cast<std::int8_t>(v[k]);
        else if (m_width == 2) m_16[k] = static_cast<std::int16_t>(v[k]);
        else m_32[k] = v[k];
    }
}

int_weights int_weights::zeros(std::size_t n, std::int32_t max_abs) {
    int_weights w;
    const std::int64_t m = max_abs < 0 ? -std::int64_t{max_abs} : std::int64_t{max_abs};
    w.reserve_width(n, width_for(-m, m));
    return w;
}

void int_weights::set(std::size_t k, std::int32_t v) {
    if (k >= m_size) throw model_error("weights", "index " + std::to_string(k) + " past " + std::to_string(m_size));
    if (m_width == 1) {
        if (v < -128 || v > 127) throw model_error("weights", std::to_string(v) + " does not fit the 8-bit storage");
        m_8[k] = static_cast<std::int8_t>(v);
    } else if (m_width == 2) {
        if (v < -32768 || v > 32767) throw model_error("weights", std::to_string(v) + " does not fit the 16-bit storage");
        m_16[k] = static_cast<std::int16_t>(v);
    } else {
        m_32[k] = v;
    }
}

std::vector<std::int32_t> int_weights::to_vector() const {
    std::vector<std::int32_t> v(m_size);
    for (std::size_t k = 0; k < m_size; ++k) v[k] = (*this)[k];
    return v;
}

bool operator==(const int_weights& a, const int_weights& b) {
    if (a.m_size != b.m_size) return false;
    for (std::size_t k = 0; k < a.m_size; ++k)
        if (a[k] != b[k]) return false;
    return true;
}

std::ostream& operator<<(std::ostream& os, const int_weights& w) {
    os << "{";
    for (std::size_t k = 0; k < w.size(); ++k) os << (k ? ", " : "") << w[k];
    return os << "}";
}

}  // namespace cim::network
