#pragma once
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ostream>
#include <vector>

#include "models/functional/device_config.h"
#include "models/functional/quant_config.h"

namespace cim::func {

/// The programmed cells of a block, row-major. An ideal block's integer levels (0..2^cell_bits-1) are held as bytes,
/// two to a byte when every level is below 16 (cells of up to 4 bits), a non-ideal block's fixed-point conductances
/// as floats; either reads back as floats. A chip holds millions of cells (VGG-8: 35 M), so 4-bit cells take an
/// eighth of the memory of floats.
class cell_levels {
public:
    cell_levels() = default;
    /// Holds `v` as integer levels when every value is an integer in [0, 255], else as floats.
    explicit cell_levels(std::vector<float> v);
    /// Holds integer levels (two to a byte when all are below 16).
    explicit cell_levels(std::vector<std::uint8_t> v);
    /// Holds `size` levels below 16 given two to a byte (level k in the low nibble of byte k/2 when k is even, else
    /// in its high nibble), as the constructor above packs them.
    static cell_levels from_nibbles(std::vector<std::uint8_t> packed, std::size_t size);
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    float operator[](std::size_t k) const {
        if (!m_floats.empty()) return m_floats[k];
        if (m_nibbles) return static_cast<float>((m_bytes[k >> 1] >> ((k & 1) * 4)) & 15);
        return static_cast<float>(m_bytes[k]);
    }
    /// Integer levels (held as bytes or nibbles), as opposed to floats.
    bool integral() const { return m_floats.empty(); }
    /// Every integer level as one byte, the levels taken as a row-major matrix of `cols` columns and written into rows
    /// of ld >= cols bytes at dst (the bytes past cols are left). Integral blocks only.
    void unpack_rows(int cols, std::uint8_t* dst, std::size_t ld) const;
    /// The floats (nullptr when held as integer levels).
    const float* floats() const { return m_floats.empty() ? nullptr : m_floats.data(); }
    /// Every value as a float.
    std::vector<float> to_floats() const;
    /// Bytes of storage the levels take.
    std::size_t storage_bytes() const { return m_bytes.size() + m_floats.size() * sizeof(float); }

    class iterator {
    public:
        using value_type = float;
        using difference_type = std::ptrdiff_t;
        using iterator_category = std::forward_iterator_tag;
        using pointer = const float*;
        using reference = float;
        iterator(const cell_levels* c, std::size_t k) : m_c(c), m_k(k) {}
        float operator*() const { return (*m_c)[m_k]; }
        iterator& operator++() { return ++m_k, *this; }
        bool operator==(const iterator& o) const { return m_k == o.m_k; }
        bool operator!=(const iterator& o) const { return m_k != o.m_k; }

    private:
        const cell_levels* m_c;
        std::size_t m_k;
    };
    iterator begin() const { return {this, 0}; }
    iterator end() const { return {this, size()}; }
    friend bool operator==(const cell_levels& a, const cell_levels& b) { return a.to_floats() == b.to_floats(); }
    friend bool operator!=(const cell_levels& a, const cell_levels& b) { return !(a == b); }
    friend bool operator==(const cell_levels& a, const std::vector<float>& b) { return a.to_floats() == b; }
    friend std::ostream& operator<<(std::ostream& os, const cell_levels& c) {
        os << "{";
        for (std::size_t k = 0; k < c.size(); ++k) os << (k ? ", " : "") << c[k];
        return os << "}";
    }

private:
    std::size_t m_size = 0;
    bool m_nibbles = false;  // m_bytes holds two levels per byte, the even index in the low nibble
    std::vector<std::uint8_t> m_bytes;
    std::vector<float> m_floats;
};

/// The programmed cell levels of one subarray block: a run of weight rows (word lines) times a run of
/// output channels, bit-sliced into cells of cell_bits each, plus the block's reference columns.
/// Column order: channel-major, then slice; slice 0 holds the least significant cell_bits.
///   offset:       channel oc uses columns [oc*slices, (oc+1)*slices), the cells of w + 2^(wb-1);
///   differential: channel oc uses [oc*slices, oc*slices + slices/2) for G+ and the next slices/2 for G-,
///                 each holding the slices of |w| on the side of its sign (the other side is 0);
///   reference:    the last ref_cols columns hold the slices of 2^(wb-1) in every row (offset only).
/// Levels are integers stored as float so the kernel can use a float GEMM, which is exact here.
/// Ideal block (frac_bits == 0): the integer cell levels k in 0..2^cell_bits-1; the off current of g_min is
/// left out because the periphery subtracts it exactly.
/// Non-ideal block (frac_bits > 0, from the device_config overload of program_block): the real conductance
/// of every cell in units of dg = (g_max - g_min)/(L-1), L = 2^cell_bits, including the off current g0,
/// as fixed point: levels = llround(p * 2^frac_bits).
/// Does not model: IR drop, sneak paths, the conductance's dependence on read voltage.
struct subarray_block {
    int rows = 0;
    int out_channels = 0;
    unsigned slices = 0;
    unsigned ref_cols = 0;
    unsigned cell_bits = 0;
    /// rows x columns(), row-major.
    cell_levels levels;
    /// Fractional bits of the fixed-point levels; 0 = ideal integer levels.
    unsigned frac_bits = 0;
    /// Non-ideal: the nominal off current g0 = g_min/dg in fixed point, llround(g0 * 2^frac_bits).
    std::int64_t g0_fixed = 0;
    /// Non-ideal: g_max/dg = (L-1) + g0.
    double gmax_units = 0;

    bool ideal() const { return frac_bits == 0; }

    int columns() const { return out_channels * static_cast<int>(slices) + static_cast<int>(ref_cols); }
    float level(int row, int column) const { return levels[static_cast<std::size_t>(row) * columns() + column]; }
};

/// Slices the weights of rows [row_begin, row_end) and channels [ch_begin, ch_end) into one block.
/// qweights is row-major [out_channels_total][weight_rows]: channel oc, row r is qweights[oc*weight_rows + r].
/// Throws cim::model_error for an empty or out-of-range window, a weight outside
/// [-(2^(wb-1)-1), 2^(wb-1)-1], or a block whose column sums could exceed the float-exact range
/// (rows * (2^dac_bits-1) * (2^cell_bits-1) >= 2^24).
/// T: the weights' storage, std::int8_t, std::int16_t or std::int32_t.
template <class T>
subarray_block program_block(const T* qweights, std::int64_t weight_rows, int row_begin, int row_end,
                             int ch_begin, int ch_end, const quant_config& q, unsigned cell_bits);

/// Identifies one programmed subarray for its random draws: the caller guarantees (layer, block) is unique
/// per physical subarray, so every engine draws the same device for the same subarray.
struct rng_key {
    std::uint64_t seed = 0;
    std::uint64_t layer = 0;
    std::uint64_t block = 0;
};

/// program_block with device non-idealities (docs/accuracy.md), frozen at programming.
/// on_off_ratio = g_max/g_min; +inf or 0 mean an infinite ratio (g_min = 0). Otherwise it must be > 1.
/// dev.ideal(): exactly the integer block of the overload above (bit-identical fast path).
/// Otherwise every cell (reference columns included) gets p = k + g0 in units of dg, g0 = (L-1)/(ratio-1),
/// gmax_u = (L-1) + g0, and, in this order:
///   stuck-at:  u < stuck_on_rate -> p = gmax_u; else u < stuck_on_rate + stuck_off_rate -> p = g0;
///   d2d:       p *= 1 + d2d_sigma * n1 (not for stuck cells);
///   drift:     (not for stuck cells) f = dev.drift_fraction(); to_max: p += (gmax_u - p) f; to_min: p += (g0 - p) f;
///              to_target: p += (g0 + (drift_target+1)/2 (L-1) - p) f; random: p += f (L-1) n2;
///   clamp:     p in [0, 2 gmax_u].
/// u, n1, n2 (uniform, normal, normal) are drawn for every cell, used or not, in row-major cell order from
/// rng_stream(key.seed, {0xd2d, key.layer, key.block}), so changing one rate does not reshuffle the others.
/// frac_bits F is the largest in [0, 16] with rows*(2^dac_bits-1)*llround(2 gmax_u 2^F) < 2^24 (every GEMM
/// sum stays float-exact). Throws cim::model_error when F < 2 (block too tall for exact sums), for a bad
/// ratio, and for everything the overload above rejects; dev is validated (cim::config_error).
template <class T>
subarray_block program_block(const T* qweights, std::int64_t weight_rows, int row_begin, int row_end,
                             int ch_begin, int ch_end, const quant_config& q, unsigned cell_bits,
                             const device_config& dev, double on_off_ratio, const rng_key& key);

/// The signed weight stored for (row, channel) of a block, read back from its cells (the inverse of
/// program_block's slicing; for tests and debugging). Ideal blocks only.
std::int32_t decode_weight(const subarray_block& b, int row, int channel, const quant_config& q);

/// Rows of the block one conversion sums: min(rows_per_read, b.rows), or all of them for rows_per_read <= 0.
inline int rows_per_conversion(const subarray_block& b, int rows_per_read) {
    return rows_per_read > 0 && rows_per_read < b.rows ? rows_per_read : b.rows;
}

/// The largest column sum the block can produce for one input slice: rows * (2^dac_bits-1) * (2^cell_bits-1),
/// rows = rows_per_conversion(b, rows_per_read).
/// The default ADC full scale. For a non-ideal block this is the nominal value (same units as the real
/// column values after the off-current subtraction); variation and stuck-on cells may exceed it and clip.
std::int64_t full_scale(const subarray_block& b, const quant_config& q, int rows_per_read = 0);

}  // namespace cim::func
