#pragma once
#include <cstdint>
#include <vector>

namespace cim::func {

/// Distribution of column values seen before the ADC (block_mvm's read_options::observe), for placing ADC
/// references from a calibration set (adc_transfer::from_histogram). Fixed, equal-width bins over [lo, hi];
/// values outside are counted in the end bins (min_seen / max_seen keep the true extremes).
/// Deterministic: the result of add() / merge() does not depend on their order, so per-thread histograms
/// merged in any order give the same percentiles.
/// Not thread-safe: give each thread its own and merge().
class column_histogram {
public:
    double lo = 0, hi = 1;
    std::vector<std::uint64_t> bins;
    double min_seen;
    double max_seen;
    std::uint64_t count = 0;

    /// Throws cim::model_error unless hi > lo (both finite) and nbins >= 1.
    column_histogram(double lo, double hi, int nbins = 4096);

    /// NaN is ignored. Inline: the calibration pass adds every column value of every read.
    void add(double v) {
        if (v != v) return;
        ++count;
        min_seen = v < min_seen ? v : min_seen;
        max_seen = v > max_seen ? v : max_seen;
        const double pos = (v - lo) / (hi - lo) * static_cast<double>(bins.size());
        const std::size_t last = bins.size() - 1;
        const std::size_t k = pos <= 0.0 ? 0 : pos >= static_cast<double>(last) ? last : static_cast<std::size_t>(pos);
        ++bins[k];
    }
    /// Throws cim::model_error when the binning differs.
    void merge(const column_histogram& other);
    /// The p-th percentile (p in [0, 100]), linearly interpolated inside its bin and clamped to
    /// [min_seen, max_seen]; p <= 0 gives min_seen and p >= 100 max_seen exactly. Throws when empty.
    double percentile(double p) const;

    double bin_width() const { return (hi - lo) / static_cast<double>(bins.size()); }
    double bin_centre(std::size_t k) const { return lo + (static_cast<double>(k) + 0.5) * bin_width(); }
};

}  // namespace cim::func
