#include "models/functional/adc_transfer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "models/config/field.h"
#include "models/core/error.h"
#include "models/functional/int8_gemm.h"
#include "models/functional/quant_ops.h"

namespace cim::func {

void adc_config::validate() const {
    if (transfer != "linear" && transfer != "nonlinear")
        throw config_error("", 0, "transfer", "must be linear or nonlinear, got '" + transfer + "'");
    if (reference != "full_scale" && reference != "calibrated" && reference != "batch_minmax")
        throw config_error("", 0, "reference",
                           "must be full_scale, calibrated or batch_minmax, got '" + reference + "'");
    cfg::check_ranges(*this);
}

namespace {
// Column sums of a block stay below 2^24 (the float-exactness bound of the crossbar kernel), but a
// table of that size would cost 64 MiB per transfer; typical full scales (rows x levels) are a few
// thousand, so tabulate up to 2^20 entries (4 MiB) and compute above that.
constexpr std::int64_t max_table = std::int64_t{1} << 20;

void check_bits(unsigned bits, unsigned max_bits = 16) {
    if (bits < 1 || bits > max_bits)
        throw model_error("adc.bits", "must be in 1.." + std::to_string(max_bits) + ", got " + std::to_string(bits));
}

// Lloyd-Max iterations: k-means in 1-D converges in a few tens of steps for the 3..8-bit ADCs of interest;
// a fixed count (no tolerance test) keeps the result a pure function of the histogram.
constexpr int lloyd_iterations = 30;
}  // namespace

adc_transfer::adc_transfer(unsigned bits, std::int64_t full_scale)
    : m_bits(bits), m_full_scale(full_scale), m_max_code(0), m_step(1.0), m_lossless(true) {
    check_bits(bits);
    if (full_scale < 0) throw model_error("adc.full_scale", "must not be negative");
    m_max_code = (std::int64_t{1} << bits) - 1;
    m_lo = 0.0;
    m_hi = static_cast<double>(full_scale);
    m_lossless = full_scale <= m_max_code;
    m_identity = m_lossless;
    if (m_lossless) return;
    m_step = static_cast<double>(full_scale) / static_cast<double>(m_max_code);
    build_table(full_scale);
}

void adc_transfer::build_table(std::int64_t top) {
    if (top < 0 || top >= max_table) return;
    auto table = std::make_shared<std::vector<std::int32_t>>(static_cast<std::size_t>(top) + 1);
    for (std::int64_t s = 0; s <= top; ++s) (*table)[s] = static_cast<std::int32_t>(convert_slow(s));
    // Every transfer is non-decreasing, so equal codes at top + 1 and far beyond mean the table's last entry holds
    // for every larger sum (the ADC has saturated), and a kernel may clamp its index instead of calling convert().
    m_table_saturates = convert_slow(top + 1) == (*table)[static_cast<std::size_t>(top)] &&
                        convert_slow(std::int64_t{1} << 40) == (*table)[static_cast<std::size_t>(top)];
    m_table = std::move(table);
    // The staircase form: the first sum of each new value, when the table is non-decreasing with <= 32 values.
    m_steps.reset();
    if (!m_table_saturates) return;
    auto st = std::make_shared<steps>();
    const std::vector<std::int32_t>& t = *m_table;
    int c = 0;
    st->thresholds[0] = std::numeric_limits<std::int32_t>::min();
    st->values[0] = t[0];
    for (std::size_t s = 1; s < t.size(); ++s) {
        if (t[s] < t[s - 1]) return;  // not non-decreasing
        if (t[s] == t[s - 1]) continue;
        if (++c == 32) return;  // more than 32 values
        st->thresholds[c] = static_cast<std::int32_t>(s);
        st->values[c] = t[s];
    }
    for (int k = c + 1; k < 32; ++k) {
        st->thresholds[k] = std::numeric_limits<std::int32_t>::max();
        st->values[k] = st->values[c];
    }
    m_steps = std::move(st);
}

// The AVX-512 staircase conversion (kernels_avx512.cpp); called only when int8::available() found AVX-512.
void convert_accumulate_steps_avx512(const adc_transfer::steps& st, const std::int32_t* s, std::size_t n,
                                     unsigned shift, std::int64_t* acc, std::int64_t& total);

void adc_transfer::convert_accumulate(const std::int32_t* s, std::size_t n, unsigned shift, std::int64_t* acc,
                                      std::int64_t& total) const {
    auto add = [&](std::size_t k, std::int64_t v) {
        acc[k] += static_cast<std::int64_t>(static_cast<std::uint64_t>(v) << shift);
    };
    if (m_steps && int8::available()) {
        convert_accumulate_steps_avx512(*m_steps, s, n, shift, acc, total);
        return;
    }
    const std::vector<std::int32_t>& t = *m_table;
    if (m_identity) {
        for (std::size_t k = 0; k < n; ++k) total += s[k], add(k, s[k]);
    } else if (!t.empty() && m_table_saturates) {
        const auto last = static_cast<std::int32_t>(t.size() - 1);
        for (std::size_t k = 0; k < n; ++k) total += s[k], add(k, t[static_cast<std::size_t>(std::min(s[k], last))]);
    } else {
        for (std::size_t k = 0; k < n; ++k) total += s[k], add(k, convert(s[k]));
    }
}

adc_transfer adc_transfer::linear(unsigned bits, double lo, double hi) {
    // Up to 30 bits: a linear ADC needs no per-level storage, and a very fine one is a convenient
    // "exact" read-out for calibration runs.
    check_bits(bits, 30);
    if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo)
        throw model_error("adc.references", "need finite lo <= hi, got [" + std::to_string(lo) + ", " +
                                                std::to_string(hi) + "]");
    adc_transfer a;
    a.m_kind = kind::linear;
    a.m_bits = bits;
    a.m_max_code = (std::int64_t{1} << bits) - 1;
    a.m_lo = lo;
    a.m_hi = hi;
    a.m_full_scale = static_cast<std::int64_t>(std::min(std::ceil(hi - lo), 0x1.0p62));
    a.m_lossless = hi - lo <= static_cast<double>(a.m_max_code);
    a.m_step = a.m_lossless ? 1.0 : (hi - lo) / static_cast<double>(a.m_max_code);
    a.build_table(static_cast<std::int64_t>(std::ceil(std::max(hi, 0.0))));
    return a;
}

adc_transfer adc_transfer::nonlinear(unsigned bits, std::vector<double> levels) {
    check_bits(bits);
    const std::size_t n = std::size_t{1} << bits;
    if (levels.size() != n)
        throw model_error("adc.levels", "need 2^bits = " + std::to_string(n) + " levels, got " +
                                            std::to_string(levels.size()));
    for (std::size_t k = 0; k < n; ++k) {
        if (!std::isfinite(levels[k])) throw model_error("adc.levels", "levels must be finite");
        if (k > 0 && levels[k] < levels[k - 1]) throw model_error("adc.levels", "levels must be sorted ascending");
    }
    adc_transfer a;
    a.m_kind = kind::nonlinear;
    a.m_bits = bits;
    a.m_max_code = static_cast<std::int64_t>(n) - 1;
    a.m_lossless = false;
    a.m_lo = levels.front();
    a.m_hi = levels.back();
    a.m_full_scale = static_cast<std::int64_t>(std::min(std::ceil(a.m_hi - a.m_lo), 0x1.0p62));
    a.m_thresholds.assign(n, std::numeric_limits<double>::infinity());  // the last entry pads to 2^bits
    for (std::size_t k = 0; k + 1 < n; ++k) a.m_thresholds[k] = 0.5 * (levels[k] + levels[k + 1]);
    a.m_values.resize(n);
    for (std::size_t k = 0; k < n; ++k) a.m_values[k] = round_half_away(levels[k]);
    a.m_levels = std::move(levels);
    // The bucket grid of convert_real: 64 buckets per threshold (at most 2^16), so most buckets hold no threshold
    // and the search ends after two compares.
    const std::size_t finite = n - 1;
    const double g_lo = a.m_thresholds.front(), g_hi = a.m_thresholds[finite - 1];
    const std::size_t buckets = g_hi > g_lo ? std::min<std::size_t>(64 * finite, std::size_t{1} << 16) : 1;
    a.m_bucket_lo = g_lo;
    a.m_bucket_scale = buckets > 1 ? static_cast<double>(buckets) / (g_hi - g_lo) : 0.0;
    a.m_bucket_start.resize(buckets);
    for (std::size_t b = 0; b < buckets; ++b) {
        const double edge = buckets > 1 ? g_lo + static_cast<double>(b) / a.m_bucket_scale : g_lo;
        a.m_bucket_start[b] = static_cast<std::uint16_t>(
            std::upper_bound(a.m_thresholds.begin(), a.m_thresholds.begin() + static_cast<std::ptrdiff_t>(finite), edge) -
            a.m_thresholds.begin());
    }
    a.build_table(static_cast<std::int64_t>(std::ceil(std::max(a.m_hi, 0.0))));
    return a;
}

adc_transfer adc_transfer::from_histogram(unsigned bits, const column_histogram& h, const std::string& transfer,
                                          double percentile) {
    check_bits(bits);
    if (h.count == 0) throw model_error("adc.calibration", "no column values observed");
    if (!(percentile > 0.0 && percentile <= 100.0))
        throw model_error("adc.percentile", "must be in (0, 100], got " + std::to_string(percentile));
    if (transfer == "linear") {
        const double lo = std::min(0.0, h.percentile(0.0));
        return linear(bits, lo, std::max(lo, h.percentile(percentile)));
    }
    if (transfer != "nonlinear")
        throw model_error("adc.transfer", "must be linear or nonlinear, got '" + transfer + "'");

    // Lloyd-Max (Lloyd 1982, Max 1960): alternately put thresholds at midpoints between levels and each
    // level at the centroid of its cell, i.e. 1-D k-means minimising mean squared error. The data are the
    // histogram's bin centres weighted by their counts. One level is pinned at 0: an all-zero input slice
    // must read back as 0, or the error would accumulate over the many zero reads of sparse activations.
    const std::size_t n = std::size_t{1} << bits;
    std::vector<double> centre, weight;
    for (std::size_t k = 0; k < h.bins.size(); ++k)
        if (h.bins[k] != 0) {
            centre.push_back(h.bin_centre(k));
            weight.push_back(static_cast<double>(h.bins[k]));
        }
    std::vector<double> free_levels(n - 1);
    for (std::size_t j = 0; j + 1 < n; ++j)
        free_levels[j] = h.percentile(100.0 * (static_cast<double>(j) + 0.5) / static_cast<double>(n - 1));
    std::sort(free_levels.begin(), free_levels.end());

    std::vector<double> all(n), mid(n - 1), sum(n), wsum(n);
    auto combine = [&] {
        const std::size_t pin = static_cast<std::size_t>(
            std::lower_bound(free_levels.begin(), free_levels.end(), 0.0) - free_levels.begin());
        std::copy(free_levels.begin(), free_levels.begin() + static_cast<std::ptrdiff_t>(pin), all.begin());
        all[pin] = 0.0;
        std::copy(free_levels.begin() + static_cast<std::ptrdiff_t>(pin), free_levels.end(),
                  all.begin() + static_cast<std::ptrdiff_t>(pin) + 1);
        return pin;
    };
    for (int it = 0; it < lloyd_iterations; ++it) {
        const std::size_t pin = combine();
        for (std::size_t k = 0; k + 1 < n; ++k) mid[k] = 0.5 * (all[k] + all[k + 1]);
        std::fill(sum.begin(), sum.end(), 0.0);
        std::fill(wsum.begin(), wsum.end(), 0.0);
        for (std::size_t b = 0; b < centre.size(); ++b) {
            const auto k = static_cast<std::size_t>(std::upper_bound(mid.begin(), mid.end(), centre[b]) - mid.begin());
            sum[k] += weight[b] * centre[b];
            wsum[k] += weight[b];
        }
        std::size_t j = 0;
        for (std::size_t k = 0; k < n; ++k) {
            if (k == pin) continue;
            free_levels[j++] = wsum[k] > 0.0 ? sum[k] / wsum[k] : all[k];  // an empty cell keeps its level
        }
        std::sort(free_levels.begin(), free_levels.end());
    }
    combine();
    return nonlinear(bits, all);
}

std::int64_t adc_transfer::convert_slow(std::int64_t column_sum) const {
    if (m_kind != kind::full_scale) return convert_real(static_cast<double>(column_sum));
    if (m_lossless) return column_sum;
    const double ratio = static_cast<double>(column_sum) / m_step;
    // Clamp before llround so a huge sum cannot overflow the conversion.
    const std::int64_t code = ratio <= 0.0                           ? 0
                              : ratio >= static_cast<double>(m_max_code) ? m_max_code
                                                                         : round_half_away(ratio);
    return round_half_away(static_cast<double>(code) * m_step);
}

std::int64_t adc_transfer::convert_real(double s) const {
    std::int64_t v;
    convert_real(&s, &v, 1);
    return v;
}

void adc_transfer::convert_real(const double* s, std::int64_t* out, int n) const {
    // NaN cannot come from the kernel; it is read as 0 so a bad caller cannot index out of range.
    auto clean = [](double x) { return x == x ? x : 0.0; };
    const double top = static_cast<double>(m_max_code);
    switch (m_kind) {
    case kind::full_scale:
        if (m_lossless) {
            for (int k = 0; k < n; ++k) out[k] = round_half_away(std::min(std::max(clean(s[k]), 0.0), top));
        } else {
            // Same formula as convert_slow (a real sum between two integers lands between their codes).
            for (int k = 0; k < n; ++k) {
                const double ratio = std::min(std::max(clean(s[k]) / m_step, 0.0), top);
                out[k] = round_half_away(static_cast<double>(round_half_away(ratio)) * m_step);
            }
        }
        return;
    case kind::linear:
        for (int k = 0; k < n; ++k) {
            const double c = std::min(std::max(clean(s[k]), m_lo), m_hi);
            if (m_lossless) {
                out[k] = round_half_away(c);
            } else {
                const double code = static_cast<double>(std::min(round_half_away((c - m_lo) / m_step), m_max_code));
                out[k] = round_half_away(m_lo + code * m_step);
            }
        }
        return;
    case kind::nonlinear: {
        // The code's index is the number of finite thresholds at or below x (upper_bound; the last threshold is the
        // +inf pad). Start from x's bucket of the grid and step down or up to the exact count: in most buckets
        // there is no threshold, so that is two well-predicted compares. Any start gives the same exact count.
        const double* th = m_thresholds.data();
        const std::size_t last = m_thresholds.size() - 1;  // the number of finite thresholds
        const std::uint16_t* start = m_bucket_start.data();
        const double top_bucket = static_cast<double>(m_bucket_start.size() - 1);
        for (int k = 0; k < n; ++k) {
            const double x = clean(s[k]);
            const double d = (x - m_bucket_lo) * m_bucket_scale;  // NaN for an infinite x on a one-bucket grid
            std::size_t i = start[d > 0.0 ? static_cast<std::size_t>(d < top_bucket ? d : top_bucket) : 0];
            while (i > 0 && th[i - 1] > x) --i;
            while (i < last && th[i] <= x) ++i;
            out[k] = m_values[i];
        }
        return;
    }
    }
}

}  // namespace cim::func
