#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "models/core/error.h"
#include "models/functional/quant_ops.h"

namespace cim::func {
namespace {

using v32 = std::vector<std::int32_t>;

TEST(quant_ops, requantize_rounds_half_away_and_clamps) {
    EXPECT_EQ(requantize(10, 0.25, -128, 127), 3);    // 2.5 -> 3
    EXPECT_EQ(requantize(-10, 0.25, -128, 127), -3);  // -2.5 -> -3
    EXPECT_EQ(requantize(9, 0.25, -128, 127), 2);     // 2.25 -> 2
    EXPECT_EQ(requantize(1000, 1.0, -128, 127), 127);
    EXPECT_EQ(requantize(-1000, 1.0, -128, 127), -128);
    EXPECT_EQ(requantize(5, 1.0, 0, 255), 5);
    EXPECT_EQ(requantize(-5, 1.0, 0, 255), 0);
    EXPECT_EQ(requantize(std::numeric_limits<std::int64_t>::max(), 1e10, 0, 255), 255);  // no overflow
}

TEST(quant_ops, window_output_size) {
    EXPECT_EQ(window_output_size(32, 3, 1, 1), 32);
    EXPECT_EQ(window_output_size(32, 3, 2, 1), 16);
    EXPECT_EQ(window_output_size(7, 7, 1, 0), 1);
    EXPECT_THROW(window_output_size(2, 5, 1, 0), model_error);
    EXPECT_THROW(window_output_size(8, 3, 0, 0), model_error);
}

TEST(quant_ops, im2col_order_is_ky_kx_c) {
    // in[c][y][x] = 100c + 10y + x, 2 x 3 x 3; 2x2 kernel, stride 1 -> 2x2 positions of 8 elements.
    v32 in(18);
    for (int c = 0; c < 2; ++c)
        for (int y = 0; y < 3; ++y)
            for (int x = 0; x < 3; ++x) in[(c * 3 + y) * 3 + x] = 100 * c + 10 * y + x;
    v32 out(4 * 8, -1);
    im2col(in.data(), 2, 3, 3, 2, 2, 1, 0, out.data());
    EXPECT_EQ(v32(out.begin(), out.begin() + 8), (v32{0, 100, 1, 101, 10, 110, 11, 111}));
    EXPECT_EQ(v32(out.begin() + 24, out.end()), (v32{11, 111, 12, 112, 21, 121, 22, 122}));  // oy=1, ox=1
}

TEST(quant_ops, im2col_zero_padding_and_stride) {
    const v32 in = {1, 2, 3, 4};  // 1 x 2 x 2
    v32 out(4 * 9, -1);
    im2col(in.data(), 1, 2, 2, 3, 3, 1, 1, out.data());
    EXPECT_EQ(v32(out.begin(), out.begin() + 9), (v32{0, 0, 0, 0, 1, 2, 0, 3, 4}));
    EXPECT_EQ(v32(out.begin() + 27, out.end()), (v32{1, 2, 0, 3, 4, 0, 0, 0, 0}));

    // 1 x 3 x 3, kernel 3, stride 2, pad 1 -> 2 x 2 positions.
    const v32 in3 = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    v32 out3(4 * 9, -1);
    im2col(in3.data(), 1, 3, 3, 3, 3, 2, 1, out3.data());
    EXPECT_EQ(v32(out3.begin() + 9, out3.begin() + 18), (v32{0, 0, 0, 2, 3, 0, 5, 6, 0}));  // oy=0, ox=1
}

// Several channels with padding and stride (the channel-last path) against the definition.
TEST(quant_ops, im2col_many_channels_matches_the_definition) {
    for (int C : {2, 3, 16})
        for (int stride : {1, 2})
            for (int pad : {0, 1, 2}) {
                const int H = 5, W = 4, kh = 3, kw = 2;
                v32 in(static_cast<std::size_t>(C * H * W));
                for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int32_t>(i * 7 + 1);
                const int ho = (H + 2 * pad - kh) / stride + 1, wo = (W + 2 * pad - kw) / stride + 1;
                const int k = kh * kw * C;
                v32 out(static_cast<std::size_t>(ho * wo * k), -1);
                im2col(in.data(), C, H, W, kh, kw, stride, pad, out.data());
                for (int oy = 0; oy < ho; ++oy)
                    for (int ox = 0; ox < wo; ++ox)
                        for (int ky = 0; ky < kh; ++ky)
                            for (int kx = 0; kx < kw; ++kx)
                                for (int c = 0; c < C; ++c) {
                                    const int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                                    const std::int32_t want = iy < 0 || iy >= H || ix < 0 || ix >= W ? 0 : in[static_cast<std::size_t>((c * H + iy) * W + ix)];
                                    ASSERT_EQ(out[static_cast<std::size_t>((oy * wo + ox) * k + (ky * kw + kx) * C + c)], want)
                                        << C << " " << stride << " " << pad;
                                }
            }
}

TEST(quant_ops, max_pool_excludes_padding) {
    const v32 in = {1, 5, 2, 0,  //
                    3, 4, 8, 1,  //
                    -1, -2, 0, 0,  //
                    -3, -9, 7, 6};
    v32 out(4);
    max_pool(in.data(), 1, 4, 4, 2, 2, 2, 0, out.data());
    EXPECT_EQ(out, (v32{5, 8, -1, 7}));

    // All negative with padding: the padded zeros must not win.
    const v32 neg = {-5, -4, -3, -2, -1, -6, -7, -8, -9};
    v32 outp(4);
    max_pool(neg.data(), 1, 3, 3, 3, 3, 2, 1, outp.data());
    EXPECT_EQ(outp, (v32{-1, -1, -1, -1}));
    EXPECT_THROW(max_pool(neg.data(), 1, 3, 3, 2, 2, 1, 2, outp.data()), model_error);  // pad > k/2
}

TEST(quant_ops, avg_pool_rounds_half_up_with_floor_division) {
    // Four 2x2 windows with sums 11 (2.75 -> 3), 2 (0.5 -> 1), -2 (-0.5 -> 0), -7 (-1.75 -> -2).
    const v32 in = {1, 2, 1, 1,  //
                    3, 5, 0, 0,  //
                    -1, -1, -2, -2,  //
                    0, 0, -1, -2};
    v32 out(4);
    avg_pool(in.data(), 1, 4, 4, 2, 2, 2, 0, out.data());
    EXPECT_EQ(out, (v32{3, 1, 0, -2}));

    const v32 six = {-3, -3, 0, 0};  // -6 / 4 = -1.5 -> -1 (half up)
    v32 o1(1);
    avg_pool(six.data(), 1, 2, 2, 2, 2, 2, 0, o1.data());
    EXPECT_EQ(o1[0], -1);

    // Padding counts as zeros: a corner window sees one 4 -> 4/4 = 1; the centre sees four -> 4.
    const v32 fours = {4, 4, 4, 4};
    v32 o3(9);
    avg_pool(fours.data(), 1, 2, 2, 2, 2, 1, 1, o3.data());
    EXPECT_EQ(o3, (v32{1, 2, 1, 2, 4, 2, 1, 2, 1}));
}

TEST(quant_ops, pools_are_per_channel) {
    const v32 in = {1, 2, 3, 4, 10, 20, 30, 40};  // 2 x 2 x 2
    v32 mx(2), av(2);
    max_pool(in.data(), 2, 2, 2, 2, 2, 2, 0, mx.data());
    avg_pool(in.data(), 2, 2, 2, 2, 2, 2, 0, av.data());
    EXPECT_EQ(mx, (v32{4, 40}));
    EXPECT_EQ(av, (v32{3, 25}));  // 2.5 -> 3, 25
}

TEST(quant_ops, relu_and_add) {
    v32 a = {-3, 0, 7};
    relu(a.data(), a.size(), a.data());
    EXPECT_EQ(a, (v32{0, 0, 7}));

    const v32 x = {10, -10, 200, 3};
    const v32 y = {1, 1, 100, -3};
    v32 out(4);
    add(x.data(), 0.5, y.data(), 0.5, 4, -128, 127, out.data());
    EXPECT_EQ(out, (v32{6, -5, 127, 0}));  // 5.5 -> 6, -4.5 -> -5, 150 clamps, 0
}

}  // namespace
}  // namespace cim::func
