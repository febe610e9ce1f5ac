#pragma once
#include <cstdint>
#include <vector>

#include "models/functional/quant_config.h"

namespace cim::func {

/// The programmed cell levels of one subarray block: a run of weight rows (word lines) times a run of
/// output channels, bit-sliced into cells of cell_bits each, plus the block's reference columns.
/// Column order: channel-major, then slice; slice 0 holds the least significant cell_bits.
///   offset:       channel oc uses columns [oc*slices, (oc+1)*slices), the cells of w + 2^(wb-1);
///   differential: channel oc uses [oc*slices, oc*slices + slices/2) for G+ and the next slices/2 for G-,
///                 each holding the slices of |w| on the side of its sign (the other side is 0);
///   reference:    the last ref_cols columns hold the slices of 2^(wb-1) in every row (offset only).
/// Levels are integers stored as float so the kernel can use a float GEMM, which is exact here.
/// Does not model: conductance (g_min, on/off ratio), device variation, stuck-at faults, drift.
struct subarray_block {
    int rows = 0;
    int out_channels = 0;
    unsigned slices = 0;
    unsigned ref_cols = 0;
    unsigned cell_bits = 0;
    /// rows x columns(), row-major.
    std::vector<float> levels;

    int columns() const { return out_channels * static_cast<int>(slices) + static_cast<int>(ref_cols); }
    float level(int row, int column) const { return levels[static_cast<std::size_t>(row) * columns() + column]; }
};

/// Slices the weights of rows [row_begin, row_end) and channels [ch_begin, ch_end) into one block.
/// qweights is row-major [out_channels_total][weight_rows]: channel oc, row r is qweights[oc*weight_rows + r].
/// Throws cim::model_error for an empty or out-of-range window, a weight outside
/// [-(2^(wb-1)-1), 2^(wb-1)-1], or a block whose column sums could exceed the float-exact range
/// (rows * (2^dac_bits-1) * (2^cell_bits-1) >= 2^24).
subarray_block program_block(const std::int32_t* qweights, std::int64_t weight_rows, int row_begin, int row_end,
                             int ch_begin, int ch_end, const quant_config& q, unsigned cell_bits);

/// The signed weight stored for (row, channel) of a block, read back from its cells (the inverse of
/// program_block's slicing; for tests and debugging).
std::int32_t decode_weight(const subarray_block& b, int row, int channel, const quant_config& q);

/// The largest column sum the block can produce for one input slice: rows * (2^dac_bits-1) * (2^cell_bits-1).
/// The default ADC full scale.
std::int64_t full_scale(const subarray_block& b, const quant_config& q);

}  // namespace cim::func
