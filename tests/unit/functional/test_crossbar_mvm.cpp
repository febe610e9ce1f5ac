#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/unit/functional/test_util.h"
#include "models/core/error.h"
#include "models/core/rng.h"
#include "models/functional/crossbar_mvm.h"

namespace cim::func {
namespace {

// A random layer: qweights [chans][rows], inputs [n][rows].
struct layer {
    int rows, chans, n;
    std::vector<std::int32_t> w, x;
    layer(const quant_config& q, int rows_, int chans_, int n_, std::uint64_t seed)
        : rows(rows_), chans(chans_), n(n_), w(rows_ * chans_), x(rows_ * n_) {
        rng_stream rng(seed, {static_cast<std::uint64_t>(rows_)});
        const int wmax = weight_max(q);
        const std::int64_t xmax = (std::int64_t{1} << q.input_bits) - 1;
        for (auto& v : w) v = static_cast<std::int32_t>(rng.uniform_int(-wmax, wmax));
        for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform_int(0, xmax));
        // Extremes exercise the top slices and the full-scale column sums.
        w[0] = wmax;
        w.back() = -wmax;
        x[0] = static_cast<std::int32_t>(xmax);
    }
    std::vector<std::int64_t> reference() const {
        std::vector<std::int64_t> out(static_cast<std::size_t>(n) * chans);
        reference_mvm(w.data(), rows, chans, x.data(), n, out.data());
        return out;
    }
};

TEST(crossbar_mvm, reference_hand_checked) {
    const std::vector<std::int32_t> w = {1, -2, 3, 0, 5, -1};  // 2 channels x 3 rows
    const std::vector<std::int32_t> x = {1, 2, 3, 4, 0, 1};
    std::vector<std::int64_t> out(4);
    reference_mvm(w.data(), 3, 2, x.data(), 2, out.data());
    EXPECT_EQ(out, (std::vector<std::int64_t>{6, 7, 7, -1}));
}

// With a lossless ADC the bit-sliced, bit-serial crossbar is the integer MVM exactly.
TEST(crossbar_mvm, lossless_equals_reference) {
    for (const char* enc : {"offset", "differential"}) {
        for (unsigned cb : {1u, 2u, 4u}) {
            for (unsigned dac : {1u, 2u}) {
                const quant_config q = make(8, 8, dac, enc);
                for (int rows = 1; rows <= 128; ++rows) {
                    const layer l(q, rows, 3, 4, 11);
                    const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, 3, q, cb);
                    const adc_transfer adc(16, full_scale(b, q));
                    ASSERT_TRUE(adc.lossless());
                    std::vector<std::int64_t> out(l.n * 3, -1);
                    block_mvm(b, l.x.data(), l.n, rows, q, adc, out.data(), nullptr);
                    ASSERT_EQ(out, l.reference()) << enc << " cell " << cb << " dac " << dac << " rows " << rows;
                }
            }
        }
    }
}

// Widths that do not divide evenly (partial top slices), and a block that is a window of a larger matrix.
TEST(crossbar_mvm, lossless_ragged_widths_and_windows) {
    for (const char* enc : {"offset", "differential"}) {
        for (unsigned wb : {2u, 5u, 7u, 12u}) {
            for (unsigned ib : {1u, 3u, 7u}) {
                for (unsigned dac : {1u, 2u, 3u}) {
                    if (dac > ib) continue;
                    for (unsigned cb : {1u, 3u, 4u}) {
                        const quant_config q = make(wb, ib, dac, enc);
                        const int rows = 40, chans = 7, n = 5;
                        const layer l(q, rows, chans, n, 23);
                        const int r0 = 9, r1 = 31, c0 = 2, c1 = 6;
                        const subarray_block b = program_block(l.w.data(), rows, r0, r1, c0, c1, q, cb);
                        const adc_transfer adc(16, full_scale(b, q));
                        std::vector<std::int64_t> out(n * (c1 - c0));
                        block_mvm(b, l.x.data() + r0, n, rows, q, adc, out.data(), nullptr);
                        for (int i = 0; i < n; ++i)
                            for (int c = c0; c < c1; ++c) {
                                std::int64_t ref = 0;
                                for (int r = r0; r < r1; ++r) ref += std::int64_t{l.w[c * rows + r]} * l.x[i * rows + r];
                                ASSERT_EQ(out[i * (c1 - c0) + (c - c0)], ref)
                                    << enc << " wb " << wb << " ib " << ib << " dac " << dac << " cb " << cb;
                            }
                    }
                }
            }
        }
    }
}

TEST(crossbar_mvm, coarse_adc_error_shrinks_with_bits) {
    for (const char* enc : {"offset", "differential"}) {
        const quant_config q = make(8, 8, 1, enc);
        const int rows = 128, chans = 16, n = 64;
        const layer l(q, rows, chans, n, 5);
        const std::vector<std::int64_t> ref = l.reference();
        // 4-bit cells: full scale 128 * 15 = 1920, so even 10 bits (1023 levels) stays lossy.
        const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4);
        double previous = INFINITY;
        for (unsigned bits = 3; bits <= 10; ++bits) {
            const adc_transfer adc(bits, full_scale(b, q));
            ASSERT_FALSE(adc.lossless());
            std::vector<std::int64_t> out(n * chans);
            block_mvm(b, l.x.data(), n, rows, q, adc, out.data(), nullptr);
            double err = 0;
            for (std::size_t k = 0; k < out.size(); ++k) err += std::fabs(double(out[k] - ref[k]));
            err /= double(out.size());
            EXPECT_GT(err, 0.0) << enc << " bits " << bits;
            EXPECT_LE(err, previous) << enc << " bits " << bits;
            previous = err;
        }
    }
}

// The platform engine feeds one vector per transaction, the batched engine thousands per call; both
// must produce the same bits and the same activity, even with a lossy ADC.
// Grouped reads (sequential or partial read-out): each group of rows_per_read rows is converted on its own,
// exactly as if every group were its own block, and the shift-add sums the groups.
TEST(crossbar_mvm, grouped_reads_convert_each_group) {
    for (const char* enc : {"offset", "differential"}) {
        const quant_config q = make(8, 8, 1, enc);
        const int rows = 22, chans = 3, group = 4;
        const layer l(q, rows, chans, 5, 21);
        const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 2);
        const adc_transfer adc(2, full_scale(b, q, group));  // 4 rows x 3 levels = 12 on 4 codes: lossy
        ASSERT_FALSE(adc.lossless());
        read_options ro;
        ro.rows_per_read = group;
        std::vector<std::int64_t> grouped(l.n * chans), expected(l.n * chans, 0), part(l.n * chans);
        mvm_activity act;
        block_mvm(b, l.x.data(), l.n, rows, q, adc, grouped.data(), &act, ro);
        std::vector<std::int32_t> xs;
        for (int r0 = 0; r0 < rows; r0 += group) {
            const int r1 = std::min(rows, r0 + group);
            const subarray_block g = program_block(l.w.data(), rows, r0, r1, 0, chans, q, 2);
            xs.clear();
            for (int i = 0; i < l.n; ++i) xs.insert(xs.end(), l.x.begin() + i * rows + r0, l.x.begin() + i * rows + r1);
            block_mvm(g, xs.data(), l.n, r1 - r0, q, adc, part.data(), nullptr);
            for (std::size_t k = 0; k < part.size(); ++k) expected[k] += part[k];
        }
        EXPECT_EQ(grouped, expected) << enc;
        EXPECT_NE(grouped, l.reference()) << enc;  // the coarse ADC loses something
        EXPECT_EQ(act.column_reads, std::uint64_t(l.n) * 8 * b.columns() * 6);  // 6 groups of rows per slice
    }
}

// Sequential read-out of 1-bit cells into 1-bit sense amplifiers is exact; the same 1-bit converter on the
// whole column (parallel read-out) is not.
TEST(crossbar_mvm, sequential_one_bit_sensing_is_exact) {
    const quant_config q = make(8, 8, 1, "differential");
    const int rows = 128, chans = 4;
    const layer l(q, rows, chans, 6, 5);
    const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 1);
    std::vector<std::int64_t> seq(l.n * chans), par(l.n * chans);
    read_options ro;
    ro.rows_per_read = 1;
    block_mvm(b, l.x.data(), l.n, rows, q, adc_transfer(1, full_scale(b, q, 1)), seq.data(), nullptr, ro);
    block_mvm(b, l.x.data(), l.n, rows, q, adc_transfer(1, full_scale(b, q)), par.data(), nullptr);
    EXPECT_EQ(seq, l.reference());
    EXPECT_NE(par, l.reference());
}

TEST(crossbar_mvm, batching_does_not_change_results) {
    for (const char* enc : {"offset", "differential"}) {
        const quant_config q = make(8, 8, 2, enc);
        const int rows = 100, chans = 9, n = 300;  // crosses several internal chunks
        const layer l(q, rows, chans, n, 99);
        const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 2);
        const adc_transfer adc(5, full_scale(b, q));
        std::vector<std::int64_t> batched(n * chans), single(n * chans);
        mvm_activity act_batched, act_single;
        block_mvm(b, l.x.data(), n, rows, q, adc, batched.data(), &act_batched);
        for (int i = 0; i < n; ++i)
            block_mvm(b, l.x.data() + i * rows, 1, rows, q, adc, single.data() + i * chans, &act_single);
        EXPECT_EQ(batched, single) << enc;
        EXPECT_EQ(act_batched.input_ones, act_single.input_ones);
        EXPECT_EQ(act_batched.column_reads, act_single.column_reads);
        EXPECT_EQ(act_batched.column_sum_total, act_single.column_sum_total);
    }
}

TEST(crossbar_mvm, activity_hand_checked) {
    // wb 4, 2-bit cells, offset: w = [1, -2] -> w+8 = [9, 6] -> cells [1,2], [2,1]; reference 8 -> [0,2].
    // x = [3, 2] at 2 input bits, 1 per cycle: slice 0 = [1, 0], slice 1 = [1, 1].
    const quant_config q = make(4, 2, 1, "offset");
    const std::vector<std::int32_t> w = {1, -2};
    const std::vector<std::int32_t> x = {3, 2};
    const subarray_block b = program_block(w.data(), 2, 0, 2, 0, 1, q, 2);
    const adc_transfer adc(8, full_scale(b, q));
    std::int64_t out = 0;
    mvm_activity act;
    block_mvm(b, x.data(), 1, 2, q, adc, &out, &act);
    EXPECT_EQ(out, 3 * 1 + 2 * -2);
    EXPECT_EQ(act.input_ones, 3u);        // 1 in slice 0, 2 in slice 1
    EXPECT_EQ(act.column_reads, 8u);      // 2 slices x 4 columns
    EXPECT_EQ(act.column_sum_total, 15);  // slice 0: 1+2+0+2; slice 1: 3+3+0+4
    block_mvm(b, x.data(), 1, 2, q, adc, &out, &act);  // accumulates
    EXPECT_EQ(act.input_ones, 6u);
    EXPECT_EQ(act.column_reads, 16u);
    EXPECT_EQ(act.column_sum_total, 30);
}

TEST(crossbar_mvm, rejects_bad_inputs) {
    const quant_config q = make(4, 2, 1, "offset");
    const std::vector<std::int32_t> w = {1, -2};
    const subarray_block b = program_block(w.data(), 2, 0, 2, 0, 1, q, 2);
    const adc_transfer adc(8, full_scale(b, q));
    std::int64_t out = 0;
    const std::vector<std::int32_t> too_big = {4, 0}, negative = {0, -1};
    EXPECT_THROW(block_mvm(b, too_big.data(), 1, 2, q, adc, &out, nullptr), model_error);
    EXPECT_THROW(block_mvm(b, negative.data(), 1, 2, q, adc, &out, nullptr), model_error);
    const quant_config other = make(4, 2, 1, "differential");
    const std::vector<std::int32_t> x = {1, 1};
    EXPECT_THROW(block_mvm(b, x.data(), 1, 2, other, adc, &out, nullptr), model_error);
}

}  // namespace
}  // namespace cim::func
