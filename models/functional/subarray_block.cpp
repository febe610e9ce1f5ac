#include "models/functional/subarray_block.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <limits>
#include <string>

#include "models/core/error.h"
#include "models/core/rng.h"

namespace cim::func {

namespace {

// Every partial sum of the float GEMM in block_mvm must be an integer below 2^24 so float adds it
// exactly; then the result does not depend on the summation order Eigen picks (blocking, SIMD width,
// FMA), which is what lets the platform and batched engines agree bit for bit.
constexpr std::int64_t float_exact_limit = std::int64_t{1} << 24;

}  // namespace

std::int64_t full_scale(const subarray_block& b, const quant_config& q, int rows_per_read) {
    return std::int64_t{rows_per_conversion(b, rows_per_read)} * ((std::int64_t{1} << q.dac_bits) - 1) * ((std::int64_t{1} << b.cell_bits) - 1);
}

cell_levels::cell_levels(std::vector<float> v) {
    bool small = true;
    for (float x : v) small = small && x >= 0.0f && x <= 255.0f && x == static_cast<float>(static_cast<int>(x));
    if (!small) {
        m_size = v.size();
        m_floats = std::move(v);
        return;
    }
    std::vector<std::uint8_t> b(v.size());
    for (std::size_t k = 0; k < v.size(); ++k) b[k] = static_cast<std::uint8_t>(v[k]);
    *this = cell_levels(std::move(b));
}

cell_levels::cell_levels(std::vector<std::uint8_t> v) : m_size(v.size()) {
    std::uint8_t top = 0;
    for (std::uint8_t x : v) top = std::max(top, x);
    if (top >= 16) {
        m_bytes = std::move(v);
        return;
    }
    m_nibbles = true;
    const std::size_t pairs = v.size() / 2;
    m_bytes.resize((v.size() + 1) / 2);
    for (std::size_t k = 0; k < pairs; ++k) m_bytes[k] = static_cast<std::uint8_t>(v[2 * k] | (v[2 * k + 1] << 4));
    if (v.size() & 1) m_bytes[pairs] = v.back();
}

cell_levels cell_levels::from_nibbles(std::vector<std::uint8_t> packed, std::size_t size) {
    if (packed.size() != (size + 1) / 2) throw std::logic_error("cell_levels::from_nibbles: size mismatch");
    cell_levels c;
    c.m_size = size;
    c.m_nibbles = true;
    c.m_bytes = std::move(packed);
    return c;
}

void cell_levels::unpack_rows(int cols, std::uint8_t* dst, std::size_t ld) const {
    const auto c = static_cast<std::size_t>(cols);
    const std::size_t rows = c ? m_size / c : 0;
    if (!m_nibbles) {
        for (std::size_t r = 0; r < rows; ++r) std::copy_n(&m_bytes[r * c], c, dst + r * ld);
        return;
    }
    for (std::size_t r = 0; r < rows; ++r) {
        std::uint8_t* d = dst + r * ld;
        std::size_t k = r * c;  // index of the row's first level
        std::size_t j = 0;
        if (k & 1) d[j++] = static_cast<std::uint8_t>(m_bytes[k++ >> 1] >> 4);  // a row that starts mid-byte
        const std::uint8_t* src = &m_bytes[k >> 1];
        const std::size_t pairs = (c - j) / 2;
        for (std::size_t p = 0; p < pairs; ++p) {
            d[j + 2 * p] = src[p] & 15;
            d[j + 2 * p + 1] = static_cast<std::uint8_t>(src[p] >> 4);
        }
        j += 2 * pairs;
        if (j < c) d[j] = src[pairs] & 15;
    }
}

std::vector<float> cell_levels::to_floats() const {
    if (!m_floats.empty()) return m_floats;
    std::vector<float> f(m_size);
    for (std::size_t k = 0; k < m_size; ++k) f[k] = (*this)[k];
    return f;
}

template <class T>
subarray_block program_block(const T* qweights, std::int64_t weight_rows, int row_begin, int row_end,
                             int ch_begin, int ch_end, const quant_config& q, unsigned cell_bits) {
    q.validate();
    if (cell_bits < 1 || cell_bits > 8)
        throw model_error("cell_bits", "must be in 1..8, got " + std::to_string(cell_bits));
    if (row_begin < 0 || row_end <= row_begin || row_end > weight_rows)
        throw model_error("block.rows", "row window [" + std::to_string(row_begin) + ", " + std::to_string(row_end) +
                                            ") is empty or outside 0.." + std::to_string(weight_rows));
    if (ch_begin < 0 || ch_end <= ch_begin)
        throw model_error("block.channels", "channel window [" + std::to_string(ch_begin) + ", " +
                                                std::to_string(ch_end) + ") is empty or negative");

    subarray_block b;
    b.rows = row_end - row_begin;
    b.out_channels = ch_end - ch_begin;
    b.slices = columns_per_weight(q, cell_bits);
    b.ref_cols = reference_columns(q, cell_bits);
    b.cell_bits = cell_bits;
    if (full_scale(b, q) >= float_exact_limit)
        throw model_error("block.rows", std::to_string(b.rows) + " rows with " + std::to_string(q.dac_bits) +
                                            "-bit DAC and " + std::to_string(cell_bits) +
                                            "-bit cells can exceed 2^24 per column (float-exact limit)");

    const int cols = b.columns();
    const std::int32_t mask = (std::int32_t{1} << cell_bits) - 1;
    const std::int32_t wmax = weight_max(q);
    const std::int32_t offset = std::int32_t{1} << (q.weight_bits - 1);
    const bool diff = q.differential();
    const unsigned half = b.slices / 2;

    // The levels of one weight's cells (both sides for differential), written from `cell` on.
    auto slice = [&](std::int32_t w, std::uint8_t* cell) {
        if (diff) {
            const std::int32_t mag = w < 0 ? -w : w;
            std::uint8_t* side = w < 0 ? cell + half : cell;
            for (unsigned j = 0; j < half; ++j) side[j] = static_cast<std::uint8_t>((mag >> (j * cell_bits)) & mask);
        } else {
            const std::int32_t wu = w + offset;
            for (unsigned j = 0; j < b.slices; ++j) cell[j] = static_cast<std::uint8_t>((wu >> (j * cell_bits)) & mask);
        }
    };
    // Looked up per weight (w + wmax -> its cells) when the table is smaller than the block, as for 8-bit weights.
    const std::size_t sl = b.slices;
    const bool lookup = 2 * static_cast<std::int64_t>(wmax) + 1 <= std::int64_t{b.rows} * b.out_channels;
    std::vector<std::uint8_t> cells_of(lookup ? static_cast<std::size_t>(2 * wmax + 1) * sl : 0, 0);
    if (lookup)
        for (std::int32_t w = -wmax; w <= wmax; ++w) slice(w, &cells_of[static_cast<std::size_t>(w + wmax) * sl]);
    const auto span = static_cast<std::uint64_t>(2 * wmax);
    auto out_of_range = [&](std::int32_t w, int oc, int r) {
        throw model_error("weights", "weight " + std::to_string(w) + " at channel " + std::to_string(ch_begin + oc) +
                                         ", row " + std::to_string(row_begin + r) + " is outside +-" +
                                         std::to_string(wmax) + " for " + std::to_string(q.weight_bits) +
                                         "-bit weights");
    };
    const std::size_t n_levels = static_cast<std::size_t>(b.rows) * cols;
    if (lookup && cell_bits <= 4 && sl % 2 == 0 && cols % 2 == 0) {
        // Levels below 16 with an even number per weight and per row: each weight's cells are whole bytes of the
        // two-to-a-byte storage, written straight from a table of those bytes.
        const std::size_t bw = sl / 2;
        std::vector<std::uint8_t> bytes_of(static_cast<std::size_t>(2 * wmax + 1) * bw);
        for (std::size_t k = 0; k < bytes_of.size(); ++k)
            bytes_of[k] = static_cast<std::uint8_t>(cells_of[2 * k] | (cells_of[2 * k + 1] << 4));
        std::vector<std::uint8_t> packed(n_levels / 2, 0);
        const std::size_t row_bytes = static_cast<std::size_t>(cols) / 2;
        for (int oc = 0; oc < b.out_channels; ++oc) {
            const T* wrow = qweights + static_cast<std::int64_t>(ch_begin + oc) * weight_rows + row_begin;
            std::uint8_t* col = &packed[static_cast<std::size_t>(oc) * bw];
            for (int r = 0; r < b.rows; ++r) {
                const std::int32_t w = static_cast<std::int32_t>(wrow[r]);
                if (static_cast<std::uint64_t>(std::int64_t{w} + wmax) > span) out_of_range(w, oc, r);  // also w < -wmax
                const std::uint8_t* src = &bytes_of[static_cast<std::size_t>(w + wmax) * bw];
                std::uint8_t* dst = col + static_cast<std::size_t>(r) * row_bytes;
                if (bw == 1) *dst = *src;
                else std::memcpy(dst, src, bw);
            }
        }
        for (int r = 0; r < b.rows; ++r)
            for (unsigned j = 0; j < b.ref_cols; ++j) {
                const std::size_t k = static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(b.out_channels) * sl + j;
                packed[k >> 1] |= static_cast<std::uint8_t>(((offset >> (j * cell_bits)) & mask) << ((k & 1) * 4));
            }
        b.levels = cell_levels::from_nibbles(std::move(packed), n_levels);
        return b;
    }
    std::vector<std::uint8_t> levels(n_levels, 0);  // integer levels < 2^cell_bits <= 256
    for (int oc = 0; oc < b.out_channels; ++oc) {
        const T* wrow = qweights + static_cast<std::int64_t>(ch_begin + oc) * weight_rows + row_begin;
        std::uint8_t* col = &levels[static_cast<std::size_t>(oc) * sl];
        for (int r = 0; r < b.rows; ++r) {
            const std::int32_t w = static_cast<std::int32_t>(wrow[r]);
            if (static_cast<std::uint64_t>(std::int64_t{w} + wmax) > span) out_of_range(w, oc, r);  // also w < -wmax
            std::uint8_t* cell = col + static_cast<std::size_t>(r) * cols;
            if (lookup) {
                // A few bytes: fixed-size copies for the usual widths (a loop would become a call to memmove).
                const std::uint8_t* src = &cells_of[static_cast<std::size_t>(w + wmax) * sl];
                if (sl == 2)
                    std::memcpy(cell, src, 2);
                else if (sl == 1)
                    *cell = *src;
                else if (sl == 4)
                    std::memcpy(cell, src, 4);
                else
                    std::memcpy(cell, src, sl);
            } else
                slice(w, cell);
        }
    }
    for (int r = 0; r < b.rows; ++r) {
        std::uint8_t* ref = &levels[static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(b.out_channels) * b.slices];
        for (unsigned j = 0; j < b.ref_cols; ++j) ref[j] = static_cast<std::uint8_t>((offset >> (j * cell_bits)) & mask);
    }
    b.levels = cell_levels(std::move(levels));
    return b;
}

template <class T>
subarray_block program_block(const T* qweights, std::int64_t weight_rows, int row_begin, int row_end,
                             int ch_begin, int ch_end, const quant_config& q, unsigned cell_bits,
                             const device_config& dev, double on_off_ratio, const rng_key& key) {
    dev.validate();
    subarray_block b = program_block(qweights, weight_rows, row_begin, row_end, ch_begin, ch_end, q, cell_bits);
    if (dev.ideal()) return b;

    const bool infinite_ratio = on_off_ratio == 0.0 || std::isinf(on_off_ratio);
    if (!infinite_ratio && !(on_off_ratio > 1.0))
        throw model_error("cell.on_off_ratio", "must be > 1 (or 0 / inf for an infinite ratio), got " +
                                                   std::to_string(on_off_ratio));
    // Levels are equally spaced in conductance: g_k = g_min + k dg, dg = (g_max - g_min)/(L-1). With
    // g_min = g_max/ratio, g_min/dg = (L-1)/(ratio-1).
    const double top = static_cast<double>((std::int64_t{1} << cell_bits) - 1);  // L - 1
    const double g0 = infinite_ratio ? 0.0 : top / (on_off_ratio - 1.0);
    const double gmax_u = top + g0;
    const double p_max = 2.0 * gmax_u;  // clamp: keeps the fixed-point range bounded whatever the draws

    // Largest F that keeps the worst-case column sum (every row at the DAC maximum, every cell at the clamp)
    // below 2^24, so the float GEMM of block_mvm stays exact and order-independent.
    const std::int64_t dac_max = (std::int64_t{1} << q.dac_bits) - 1;
    int frac = -1;
    for (int f = 16; f >= 0; --f) {
        const std::int64_t cell_max = std::llround(std::ldexp(p_max, f));
        if (std::int64_t{b.rows} * dac_max * cell_max < float_exact_limit) {
            frac = f;
            break;
        }
    }
    if (frac < 2)
        throw model_error("block.rows", std::to_string(b.rows) + " rows with " + std::to_string(q.dac_bits) +
                                            "-bit DAC and " + std::to_string(cell_bits) + "-bit cells (g_max = " +
                                            std::to_string(gmax_u) +
                                            " levels) leave fewer than 2 fractional bits of conductance "
                                            "within the float-exact column sum (2^24); use fewer rows");
    const unsigned F = static_cast<unsigned>(frac);
    const double scale = std::ldexp(1.0, frac);

    const double on = dev.stuck_on_rate;
    const double on_off = dev.stuck_on_rate + dev.stuck_off_rate;
    const double f = dev.drift_fraction();
    const std::string& drift = dev.drift;
    const int kind = drift == "to_max" ? 1 : drift == "to_min" ? 2 : drift == "to_target" ? 3 : drift == "random" ? 4 : 0;
    // to_target: weight -1 maps to g_min (p = g0) and +1 to g_max (p = gmax_u), linearly.
    const double p_target = g0 + (dev.drift_target + 1.0) / 2.0 * top;

    rng_stream rng(key.seed, {0xd2d, key.layer, key.block});
    std::vector<float> levels = b.levels.to_floats();
    for (float& cell : levels) {
        // Always three draws per cell (see the header).
        const double u = rng.uniform();
        const double n1 = rng.normal();
        const double n2 = rng.normal();
        double p = static_cast<double>(cell) + g0;
        if (u < on) {
            p = gmax_u;
        } else if (u < on_off) {
            p = g0;
        } else {
            // A stuck cell is a fault that holds its state, so neither variation nor drift moves it.
            p *= 1.0 + dev.d2d_sigma * n1;
            switch (kind) {
            case 1: p += (gmax_u - p) * f; break;
            case 2: p += (g0 - p) * f; break;
            case 3: p += (p_target - p) * f; break;
            case 4: p += f * top * n2; break;
            default: break;
            }
        }
        p = std::min(std::max(p, 0.0), p_max);
        cell = static_cast<float>(std::llround(p * scale));  // < 2^24: exact in float
    }
    b.levels = cell_levels(std::move(levels));
    b.frac_bits = F;
    b.g0_fixed = std::llround(g0 * scale);
    b.gmax_units = gmax_u;
    return b;
}

#define CIM_PROGRAM_BLOCK(T)                                                                                       \
    template subarray_block program_block<T>(const T*, std::int64_t, int, int, int, int, const quant_config&, unsigned); \
    template subarray_block program_block<T>(const T*, std::int64_t, int, int, int, int, const quant_config&, unsigned,  \
                                             const device_config&, double, const rng_key&);
CIM_PROGRAM_BLOCK(std::int8_t)
CIM_PROGRAM_BLOCK(std::int16_t)
CIM_PROGRAM_BLOCK(std::int32_t)
#undef CIM_PROGRAM_BLOCK

std::int32_t decode_weight(const subarray_block& b, int row, int channel, const quant_config& q) {
    if (!b.ideal()) throw model_error("block", "decode_weight needs an ideal (integer-level) block");
    const int base = channel * static_cast<int>(b.slices);
    auto value = [&](unsigned first, unsigned count) {
        std::int32_t v = 0;
        for (unsigned j = 0; j < count; ++j)
            v += static_cast<std::int32_t>(b.level(row, base + static_cast<int>(first + j))) << (j * b.cell_bits);
        return v;
    };
    if (q.differential()) {
        const unsigned half = b.slices / 2;
        return value(0, half) - value(half, half);
    }
    return value(0, b.slices) - (std::int32_t{1} << (q.weight_bits - 1));
}

}  // namespace cim::func
