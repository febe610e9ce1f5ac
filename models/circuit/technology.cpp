#include "models/circuit/technology.h"

#include "models/circuit/calibration.h"

#include "models/core/error.h"

namespace cim::circuit {

void technology::validate() const {
    if (feature_size <= 0 || feature_size > 1e-6) throw config_error("", 0, "feature_size", "must be in (0, 1 um]");
    if (vdd <= 0 || vdd > 5) throw config_error("", 0, "vdd", "must be in (0, 5 V]");
    if (vth <= 0 || vth >= vdd) throw config_error("", 0, "vth", "must be in (0, vdd)");
    if (gate_cap_per_width <= 0) throw config_error("", 0, "gate_cap_per_width", "must be positive");
    if (drain_cap_per_width < 0) throw config_error("", 0, "drain_cap_per_width", "must not be negative");
    if (on_current_per_width <= 0) throw config_error("", 0, "on_current_per_width", "must be positive");
    if (off_current_per_width < 0) throw config_error("", 0, "off_current_per_width", "must not be negative");
    if (wire_cap_per_length <= 0) throw config_error("", 0, "wire_cap_per_length", "must be positive");
    if (wire_res_per_length <= 0) throw config_error("", 0, "wire_res_per_length", "must be positive");
}

// Minimum inverter: NMOS 3F, PMOS 6F (2x for mobility), as NeuroSim/CACTI's minimum gate.
double technology::inverter_switch_energy() const {
    const double c = (gate_cap_per_width + drain_cap_per_width) * 9.0 * feature_size;
    return c * vdd * vdd;
}

// Horowitz/Rabaey first order: t = 0.69 R C, with a fan-out of four identical inverters.
double technology::fo4_delay() const {
    const double r = on_resistance(3.0 * feature_size);
    const double c = gate_cap_per_width * 9.0 * feature_size * 4.0 + drain_cap_per_width * 9.0 * feature_size;
    return 0.69 * r * c;
}

double technology::inverter_leakage() const { return off_current_per_width * 3.0 * feature_size * vdd; }

void cell::validate() const {
    if (r_on <= 0) throw config_error("", 0, "r_on", "must be positive");
    if (on_off_ratio <= 1) throw config_error("", 0, "on_off_ratio", "must be greater than 1");
    if (bits < 1 || bits > 8) throw config_error("", 0, "bits", "must be in 1..8");
    if (type == "sram" && bits != 1) throw config_error("", 0, "bits", "an SRAM cell stores 1 bit");
    if (read_voltage <= 0 || read_voltage > 5) throw config_error("", 0, "read_voltage", "must be in (0, 5 V]");
    if (read_pulse <= 0) throw config_error("", 0, "read_pulse", "must be positive");
    if (area_f2 <= 0) throw config_error("", 0, "area_f2", "must be positive");
    if (access_width_f <= 0) throw config_error("", 0, "access_width_f", "must be positive");
}

void calibration::validate() const {
    struct checker {
        void operator()(const char* key, double v, const char*) const {
            if (!(v >= 0.0) || v > 1e6) throw config_error("", 0, key, "must be a multiplier in [0, 1e6]");
        }
    } check;
    calibration copy = *this;  // visit() hands out references, so it is not const
    copy.visit(check);
}

}  // namespace cim::circuit
