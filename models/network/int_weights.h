#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <vector>

namespace cim::network {

/// A layer's signed integer weights, held in the narrowest of int8, int16 and int32 that the values need: 8-bit
/// weights take a quarter of the memory of int32 (VGG-8 holds 13 M weights: 13 MB instead of 52 MB). Values read
/// back as int32; kernels read the storage directly through visit().
class int_weights {
public:
    int_weights() = default;
    /// Holds `v` in the narrowest width that fits every value.
    int_weights(const std::vector<std::int32_t>& v);  // NOLINT: implicit, so a vector can be assigned
    int_weights(std::initializer_list<std::int32_t> v) : int_weights(std::vector<std::int32_t>(v)) {}
    /// Takes storage of a given width as it is.
    explicit int_weights(std::vector<std::int8_t> v) : m_size(v.size()), m_width(1), m_8(std::move(v)) {}
    explicit int_weights(std::vector<std::int16_t> v) : m_size(v.size()), m_width(2), m_16(std::move(v)) {}
    /// n zeros, wide enough for any value in [-max_abs, max_abs] (fill with set()).
    static int_weights zeros(std::size_t n, std::int32_t max_abs);

    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    /// Bytes per value: 1, 2 or 4.
    unsigned width() const { return m_width; }
    std::int32_t operator[](std::size_t k) const {
        return m_width == 1 ? m_8[k] : m_width == 2 ? m_16[k] : m_32[k];
    }
    /// Sets value k. v must fit the width chosen at construction (zeros(n, max_abs): |v| <= max_abs); throws
    /// cim::model_error otherwise.
    void set(std::size_t k, std::int32_t v);
    /// Calls f with a pointer to the storage (const std::int8_t*, const std::int16_t* or const std::int32_t*).
    template <class F>
    decltype(auto) visit(F&& f) const {
        if (m_width == 1) return f(static_cast<const std::int8_t*>(m_8.data()));
        if (m_width == 2) return f(static_cast<const std::int16_t*>(m_16.data()));
        return f(static_cast<const std::int32_t*>(m_32.data()));
    }
    std::vector<std::int32_t> to_vector() const;
    void clear() { *this = int_weights(); }

    friend bool operator==(const int_weights& a, const int_weights& b);
    friend bool operator!=(const int_weights& a, const int_weights& b) { return !(a == b); }
    friend bool operator==(const int_weights& a, const std::vector<std::int32_t>& b) { return a == int_weights(b); }
    friend std::ostream& operator<<(std::ostream& os, const int_weights& w);

private:
    void reserve_width(std::size_t n, unsigned width);
    std::size_t m_size = 0;
    unsigned m_width = 1;
    std::vector<std::int8_t> m_8;
    std::vector<std::int16_t> m_16;
    std::vector<std::int32_t> m_32;
};

}  // namespace cim::network
