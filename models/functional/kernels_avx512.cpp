// The AVX-512 kernels: the VNNI kernel of int8_gemm.h and the staircase conversion of adc_transfer.h. This file alone
// is compiled with -mavx512f -mavx512bw -mavx512vnni (CMakeLists.txt); nothing here runs unless int8::available()
// found those instructions at run time.
#include "models/functional/adc_transfer.h"
#include "models/functional/int8_gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

namespace cim::func::int8 {

namespace {

// MR rows of A times NB column blocks (16 columns each) of B: MR x NB accumulators of 16 int32 lanes. Per row quad,
// NB 64-byte loads of B, MR broadcasts of 4 bytes of A, MR * NB vpdpbusd (each: 16 lanes x 4 byte products).
template <int MR, int NB>
void micro(const std::uint8_t* const* a, const packed_b& b, int nb0, std::int32_t* const* c) {
    __m512i acc[MR][NB];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_si512();
    const std::int8_t* bp[NB];
    for (int j = 0; j < NB; ++j) bp[j] = b.block(nb0 + j);
    for (int kb = 0; kb < b.k4; ++kb) {
        __m512i bv[NB];
        for (int j = 0; j < NB; ++j) bv[j] = _mm512_loadu_si512(bp[j] + kb * 64);
        for (int i = 0; i < MR; ++i) {
            std::int32_t quad;
            std::memcpy(&quad, a[i] + kb * 4, 4);
            const __m512i av = _mm512_set1_epi32(quad);
            for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, bv[j]);
        }
    }
    for (int j = 0; j < NB; ++j) {
        const int col = (nb0 + j) * 16;
        const int left = b.n - col;
        const __mmask16 mask = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
        for (int i = 0; i < MR; ++i) _mm512_mask_storeu_epi32(c[i] + col, mask, acc[i][j]);
    }
}

// The full 4 x 4 panel with its sixteen accumulators as named variables: with an array GCC copied every
// accumulator between registers on each row quad (vpdpbusd updates its accumulator in place), doubling the work.
void micro44(const std::uint8_t* const* a, const packed_b& b, int nb0, std::int32_t* const* c) {
    const std::uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    const std::int8_t *b0 = b.block(nb0), *b1 = b.block(nb0 + 1), *b2 = b.block(nb0 + 2), *b3 = b.block(nb0 + 3);
#define CIM_ZERO4(r) __m512i r##0 = _mm512_setzero_si512(), r##1 = r##0, r##2 = r##0, r##3 = r##0
    CIM_ZERO4(c0);
    CIM_ZERO4(c1);
    CIM_ZERO4(c2);
    CIM_ZERO4(c3);
#undef CIM_ZERO4
    for (int kb = 0; kb < b.k4; ++kb) {
        const __m512i w0 = _mm512_loadu_si512(b0 + kb * 64), w1 = _mm512_loadu_si512(b1 + kb * 64);
        const __m512i w2 = _mm512_loadu_si512(b2 + kb * 64), w3 = _mm512_loadu_si512(b3 + kb * 64);
        std::int32_t q;
#define CIM_ROW(i)                                                                                                      \
    std::memcpy(&q, a##i + kb * 4, 4);                                                                                  \
    {                                                                                                                   \
        const __m512i x = _mm512_set1_epi32(q);                                                                         \
        c##i##0 = _mm512_dpbusd_epi32(c##i##0, x, w0);                                                                  \
        c##i##1 = _mm512_dpbusd_epi32(c##i##1, x, w1);                                                                  \
        c##i##2 = _mm512_dpbusd_epi32(c##i##2, x, w2);                                                                  \
        c##i##3 = _mm512_dpbusd_epi32(c##i##3, x, w3);                                                                  \
    }
        CIM_ROW(0)
        CIM_ROW(1)
        CIM_ROW(2)
        CIM_ROW(3)
#undef CIM_ROW
    }
    const int col = nb0 * 16;
    const int left = b.n - col - 48;  // columns in the fourth block
    const __mmask16 last = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
#define CIM_STORE(i)                                                                                                    \
    _mm512_storeu_si512(c[i] + col, c##i##0);                                                                          \
    _mm512_storeu_si512(c[i] + col + 16, c##i##1);                                                                     \
    _mm512_storeu_si512(c[i] + col + 32, c##i##2);                                                                     \
    _mm512_mask_storeu_epi32(c[i] + col + 48, last, c##i##3);
    CIM_STORE(0)
    CIM_STORE(1)
    CIM_STORE(2)
    CIM_STORE(3)
#undef CIM_STORE
}

template <int MR>
void row_panel(const std::uint8_t* const* a, const packed_b& b, int nb0, int nb, std::int32_t* const* c) {
    switch (nb) {
    case 1: micro<MR, 1>(a, b, nb0, c); break;
    case 2: micro<MR, 2>(a, b, nb0, c); break;
    case 3: micro<MR, 3>(a, b, nb0, c); break;
    default: micro<MR, 4>(a, b, nb0, c); break;
    }
}

}  // namespace

void gemm_avx512_vnni(const std::uint8_t* const* a_rows, int m, const packed_b& b, std::int32_t* const* c_rows) {
    // Column panels of up to 64 columns outside, so a panel of B (k4 x 256 bytes) stays in cache over all rows.
    for (int nb0 = 0; nb0 < b.n16; nb0 += 4) {
        const int nb = b.n16 - nb0 < 4 ? b.n16 - nb0 : 4;
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            if (nb == 4)
                micro44(a_rows + i, b, nb0, c_rows + i);
            else
                row_panel<4>(a_rows + i, b, nb0, nb, c_rows + i);
        }
        switch (m - i) {
        case 3: row_panel<3>(a_rows + i, b, nb0, nb, c_rows + i); break;
        case 2: row_panel<2>(a_rows + i, b, nb0, nb, c_rows + i); break;
        case 1: row_panel<1>(a_rows + i, b, nb0, nb, c_rows + i); break;
        default: break;
        }
    }
}

// 64 bytes of x against 64 bytes of each of four rows per step (the tail masked), one accumulator per row.
void gemv_avx512_vnni(const std::uint8_t* x, int k, const std::int8_t* w, std::ptrdiff_t w_stride, int n, std::int32_t* out) {
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const std::int8_t* w0 = w + j * w_stride;
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
        for (int r = 0; r < k; r += 64) {
            const __mmask64 m = k - r >= 64 ? ~__mmask64{0} : (__mmask64{1} << (k - r)) - 1;
            const __m512i a = _mm512_maskz_loadu_epi8(m, x + r);
            s0 = _mm512_dpbusd_epi32(s0, a, _mm512_maskz_loadu_epi8(m, w0 + r));
            s1 = _mm512_dpbusd_epi32(s1, a, _mm512_maskz_loadu_epi8(m, w0 + w_stride + r));
            s2 = _mm512_dpbusd_epi32(s2, a, _mm512_maskz_loadu_epi8(m, w0 + 2 * w_stride + r));
            s3 = _mm512_dpbusd_epi32(s3, a, _mm512_maskz_loadu_epi8(m, w0 + 3 * w_stride + r));
        }
        out[j] = _mm512_reduce_add_epi32(s0);
        out[j + 1] = _mm512_reduce_add_epi32(s1);
        out[j + 2] = _mm512_reduce_add_epi32(s2);
        out[j + 3] = _mm512_reduce_add_epi32(s3);
    }
    for (; j < n; ++j) {
        __m512i s0 = _mm512_setzero_si512();
        for (int r = 0; r < k; r += 64) {
            const __mmask64 m = k - r >= 64 ? ~__mmask64{0} : (__mmask64{1} << (k - r)) - 1;
            s0 = _mm512_dpbusd_epi32(s0, _mm512_maskz_loadu_epi8(m, x + r), _mm512_maskz_loadu_epi8(m, w + j * w_stride + r));
        }
        out[j] = _mm512_reduce_add_epi32(s0);
    }
}

}  // namespace cim::func::int8

namespace cim::func {

// 16 sums at a time: a branch-free binary search of the 32 thresholds (two registers, vpermt2d lookups), the value by
// the same lookup, then the sums and the shifted values widened to int64 and added.
void convert_accumulate_steps_avx512(const adc_transfer::steps& st, const std::int32_t* s, std::size_t n,
                                     unsigned shift, std::int64_t* acc, std::int64_t& total) {
    const __m512i t_lo = _mm512_loadu_si512(st.thresholds), t_hi = _mm512_loadu_si512(st.thresholds + 16);
    const __m512i v_lo = _mm512_loadu_si512(st.values), v_hi = _mm512_loadu_si512(st.values + 16);
    const __m128i sh = _mm_cvtsi32_si128(static_cast<int>(shift));
    __m512i tot = _mm512_setzero_si512();
    std::size_t k = 0;
    for (; k + 16 <= n; k += 16) {
        const __m512i x = _mm512_loadu_si512(s + k);
        __m512i code = _mm512_setzero_si512();
        for (int bit = 16; bit >= 1; bit >>= 1) {
            const __m512i cand = _mm512_or_si512(code, _mm512_set1_epi32(bit));
            const __m512i t = _mm512_permutex2var_epi32(t_lo, cand, t_hi);
            code = _mm512_mask_mov_epi32(code, _mm512_cmple_epi32_mask(t, x), cand);
        }
        const __m512i v = _mm512_permutex2var_epi32(v_lo, code, v_hi);
        const __m512i v0 = _mm512_sll_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)), sh);
        const __m512i v1 = _mm512_sll_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)), sh);
        _mm512_storeu_si512(acc + k, _mm512_add_epi64(_mm512_loadu_si512(acc + k), v0));
        _mm512_storeu_si512(acc + k + 8, _mm512_add_epi64(_mm512_loadu_si512(acc + k + 8), v1));
        tot = _mm512_add_epi64(tot, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(x)));
        tot = _mm512_add_epi64(tot, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(x, 1)));
    }
    total += _mm512_reduce_add_epi64(tot);
    for (; k < n; ++k) {
        int c = 0;
        for (int bit = 16; bit >= 1; bit >>= 1)
            if (st.thresholds[c | bit] <= s[k]) c |= bit;
        total += s[k];
        acc[k] += static_cast<std::int64_t>(static_cast<std::uint64_t>(static_cast<std::int64_t>(st.values[c])) << shift);
    }
}

}  // namespace cim::func

#else  // not x86-64: int8::available() is false, so this is never called

namespace cim::func::int8 {
void gemm_avx512_vnni(const std::uint8_t* const*, int, const packed_b&, std::int32_t* const*) {}
void gemv_avx512_vnni(const std::uint8_t*, int, const std::int8_t*, std::ptrdiff_t, int, std::int32_t*) {}
}  // namespace cim::func::int8
namespace cim::func {
void convert_accumulate_steps_avx512(const adc_transfer::steps&, const std::int32_t*, std::size_t, unsigned,
                                     std::int64_t*, std::int64_t&) {}
}  // namespace cim::func

#endif
