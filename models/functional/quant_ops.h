#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace cim::func {

/// Exactly std::llround (round half away from zero) for |x| < 2^52, but branch-free and inlined: the expansion GCC
/// uses for round() with SSE4.1, trunc(|x| + pred(0.5)) with the sign restored (pred(0.5) rather than 0.5 so that
/// 0.49999999999999994 does not round up). llround is a libm call here, and a branch on the fraction would mispredict
/// half the time on column values and activations.
inline std::int64_t round_half_away(double x) {
    const double a = std::trunc(std::fabs(x) + 0.49999999999999994);
    return static_cast<std::int64_t>(std::copysign(a, x));
}

// Quantised operators on int32 CHW tensors ([C][H][W], row-major) that surround the crossbar in the
// data path. All are deterministic and out of line, so both engines run the very same arithmetic.
// They model the integer semantics only; pooling and activation hardware is priced in circuit/.

/// Output size of a convolution or pooling window along one axis: (in + 2*pad - k) / stride + 1.
/// Throws cim::model_error when the window does not fit or a parameter is not positive.
int window_output_size(int in, int k, int stride, int pad);

/// clamp(llround(acc * multiplier), lo, hi); llround rounds half away from zero.
std::int32_t requantize(std::int64_t acc, double multiplier, std::int32_t lo, std::int32_t hi);

/// Unfolds a CHW tensor into (Hout*Wout) x (kh*kw*C), row-major: row p = oy*Wout + ox is the input
/// vector of output position p; its element (ky*kw + kx)*C + c is in[c][oy*stride+ky-pad][ox*stride+kx-pad],
/// 0 outside the image. A weight matrix fed these vectors must use the same (ky, kx, c) row order,
/// which differs from PyTorch's (c, ky, kx).
void im2col(const std::int32_t* in, int C, int H, int W, int kh, int kw, int stride, int pad, std::int32_t* out);

/// Max over each window; padded positions are excluded (pad <= k/2, so every window sees the image).
/// out is C x Hout x Wout.
void max_pool(const std::int32_t* in, int C, int H, int W, int kh, int kw, int stride, int pad, std::int32_t* out);

/// Average over each window with padded positions counted as zeros (n = kh*kw), rounded half up:
/// floor((2*sum + n) / (2*n)) with floor division. out is C x Hout x Wout.
void avg_pool(const std::int32_t* in, int C, int H, int W, int kh, int kw, int stride, int pad, std::int32_t* out);

/// out[i] = max(in[i], 0). in and out may be the same buffer.
void relu(const std::int32_t* in, std::size_t n, std::int32_t* out);

/// out[i] = clamp(llround((a[i]*ma) + (b[i]*mb)), lo, hi): two rounded products and one rounded sum, no fused
/// multiply-add (the build uses -ffp-contract=off), as numpy computes it. Buffers may alias.
void add(const std::int32_t* a, double ma, const std::int32_t* b, double mb, std::size_t n, std::int32_t lo,
         std::int32_t hi, std::int32_t* out);

}  // namespace cim::func
