#include "models/functional/device_config.h"

#include <cmath>
#include <string>

#include "models/config/field.h"
#include "models/core/error.h"

namespace cim::func {

void device_config::validate() const {
    cfg::check_ranges(*this);  // the declared ranges (NaN and infinities fail them), then the sum of the rates
    if (stuck_on_rate + stuck_off_rate > 1.0)
        throw config_error("", 0, "stuck_off_rate",
                           "stuck_on_rate + stuck_off_rate must not exceed 1, got " +
                               std::to_string(stuck_on_rate + stuck_off_rate));
    if (drift != "none" && drift != "to_max" && drift != "to_min" && drift != "to_target" && drift != "random")
        throw config_error("", 0, "drift", "must be none, to_max, to_min, to_target or random, got '" + drift + "'");
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
