#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cim::func {

// The integer semantics of the transformer's operators (docs/transformers.md §2), shared by both engines and the
// vector units of the platform. Activations are integers in [-A, A] with one real scale per tensor; every scale
// product is float64, rounded one operation at a time (the build has no fused multiply-add), and the only
// transcendental functions (exp, erf, tanh) build lookup tables over integers, so the Python reference
// (traces/pytorch) reproduces every bit.

/// sign(a) * ((2|a| + b) / (2b)) for b > 0: a / b rounded half away from zero, exactly.
std::int64_t div_round(std::int64_t a, std::int64_t b);

/// floor(sqrt(n)) for n >= 0, exactly.
std::int64_t isqrt(std::int64_t n);

/// The softmax's exponential table: E[d] = llround(65536 * exp(-(d * S))) for d = 0 .. 2A (S: the input scale).
std::vector<std::int64_t> softmax_table(double in_scale, std::int32_t a);

/// Softmax over the last axis of `rows` rows of n values (input scale S, its table E): per row
/// e_j = E[max - x_j], y_j = div_round(e_j * A, sum e). Output scale 1/A, values in [0, A].
void softmax_rows(const std::int32_t* x, std::int64_t rows, int n, const std::vector<std::int64_t>& table,
                  std::int32_t a, std::int32_t* y);

/// The constants of one layer normalisation (over the last axis, n features), from its real parameters.
struct layernorm_params {
    int n = 0;
    std::int64_t eps_units = 0;            // llround(((n * n) * eps) / (S * S))
    std::vector<std::int64_t> gamma, beta;  // clamp(llround(gamma_i / s_g), -M, M); llround(beta_i / s_z)
    double multiplier = 0;                 // s_z / s_out, s_z = s_g * 2^-16
};
/// gamma and beta may be empty (1 and 0). M = 2^(weight_bits-1) - 1.
layernorm_params layernorm_constants(int n, double eps, const std::vector<double>& gamma,
                                     const std::vector<double>& beta, double in_scale, double out_scale, int m);
/// The real value of feature i before the output requantisation, per unit of the output scale, is
/// acc_i * multiplier; for calibration: max |acc_i| * s_z over the data.
void layernorm_rows(const std::int32_t* x, std::int64_t rows, const layernorm_params& p, std::int32_t a,
                    std::int32_t* y, std::int64_t* acc_out = nullptr);

/// GELU as a table over the inputs -A .. A (index q + A): clamp(llround(g(q * S) / s_out), -A, A), with
/// g(v) = (0.5 v)(1 + erf(v / sqrt 2)) or, tanh form, (0.5 v)(1 + tanh(sqrt(2/pi)(v + 0.044715 v^3))).
std::vector<std::int32_t> gelu_table(double in_scale, double out_scale, std::int32_t a, bool tanh_form);
/// The real GELU of an integer input (for calibration).
double gelu_real(std::int32_t q, double in_scale, bool tanh_form);

/// Exact int64 product of integer matrices: for each of `batch` pairs, a (M x K) times b (K x N), row-major.
/// Values must stay below 2^20 in magnitude and K below 2^12 (then every sum is exact in double, which the product
/// uses); throws cim::model_error otherwise.
void matmul_exact(const std::int32_t* a, const std::int32_t* b, int batch, int m, int k, int n, std::int64_t* acc);

}  // namespace cim::func
