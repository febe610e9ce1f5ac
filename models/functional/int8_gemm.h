#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace cim::func::int8 {

/// Exact integer matrix products of unsigned-byte rows by a signed-byte matrix, C = A B with int32 sums, for the
/// crossbar kernel (DAC values times cell levels) and the integer reference (activations times weights). On a CPU
/// with AVX-512 VNNI each instruction forms 64 byte products (vpdpbusd), four times the lanes of the float GEMM the
/// callers use otherwise; the sums are exact integers either way, so the two paths give the same bits.
/// Overflow: every sum must fit in int32; the callers bound it (k * 255 * 128 < 2^31 for k < 65793).

/// B (k x n signed bytes) in the kernel's order: column blocks of 16, then row quads, then 16 columns x 4 rows, so
/// one 64-byte load holds four rows of sixteen columns. Zero-padded to k4 * 4 rows and n16 * 16 columns.
struct packed_b {
    int k = 0, n = 0, k4 = 0, n16 = 0;
    std::vector<std::int8_t> data;
    const std::int8_t* block(int nb) const { return data.data() + static_cast<std::size_t>(nb) * k4 * 64; }
};

/// Packs B[r][c] = src[r * row_stride + c * col_stride] (r < k, c < n). Every value must be in [-128, 127]; the
/// caller checks. T is any integer type.
template <class T>
void pack_b(const T* src, int k, int n, std::ptrdiff_t row_stride, std::ptrdiff_t col_stride, packed_b& out) {
    out.k = k;
    out.n = n;
    out.k4 = (k + 3) / 4;
    out.n16 = (n + 15) / 16;
    out.data.assign(static_cast<std::size_t>(out.n16) * out.k4 * 64, 0);
    if (sizeof(T) == 1 && row_stride == 1) {
        // Byte weights stored column by column (a layer's channels): four rows of a column are one 4-byte copy.
        for (int c = 0; c < n; ++c) {
            const T* col = src + c * col_stride;
            std::int8_t* dst = out.data.data() + static_cast<std::size_t>(c / 16) * out.k4 * 64 + (c % 16) * 4;
            int r = 0;
            for (; r + 4 <= k; r += 4) std::memcpy(dst + (r >> 2) * 64, col + r, 4);
            for (; r < k; ++r) dst[(r >> 2) * 64 + (r & 3)] = static_cast<std::int8_t>(col[r]);
        }
        return;
    }
    for (int nb = 0; nb < out.n16; ++nb) {
        std::int8_t* blk = out.data.data() + static_cast<std::size_t>(nb) * out.k4 * 64;
        const int c_end = n < nb * 16 + 16 ? n : nb * 16 + 16;
        for (int c = nb * 16; c < c_end; ++c) {
            const T* col = src + c * col_stride;
            std::int8_t* dst = blk + (c - nb * 16) * 4;
            for (int r = 0; r < k; ++r) dst[(r >> 2) * 64 + (r & 3)] = static_cast<std::int8_t>(col[r * row_stride]);
        }
    }
}

/// Packs a zero-padded row-major byte matrix: src holds k4 * 4 rows of ld >= n16 * 16 bytes, zero past (k, n).
/// The same result as pack_b on the unpadded values, by 4 x 16 byte transposes (the per-read path of block_mvm).
void pack_b_padded(const std::uint8_t* src, int k, int n, std::ptrdiff_t ld, packed_b& out);

/// Row length of A the kernel reads: k rounded up to a multiple of 4. Bytes past k must be zero.
inline int padded_k(int k) { return (k + 3) / 4 * 4; }

/// True when this CPU runs the AVX-512 VNNI kernel and it is enabled (set_enabled; on by default).
bool available();
/// Turns the kernel off (the callers then take their float or double GEMM) or back on, for tests and
/// benchmarks that compare the two paths. Process-wide; not for use while another thread computes.
void set_enabled(bool on);

/// C rows: c_rows[i][j] = sum_{r < k} a_rows[i][r] * B[r][j] for i < m, j < b.n. Each a_rows[i] holds
/// padded_k(b.k) bytes (zeros past k). Columns past b.n of C are not written. Needs available().
void gemm(const std::uint8_t* const* a_rows, int m, const packed_b& b, std::int32_t* const* c_rows);

/// One vector through many rows of signed bytes: out[j] = sum_{r < k} x[r] * w[j * w_stride + r], j < n (a layer's
/// channels times one input vector, with no packing). Needs available().
void gemv(const std::uint8_t* x, int k, const std::int8_t* w, std::ptrdiff_t w_stride, int n, std::int32_t* out);


}  // namespace cim::func::int8
