#include "models/functional/subarray_block.h"

#include <string>

#include "models/core/error.h"

namespace cim::func {

namespace {

// Every partial sum of the float GEMM in block_mvm must be an integer below 2^24 so float adds it
// exactly; then the result does not depend on the summation order Eigen picks (blocking, SIMD width,
// FMA), which is what lets the platform and batched engines agree bit for bit.
constexpr std::int64_t float_exact_limit = std::int64_t{1} << 24;

}  // namespace

std::int64_t full_scale(const subarray_block& b, const quant_config& q) {
    return std::int64_t{b.rows} * ((std::int64_t{1} << q.dac_bits) - 1) * ((std::int64_t{1} << b.cell_bits) - 1);
}

subarray_block program_block(const std::int32_t* qweights, std::int64_t weight_rows, int row_begin, int row_end,
                             int ch_begin, int ch_end, const quant_config& q, unsigned cell_bits) {
    q.validate();
    if (cell_bits < 1 || cell_bits > 16)
        throw model_error("cell_bits", "must be in 1..16, got " + std::to_string(cell_bits));
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
    b.levels.assign(static_cast<std::size_t>(b.rows) * cols, 0.0f);
    const std::int32_t mask = (std::int32_t{1} << cell_bits) - 1;
    const std::int32_t wmax = weight_max(q);
    const std::int32_t offset = std::int32_t{1} << (q.weight_bits - 1);
    const bool diff = q.differential();
    const unsigned half = b.slices / 2;

    for (int oc = 0; oc < b.out_channels; ++oc) {
        const std::int32_t* wrow = qweights + static_cast<std::int64_t>(ch_begin + oc) * weight_rows + row_begin;
        for (int r = 0; r < b.rows; ++r) {
            const std::int32_t w = wrow[r];
            if (w < -wmax || w > wmax)
                throw model_error("weights", "weight " + std::to_string(w) + " at channel " +
                                                 std::to_string(ch_begin + oc) + ", row " +
                                                 std::to_string(row_begin + r) + " is outside +-" +
                                                 std::to_string(wmax) + " for " + std::to_string(q.weight_bits) +
                                                 "-bit weights");
            float* cell = &b.levels[static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(oc) * b.slices];
            if (diff) {
                const std::int32_t mag = w < 0 ? -w : w;
                float* side = w < 0 ? cell + half : cell;
                for (unsigned j = 0; j < half; ++j) side[j] = static_cast<float>((mag >> (j * cell_bits)) & mask);
            } else {
                const std::int32_t wu = w + offset;
                for (unsigned j = 0; j < b.slices; ++j) cell[j] = static_cast<float>((wu >> (j * cell_bits)) & mask);
            }
        }
    }
    for (int r = 0; r < b.rows; ++r) {
        float* ref = &b.levels[static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(b.out_channels) * b.slices];
        for (unsigned j = 0; j < b.ref_cols; ++j) ref[j] = static_cast<float>((offset >> (j * cell_bits)) & mask);
    }
    return b;
}

std::int32_t decode_weight(const subarray_block& b, int row, int channel, const quant_config& q) {
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
