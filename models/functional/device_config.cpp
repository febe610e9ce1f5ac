#include "models/functional/device_config.h"

#include <cmath>
#include <string>

#include "models/core/error.h"

namespace cim::func {

namespace {

// Written so NaN fails too (every comparison with NaN is false).
void check_range(const char* key, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi))
        throw config_error("", 0, key,
                           "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
}

}  // namespace

void device_config::validate() const {
    check_range("d2d_sigma", d2d_sigma, 0.0, 1.0);
    check_range("stuck_on_rate", stuck_on_rate, 0.0, 1.0);
    check_range("stuck_off_rate", stuck_off_rate, 0.0, 1.0);
    if (stuck_on_rate + stuck_off_rate > 1.0)
        throw config_error("", 0, "stuck_off_rate",
                           "stuck_on_rate + stuck_off_rate must not exceed 1, got " +
                               std::to_string(stuck_on_rate + stuck_off_rate));
    check_range("read_noise_sigma", read_noise_sigma, 0.0, 1.0);
    if (drift != "none" && drift != "to_max" && drift != "to_min" && drift != "to_target" && drift != "random")
        throw config_error("", 0, "drift", "must be none, to_max, to_min, to_target or random, got '" + drift + "'");
    check_range("drift_rate", drift_rate, 0.0, 1.0);
    check_range("drift_target", drift_target, -1.0, 1.0);
    if (!(time >= 0.0) || !std::isfinite(time))
        throw config_error("", 0, "time", "must be a finite time >= 0 s, got " + std::to_string(time));
}

bool device_config::ideal() const {
    const bool no_drift = drift == "none" || drift_rate == 0.0 || time == 0.0;
    return d2d_sigma == 0.0 && stuck_on_rate == 0.0 && stuck_off_rate == 0.0 && read_noise_sigma == 0.0 && no_drift;
}

double device_config::drift_fraction() const {
    if (drift == "none") return 0.0;
    // log10(1 + t/1 s): 0 at programming, and the ratio is exactly 1 at the 10-year reference.
    return drift_rate * std::log10(1.0 + time) / std::log10(1.0 + retention_reference_time);
}

}  // namespace cim::func
