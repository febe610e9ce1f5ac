#include "models/functional/transformer_ops.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <string>

#include "models/core/error.h"

namespace cim::func {

namespace {

std::int32_t clamp_round(double v, std::int32_t lo, std::int32_t hi) {
    if (!(v > lo)) return lo;
    if (v >= hi) return hi;
    return static_cast<std::int32_t>(std::llround(v));
}

}  // namespace

std::int64_t div_round(std::int64_t a, std::int64_t b) {
    if (b <= 0) throw model_error("div_round", "divisor must be positive");
    const std::int64_t m = a < 0 ? -a : a;
    const std::int64_t q = (2 * m + b) / (2 * b);
    return a < 0 ? -q : q;
}

std::int64_t isqrt(std::int64_t n) {
    if (n < 0) throw model_error("isqrt", "negative argument");
    auto r = static_cast<std::int64_t>(std::sqrt(static_cast<double>(n)));
    // The double estimate is within one of the answer for n < 2^62: correct it exactly.
    while (r > 0 && r * r > n) --r;
    while ((r + 1) * (r + 1) <= n) ++r;
    return r;
}

std::vector<std::int64_t> softmax_table(double in_scale, std::int32_t a) {
    std::vector<std::int64_t> t(static_cast<std::size_t>(2 * a + 1));
    for (std::int32_t d = 0; d <= 2 * a; ++d) {
        const double v = static_cast<double>(d) * in_scale;
        t[static_cast<std::size_t>(d)] = std::llround(65536.0 * std::exp(-v));
    }
    return t;
}

void softmax_rows(const std::int32_t* x, std::int64_t rows, int n, const std::vector<std::int64_t>& table,
                  std::int32_t a, std::int32_t* y) {
    std::vector<std::int64_t> e(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < rows; ++r) {
        const std::int32_t* xr = x + r * n;
        std::int32_t* yr = y + r * n;
        const std::int32_t mx = *std::max_element(xr, xr + n);
        std::int64_t sum = 0;
        for (int j = 0; j < n; ++j) {
            const std::int64_t d = static_cast<std::int64_t>(mx) - xr[j];
            if (d < 0 || d >= static_cast<std::int64_t>(table.size()))
                throw model_error("softmax", "input " + std::to_string(xr[j]) + " outside the table's range");
            e[static_cast<std::size_t>(j)] = table[static_cast<std::size_t>(d)];
            sum += e[static_cast<std::size_t>(j)];
        }
        for (int j = 0; j < n; ++j) yr[j] = static_cast<std::int32_t>(div_round(e[static_cast<std::size_t>(j)] * a, sum));
    }
}

layernorm_params layernorm_constants(int n, double eps, const std::vector<double>& gamma,
                                     const std::vector<double>& beta, double in_scale, double out_scale, int m) {
    if (n < 1) throw model_error("layernorm", "needs at least one feature");
    if (!(in_scale > 0) || !(out_scale > 0)) throw model_error("layernorm", "scales must be positive");
    layernorm_params p;
    p.n = n;
    const double nd = static_cast<double>(n);
    p.eps_units = std::llround(((nd * nd) * eps) / (in_scale * in_scale));
    double gmax = 0;
    for (double g : gamma) gmax = std::max(gmax, std::fabs(g));
    // No gamma: 1 everywhere, exactly M units of s_g = 1/M.
    const double s_g = gamma.empty() ? 1.0 / m : (gmax > 0 ? gmax / m : 1.0);
    const double s_z = s_g * 0x1p-16;
    p.gamma.resize(static_cast<std::size_t>(n));
    p.beta.assign(static_cast<std::size_t>(n), 0);
    for (int i = 0; i < n; ++i) {
        const double g = gamma.empty() ? 1.0 : gamma[static_cast<std::size_t>(i)];
        p.gamma[static_cast<std::size_t>(i)] = std::clamp<std::int64_t>(std::llround(g / s_g), -m, m);
        if (!beta.empty()) p.beta[static_cast<std::size_t>(i)] = std::llround(beta[static_cast<std::size_t>(i)] / s_z);
    }
    p.multiplier = s_z / out_scale;
    return p;
}

void layernorm_rows(const std::int32_t* x, std::int64_t rows, const layernorm_params& p, std::int32_t a,
                    std::int32_t* y, std::int64_t* acc_out) {
    const int n = p.n;
    std::vector<std::int64_t> d(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < rows; ++r) {
        const std::int32_t* xr = x + r * n;
        std::int64_t t = 0;
        for (int i = 0; i < n; ++i) t += xr[i];
        std::int64_t v = 0;
        for (int i = 0; i < n; ++i) {
            d[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(n) * xr[i] - t;
            v += d[static_cast<std::size_t>(i)] * d[static_cast<std::size_t>(i)];
        }
        const std::int64_t rs = std::max<std::int64_t>(1, isqrt(v / n + p.eps_units));
        for (int i = 0; i < n; ++i) {
            const std::int64_t z = div_round(d[static_cast<std::size_t>(i)] * 65536, rs);
            const std::int64_t acc = z * p.gamma[static_cast<std::size_t>(i)] + p.beta[static_cast<std::size_t>(i)];
            if (acc_out != nullptr) acc_out[r * n + i] = acc;
            if (y != nullptr) y[r * n + i] = clamp_round(static_cast<double>(acc) * p.multiplier, -a, a);
        }
    }
}

double gelu_real(std::int32_t q, double in_scale, bool tanh_form) {
    const double v = static_cast<double>(q) * in_scale;
    if (tanh_form) return (0.5 * v) * (1.0 + std::tanh(0.7978845608028654 * (v + ((0.044715 * v) * v) * v)));
    return (0.5 * v) * (1.0 + std::erf(v * 0.7071067811865476));
}

std::vector<std::int32_t> gelu_table(double in_scale, double out_scale, std::int32_t a, bool tanh_form) {
    if (!(out_scale > 0)) throw model_error("gelu", "output scale must be positive");
    std::vector<std::int32_t> t(static_cast<std::size_t>(2 * a + 1));
    for (std::int32_t q = -a; q <= a; ++q) t[static_cast<std::size_t>(q + a)] = clamp_round(gelu_real(q, in_scale, tanh_form) / out_scale, -a, a);
    return t;
}

void matmul_exact(const std::int32_t* a, const std::int32_t* b, int batch, int m, int k, int n, std::int64_t* acc) {
    if (k >= (1 << 12)) throw model_error("matmul", "inner dimension " + std::to_string(k) + " beyond 4095");
    using mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    mat am(m, k), bm(k, n), cm(m, n);
    for (int s = 0; s < batch; ++s) {
        const std::int32_t* as = a + static_cast<std::int64_t>(s) * m * k;
        const std::int32_t* bs = b + static_cast<std::int64_t>(s) * k * n;
        for (std::int64_t i = 0; i < std::int64_t{m} * k; ++i) {
            if (as[i] >= (1 << 20) || as[i] <= -(1 << 20)) throw model_error("matmul", "operand beyond 2^20");
            am.data()[i] = as[i];
        }
        for (std::int64_t i = 0; i < std::int64_t{k} * n; ++i) {
            if (bs[i] >= (1 << 20) || bs[i] <= -(1 << 20)) throw model_error("matmul", "operand beyond 2^20");
            bm.data()[i] = bs[i];
        }
        cm.noalias() = am * bm;  // |sum| < 2^12 * 2^40 = 2^52: exact
        std::int64_t* out = acc + static_cast<std::int64_t>(s) * m * n;
        for (std::int64_t i = 0; i < std::int64_t{m} * n; ++i) out[i] = static_cast<std::int64_t>(cm.data()[i]);
    }
}

}  // namespace cim::func
