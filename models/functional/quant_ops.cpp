#include "models/functional/quant_ops.h"

#include <algorithm>
#include <vector>
#include <cmath>
#include <limits>
#include <string>

#include "models/core/error.h"

namespace cim::func {

namespace {

// Clamps in double before rounding so out-of-range values cannot overflow llround. Because lo and hi
// are integers and rounding is monotonic, this equals clamp(llround(v), lo, hi). A NaN (only from a
// NaN multiplier, a caller bug) maps to lo rather than to an unspecified value.
std::int32_t round_clamp(double v, std::int32_t lo, std::int32_t hi) {
    if (!(v > lo)) return lo;
    if (v >= hi) return hi;
    return static_cast<std::int32_t>(round_half_away(v));  // |v| < 2^31 here
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

void check_pool(int C, int H, int W, int kh, int kw, int pad) {
    if (C <= 0 || H <= 0 || W <= 0) throw model_error("pool", "empty input tensor");
    if (2 * pad > kh || 2 * pad > kw)
        throw model_error("pool.pad", "padding " + std::to_string(pad) + " exceeds half the window");
}

}  // namespace

int window_output_size(int in, int k, int stride, int pad) {
    if (in <= 0 || k <= 0 || stride <= 0 || pad < 0)
        throw model_error("window", "size, kernel and stride must be positive and padding non-negative");
    const int span = in + 2 * pad - k;
    if (span < 0)
        throw model_error("window", "kernel " + std::to_string(k) + " larger than padded input " +
                                        std::to_string(in + 2 * pad));
    return span / stride + 1;
}

std::int32_t requantize(std::int64_t acc, double multiplier, std::int32_t lo, std::int32_t hi) {
    return round_clamp(static_cast<double>(acc) * multiplier, lo, hi);
}

void im2col(const std::int32_t* in, int C, int H, int W, int kh, int kw, int stride, int pad, std::int32_t* out) {
    const int ho = window_output_size(H, kh, stride, pad);
    const int wo = window_output_size(W, kw, stride, pad);
    const std::int64_t k = std::int64_t{kh} * kw * C;
    // The input channel-last (one pass; a single channel already is), so every kernel position of a row is one
    // contiguous copy of its C channels instead of C loads a plane apart.
    const std::int32_t* hwc = in;
    if (C > 1) {
        thread_local std::vector<std::int32_t> buf;
        const std::int64_t plane = std::int64_t{H} * W;
        buf.resize(static_cast<std::size_t>(plane * C));
        for (int c = 0; c < C; ++c) {
            const std::int32_t* src = in + c * plane;
            for (std::int64_t p = 0; p < plane; ++p) buf[static_cast<std::size_t>(p * C + c)] = src[p];
        }
        hwc = buf.data();
    }
    for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) {
            std::int32_t* row = out + (std::int64_t{oy} * wo + ox) * k;
            for (int ky = 0; ky < kh; ++ky) {
                const int iy = oy * stride + ky - pad;
                for (int kx = 0; kx < kw; ++kx) {
                    const int ix = ox * stride + kx - pad;
                    std::int32_t* dst = row + (std::int64_t{ky} * kw + kx) * C;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                        std::fill(dst, dst + C, 0);
                    else
                        std::copy_n(hwc + (std::int64_t{iy} * W + ix) * C, C, dst);
                }
            }
        }
}

void max_pool(const std::int32_t* in, int C, int H, int W, int kh, int kw, int stride, int pad, std::int32_t* out) {
    check_pool(C, H, W, kh, kw, pad);
    const int ho = window_output_size(H, kh, stride, pad);
    const int wo = window_output_size(W, kw, stride, pad);
    for (int c = 0; c < C; ++c) {
        const std::int32_t* plane = in + std::int64_t{c} * H * W;
        for (int oy = 0; oy < ho; ++oy) {
            for (int ox = 0; ox < wo; ++ox) {
                std::int32_t m = std::numeric_limits<std::int32_t>::min();
                for (int ky = 0; ky < kh; ++ky) {
                    const int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= H) continue;
                    for (int kx = 0; kx < kw; ++kx) {
                        const int ix = ox * stride + kx - pad;
                        if (ix < 0 || ix >= W) continue;
                        m = std::max(m, plane[std::int64_t{iy} * W + ix]);
                    }
                }
                out[(std::int64_t{c} * ho + oy) * wo + ox] = m;
            }
        }
    }
}

void avg_pool(const std::int32_t* in, int C, int H, int W, int kh, int kw, int stride, int pad, std::int32_t* out) {
    check_pool(C, H, W, kh, kw, pad);
    const int ho = window_output_size(H, kh, stride, pad);
    const int wo = window_output_size(W, kw, stride, pad);
    const std::int64_t n = std::int64_t{kh} * kw;
    for (int c = 0; c < C; ++c) {
        const std::int32_t* plane = in + std::int64_t{c} * H * W;
        for (int oy = 0; oy < ho; ++oy) {
            for (int ox = 0; ox < wo; ++ox) {
                std::int64_t sum = 0;
                for (int ky = 0; ky < kh; ++ky) {
                    const int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= H) continue;
                    for (int kx = 0; kx < kw; ++kx) {
                        const int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < W) sum += plane[std::int64_t{iy} * W + ix];
                    }
                }
                out[(std::int64_t{c} * ho + oy) * wo + ox] = static_cast<std::int32_t>(floor_div(2 * sum + n, 2 * n));
            }
        }
    }
}

void relu(const std::int32_t* in, std::size_t n, std::int32_t* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = std::max(in[i], std::int32_t{0});
}

void add(const std::int32_t* a, double ma, const std::int32_t* b, double mb, std::size_t n, std::int32_t lo,
         std::int32_t hi, std::int32_t* out) {
    for (std::size_t i = 0; i < n; ++i) {
        const double ai = static_cast<double>(a[i]) * ma;
        const double bi = static_cast<double>(b[i]) * mb;
        out[i] = round_clamp(ai + bi, lo, hi);
    }
}

}  // namespace cim::func
