#include "models/functional/column_histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "models/core/error.h"

namespace cim::func {

column_histogram::column_histogram(double lo_, double hi_, int nbins)
    : lo(lo_), hi(hi_), min_seen(std::numeric_limits<double>::infinity()),
      max_seen(-std::numeric_limits<double>::infinity()) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo))
        throw model_error("column_histogram", "range must be finite with hi > lo, got [" + std::to_string(lo) + ", " +
                                                  std::to_string(hi) + "]");
    if (nbins < 1) throw model_error("column_histogram", "needs at least one bin, got " + std::to_string(nbins));
    bins.assign(static_cast<std::size_t>(nbins), 0);
}

void column_histogram::merge(const column_histogram& o) {
    if (o.lo != lo || o.hi != hi || o.bins.size() != bins.size())
        throw model_error("column_histogram", "cannot merge histograms with different binning");
    for (std::size_t k = 0; k < bins.size(); ++k) bins[k] += o.bins[k];
    count += o.count;
    min_seen = std::min(min_seen, o.min_seen);
    max_seen = std::max(max_seen, o.max_seen);
}

double column_histogram::percentile(double p) const {
    if (count == 0) throw model_error("column_histogram", "percentile of an empty histogram");
    if (p <= 0.0) return min_seen;
    if (p >= 100.0) return max_seen;
    // Integer cumulative counts keep this exact and order-independent; interpolate inside the bin that
    // crosses the target rank, assuming values spread evenly within a bin.
    const double target = p / 100.0 * static_cast<double>(count);
    std::uint64_t below = 0;
    double value = max_seen;
    for (std::size_t k = 0; k < bins.size(); ++k) {
        if (bins[k] == 0) continue;
        if (static_cast<double>(below + bins[k]) >= target) {
            const double within = (target - static_cast<double>(below)) / static_cast<double>(bins[k]);
            value = lo + (static_cast<double>(k) + within) * bin_width();
            break;
        }
        below += bins[k];
    }
    return std::min(std::max(value, min_seen), max_seen);
}

}  // namespace cim::func
