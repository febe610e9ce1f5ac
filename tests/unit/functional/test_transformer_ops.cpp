// The integer transformer operators (models/functional/transformer_ops): exact helpers against brute force, and the
// table-based softmax, layer normalisation and GELU against their real-valued definitions within the rounding the
// integer semantics allow.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "models/core/error.h"
#include "models/functional/transformer_ops.h"

namespace cim::func {
namespace {

TEST(transformer_ops, div_round_is_half_away_from_zero) {
    EXPECT_EQ(div_round(5, 2), 3);
    EXPECT_EQ(div_round(-5, 2), -3);
    EXPECT_EQ(div_round(4, 3), 1);
    EXPECT_EQ(div_round(-4, 3), -1);
    EXPECT_EQ(div_round(0, 7), 0);
    for (std::int64_t a = -200; a <= 200; ++a)
        for (std::int64_t b = 1; b < 20; ++b)
            EXPECT_EQ(div_round(a, b), static_cast<std::int64_t>(std::round(static_cast<double>(a) / b))) << a << "/" << b;
}

TEST(transformer_ops, isqrt_is_floor_of_root) {
    for (std::int64_t n = 0; n < 5000; ++n) {
        const std::int64_t r = isqrt(n);
        EXPECT_LE(r * r, n);
        EXPECT_GT((r + 1) * (r + 1), n);
    }
    const std::int64_t big = (std::int64_t{1} << 62) - 1;  // beyond double's exact integers
    const std::int64_t r = isqrt(big);
    EXPECT_LE(r * r, big);
    EXPECT_GT((r + 1) * (r + 1), big);
}

TEST(transformer_ops, softmax_rows_approximate_the_real_softmax) {
    const std::int32_t A = 127;
    const double S = 0.05;
    const auto table = softmax_table(S, A);
    ASSERT_EQ(table.size(), static_cast<std::size_t>(2 * A + 1));
    EXPECT_EQ(table[0], 65536);
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> u(-A, A);
    const int n = 17, rows = 40;
    std::vector<std::int32_t> x(static_cast<std::size_t>(n) * rows), y(x.size());
    for (auto& v : x) v = u(rng);
    softmax_rows(x.data(), rows, n, table, A, y.data());
    for (int r = 0; r < rows; ++r) {
        const std::int32_t* xr = x.data() + static_cast<std::size_t>(r) * n;
        double mx = -1e9, z = 0;
        for (int j = 0; j < n; ++j) mx = std::max(mx, xr[j] * S);
        for (int j = 0; j < n; ++j) z += std::exp(xr[j] * S - mx);
        std::int64_t sum = 0;
        for (int j = 0; j < n; ++j) {
            const std::int32_t q = y[static_cast<std::size_t>(r) * n + j];
            EXPECT_GE(q, 0);
            EXPECT_LE(q, A);
            // One output step, and the table's 2^-16 resolution, bound the error in units of 1/A.
            EXPECT_NEAR(q, A * std::exp(xr[j] * S - mx) / z, 0.51 + A * 2.0 / 65536 * n);
            sum += q;
        }
        EXPECT_NEAR(static_cast<double>(sum), A, n / 2.0 + 1);
    }
}

TEST(transformer_ops, layernorm_rows_normalise_each_row) {
    const int n = 64;
    const std::int32_t A = 127;
    const double in_scale = 0.02, out_scale = 4.0 / A;
    std::vector<double> gamma(n, 1.0), beta(n, 0.0);
    const auto p = layernorm_constants(n, 1e-5, gamma, beta, in_scale, out_scale, 127);
    std::mt19937 rng(5);
    std::normal_distribution<double> g(10, 30);  // a mean far from zero and a spread to remove
    const int rows = 8;
    std::vector<std::int32_t> x(static_cast<std::size_t>(n) * rows), y(x.size());
    for (auto& v : x) v = static_cast<std::int32_t>(std::clamp(std::lround(g(rng)), -127L, 127L));
    layernorm_rows(x.data(), rows, p, A, y.data());
    for (int r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (int j = 0; j < n; ++j) mean += x[static_cast<std::size_t>(r) * n + j] * in_scale;
        mean /= n;
        for (int j = 0; j < n; ++j) {
            const double d = x[static_cast<std::size_t>(r) * n + j] * in_scale - mean;
            var += d * d;
        }
        var /= n;
        for (int j = 0; j < n; ++j) {
            const double want = (x[static_cast<std::size_t>(r) * n + j] * in_scale - mean) / std::sqrt(var + 1e-5);
            const double got = y[static_cast<std::size_t>(r) * n + j] * out_scale;
            EXPECT_NEAR(got, std::clamp(want, -4.0, 4.0), 0.75 * out_scale + 0.01 * std::fabs(want)) << r << "," << j;
        }
    }
}

TEST(transformer_ops, gelu_table_rounds_both_forms) {
    const std::int32_t A = 127;
    const double S = 0.04, so = 0.03;
    for (bool tanh_form : {false, true}) {
        const auto t = gelu_table(S, so, A, tanh_form);
        ASSERT_EQ(t.size(), static_cast<std::size_t>(2 * A + 1));
        for (std::int32_t q = -A; q <= A; ++q) {
            const double v = q * S;
            const double exact = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
            const std::int32_t got = t[static_cast<std::size_t>(q + A)];
            EXPECT_NEAR(got * so, std::clamp(exact, -A * so, A * so), 0.5 * so + (tanh_form ? 1e-3 : 1e-12)) << q;
        }
        EXPECT_EQ(t[static_cast<std::size_t>(A)], 0);  // GELU(0) = 0
    }
}

TEST(transformer_ops, matmul_exact_against_triple_loop_and_limits) {
    std::mt19937 rng(9);
    std::uniform_int_distribution<int> u(-300, 300);
    const int B = 3, M = 5, K = 7, N = 4;
    std::vector<std::int32_t> a(static_cast<std::size_t>(B) * M * K), b(static_cast<std::size_t>(B) * K * N);
    for (auto& v : a) v = u(rng);
    for (auto& v : b) v = u(rng);
    std::vector<std::int64_t> c(static_cast<std::size_t>(B) * M * N);
    matmul_exact(a.data(), b.data(), B, M, K, N, c.data());
    for (int s = 0; s < B; ++s)
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) {
                std::int64_t want = 0;
                for (int k = 0; k < K; ++k)
                    want += std::int64_t{a[static_cast<std::size_t>((s * M + i) * K + k)]} *
                            b[static_cast<std::size_t>((s * K + k) * N + j)];
                EXPECT_EQ(c[static_cast<std::size_t>((s * M + i) * N + j)], want);
            }
    std::vector<std::int32_t> huge(static_cast<std::size_t>(K), 1 << 21);
    std::vector<std::int64_t> out(1);
    EXPECT_THROW(matmul_exact(huge.data(), huge.data(), 1, 1, K, 1, out.data()), model_error);
}

}  // namespace
}  // namespace cim::func
