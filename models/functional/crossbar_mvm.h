#pragma once
#include <cstdint>

#include "models/functional/adc_transfer.h"
#include "models/functional/column_histogram.h"
#include "models/functional/int8_gemm.h"
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

/// Per-read options of block_mvm: cycle-to-cycle read noise and the calibration hook.
struct read_options {
    /// device_config::read_noise_sigma; > 0 needs a non-ideal block (program_block with that device_config).
    double read_noise_sigma = 0;
    /// Key of the noise streams: rng_stream(seed, {0x4e015e, layer, block, vector_ids[i]}).
    std::uint64_t seed = 0, layer = 0, block = 0;
    /// n stable ids, one per vector of the call (e.g. the output-pixel index in the layer): the noise of a
    /// vector depends on its id, never on its position in a batch. Required when read_noise_sigma > 0.
    const std::int64_t* vector_ids = nullptr;
    /// When non-null, receives every column value the ADC converts (reference columns included, read
    /// noise included), for ADC calibration. Not synchronised: one histogram per thread.
    column_histogram* observe = nullptr;
    /// Rows whose currents one conversion sums: 0 (or >= the block's rows) reads all rows at once (parallel
    /// read-out); 1 reads row by row (sequential); N reads groups of N consecutive rows (partial). Each group's
    /// column value passes the ADC on its own and the shift-add sums the converted values. Build the ADC for
    /// full_scale(b, q, rows_per_read).
    int rows_per_read = 0;
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
/// Does not model: IR drop, partial-sum accumulation across blocks.
void block_mvm(const subarray_block& b, const std::int32_t* x, int n, int x_stride, const quant_config& q,
               const adc_transfer& adc, std::int64_t* out, mvm_activity* act);

/// block_mvm with read options. For an ideal block (frac_bits 0) the column value is the integer sum S
/// and the path is the one above. For a non-ideal block the column value is real:
///   s = (S - g0_fixed * A) / 2^frac_bits,
/// S the exact GEMM sum of the fixed-point conductances, A = sum over rows of the slice's DAC values; the
/// periphery subtracts the nominal off current g0 of every active input unit (a digital correction from the
/// input count, exact in fixed point), so with nominal devices s is exactly the ideal integer sum.
/// Read noise: s += read_noise_sigma * sqrt(max(0, S/2^F) * gmax_units) * N(0,1). Each cell's read
/// current has relative sigma read_noise_sigma; treating a DAC value x as x unit reads, the variance of a
/// column is sigma^2 * sum_r x_r g_r^2 <= sigma^2 * g_max * sum_r x_r g_r = sigma^2 * gmax_units * S/2^F,
/// exact when every active cell sits at g_max (one draw per column instead of one per cell keeps the cost
/// near the ideal path's). N(0,1): ziggurat draws from rng_stream(seed, {0x4e015e, layer, block, id}), per
/// vector in order (input slice t ascending, column ascending). Then adc.convert_real(s) and the same
/// shift-add. mvm_activity::column_sum_total adds the noiseless s.
/// Cost (128x128 block, 8-bit inputs, 1-bit DAC): ~1.8-2x the ideal path on the float GEMM, more next to the
/// ideal path's int8 kernel; more again with read noise (one ziggurat normal per column read).
/// Results for a vector depend only on the block, the vector, its id and ro, never on n or batching.
/// Grouped reads (ro.rows_per_read < rows): the steps above per group of rows, the off current subtracted per
/// group and read noise keyed by {0x4e015e, layer, block, id, group, slice}. A (vector, slice) that drives no row
/// of a group reads 0 on every column; when the ADC converts 0 to 0 (and no histogram is observed) those
/// conversions are skipped: exact, and ~1 / input-bit density faster. When every group sum the block can
/// produce converts to itself (an ideal block and a lossless ADC for the group, e.g. 1-bit cells sensed row
/// by row), the groups are not formed: the sum of exact conversions is the exact column sum.
void block_mvm(const subarray_block& b, const std::int32_t* x, int n, int x_stride, const quant_config& q,
               const adc_transfer& adc, std::int64_t* out, mvm_activity* act, const read_options& ro);

/// Plain integer reference: out[i][oc] = sum_r qweights[oc*weight_rows + r] * x[i*weight_rows + r], int64.
/// qweights is row-major [out_channels][weight_rows]; x is n x weight_rows row-major; out is n x out_channels.
/// T: the weights' storage, std::int8_t, std::int16_t or std::int32_t.
template <class T>
void reference_mvm(const T* qweights, std::int64_t weight_rows, int out_channels, const std::int32_t* x, int n,
                   std::int64_t* out);

/// A weight matrix prepared once for many reference_mvm calls: the weights themselves (`width` bytes per value), and
/// their copy packed for the int8 kernel (int8_gemm.h) when that kernel runs here, every weight fits a signed byte
/// and the rows keep every int32 sum exact (weight_rows * 255 * 128 < 2^31). Refers to the weights, which must
/// outlive it.
struct reference_weights {
    const void* qweights = nullptr;
    unsigned width = 4;
    std::int64_t weight_rows = 0;
    int out_channels = 0;
    bool packed = false;
    int8::packed_b int8;
};
/// Prepares the weights; packs them only when `pack` (worth it for many input vectors).
template <class T>
reference_weights prepare_reference(const T* qweights, std::int64_t weight_rows, int out_channels, bool pack = true);

/// reference_mvm with prepared weights: the same exact int64 results, through the int8 kernel when the weights are
/// packed and every input is in [0, 255], else as above.
void reference_mvm(const reference_weights& w, const std::int32_t* x, int n, std::int64_t* out);

}  // namespace cim::func
