#pragma once
#include <cstdint>

#include "models/functional/adc_transfer.h"
#include "models/functional/quant_config.h"
#include "models/functional/subarray_block.h"

namespace cim::func {

/// Data-dependent activity of block_mvm calls, for energy from real data. Accumulated (+=).
struct mvm_activity {
    /// Over vectors, input slices and rows: word lines driven with a non-zero DAC value.
    std::uint64_t input_ones = 0;
    /// n * input slices * columns (reference columns included): column read-outs, i.e. ADC conversions.
    std::uint64_t column_reads = 0;
    /// Sum of all column sums before the ADC: total cell current in units of one level times one input unit.
    double column_sum_total = 0.0;
};

/// The crossbar kernel: n input vectors through one programmed subarray block, bit-serially.
/// For each input slice t (dac_bits per cycle, t = 0 least significant) every column sum
/// S = X_t * levels passes adc.convert, and the digital shift-add forms
///   out[i][oc] = sum_t sum_j conv(S_t[i][oc, j]) << (j*cell_bits + t*dac_bits)
/// minus the same shift-add of the reference columns (offset) or of the G- columns (differential).
/// x: vector i starts at x + i*x_stride and holds the block's rows, each in [0, 2^input_bits).
/// out: n x out_channels, row-major, overwritten. act: may be null.
/// Deterministic and independent of n and of how callers batch vectors: every column sum is exact
/// (see program_block), so calling with n vectors or n times with one gives identical bits.
/// Thread-safe (scratch buffers are thread_local).
/// Throws cim::model_error when q does not match how the block was sliced, when the block exceeds the
/// float-exact range for q.dac_bits, or when an input is out of range.
/// Does not model: analog non-idealities (IR drop, read noise), partial-sum accumulation across blocks.
void block_mvm(const subarray_block& b, const std::int32_t* x, int n, int x_stride, const quant_config& q,
               const adc_transfer& adc, std::int64_t* out, mvm_activity* act);

/// Plain integer reference: out[i][oc] = sum_r qweights[oc*weight_rows + r] * x[i*weight_rows + r], int64.
/// qweights is row-major [out_channels][weight_rows]; x is n x weight_rows row-major; out is n x out_channels.
void reference_mvm(const std::int32_t* qweights, std::int64_t weight_rows, int out_channels, const std::int32_t* x,
                   int n, std::int64_t* out);

}  // namespace cim::func
