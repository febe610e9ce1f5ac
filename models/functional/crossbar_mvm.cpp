#include "models/functional/crossbar_mvm.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <string>
#include <vector>

#include "models/core/error.h"
#include "models/core/rng.h"
#include "models/functional/int8_gemm.h"

namespace cim::func {

namespace {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr std::int64_t float_exact_limit = std::int64_t{1} << 24;

// Reused across calls so the per-transaction path (n = 1, called millions of times) does not allocate;
// std::vector keeps its capacity on resize, unlike an Eigen matrix.
struct scratch {
    std::vector<float> x;  // (slices * m) x rows: the DAC inputs of a chunk, slice-major
    std::vector<float> s;  // (slices * m) x columns: the column sums
    std::vector<std::int64_t> a;     // (slices * m): sum of the DAC values of each row of x (non-ideal only)
    std::vector<std::int64_t> conv;  // columns: converted values of one (vector, slice) (non-ideal only)
    std::vector<double> v;           // columns: real column values (non-ideal only)
    std::vector<double> amp;         // columns: read-noise sigma of each column (non-ideal only)
    std::vector<float> levels;       // rows x columns: an ideal block's integer levels as floats
    std::vector<std::uint8_t> level_bytes;  // rows x columns: an ideal block's integer levels, one byte each
    std::vector<double> w;           // rows x out_channels: a lossless block's folded integer weights
    std::vector<float> wf;           // the same as floats, when every product sum is float-exact
    std::vector<double> rowsum;      // rows: each row's total level (the column-sum total of a lossless block)
    std::vector<float> of;           // (slices * m) x out_channels: folded results (float)
    std::vector<double> od;          // the same, double
    std::vector<double> xd;          // (slices * m) x rows: the inputs as doubles (double folded product)
    std::vector<std::int64_t> acc;   // m x columns: converted values summed over the input slices, each at its weight
    std::vector<int> live;           // the rows of x with a non-zero input (the zero ones sum to zero)
    std::vector<float> xl, sl;       // those rows of x, and their column sums
    // The int8 path (int8_gemm.h): the DAC inputs as bytes (rows padded to a multiple of 4), the cells packed for the
    // kernel, the exact column sums, and the row pointers of the (live) rows the kernel computes.
    std::vector<std::uint8_t> xb;
    std::vector<std::uint8_t> padded;  // the cells' levels in zero-padded rows, before packing
    int8::packed_b cells;
    std::vector<std::int32_t> si;
    std::vector<const std::uint8_t*> a_rows;
    std::vector<std::int32_t*> c_rows;
};

// Standard normal draws from one rng_stream by the ziggurat method (Marsaglia & Tsang, "The ziggurat
// method for generating random variables", J. Stat. Softw. 5(8), 2000; 128 layers). Read noise needs one
// normal per column read, and rng_stream::normal() (Box-Muller: log, sqrt, cos) would make the noisy path
// several times slower than the ideal one; the ziggurat costs one draw and one compare 98.8 % of the time.
// Following Doornik (2005), the layer index and the value come from different bits of the 64-bit draw so
// they are not correlated. The sequence is a pure function of the stream, as reproducible as the stream.
class gaussian {
public:
    gaussian(std::uint64_t seed, std::initializer_list<std::uint64_t> ids) : m_rng(seed, ids) {}

    double next() {
        const tables& t = zig();
        for (;;) {
            const std::uint64_t u = m_rng.next_u64();
            const auto hz = static_cast<std::int32_t>(static_cast<std::uint32_t>(u));
            const auto iz = static_cast<std::size_t>((u >> 32) & 127);
            const double x = static_cast<double>(hz) * t.w[iz];
            if (std::abs(static_cast<std::int64_t>(hz)) < t.k[iz]) return x;  // inside the layer's rectangle
            if (iz == 0) {
                // Base layer: the tail beyond r by Marsaglia's exponential rejection.
                double xt, yt;
                do {
                    xt = -std::log(uniform_open()) / r;
                    yt = -std::log(uniform_open());
                } while (yt + yt < xt * xt);
                return hz > 0 ? r + xt : -r - xt;
            }
            // Wedge: accept under the density, else draw again.
            if (t.f[iz] + m_rng.uniform() * (t.f[iz - 1] - t.f[iz]) < std::exp(-0.5 * x * x)) return x;
        }
    }

private:
    static constexpr double r = 3.442619855899;  // right edge of the base layer for 128 layers
    struct tables {
        std::int64_t k[128];
        double w[128], f[128];
        tables() {
            const double m1 = 2147483648.0;  // 2^31: hz is a signed 32-bit value
            const double v = 9.91256303526217e-3;  // area of every layer
            double dn = r, tn = r;
            const double q = v / std::exp(-0.5 * dn * dn);
            k[0] = static_cast<std::int64_t>((dn / q) * m1);
            k[1] = 0;
            w[0] = q / m1;
            w[127] = dn / m1;
            f[0] = 1.0;
            f[127] = std::exp(-0.5 * dn * dn);
            for (int i = 126; i >= 1; --i) {
                dn = std::sqrt(-2.0 * std::log(v / dn + std::exp(-0.5 * dn * dn)));
                k[i + 1] = static_cast<std::int64_t>((dn / tn) * m1);
                tn = dn;
                f[i] = std::exp(-0.5 * dn * dn);
                w[i] = dn / m1;
            }
        }
    };
    static const tables& zig() {
        static const tables t;
        return t;
    }
    double uniform_open() {
        const double u = m_rng.uniform();
        return u > 0.0 ? u : 0x1.0p-53;
    }

    rng_stream m_rng;
};

// Vectors per GEMM. All input slices of a chunk are stacked into one GEMM of about this many rows, so
// one vector (the platform case) still makes a reasonable GEMM and a batch keeps its scratch in cache.
constexpr int gemm_rows = 256;

// One input vector's DAC values for input slice `shift` into dst (floats for the float GEMM, bytes for the int8
// kernel): one branch-free pass with 32-bit counters (rows * dac_mask < 2^31), so it vectorises. nonzero: the rows
// driven; a: the DAC units driven, each carrying the nominal off current g0 (non-ideal reads need it).
template <class T>
inline void slice_row(const std::int32_t* xi, unsigned shift, std::int32_t dac_mask, int rows, T* dst,
                      std::int32_t& nonzero, std::int32_t& a) {
    nonzero = 0;
    a = 0;
    for (int r = 0; r < rows; ++r) {
        const std::int32_t v = (xi[r] >> shift) & dac_mask;
        nonzero += v != 0;
        a += v;
        dst[r] = static_cast<T>(v);
    }
}

}  // namespace

void block_mvm(const subarray_block& b, const std::int32_t* x, int n, int x_stride, const quant_config& q,
               const adc_transfer& adc, std::int64_t* out, mvm_activity* act) {
    block_mvm(b, x, n, x_stride, q, adc, out, act, read_options{});
}

void block_mvm(const subarray_block& b, const std::int32_t* x, int n, int x_stride, const quant_config& q,
               const adc_transfer& adc, std::int64_t* out, mvm_activity* act, const read_options& ro) {
    if (b.slices != columns_per_weight(q, b.cell_bits) || b.ref_cols != reference_columns(q, b.cell_bits))
        throw model_error("block", "block was not sliced for this quant_config (" + std::to_string(b.slices) +
                                       " slices, " + std::to_string(b.ref_cols) + " reference columns)");
    if (b.levels.size() != static_cast<std::size_t>(b.rows) * static_cast<std::size_t>(b.columns()))
        throw model_error("block", "levels size does not match rows x columns");
    if (full_scale(b, q) >= float_exact_limit)
        throw model_error("block.rows", "column sums can exceed 2^24 (float-exact limit) with " +
                                            std::to_string(q.dac_bits) + "-bit DAC");
    const bool nonideal = !b.ideal();
    if (nonideal) {
        // The bound program_block guaranteed for its dac_bits; a wider DAC here could break exactness.
        const std::int64_t cell_max = b.frac_bits > 16 ? float_exact_limit
                                                       : std::llround(std::ldexp(2.0 * b.gmax_units, static_cast<int>(b.frac_bits)));
        if (std::int64_t{b.rows} * ((std::int64_t{1} << q.dac_bits) - 1) * cell_max >= float_exact_limit)
            throw model_error("block.rows", "non-ideal column sums can exceed 2^24 (float-exact limit) with " +
                                                std::to_string(q.dac_bits) + "-bit DAC; program the block for it");
    }
    const bool noisy = ro.read_noise_sigma > 0.0;
    if (noisy || !(ro.read_noise_sigma >= 0.0)) {
        if (!(ro.read_noise_sigma <= 1.0))
            throw model_error("device.read_noise_sigma", "must be in [0, 1], got " + std::to_string(ro.read_noise_sigma));
        if (!nonideal)
            throw model_error("device.read_noise_sigma",
                              "read noise needs a block programmed with the same device config (conductance units)");
        if (ro.vector_ids == nullptr && n > 0)
            throw model_error("block_mvm", "read noise needs stable vector ids (read_options::vector_ids)");
    }
    if (n < 0 || (n > 1 && x_stride < b.rows))
        throw model_error("block_mvm", "bad vector count or stride");
    if (n == 0) return;

    const int rows = b.rows;
    const int cols = b.columns();
    const int oc_n = b.out_channels;
    const int slices = static_cast<int>(b.slices);
    const unsigned cell_bits = b.cell_bits;
    const unsigned dac_bits = q.dac_bits;
    const int t_n = static_cast<int>(input_slices(q));
    const bool differential = q.differential();
    const std::int32_t dac_mask = (std::int32_t{1} << dac_bits) - 1;
    const std::int32_t out_of_range = ~((std::int32_t{1} << q.input_bits) - 1);  // also catches negatives

    for (int i = 0; i < n; ++i) {
        const std::int32_t* xi = x + static_cast<std::int64_t>(i) * x_stride;
        std::int32_t bad = 0;
        for (int r = 0; r < rows; ++r) bad |= xi[r] & out_of_range;
        if (bad != 0)
            throw model_error("inputs", "input vector " + std::to_string(i) + " has a value outside [0, 2^" +
                                            std::to_string(q.input_bits) + ")");
    }

    // Row groups (rows_per_read): each group's column sums pass the ADC on their own. When the ADC converts
    // every sum a group can produce to itself (ideal block), summing exact conversions is the exact column sum,
    // so the groups need not be formed.
    const int conversion_rows = rows_per_conversion(b, ro.rows_per_read);
    int group = conversion_rows;
    bool exact_groups = false;
    if (group < rows && !nonideal && ro.observe == nullptr) {
        // A lossless full-scale ADC is the identity; any other kind is checked over the group's sums while that
        // is cheap (a few thousand values: this runs once per call).
        const std::int64_t fs = full_scale(b, q, group);
        exact_groups = adc.integer_identity() || fs <= 4096;
        for (std::int64_t v = 0; exact_groups && !adc.integer_identity() && v <= fs; ++v) exact_groups = adc.convert(v) == v;
        if (exact_groups) group = rows;
    }
    const int n_groups = (rows + group - 1) / group;
    // Grouped non-ideal reads: a (vector, slice) that drives no row of a group reads 0 on every column (no input,
    // no current, no off current to subtract, no noise); when the ADC converts 0 to 0 its conversions add nothing,
    // so they are skipped. Not while observing: the calibration histograms count those zeros.
    bool skip_idle_groups = false;
    if (nonideal && n_groups > 1 && ro.observe == nullptr) {
        const double zero = 0.0;
        std::int64_t z = 1;
        adc.convert_real(&zero, &z, 1);
        skip_idle_groups = z == 0;
    }

    std::fill(out, out + static_cast<std::int64_t>(n) * oc_n, std::int64_t{0});
    thread_local scratch sc;
    // A lossless block (every conversion is the identity, nothing observed): the shift-add is linear in the column
    // sums, so it folds into the cells (below).
    const bool fold = !nonideal && ro.observe == nullptr && (exact_groups || adc.integer_identity()) &&
                      static_cast<std::int64_t>(n) * t_n >= 16;
    // Integer levels below 128 and DAC values below 256 read through the int8 kernel when the CPU has it (exact int32
    // sums, the same bits as the float GEMM); the cells are packed for it once per call.
    const bool int_path = !nonideal && !fold && n_groups == 1 && b.levels.integral() && cell_bits <= 7 &&
                          dac_bits <= 8 && int8::available();
    const int kp = int8::padded_k(rows);
    if (int_path) {
        // Unpacked into rows of ld bytes, zero-padded to the kernel's row quads and 16-column blocks, then packed.
        const int ld = (cols + 15) / 16 * 16;
        sc.padded.assign(static_cast<std::size_t>(kp) * ld, 0);
        b.levels.unpack_rows(cols, sc.padded.data(), static_cast<std::size_t>(ld));
        int8::pack_b_padded(sc.padded.data(), rows, cols, ld, sc.cells);
    }
    // The cells as floats for the float GEMM: a non-ideal block holds them so, an ideal one as bytes (converted per
    // call, a small cost next to the GEMM of the call's vectors and slices).
    const float* cell_data = b.levels.floats();
    if (cell_data == nullptr && !int_path) {
        sc.levels.resize(b.levels.size());
        sc.level_bytes.resize(b.levels.size());
        b.levels.unpack_rows(cols, sc.level_bytes.data(), static_cast<std::size_t>(cols));
        const std::uint8_t* u = sc.level_bytes.data();
        for (std::size_t k = 0; k < sc.levels.size(); ++k) sc.levels[k] = static_cast<float>(u[k]);
        cell_data = sc.levels.data();
    }
    const Eigen::Map<const row_major> levels(cell_data, int_path ? 0 : rows, int_path ? 0 : cols);
    // The fold: one product of the inputs with the folded integer weights (rows x channels) gives every channel's
    // sum, exactly: in float when every sum is below 2^24, else in double. Worth it from a few vectors on (the fold
    // itself costs one pass over the cells).
    bool fold_float = false;
    if (fold) {
        sc.w.assign(static_cast<std::size_t>(rows) * oc_n, 0.0);
        sc.rowsum.assign(static_cast<std::size_t>(rows), 0.0);
        double wmax = 0;
        const int half = slices / 2;
        double pw[64];  // 2^(j * cell_bits)
        for (int j = 0; j < slices && j < 64; ++j) pw[j] = std::ldexp(1.0, static_cast<int>(static_cast<unsigned>(j) * cell_bits));
        for (int r = 0; r < rows; ++r) {
            const float* lr = cell_data + static_cast<std::size_t>(r) * cols;
            double rs = 0;
            for (int c = 0; c < cols; ++c) rs += lr[c];
            sc.rowsum[static_cast<std::size_t>(r)] = rs;
            double ref = 0;
            if (!differential)
                for (unsigned j = 0; j < b.ref_cols; ++j) ref += static_cast<double>(lr[oc_n * slices + static_cast<int>(j)]) * pw[j];
            for (int oc = 0; oc < oc_n; ++oc) {
                const float* l = lr + oc * slices;
                double w = 0;
                if (differential) {
                    for (int j = 0; j < half; ++j) w += (static_cast<double>(l[j]) - l[half + j]) * pw[j];
                } else {
                    for (int j = 0; j < slices; ++j) w += static_cast<double>(l[j]) * pw[j];
                    w -= ref;
                }
                sc.w[static_cast<std::size_t>(r) * oc_n + oc] = w;
                wmax = std::max(wmax, std::abs(w));
            }
        }
        fold_float = static_cast<double>(rows) * dac_mask * wmax < 0x1.0p24;
        if (fold_float) sc.wf.assign(sc.w.begin(), sc.w.end());
    }
    const int chunk = std::max(1, gemm_rows / t_n);
    std::uint64_t ones = 0;
    std::int64_t current = 0;  // exact integer total (fixed point for non-ideal); converted to double once per call
    column_histogram* const observe = ro.observe;

    for (int c0 = 0; c0 < n; c0 += chunk) {
        const int m = std::min(chunk, n - c0);
        const int gm = t_n * m;
        if (int_path) {
            sc.xb.assign(static_cast<std::size_t>(gm) * kp, 0);  // the padding past `rows` stays zero
            sc.si.resize(static_cast<std::size_t>(gm) * cols);
        } else {
            sc.x.resize(static_cast<std::size_t>(gm) * rows);
            sc.s.resize(static_cast<std::size_t>(gm) * cols);
        }
        if (nonideal) sc.a.resize(static_cast<std::size_t>(gm));
        sc.live.clear();
        for (int t = 0; t < t_n; ++t) {
            const unsigned shift = static_cast<unsigned>(t) * dac_bits;
            for (int i = 0; i < m; ++i) {
                const std::int32_t* xi = x + static_cast<std::int64_t>(c0 + i) * x_stride;
                const std::size_t g = static_cast<std::size_t>(t * m + i);
                std::int32_t nonzero = 0, a = 0;
                if (int_path)
                    slice_row(xi, shift, dac_mask, rows, &sc.xb[g * static_cast<std::size_t>(kp)], nonzero, a);
                else
                    slice_row(xi, shift, dac_mask, rows, &sc.x[g * static_cast<std::size_t>(rows)], nonzero, a);
                ones += static_cast<std::uint64_t>(nonzero);
                if (nonzero != 0) sc.live.push_back(t * m + i);
                if (nonideal) sc.a[static_cast<std::size_t>(t * m + i)] = a;
            }
        }
        Eigen::Map<const row_major> xs(sc.x.data(), int_path ? 0 : gm, rows);
        if (fold) {
            using drow = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
            const double* res_d = nullptr;
            const float* res_f = nullptr;
            if (fold_float) {
                sc.of.resize(static_cast<std::size_t>(gm) * oc_n);
                Eigen::Map<row_major>(sc.of.data(), gm, oc_n).noalias() = xs * Eigen::Map<const row_major>(sc.wf.data(), rows, oc_n);
                res_f = sc.of.data();
            } else {
                sc.xd.assign(sc.x.begin(), sc.x.begin() + static_cast<std::ptrdiff_t>(gm) * rows);
                sc.od.resize(static_cast<std::size_t>(gm) * oc_n);
                Eigen::Map<drow>(sc.od.data(), gm, oc_n).noalias() =
                    Eigen::Map<const drow>(sc.xd.data(), gm, rows) * Eigen::Map<const drow>(sc.w.data(), rows, oc_n);
                res_d = sc.od.data();
            }
            double tot = 0;  // the column-sum total: exact integers far below 2^53
            for (int g = 0; g < gm; ++g) {
                const float* xr = &sc.x[static_cast<std::size_t>(g) * rows];
                for (int r = 0; r < rows; ++r) tot += static_cast<double>(xr[r]) * sc.rowsum[static_cast<std::size_t>(r)];
            }
            current += static_cast<std::int64_t>(tot);
            for (int t = 0; t < t_n; ++t) {
                const std::int64_t t_weight = std::int64_t{1} << (static_cast<unsigned>(t) * dac_bits);
                for (int i = 0; i < m; ++i) {
                    const std::size_t g = static_cast<std::size_t>(t * m + i) * oc_n;
                    std::int64_t* o = out + static_cast<std::int64_t>(c0 + i) * oc_n;
                    if (res_f != nullptr)
                        for (int oc = 0; oc < oc_n; ++oc) o[oc] += static_cast<std::int64_t>(res_f[g + oc]) * t_weight;
                    else
                        for (int oc = 0; oc < oc_n; ++oc) o[oc] += static_cast<std::int64_t>(res_d[g + oc]) * t_weight;
                }
            }
            continue;
        }
        Eigen::Map<row_major> sums(sc.s.data(), int_path ? 0 : gm, cols);
        for (int gi = 0; gi < n_groups; ++gi) {
            const int r0 = gi * group, len = std::min(group, rows - r0);
            const int live = static_cast<int>(sc.live.size());
            if (int_path) {
                // Only the live (vector, slice) rows go through the kernel; the others sum to exactly zero.
                sc.a_rows.clear();
                sc.c_rows.clear();
                if (live < gm) std::fill(sc.si.begin(), sc.si.end(), 0);
                for (int k = 0; k < live; ++k) {
                    const auto g = static_cast<std::size_t>(sc.live[static_cast<std::size_t>(k)]);
                    sc.a_rows.push_back(&sc.xb[g * static_cast<std::size_t>(kp)]);
                    sc.c_rows.push_back(&sc.si[g * static_cast<std::size_t>(cols)]);
                }
                int8::gemm(sc.a_rows.data(), live, sc.cells, sc.c_rows.data());
            } else if (n_groups == 1 && 4 * live <= 3 * gm) {
                // A quarter or more of the (vector, slice) rows drive no input (high bits of small activations):
                // their column sums are exactly zero, so only the live rows go through the product. The sums of
                // the live rows are the same dot products, so the same bits.
                sc.xl.resize(static_cast<std::size_t>(live) * rows);
                for (int k = 0; k < live; ++k)
                    std::copy_n(&sc.x[static_cast<std::size_t>(sc.live[static_cast<std::size_t>(k)]) * rows], rows,
                                &sc.xl[static_cast<std::size_t>(k) * rows]);
                sc.sl.resize(static_cast<std::size_t>(live) * cols);
                Eigen::Map<row_major>(sc.sl.data(), live, cols).noalias() =
                    Eigen::Map<const row_major>(sc.xl.data(), live, rows) * levels;
                std::fill(sc.s.begin(), sc.s.begin() + static_cast<std::ptrdiff_t>(gm) * cols, 0.0f);
                for (int k = 0; k < live; ++k)
                    std::copy_n(&sc.sl[static_cast<std::size_t>(k) * cols], cols,
                                &sc.s[static_cast<std::size_t>(sc.live[static_cast<std::size_t>(k)]) * cols]);
            } else if (n_groups == 1) {
                sums.noalias() = xs * levels;
            } else {
                sums.noalias() = xs.middleCols(r0, len) * levels.middleRows(r0, len);
                if (nonideal)  // A of the group: the DAC units it drives (exact: small integers in float)
                    for (int g = 0; g < gm; ++g) {
                        const float* xr = &sc.x[static_cast<std::size_t>(g) * rows + static_cast<std::size_t>(r0)];
                        std::int64_t a = 0;
                        for (int r = 0; r < len; ++r) a += static_cast<std::int64_t>(xr[r]);
                        sc.a[static_cast<std::size_t>(g)] = a;
                    }
            }

            // Shift-add of one (vector, input slice): the converted columns of each channel, minus the reference
            // columns (offset) or the G- columns (differential). Integer arithmetic, so its order does not matter.
            // A converted value can be negative (an ADC whose lower reference is below zero): shifted as unsigned, the
            // bits of a multiplication by 2^sh, as C++17 leaves a negative left shift undefined.
            auto shl = [](std::int64_t v, unsigned sh) {
                return static_cast<std::int64_t>(static_cast<std::uint64_t>(v) << sh);
            };
            auto shift_add = [&](auto&& conv, std::int64_t* o, std::int64_t t_weight) {
                std::int64_t ref = 0;
                for (unsigned j = 0; j < b.ref_cols; ++j) ref += shl(conv(oc_n * slices + static_cast<int>(j)), j * cell_bits);
                if (differential) {
                    const int half = slices / 2;
                    for (int oc = 0; oc < oc_n; ++oc) {
                        const int base = oc * slices;
                        std::int64_t acc = 0;
                        for (int j = 0; j < half; ++j) {
                            const unsigned sh = static_cast<unsigned>(j) * cell_bits;
                            acc += shl(conv(base + j), sh) - shl(conv(base + half + j), sh);
                        }
                        o[oc] += acc * t_weight;  // acc may be negative: multiply, never shift it
                    }
                } else {
                    for (int oc = 0; oc < oc_n; ++oc) {
                        const int base = oc * slices;
                        std::int64_t acc = 0;
                        for (int j = 0; j < slices; ++j) acc += shl(conv(base + j), static_cast<unsigned>(j) * cell_bits);
                        o[oc] += (acc - ref) * t_weight;
                    }
                }
            };

            if (!nonideal && !int_path) {
                // The float GEMM's sums are integers below 2^24: as int32, the int8 kernel's form, so one conversion
                // serves both.
                sc.si.resize(static_cast<std::size_t>(gm) * cols);
                for (std::size_t k = 0; k < sc.si.size(); ++k) sc.si[k] = static_cast<std::int32_t>(sc.s[k]);
            }
            if (!nonideal && observe == nullptr) {
                // One pass per input slice: each column sum converted and added into the vector's column at the
                // slice's weight (adc_transfer::convert_accumulate). The shift-add is linear in the converted values,
                // so it then runs once per vector instead of once per slice. A lossless read (identity, or exact row
                // groups whose sum the group ADC need not convert) adds the sums themselves.
                const bool identity = exact_groups || adc.integer_identity();
                const std::size_t len = static_cast<std::size_t>(m) * cols;
                sc.acc.assign(len, 0);
                std::int64_t* const acc = sc.acc.data();
                std::int64_t tot = 0;
                for (int t = 0; t < t_n; ++t) {
                    const std::int32_t* sv = sc.si.data() + static_cast<std::size_t>(t) * len;
                    const unsigned shift = static_cast<unsigned>(t) * dac_bits;
                    if (identity) {
                        for (std::size_t k = 0; k < len; ++k) {
                            tot += sv[k];
                            acc[k] += static_cast<std::int64_t>(static_cast<std::uint64_t>(std::int64_t{sv[k]}) << shift);
                        }
                    } else {
                        adc.convert_accumulate(sv, len, shift, acc, tot);
                    }
                }
                current += tot;
                for (int i = 0; i < m; ++i) {
                    const std::int64_t* arow = acc + static_cast<std::size_t>(i) * cols;
                    shift_add([arow](int c) { return arow[c]; }, out + static_cast<std::int64_t>(c0 + i) * oc_n, 1);
                }
                continue;
            }
            if (!nonideal) {
                // Observed (calibration): every conversion goes through adc.convert() and into the histogram.
                for (int t = 0; t < t_n; ++t) {
                    const std::int64_t t_weight = std::int64_t{1} << (static_cast<unsigned>(t) * dac_bits);
                    for (int i = 0; i < m; ++i) {
                        const std::int32_t* srow = &sc.si[static_cast<std::size_t>(t * m + i) * cols];
                        std::int64_t* o = out + static_cast<std::int64_t>(c0 + i) * oc_n;
                        shift_add([&](int c) {
                            const std::int64_t s = srow[c];
                            current += s;
                            observe->add(static_cast<double>(s));
                            return adc.convert(s);
                        }, o, t_weight);
                    }
                }
                continue;
            }

            // Non-ideal: real column values, converted once per (vector, slice) into sc.conv, then the same
            // shift-add. Separate passes keep the arithmetic ones vectorisable.
            sc.v.resize(static_cast<std::size_t>(cols));
            sc.amp.resize(static_cast<std::size_t>(cols));
            sc.conv.resize(static_cast<std::size_t>(cols));
            const double inv_scale = std::ldexp(1.0, -static_cast<int>(b.frac_bits));  // exact power of two
            const double noise_gain = ro.read_noise_sigma * ro.read_noise_sigma * b.gmax_units;
            const std::int64_t g0 = b.g0_fixed;
            double* const v = sc.v.data();
            double* const amp = sc.amp.data();
            sc.acc.resize(static_cast<std::size_t>(cols));
            std::int64_t* const acc = sc.acc.data();
            for (int i = 0; i < m; ++i) {
                std::int64_t* o = out + static_cast<std::int64_t>(c0 + i) * oc_n;
                std::fill(acc, acc + cols, 0);  // this vector's converted values, weighed by slice (see above)
                // Keyed by the vector's stable id, so its noise is the same in any batch; in grouped reads by the
                // group and the slice too, so a skipped conversion leaves the others' noise as it is.
                const auto id = static_cast<std::uint64_t>(noisy ? ro.vector_ids[c0 + i] : 0);
                gaussian noise(ro.seed, {0x4e015e, ro.layer, ro.block, id});
                for (int t = 0; t < t_n; ++t) {
                    const unsigned t_shift = static_cast<unsigned>(t) * dac_bits;
                    const std::size_t g = static_cast<std::size_t>(t * m + i);
                    if (skip_idle_groups && sc.a[g] == 0) continue;
                    if (noisy && n_groups > 1)
                        noise = gaussian(ro.seed, {0x4e015e, ro.layer, ro.block, id, static_cast<std::uint64_t>(gi),
                                                   static_cast<std::uint64_t>(t)});
                    const float* srow = &sc.s[g * cols];
                    const std::int64_t off = g0 * sc.a[g];
                    std::int64_t net_total = 0;
                    for (int c = 0; c < cols; ++c) {
                        const auto raw = static_cast<std::int64_t>(srow[c]);  // exact: integer below 2^24
                        const std::int64_t net = raw - off;                   // exact fixed point
                        net_total += net;
                        v[c] = static_cast<double>(net) * inv_scale;
                    }
                    current += net_total;
                    if (noisy) {
                        // sigma * sqrt(S/2^F * gmax_units), S the raw current (see the header for the bound).
                        for (int c = 0; c < cols; ++c)
                            amp[c] = std::sqrt(std::max(0.0, static_cast<double>(srow[c]) * inv_scale) * noise_gain);
                        for (int c = 0; c < cols; ++c) v[c] += amp[c] * noise.next();
                    }
                    if (observe != nullptr)
                        for (int c = 0; c < cols; ++c) observe->add(v[c]);
                    adc.convert_real(v, sc.conv.data(), cols);
                    const std::int64_t* cv = sc.conv.data();
                    for (int c = 0; c < cols; ++c)  // as unsigned: the bits of cv[c] * t_weight for a negative code too
                        acc[c] += static_cast<std::int64_t>(static_cast<std::uint64_t>(cv[c]) << t_shift);
                }
                shift_add([acc](int c) { return acc[c]; }, o, 1);
            }
        }  // row groups
    }

    if (act != nullptr) {
        act->input_ones += ones;
        const int reads = (rows + conversion_rows - 1) / conversion_rows;  // conversions per column (groups formed or not)
        act->column_reads += static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(t_n) * static_cast<std::uint64_t>(cols) *
                             static_cast<std::uint64_t>(reads);
        act->column_sum_total += nonideal ? std::ldexp(static_cast<double>(current), -static_cast<int>(b.frac_bits))
                                          : static_cast<double>(current);
    }
}

template <class T>
reference_weights prepare_reference(const T* qweights, std::int64_t weight_rows, int out_channels, bool pack) {
    reference_weights w;
    w.qweights = qweights;
    w.width = sizeof(T);
    w.weight_rows = weight_rows;
    w.out_channels = out_channels;
    if (!pack || !int8::available() || weight_rows <= 0 || weight_rows >= 65536 || out_channels <= 0) return w;
    if (sizeof(T) > 1) {
        const std::int64_t count = weight_rows * out_channels;
        std::int32_t lo = 0, hi = 0;
        for (std::int64_t i = 0; i < count; ++i) {
            lo = std::min<std::int32_t>(lo, qweights[i]);
            hi = std::max<std::int32_t>(hi, qweights[i]);
        }
        if (lo < -128 || hi > 127) return w;
    }
    int8::pack_b(qweights, static_cast<int>(weight_rows), out_channels, 1, weight_rows, w.int8);
    w.packed = true;
    return w;
}
template reference_weights prepare_reference<std::int8_t>(const std::int8_t*, std::int64_t, int, bool);
template reference_weights prepare_reference<std::int16_t>(const std::int16_t*, std::int64_t, int, bool);
template reference_weights prepare_reference<std::int32_t>(const std::int32_t*, std::int64_t, int, bool);

void reference_mvm(const reference_weights& w, const std::int32_t* x, int n, std::int64_t* out) {
    if (n <= 0 || w.out_channels <= 0) return;
    if (w.packed) {
        const std::int64_t rows = w.weight_rows;
        const std::int64_t xn = rows * n;
        std::int32_t bad = 0;
        for (std::int64_t i = 0; i < xn; ++i) bad |= x[i] & ~0xff;  // also catches negatives
        if (bad == 0) {
            // Rows of 64 vectors at a time: bytes padded to a multiple of 4, int32 sums widened into out.
            const int kp = int8::padded_k(static_cast<int>(rows));
            thread_local std::vector<std::uint8_t> xb;
            thread_local std::vector<std::int32_t> cs;
            thread_local std::vector<const std::uint8_t*> a_rows;
            thread_local std::vector<std::int32_t*> c_rows;
            constexpr int panel = 64;
            const int oc = w.out_channels;
            for (int i0 = 0; i0 < n; i0 += panel) {
                const int m = std::min(panel, n - i0);
                xb.assign(static_cast<std::size_t>(m) * kp, 0);
                cs.resize(static_cast<std::size_t>(m) * oc);
                a_rows.resize(static_cast<std::size_t>(m));
                c_rows.resize(static_cast<std::size_t>(m));
                for (int i = 0; i < m; ++i) {
                    const std::int32_t* xi = x + static_cast<std::int64_t>(i0 + i) * rows;
                    std::uint8_t* d = &xb[static_cast<std::size_t>(i) * kp];
                    for (std::int64_t r = 0; r < rows; ++r) d[r] = static_cast<std::uint8_t>(xi[r]);
                    a_rows[static_cast<std::size_t>(i)] = d;
                    c_rows[static_cast<std::size_t>(i)] = &cs[static_cast<std::size_t>(i) * oc];
                }
                int8::gemm(a_rows.data(), m, w.int8, c_rows.data());
                std::int64_t* o = out + static_cast<std::int64_t>(i0) * oc;
                for (std::size_t k = 0; k < cs.size(); ++k) o[k] = cs[k];
            }
            return;
        }
    }
    if (w.width == 1 && int8::available() && w.weight_rows < 65536) {
        // Byte weights, few vectors: each vector through the weights as they are stored (no packing).
        const std::int64_t rows = w.weight_rows;
        std::int32_t bad = 0;
        for (std::int64_t i = 0; i < rows * n; ++i) bad |= x[i] & ~0xff;  // also catches negatives
        if (bad == 0) {
            thread_local std::vector<std::uint8_t> xb;
            thread_local std::vector<std::int32_t> cs;
            xb.resize(static_cast<std::size_t>(rows));
            cs.resize(static_cast<std::size_t>(w.out_channels));
            for (int i = 0; i < n; ++i) {
                const std::int32_t* xi = x + static_cast<std::int64_t>(i) * rows;
                for (std::int64_t r = 0; r < rows; ++r) xb[static_cast<std::size_t>(r)] = static_cast<std::uint8_t>(xi[r]);
                int8::gemv(xb.data(), static_cast<int>(rows), static_cast<const std::int8_t*>(w.qweights), rows,
                           w.out_channels, cs.data());
                std::int64_t* o = out + static_cast<std::int64_t>(i) * w.out_channels;
                for (int c = 0; c < w.out_channels; ++c) o[c] = cs[static_cast<std::size_t>(c)];
            }
            return;
        }
    }
    if (w.width == 1)
        reference_mvm(static_cast<const std::int8_t*>(w.qweights), w.weight_rows, w.out_channels, x, n, out);
    else if (w.width == 2)
        reference_mvm(static_cast<const std::int16_t*>(w.qweights), w.weight_rows, w.out_channels, x, n, out);
    else
        reference_mvm(static_cast<const std::int32_t*>(w.qweights), w.weight_rows, w.out_channels, x, n, out);
}

template <class T>
void reference_mvm(const T* qweights, std::int64_t weight_rows, int out_channels, const std::int32_t* x, int n,
                   std::int64_t* out) {
    if (n <= 0 || out_channels <= 0) return;
    // An exact integer product through a double GEMM whenever every partial sum stays below 2^52 (doubles hold such
    // integers exactly, and an exact sum does not depend on the order of its terms), which the magnitudes found
    // while converting the operands prove; int8-int16 networks always qualify. Worth it from a few vectors on (a
    // single vector is a matrix-vector product: the loop below is as fast); the weights are converted 64 output
    // channels at a time, so the scratch stays small.
    if (n >= 8) {
        using mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        const std::int64_t xn = weight_rows * n;
        mat xd(n, weight_rows);
        std::int64_t xmax = 0;
        for (std::int64_t i = 0; i < xn; ++i) {
            xmax = std::max<std::int64_t>(xmax, std::llabs(x[i]));
            xd.data()[i] = static_cast<double>(x[i]);
        }
        constexpr int block = 64;
        bool exact = true;
        for (int c0 = 0; c0 < out_channels && exact; c0 += block) {
            const int cn = std::min(block, out_channels - c0);
            mat wd(cn, weight_rows);
            std::int64_t wmax = 0;
            const T* w = qweights + static_cast<std::int64_t>(c0) * weight_rows;
            for (std::int64_t i = 0; i < wd.size(); ++i) {
                wmax = std::max<std::int64_t>(wmax, std::llabs(w[i]));
                wd.data()[i] = static_cast<double>(w[i]);
            }
            exact = static_cast<double>(wmax) * static_cast<double>(xmax) * static_cast<double>(weight_rows) < 0x1.0p52;
            if (!exact) break;
            const mat y = xd * wd.transpose();  // n x cn
            for (int i = 0; i < n; ++i)
                for (int c = 0; c < cn; ++c)
                    out[static_cast<std::int64_t>(i) * out_channels + c0 + c] = static_cast<std::int64_t>(y(i, c));
        }
        if (exact) return;
    }
    for (int i = 0; i < n; ++i) {
        const std::int32_t* xi = x + static_cast<std::int64_t>(i) * weight_rows;
        for (int oc = 0; oc < out_channels; ++oc) {
            const T* w = qweights + static_cast<std::int64_t>(oc) * weight_rows;
            std::int64_t acc = 0;
            for (std::int64_t r = 0; r < weight_rows; ++r) acc += std::int64_t{w[r]} * xi[r];
            out[static_cast<std::int64_t>(i) * out_channels + oc] = acc;
        }
    }
}

template void reference_mvm<std::int8_t>(const std::int8_t*, std::int64_t, int, const std::int32_t*, int, std::int64_t*);
template void reference_mvm<std::int16_t>(const std::int16_t*, std::int64_t, int, const std::int32_t*, int, std::int64_t*);
template void reference_mvm<std::int32_t>(const std::int32_t*, std::int64_t, int, const std::int32_t*, int, std::int64_t*);

}  // namespace cim::func
