#pragma once
#include <string>

#include "models/core/units.h"

namespace cim::func {

/// Device non-idealities of the memory cells (the `device:` config section), applied by the
/// program_block overload that takes a device_config and by block_mvm's read_options.
/// Programming-time effects are frozen into the block: device-to-device (d2d) variation, stuck-at faults and
/// retention drift at `time` after programming. Read noise (cycle-to-cycle) is drawn per read by block_mvm.
/// Relative quantities refer to the programmed conductance (d2d, read noise) or to g_max - g_min (drift).
/// Does not model: write-verify, IR drop, temperature, device-specific conductance nonlinearity in voltage.
struct device_config {
    double d2d_sigma = 0;
    double stuck_on_rate = 0;
    double stuck_off_rate = 0;
    double read_noise_sigma = 0;
    std::string drift = "none";
    double drift_rate = 0;
    double drift_target = 0;
    double time = 0;

    template <class V>
    void visit(V& v) {
        v("d2d_sigma", d2d_sigma, range{0, 1},
          "device-to-device variation: relative sigma of a programmed conductance, frozen at programming");
        v("stuck_on_rate", stuck_on_rate, range{0, 1}, "fraction of cells stuck at g_max");
        v("stuck_off_rate", stuck_off_rate, range{0, 1}, "fraction of cells stuck at g_min (stuck_on + stuck_off <= 1)");
        v("read_noise_sigma", read_noise_sigma, range{0, 1},
          "cycle-to-cycle read noise: relative sigma of a cell's conductance per read");
        v.choice("drift", drift, {"none", "to_max", "to_min", "to_target", "random"},
                 "retention drift: none, towards g_max, towards g_min, towards drift_target, or random");
        v("drift_rate", drift_rate, range{0, 1},
          "drift reached at 10 years as a fraction (\"6 %\" = 0.06) of the distance to the target, or of "
          "g_max - g_min for random; logarithmic in time");
        v("drift_target", drift_target, range{-1, 1},
          "to_target: target state in the weight range (-1 = g_min, +1 = g_max)");
        v("time", time, unit::second, range{0, 1e10}, "time since programming at which the array is read");
    }
    /// Throws cim::config_error naming the offending key.
    void validate() const;

    /// True when programming and reading are exact: no variation, faults or noise, and no drift
    /// (drift none, drift_rate 0 or time 0).
    bool ideal() const;

    /// Fraction of the drift reached at `time`: drift_rate * log10(1 + t/1 s) / log10(1 + 10 years/1 s);
    /// 0 for drift none. Retention loss is logarithmic in time (Chen et al., "Reliability perspective of
    /// resistive synaptic devices on the neuromorphic system performance", IRPS 2018), normalised so the
    /// fraction is exactly drift_rate at 10 years = 315360000 s.
    double drift_fraction() const;
};

/// 10 years in seconds (365-day years), the retention reference time of drift_rate.
inline constexpr double retention_reference_time = 315360000.0;

}  // namespace cim::func
