#include <gtest/gtest.h>

#include <vector>

#include "models/core/error.h"
#include "models/core/rng.h"
#include "models/functional/subarray_block.h"

namespace cim::func {
namespace {

quant_config make(unsigned wb, const char* enc) {
    quant_config q;
    q.weight_bits = wb;
    q.encoding = enc;
    return q;
}

TEST(subarray_block, offset_hand_checked) {
    // wb 4, 2-bit cells: w + 8 in two cells; reference weight 8 = cells [0, 2].
    const quant_config q = make(4, "offset");
    const std::vector<std::int32_t> w = {-3, 7};  // one channel, two rows
    const subarray_block b = program_block(w.data(), 2, 0, 2, 0, 1, q, 2);
    ASSERT_EQ(b.rows, 2);
    ASSERT_EQ(b.out_channels, 1);
    ASSERT_EQ(b.slices, 2u);
    ASSERT_EQ(b.ref_cols, 2u);
    ASSERT_EQ(b.columns(), 4);
    // -3 + 8 = 5 = 0b01'01; 7 + 8 = 15 = 0b11'11
    EXPECT_EQ(b.levels, (std::vector<float>{1, 1, 0, 2, 3, 3, 0, 2}));
    EXPECT_EQ(full_scale(b, q), 2 * 1 * 3);
}

TEST(subarray_block, differential_hand_checked) {
    // wb 4: magnitude has 3 bits -> two 2-bit cells per side; columns [G+0, G+1, G-0, G-1].
    const quant_config q = make(4, "differential");
    const std::vector<std::int32_t> w = {-5, 6, 0};
    const subarray_block b = program_block(w.data(), 3, 0, 3, 0, 1, q, 2);
    ASSERT_EQ(b.slices, 4u);
    ASSERT_EQ(b.ref_cols, 0u);
    EXPECT_EQ(b.levels, (std::vector<float>{0, 0, 1, 1, 2, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(subarray_block, window_selects_rows_and_channels) {
    // qweights [3 channels][4 rows]; block = rows 1..2, channels 1..2.
    const quant_config q = make(4, "offset");
    const std::vector<std::int32_t> w = {0, 1, 2, 3, 4, 5, 6, 7, -1, -2, -3, -4};
    const subarray_block b = program_block(w.data(), 4, 1, 3, 1, 3, q, 4);
    ASSERT_EQ(b.rows, 2);
    ASSERT_EQ(b.out_channels, 2);
    EXPECT_EQ(decode_weight(b, 0, 0, q), 5);
    EXPECT_EQ(decode_weight(b, 1, 0, q), 6);
    EXPECT_EQ(decode_weight(b, 0, 1, q), -2);
    EXPECT_EQ(decode_weight(b, 1, 1, q), -3);
}

TEST(subarray_block, slicing_round_trip) {
    rng_stream rng(7, {1});
    for (const char* enc : {"offset", "differential"}) {
        for (unsigned wb : {2u, 3u, 5u, 8u, 12u, 16u}) {
            for (unsigned cb : {1u, 2u, 3u, 4u, 8u}) {
                const quant_config q = make(wb, enc);
                const int wmax = weight_max(q);
                const int rows = 17, chans = 6;
                std::vector<std::int32_t> w(rows * chans);
                for (auto& v : w) v = static_cast<std::int32_t>(rng.uniform_int(-wmax, wmax));
                w[0] = wmax;
                w[1] = -wmax;
                w[2] = 0;
                const subarray_block b = program_block(w.data(), rows, 0, rows, 0, chans, q, cb);
                for (float level : b.levels) {
                    ASSERT_GE(level, 0.0f);
                    ASSERT_LT(level, float(1u << cb));
                }
                for (int c = 0; c < chans; ++c)
                    for (int r = 0; r < rows; ++r)
                        ASSERT_EQ(decode_weight(b, r, c, q), w[c * rows + r]) << enc << " wb " << wb << " cb " << cb;
            }
        }
    }
}

// Blocks large enough that each weight's cells come from a table, and with cells of at most 4 bits written two to
// a byte straight away when a weight's cells and a row are whole bytes: every weight must still decode.
TEST(subarray_block, slicing_round_trip_in_large_blocks) {
    rng_stream rng(11, {2});
    for (const char* enc : {"offset", "differential"}) {
        for (unsigned wb : {4u, 6u, 8u}) {
            for (unsigned cb : {1u, 2u, 3u, 4u}) {
                const quant_config q = make(wb, enc);
                const int wmax = weight_max(q);
                for (int chans : {7, 8}) {
                    const int rows = 64;
                    std::vector<std::int8_t> w(static_cast<std::size_t>(rows * chans));
                    for (auto& v : w) v = static_cast<std::int8_t>(rng.uniform_int(-wmax, wmax));
                    w[0] = static_cast<std::int8_t>(wmax);
                    w[1] = static_cast<std::int8_t>(-wmax);
                    const subarray_block b = program_block(w.data(), rows, 0, rows, 0, chans, q, cb);
                    for (int c = 0; c < chans; ++c)
                        for (int r = 0; r < rows; ++r)
                            ASSERT_EQ(decode_weight(b, r, c, q), w[static_cast<std::size_t>(c * rows + r)])
                                << enc << " wb " << wb << " cb " << cb << " chans " << chans;
                    // The reference columns hold the offset's cells in every row.
                    for (int r = 0; r < rows; ++r)
                        for (unsigned j = 0; j < b.ref_cols; ++j) {
                            const std::size_t k = static_cast<std::size_t>(r) * b.columns() +
                                                  static_cast<std::size_t>(chans) * b.slices + j;
                            ASSERT_EQ(b.levels[k], float(((1 << (wb - 1)) >> (j * cb)) & ((1 << cb) - 1)));
                        }
                }
            }
        }
    }
}

TEST(subarray_block, rejects_bad_inputs) {
    const quant_config q = make(4, "offset");
    const std::vector<std::int32_t> over = {8, 0};
    const std::vector<std::int32_t> under = {0, -8};
    EXPECT_THROW(program_block(over.data(), 2, 0, 2, 0, 1, q, 2), model_error);
    EXPECT_THROW(program_block(under.data(), 2, 0, 2, 0, 1, q, 2), model_error);
    const std::vector<std::int32_t> ok = {7, -7};
    EXPECT_THROW(program_block(ok.data(), 2, 1, 1, 0, 1, q, 2), model_error);  // empty rows
    EXPECT_THROW(program_block(ok.data(), 2, 0, 3, 0, 1, q, 2), model_error);  // past the end
    EXPECT_THROW(program_block(ok.data(), 2, 0, 2, 1, 1, q, 2), model_error);  // empty channels
    EXPECT_THROW(program_block(ok.data(), 2, 0, 2, 0, 1, q, 0), model_error);  // no cell bits

    // 5000 rows x 15 (4-bit DAC) x 255 (8-bit cells) > 2^24: column sums would no longer be float-exact.
    quant_config big = make(8, "offset");
    big.dac_bits = 4;
    const std::vector<std::int32_t> zeros(5000, 0);
    EXPECT_THROW(program_block(zeros.data(), 5000, 0, 5000, 0, 1, big, 8), model_error);
    EXPECT_NO_THROW(program_block(zeros.data(), 5000, 0, 4000, 0, 1, big, 8));
}

}  // namespace
}  // namespace cim::func

namespace cim::func {
namespace {

// Levels below 16 are held two to a byte; every way of reading them back gives the values stored, for odd and even
// sizes and rows that start in the middle of a byte.
TEST(cell_levels, nibbles_read_back_as_stored) {
    for (unsigned top : {15u, 16u, 200u})
        for (int cols : {1, 3, 8, 17})
            for (int rows : {1, 2, 5}) {
                std::vector<std::uint8_t> v(static_cast<std::size_t>(rows * cols));
                for (std::size_t k = 0; k < v.size(); ++k) v[k] = static_cast<std::uint8_t>((k * 7 + 3) % (top + 1));
                v[0] = static_cast<std::uint8_t>(top);
                const cell_levels c(v);
                ASSERT_EQ(c.size(), v.size());
                EXPECT_TRUE(c.integral());
                EXPECT_EQ(c.storage_bytes(), top < 16 ? (v.size() + 1) / 2 : v.size());
                std::vector<std::uint8_t> flat(v.size(), 99);
                c.unpack_rows(cols, flat.data(), static_cast<std::size_t>(cols));
                EXPECT_EQ(flat, v);
                const std::size_t ld = static_cast<std::size_t>(cols) + 5;
                std::vector<std::uint8_t> padded(static_cast<std::size_t>(rows) * ld, 99);
                c.unpack_rows(cols, padded.data(), ld);
                for (int r = 0; r < rows; ++r)
                    for (int j = 0; j < cols; ++j) {
                        ASSERT_EQ(padded[static_cast<std::size_t>(r) * ld + j], v[static_cast<std::size_t>(r * cols + j)]);
                        ASSERT_EQ(c[static_cast<std::size_t>(r * cols + j)], static_cast<float>(v[static_cast<std::size_t>(r * cols + j)]));
                    }
                EXPECT_EQ(padded[static_cast<std::size_t>(cols)], 99);  // the padding is left alone
            }
    const cell_levels f(std::vector<float>{0.5f, 2.0f});
    EXPECT_FALSE(f.integral());
    EXPECT_EQ(f[0], 0.5f);
}

}  // namespace
}  // namespace cim::func
