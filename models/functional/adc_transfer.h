#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/core/units.h"
#include "models/functional/column_histogram.h"

namespace cim::func {

/// ADC parameters of a column read-out (the `adc:` config section). The resolution is subarray.adc_bits.
struct adc_config {
    std::string transfer = "linear";
    std::string reference = "full_scale";
    double percentile = 100;
    unsigned batch_images = 16;

    template <class V>
    void visit(V& v) {
        v.choice("transfer", transfer, {"linear", "nonlinear"},
                 "transfer function: linear (equal steps) or nonlinear (levels placed by the column-sum "
                 "distribution, Lloyd-Max, as NeuroSim's non-linear ADC)");
        v.choice("reference", reference, {"full_scale", "calibrated", "batch_minmax"},
                 "references: full_scale (fixed, the largest possible column sum), calibrated (per layer, from the "
                 "run.calibration_images images), or batch_minmax (per batch of batch_images images, reproduces "
                 "DNN+NeuroSim)");
        v("percentile", percentile, range{0, 100, true},
          "calibrated linear: upper reference at this percentile of the calibration column sums [%]");
        v("batch_images", batch_images, range{1, 1000000},
          "batch_minmax: images per batch whose column sums set that batch's references");
    }
    /// Throws cim::config_error naming the offending key.
    void validate() const;
};

/// The ADC transfer function of one column read-out: a column value (in units of one cell level times one
/// input unit, after the off-current subtraction) to the digitised value in the same units. Kinds:
///  - full scale (the constructor): linear over [0, full_scale] with L = 2^bits codes. Exact when
///    full_scale <= L-1; otherwise step = full_scale / (L-1), code = clamp(llround(sum / step), 0, L-1),
///    value = llround(code * step). Integer sums use a precomputed table (the hot path of the ideal kernel).
///  - linear(bits, lo, hi): L codes over [lo, hi]; lossless when hi - lo <= L-1 (value = llround(clamp(s))),
///    else step = (hi-lo)/(L-1), code = clamp(llround((s-lo)/step), 0, L-1), value = llround(lo + code*step).
///  - nonlinear(bits, levels): 2^bits sorted reconstruction levels, decision thresholds at the midpoints
///    (a flash ADC with a non-uniform reference ladder), value = llround(level).
///  - from_histogram: linear or nonlinear with references from a calibration histogram.
/// Immutable, so one instance may be shared by threads.
/// Does not model: offset/gain error, comparator noise, energy or timing (circuit::adc_*).
class adc_transfer {
public:
    adc_transfer(unsigned bits, std::int64_t full_scale);

    /// bits in 1..30 (the other kinds: 1..16).
    static adc_transfer linear(unsigned bits, double lo, double hi);
    /// levels: exactly 2^bits finite values, sorted ascending (repeats allowed).
    static adc_transfer nonlinear(unsigned bits, std::vector<double> levels);
    /// transfer "linear": lo = min(0, percentile(0)), hi = percentile(percentile) (column sums are
    /// non-negative in the ideal case, so 0 stays the bottom reference). transfer "nonlinear": Lloyd-Max
    /// quantiser of the histogram (1-D k-means over bin centres weighted by counts, initialised at equally
    /// spaced quantiles, 30 iterations) with one level pinned at 0 so zero sums stay zero; this is NeuroSim's
    /// non-linear ADC with levels placed by the partial-sum distribution. percentile in (0, 100].
    /// Throws cim::model_error for an empty histogram or an unknown transfer.
    static adc_transfer from_histogram(unsigned bits, const column_histogram& h, const std::string& transfer,
                                       double percentile);

    /// The digitised column sum, in the same units as the input. Full-scale kind, lossless: the sum itself.
    std::int64_t convert(std::int64_t column_sum) const {
        if (m_identity) return column_sum;
        const std::vector<std::int32_t>& t = *m_table;
        if (column_sum >= 0 && column_sum < static_cast<std::int64_t>(t.size())) return t[column_sum];
        return convert_slow(column_sum);
    }
    /// The digitised value of a real column value (non-ideal devices). Full-scale kind, lossless:
    /// llround(clamp(s, 0, 2^bits - 1)), the codes of a step-1 ADC.
    std::int64_t convert_real(double s) const;
    /// convert_real of n values (the non-ideal kernel's hot loop: one dispatch on the kind per call).
    void convert_real(const double* s, std::int64_t* out, int n) const;

    /// For kernels that hoist convert() out of their loop: convert() is the identity for every integer sum.
    bool integer_identity() const { return m_identity; }

    /// convert() of the non-negative integer sums as a staircase of at most 32 steps, when the transfer has one
    /// (a tabulated, saturating, non-decreasing transfer with at most 32 distinct values: ADCs of up to 5 bits):
    /// convert(s) = values[c] for the largest c with thresholds[c] <= s; thresholds[0] is the smallest int32 and
    /// unused steps repeat the last value at the largest int32.
    struct steps {
        std::int32_t thresholds[32];
        std::int32_t values[32];
    };
    /// nullptr when the transfer has no such staircase.
    const steps* integer_steps() const { return m_steps.get(); }
    /// For every k < n: acc[k] += convert(s[k]) << shift (as unsigned, the bits of a multiplication by 2^shift), and
    /// total += s[k]. Every s[k] must be in [0, 2^31). Through the staircase on 16 sums at a time with AVX-512 when
    /// both are there (int8::available()), else through the table or convert().
    void convert_accumulate(const std::int32_t* s, std::size_t n, unsigned shift, std::int64_t* acc,
                            std::int64_t& total) const;

    bool lossless() const { return m_lossless; }
    unsigned bits() const { return m_bits; }
    std::int64_t full_scale() const { return m_full_scale; }
    /// Reference levels of the nonlinear kind (empty otherwise); lo/hi of the linear kinds.
    const std::vector<double>& levels() const { return m_levels; }
    double lo() const { return m_lo; }
    double hi() const { return m_hi; }

private:
    enum class kind { full_scale, linear, nonlinear };
    adc_transfer() = default;
    std::int64_t convert_slow(std::int64_t column_sum) const;
    void build_table(std::int64_t top);

    kind m_kind = kind::full_scale;
    unsigned m_bits = 1;
    std::int64_t m_full_scale = 0;
    std::int64_t m_max_code = 1;
    double m_step = 1.0;
    double m_lo = 0.0, m_hi = 0.0;
    bool m_lossless = true;
    bool m_identity = false;  // full-scale kind and lossless: convert() returns the sum unchanged
    std::vector<double> m_levels;      // nonlinear: reconstruction levels
    std::vector<double> m_thresholds;  // nonlinear: midpoints between consecutive levels, then +inf (2^bits)
    std::vector<std::int64_t> m_values;  // nonlinear: llround(level)
    // nonlinear: a uniform grid over [first, last finite threshold]; m_bucket_start[b] is the number of thresholds
    // at or below the lower edge of bucket b, the starting guess of convert_real's search (which corrects it).
    std::vector<std::uint16_t> m_bucket_start;
    double m_bucket_lo = 0.0, m_bucket_scale = 0.0;
    // convert() of every integer sum in [0, size), precomputed by convert_slow() so the hot loop does no
    // division or llround; empty when the range is too large to tabulate cheaply.
    // Shared by copies: a chip's subarrays hold copies of a handful of ADCs.
    std::shared_ptr<const std::vector<std::int32_t>> m_table = std::make_shared<const std::vector<std::int32_t>>();
    bool m_table_saturates = false;
    std::shared_ptr<const steps> m_steps;  // shared by copies, like the table
};

}  // namespace cim::func
