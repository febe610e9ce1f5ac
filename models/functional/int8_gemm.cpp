#include "models/functional/int8_gemm.h"

#include <atomic>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "models/core/error.h"

namespace cim::func::int8 {

// The AVX-512 kernel, in its own translation unit compiled for AVX-512 (kernels_avx512.cpp); called only after
// the CPU check below.
void gemm_avx512_vnni(const std::uint8_t* const* a_rows, int m, const packed_b& b, std::int32_t* const* c_rows);
void gemv_avx512_vnni(const std::uint8_t* x, int k, const std::int8_t* w, std::ptrdiff_t w_stride, int n, std::int32_t* out);

namespace {

bool cpu_has_vnni() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
#else
    return false;
#endif
}

std::atomic<bool>& enabled() {
    static std::atomic<bool> on{true};
    return on;
}

}  // namespace

bool available() {
    static const bool cpu = cpu_has_vnni();
    return cpu && enabled().load(std::memory_order_relaxed);
}

void set_enabled(bool on) { enabled().store(on, std::memory_order_relaxed); }

void pack_b_padded(const std::uint8_t* src, int k, int n, std::ptrdiff_t ld, packed_b& out) {
    out.k = k;
    out.n = n;
    out.k4 = (k + 3) / 4;
    out.n16 = (n + 15) / 16;
    out.data.resize(static_cast<std::size_t>(out.n16) * out.k4 * 64);
    for (int nb = 0; nb < out.n16; ++nb) {
        std::int8_t* blk = out.data.data() + static_cast<std::size_t>(nb) * out.k4 * 64;
        for (int kb = 0; kb < out.k4; ++kb) {
            const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(kb) * 4 * ld + nb * 16;
            std::int8_t* dst = blk + kb * 64;
#if defined(__SSE2__)
            // Rows a, b, c, d of 16 bytes -> (a0 b0 c0 d0 a1 b1 c1 d1 ...): two byte interleaves, then two 16-bit ones.
            const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0));
            const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + ld));
            const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + 2 * ld));
            const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + 3 * ld));
            const __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
            const __m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(ab_lo, cd_lo));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(ab_lo, cd_lo));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(ab_hi, cd_hi));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(ab_hi, cd_hi));
#else
            for (int j = 0; j < 16; ++j)
                for (int q = 0; q < 4; ++q) dst[j * 4 + q] = static_cast<std::int8_t>(r0[q * ld + j]);
#endif
        }
    }
}

void gemm(const std::uint8_t* const* a_rows, int m, const packed_b& b, std::int32_t* const* c_rows) {
    if (!available()) throw model_error("int8_gemm", "the AVX-512 VNNI kernel is not available on this CPU");
    gemm_avx512_vnni(a_rows, m, b, c_rows);
}

void gemv(const std::uint8_t* x, int k, const std::int8_t* w, std::ptrdiff_t w_stride, int n, std::int32_t* out) {
    if (!available()) throw model_error("int8_gemm", "the AVX-512 VNNI kernel is not available on this CPU");
    gemv_avx512_vnni(x, k, w, w_stride, n, out);
}

}  // namespace cim::func::int8
