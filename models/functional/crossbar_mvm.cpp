#include "models/functional/crossbar_mvm.h"

#include <Eigen/Core>
#include <algorithm>
#include <string>
#include <vector>

#include "models/core/error.h"

namespace cim::func {

namespace {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr std::int64_t float_exact_limit = std::int64_t{1} << 24;

// Reused across calls so the per-transaction path (n = 1, called millions of times) does not allocate;
// std::vector keeps its capacity on resize, unlike an Eigen matrix.
struct scratch {
    std::vector<float> x;  // (slices * m) x rows: the DAC inputs of a chunk, slice-major
    std::vector<float> s;  // (slices * m) x columns: the column sums
};

// Vectors per GEMM. All input slices of a chunk are stacked into one GEMM of about this many rows, so
// one vector (the platform case) still makes a reasonable GEMM and a batch keeps its scratch in cache.
constexpr int gemm_rows = 256;

}  // namespace

void block_mvm(const subarray_block& b, const std::int32_t* x, int n, int x_stride, const quant_config& q,
               const adc_transfer& adc, std::int64_t* out, mvm_activity* act) {
    if (b.slices != columns_per_weight(q, b.cell_bits) || b.ref_cols != reference_columns(q, b.cell_bits))
        throw model_error("block", "block was not sliced for this quant_config (" + std::to_string(b.slices) +
                                       " slices, " + std::to_string(b.ref_cols) + " reference columns)");
    if (b.levels.size() != static_cast<std::size_t>(b.rows) * static_cast<std::size_t>(b.columns()))
        throw model_error("block", "levels size does not match rows x columns");
    if (full_scale(b, q) >= float_exact_limit)
        throw model_error("block.rows", "column sums can exceed 2^24 (float-exact limit) with " +
                                            std::to_string(q.dac_bits) + "-bit DAC");
    if (n < 0 || (n > 1 && x_stride < b.rows))
        throw model_error("block_mvm", "bad vector count or stride");
    if (n == 0) return;

    const int rows = b.rows;
    const int cols = b.columns();
    const int oc_n = b.out_channels;
    const int slices = static_cast<int>(b.slices);
    const unsigned cell_bits = b.cell_bits;
    const unsigned dac_bits = q.dac_bits;
    const int t_n = static_cast<int>(input_slices(q));
    const std::int32_t dac_mask = (std::int32_t{1} << dac_bits) - 1;
    const std::int32_t out_of_range = ~((std::int32_t{1} << q.input_bits) - 1);  // also catches negatives

    for (int i = 0; i < n; ++i) {
        const std::int32_t* xi = x + static_cast<std::int64_t>(i) * x_stride;
        std::int32_t bad = 0;
        for (int r = 0; r < rows; ++r) bad |= xi[r] & out_of_range;
        if (bad != 0)
            throw model_error("inputs", "input vector " + std::to_string(i) + " has a value outside [0, 2^" +
                                            std::to_string(q.input_bits) + ")");
    }

    std::fill(out, out + static_cast<std::int64_t>(n) * oc_n, std::int64_t{0});
    thread_local scratch sc;
    const Eigen::Map<const row_major> levels(b.levels.data(), rows, cols);
    const int chunk = std::max(1, gemm_rows / t_n);
    std::uint64_t ones = 0;
    std::int64_t current = 0;  // exact integer total; converted to double once per call

    for (int c0 = 0; c0 < n; c0 += chunk) {
        const int m = std::min(chunk, n - c0);
        const int gm = t_n * m;
        sc.x.resize(static_cast<std::size_t>(gm) * rows);
        sc.s.resize(static_cast<std::size_t>(gm) * cols);
        for (int t = 0; t < t_n; ++t) {
            const unsigned shift = static_cast<unsigned>(t) * dac_bits;
            for (int i = 0; i < m; ++i) {
                const std::int32_t* xi = x + static_cast<std::int64_t>(c0 + i) * x_stride;
                float* dst = &sc.x[static_cast<std::size_t>(t * m + i) * rows];
                for (int r = 0; r < rows; ++r) {
                    const std::int32_t v = (xi[r] >> shift) & dac_mask;
                    ones += v != 0;
                    dst[r] = static_cast<float>(v);
                }
            }
        }
        Eigen::Map<const row_major> xs(sc.x.data(), gm, rows);
        Eigen::Map<row_major> sums(sc.s.data(), gm, cols);
        sums.noalias() = xs * levels;

        for (int t = 0; t < t_n; ++t) {
            const std::int64_t t_weight = std::int64_t{1} << (static_cast<unsigned>(t) * dac_bits);
            for (int i = 0; i < m; ++i) {
                const float* srow = &sc.s[static_cast<std::size_t>(t * m + i) * cols];
                std::int64_t* o = out + static_cast<std::int64_t>(c0 + i) * oc_n;
                // Column sums are integers below 2^24, so the float -> int conversion is exact.
                auto conv = [&](int c) {
                    const auto s = static_cast<std::int64_t>(srow[c]);
                    current += s;
                    return adc.convert(s);
                };
                std::int64_t ref = 0;
                for (unsigned j = 0; j < b.ref_cols; ++j) ref += conv(oc_n * slices + static_cast<int>(j)) << (j * cell_bits);
                if (q.differential()) {
                    const int half = slices / 2;
                    for (int oc = 0; oc < oc_n; ++oc) {
                        const int base = oc * slices;
                        std::int64_t acc = 0;
                        for (int j = 0; j < half; ++j) {
                            const unsigned sh = static_cast<unsigned>(j) * cell_bits;
                            acc += (conv(base + j) << sh) - (conv(base + half + j) << sh);
                        }
                        o[oc] += acc * t_weight;  // acc may be negative: multiply, never shift it
                    }
                } else {
                    for (int oc = 0; oc < oc_n; ++oc) {
                        const int base = oc * slices;
                        std::int64_t acc = 0;
                        for (int j = 0; j < slices; ++j) acc += conv(base + j) << (static_cast<unsigned>(j) * cell_bits);
                        o[oc] += (acc - ref) * t_weight;
                    }
                }
            }
        }
    }

    if (act != nullptr) {
        act->input_ones += ones;
        act->column_reads += static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(t_n) * static_cast<std::uint64_t>(cols);
        act->column_sum_total += static_cast<double>(current);
    }
}

void reference_mvm(const std::int32_t* qweights, std::int64_t weight_rows, int out_channels, const std::int32_t* x,
                   int n, std::int64_t* out) {
    for (int i = 0; i < n; ++i) {
        const std::int32_t* xi = x + static_cast<std::int64_t>(i) * weight_rows;
        for (int oc = 0; oc < out_channels; ++oc) {
            const std::int32_t* w = qweights + static_cast<std::int64_t>(oc) * weight_rows;
            std::int64_t acc = 0;
            for (std::int64_t r = 0; r < weight_rows; ++r) acc += std::int64_t{w[r]} * xi[r];
            out[static_cast<std::int64_t>(i) * out_channels + oc] = acc;
        }
    }
}

}  // namespace cim::func
