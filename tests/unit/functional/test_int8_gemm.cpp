#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/functional/test_util.h"
#include "models/core/rng.h"
#include "models/functional/column_histogram.h"
#include "models/functional/crossbar_mvm.h"
#include "models/functional/int8_gemm.h"

namespace cim::func {
namespace {

// Turns the int8 kernel off for one scope (the callers take their float or double GEMM), and back on after.
struct without_int8 {
    without_int8() { int8::set_enabled(false); }
    ~without_int8() { int8::set_enabled(true); }
};

// The kernel against plain triple loops, on sizes around every blocking edge (4 rows, 16 and 64 columns, row quads)
// and at the operand extremes (255 x -128, 255 x 127).
TEST(int8_gemm, kernel_equals_plain_loops) {
    if (!int8::available()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
    rng_stream rng(5, {0x18});
    for (int k : {1, 3, 4, 5, 31, 128, 129, 600})
        for (int n : {1, 15, 16, 17, 63, 64, 65, 130})
            for (int m : {1, 2, 3, 4, 5, 9}) {
                std::vector<std::int8_t> b(static_cast<std::size_t>(k) * n);
                for (auto& v : b) v = static_cast<std::int8_t>(rng.uniform_int(-128, 127));
                const int kp = int8::padded_k(k);
                std::vector<std::uint8_t> a(static_cast<std::size_t>(m) * kp, 0);
                for (int i = 0; i < m; ++i)
                    for (int r = 0; r < k; ++r) a[static_cast<std::size_t>(i) * kp + r] = static_cast<std::uint8_t>(rng.uniform_int(0, 255));
                a[0] = 255;
                b[0] = -128;
                if (b.size() > 1) b[1] = 127;
                int8::packed_b p;
                int8::pack_b(b.data(), k, n, n, 1, p);
                std::vector<const std::uint8_t*> ar;
                std::vector<std::int32_t> c(static_cast<std::size_t>(m) * n, -7);
                std::vector<std::int32_t*> cr;
                for (int i = 0; i < m; ++i) {
                    ar.push_back(&a[static_cast<std::size_t>(i) * kp]);
                    cr.push_back(&c[static_cast<std::size_t>(i) * n]);
                }
                int8::gemm(ar.data(), m, p, cr.data());
                for (int i = 0; i < m; ++i)
                    for (int j = 0; j < n; ++j) {
                        std::int32_t s = 0;
                        for (int r = 0; r < k; ++r)
                            s += std::int32_t{a[static_cast<std::size_t>(i) * kp + r]} * b[static_cast<std::size_t>(r) * n + j];
                        ASSERT_EQ(c[static_cast<std::size_t>(i) * n + j], s) << "k " << k << " n " << n << " m " << m;
                    }
            }
}

// The transposing packer of zero-padded rows gives pack_b's bytes.
TEST(int8_gemm, padded_packing_equals_plain_packing) {
    rng_stream rng(6, {0x9ac});
    for (int k : {1, 4, 7, 128})
        for (int n : {1, 16, 33, 130}) {
            const int ld = (n + 15) / 16 * 16 + 16, kp = int8::padded_k(k);
            std::vector<std::uint8_t> src(static_cast<std::size_t>(kp) * ld, 0);
            for (int r = 0; r < k; ++r)
                for (int c = 0; c < n; ++c) src[static_cast<std::size_t>(r) * ld + c] = static_cast<std::uint8_t>(rng.uniform_int(0, 127));
            int8::packed_b plain, fast;
            int8::pack_b(src.data(), k, n, ld, 1, plain);
            int8::pack_b_padded(src.data(), k, n, ld, fast);
            EXPECT_EQ(fast.data, plain.data) << k << " x " << n;
            EXPECT_EQ(fast.k4, plain.k4);
            EXPECT_EQ(fast.n16, plain.n16);
        }
}

// Byte weights stored by channel: the 4-byte packing path gives the generic packer's bytes, the unpacked vector
// product gives plain loops, and the reference over them is exact for one vector and for many.
TEST(int8_gemm, byte_weights_pack_gemv_and_reference) {
    rng_stream rng(8, {0x5b});
    for (int rows : {1, 5, 64, 130, 700})
        for (int oc : {1, 3, 17, 40}) {
            std::vector<std::int8_t> w8(static_cast<std::size_t>(rows) * oc);
            std::vector<std::int32_t> w32(w8.size());
            for (std::size_t k = 0; k < w8.size(); ++k) w32[k] = w8[k] = static_cast<std::int8_t>(rng.uniform_int(-127, 127));
            int8::packed_b from8, from32;
            int8::pack_b(w8.data(), rows, oc, 1, rows, from8);
            int8::pack_b(w32.data(), rows, oc, 1, rows, from32);
            ASSERT_EQ(from8.data, from32.data) << rows << " x " << oc;
            for (int n : {1, 3, 9}) {
                std::vector<std::int32_t> x(static_cast<std::size_t>(rows) * n);
                for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform_int(0, 255));
                std::vector<std::int64_t> want(static_cast<std::size_t>(n) * oc), got(want.size(), -1), got_packed(want.size(), -1);
                reference_mvm(w32.data(), rows, oc, x.data(), n, want.data());
                reference_mvm(prepare_reference(w8.data(), rows, oc, false), x.data(), n, got.data());
                reference_mvm(prepare_reference(w8.data(), rows, oc, true), x.data(), n, got_packed.data());
                ASSERT_EQ(got, want) << rows << " x " << oc << ", " << n << " vectors";
                ASSERT_EQ(got_packed, want);
                if (int8::available()) {
                    std::vector<std::uint8_t> xb(x.begin(), x.begin() + rows);
                    std::vector<std::int32_t> y(static_cast<std::size_t>(oc), -1);
                    int8::gemv(xb.data(), rows, w8.data(), rows, oc, y.data());
                    for (int c = 0; c < oc; ++c) ASSERT_EQ(y[static_cast<std::size_t>(c)], want[static_cast<std::size_t>(c)]);
                }
            }
        }
}

TEST(int8_gemm, can_be_turned_off) {
    {
        const without_int8 off;
        EXPECT_FALSE(int8::available());
    }
    int8::set_enabled(true);
}

// block_mvm through the int8 kernel gives the float GEMM's bits: outputs, activity and the calibration histogram, over
// cell widths, DAC widths, encodings, ragged heights, lossy and table-less ADCs, and sparse inputs (the live-row
// path).
TEST(int8_gemm, block_mvm_same_bits_as_float_gemm) {
    if (!int8::available()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
    rng_stream rng(9, {0xb1});
    for (const char* enc : {"offset", "differential"})
        for (unsigned cb : {1u, 2u, 4u, 7u})
            for (unsigned dac : {1u, 2u, 8u})
                for (int rows : {1, 7, 64, 128}) {
                    const quant_config q = make(8, 8, dac, enc);
                    const int chans = 5, n = 37;
                    std::vector<std::int32_t> w(static_cast<std::size_t>(rows) * chans), x(static_cast<std::size_t>(rows) * n);
                    const int wmax = weight_max(q);
                    for (auto& v : w) v = static_cast<std::int32_t>(rng.uniform_int(-wmax, wmax));
                    // Half the vectors small (their high input slices drive nothing), half anywhere in range.
                    for (std::size_t k = 0; k < x.size(); ++k)
                        x[k] = static_cast<std::int32_t>(rng.uniform_int(0, (k / rows) % 2 ? 255 : 3));
                    const subarray_block b = program_block(w.data(), rows, 0, rows, 0, chans, q, cb);
                    const std::int64_t fs = full_scale(b, q);
                    for (const adc_transfer& adc : {adc_transfer(5, fs), adc_transfer(3, fs), adc_transfer::linear(4, -2.0, 0.3 * static_cast<double>(fs))}) {
                        std::vector<std::int64_t> fast(static_cast<std::size_t>(n) * chans), slow(fast);
                        mvm_activity af, as;
                        column_histogram hf(0.0, static_cast<double>(fs) + 1.0, 64), hs(hf);
                        read_options of, os;
                        of.observe = &hf;
                        os.observe = &hs;
                        block_mvm(b, x.data(), n, rows, q, adc, fast.data(), &af);
                        std::vector<std::int64_t> fast_obs(fast.size()), slow_obs(fast.size());
                        block_mvm(b, x.data(), n, rows, q, adc, fast_obs.data(), nullptr, of);
                        {
                            const without_int8 off;
                            block_mvm(b, x.data(), n, rows, q, adc, slow.data(), &as);
                            block_mvm(b, x.data(), n, rows, q, adc, slow_obs.data(), nullptr, os);
                        }
                        ASSERT_EQ(fast, slow) << enc << " cell " << cb << " dac " << dac << " rows " << rows;
                        ASSERT_EQ(fast_obs, slow_obs);
                        ASSERT_EQ(af.input_ones, as.input_ones);
                        ASSERT_EQ(af.column_reads, as.column_reads);
                        ASSERT_EQ(af.column_sum_total, as.column_sum_total);
                        ASSERT_EQ(hf.bins, hs.bins);
                    }
                }
}

// The reference through the prepared (packed) weights equals the plain loops, and inputs or weights outside the
// kernel's byte ranges fall back to the exact wide path.
TEST(int8_gemm, reference_with_prepared_weights_is_exact) {
    rng_stream rng(3, {0x4ef});
    for (int rows : {1, 9, 300})
        for (int oc : {1, 17, 70})
            for (int n : {1, 8, 70}) {
                std::vector<std::int32_t> w(static_cast<std::size_t>(rows) * oc), x(static_cast<std::size_t>(rows) * n);
                for (auto& v : w) v = static_cast<std::int32_t>(rng.uniform_int(-128, 127));
                for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform_int(0, 255));
                std::vector<std::int64_t> plain(static_cast<std::size_t>(n) * oc);
                for (int i = 0; i < n; ++i)
                    for (int c = 0; c < oc; ++c) {
                        std::int64_t s = 0;
                        for (int r = 0; r < rows; ++r)
                            s += std::int64_t{w[static_cast<std::size_t>(c) * rows + r]} * x[static_cast<std::size_t>(i) * rows + r];
                        plain[static_cast<std::size_t>(i) * oc + c] = s;
                    }
                const reference_weights pw = prepare_reference(w.data(), rows, oc);
                EXPECT_EQ(pw.packed, int8::available());
                std::vector<std::int64_t> out(plain.size(), -1);
                reference_mvm(pw, x.data(), n, out.data());
                ASSERT_EQ(out, plain) << rows << " " << oc << " " << n;
                // A negative input and a weight beyond a byte: the wide path, still exact.
                x[0] = -5;
                plain.assign(plain.size(), 0);
                reference_mvm(w.data(), rows, oc, x.data(), n, plain.data());
                reference_mvm(pw, x.data(), n, out.data());
                ASSERT_EQ(out, plain);
                w[0] = 300;
                EXPECT_FALSE(prepare_reference(w.data(), rows, oc).packed);
            }
}

}  // namespace
}  // namespace cim::func

namespace cim::func {
namespace {

// The staircase conversion (AVX-512 when there) adds what convert() gives, at the shift, for sums across every step
// edge, beyond the full scale, and in lengths that leave a tail.
TEST(adc_steps, convert_accumulate_equals_convert) {
    for (const adc_transfer& adc : {adc_transfer(5, 1920), adc_transfer(3, 100), adc_transfer(5, 20),
                                    adc_transfer::linear(4, 0.0, 300.0), adc_transfer::nonlinear(2, {0.0, 3.0, 9.5, 40.0})}) {
        // (a lossless or untabulated transfer has no staircase: convert_accumulate takes its other paths)
        for (std::size_t n : {1u, 15u, 16u, 17u, 100u}) {
            std::vector<std::int32_t> s(n);
            for (std::size_t k = 0; k < n; ++k) s[k] = static_cast<std::int32_t>((k * 37) % 2500);
            s[0] = 1 << 30;
            for (unsigned shift : {0u, 7u}) {
                std::vector<std::int64_t> acc(n, 5), want(n, 5);
                std::int64_t tot = 3, want_tot = 3;
                for (std::size_t k = 0; k < n; ++k) {
                    want[k] += adc.convert(s[k]) * (std::int64_t{1} << shift);
                    want_tot += s[k];
                }
                adc.convert_accumulate(s.data(), n, shift, acc.data(), tot);
                ASSERT_EQ(acc, want) << adc.bits() << " bits, n " << n;
                ASSERT_EQ(tot, want_tot);
                int8::set_enabled(false);  // the table path
                std::vector<std::int64_t> acc2(n, 5);
                std::int64_t tot2 = 3;
                adc.convert_accumulate(s.data(), n, shift, acc2.data(), tot2);
                int8::set_enabled(true);
                ASSERT_EQ(acc2, want);
                ASSERT_EQ(tot2, want_tot);
            }
        }
    }
    EXPECT_NE(adc_transfer(5, 1920).integer_steps(), nullptr);   // the paper's 5-bit ADC over a 128-row column
    EXPECT_NE(adc_transfer::linear(4, 0.0, 300.0).integer_steps(), nullptr);
    EXPECT_EQ(adc_transfer(6, 1920).integer_steps(), nullptr);  // 64 values: no staircase
}

}  // namespace
}  // namespace cim::func
