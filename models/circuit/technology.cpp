#include "models/circuit/technology.h"

#include <algorithm>
#include <cmath>

#include "models/circuit/calibration.h"
#include "models/core/error.h"

namespace cim::circuit {

void transistor::validate(const std::string& section) const {
    auto key = [&](const char* k) { return section + "." + k; };
    if (vdd <= 0 || vdd > 5) throw config_error("", 0, key("vdd"), "must be in (0, 5 V]");
    if (vth <= 0 || vth >= vdd) throw config_error("", 0, key("vth"), "must be in (0, vdd)");
    if (gate_cap_per_width <= 0) throw config_error("", 0, key("gate_cap_per_width"), "must be positive");
    if (drain_cap_per_width < 0) throw config_error("", 0, key("drain_cap_per_width"), "must not be negative");
    if (on_current_per_width <= 0) throw config_error("", 0, key("on_current_per_width"), "must be positive");
    if (off_current_per_width < 0) throw config_error("", 0, key("off_current_per_width"), "must not be negative");
    if (pmos_off_current_per_width < 0) throw config_error("", 0, key("pmos_off_current_per_width"), "must not be negative");
}

void technology::validate() const {
    if (feature_size <= 0 || feature_size > 1e-6) throw config_error("", 0, "feature_size", "must be in (0, 1 um]");
    if (!fet().given())
        throw config_error("", 0, "device",
                           "this node gives no " + std::string(device == "hp" ? "high-performance" : "low-standby-power") +
                               " transistors (vdd is 0); choose the other `device`");
    if (hp.given()) hp.validate("hp");
    if (lstp.given()) lstp.validate("lstp");
    if (fin_width < 0 || fin_width > 1e-6) throw config_error("", 0, "fin_width", "must be in [0, 1 um] (0: planar)");
    if (wire_cap_per_length <= 0) throw config_error("", 0, "wire_cap_per_length", "must be positive");
    if (wire_res_per_length <= 0) throw config_error("", 0, "wire_res_per_length", "must be positive");
    if (local_wire_res_per_length <= 0) throw config_error("", 0, "local_wire_res_per_length", "must be positive");
    if (supply != 0 && !(supply > fet().vth && supply <= 5))
        throw config_error("", 0, "supply", "must be 0 (nominal) or in (vth, 5 V] of the chosen device");
    if (!(alpha >= 1 && alpha <= 2)) throw config_error("", 0, "alpha", "must be in [1, 2]");
}

double technology::on_current_per_width() const {
    const transistor& f = fet();
    if (supply <= 0 || supply == f.vdd) return f.on_current_per_width;
    return f.on_current_per_width * std::pow((supply - f.vth) / (f.vdd - f.vth), alpha);
}

// configs/tech/32nm.yaml, kept in step with that file by tests/unit/circuit (Technology.DefaultNodeMatchesItsFile).
// The struct's defaults are that node's feature size and wires; only the transistors are left out of them, so a
// node file that lacks a flavour is caught.
technology technology::node_32nm() {
    technology t;
    t.hp = {0.9, 0.1945, 0.9235e-9, 0.28392e-9, 1410.0, 0.1003, 0.1001};
    t.lstp = {0.9, 0.44203, 1.6907e-9, 0.28392e-9, 600.2, 1.001e-4, 1.001e-4};
    return t;
}

namespace {
constexpr double k_fin_pitch_f = 2.0;  // one fin per 2F of drawn width (NeuroSim V1.4 formula.cpp)
double whole(double x) { return std::ceil(x - 1e-9); }  // round up, tolerant of 2F * n computed in floating point
}  // namespace

double technology::effective_width(double drawn) const {
    if (fin_width <= 0) return drawn;
    return std::max(1.0, whole(drawn / (k_fin_pitch_f * feature_size))) * fin_width;
}

double technology::drawn_width(double effective) const {
    if (fin_width <= 0) return effective;
    return std::max(1.0, whole(effective / fin_width)) * k_fin_pitch_f * feature_size;
}

// Minimum inverter: NMOS 3F, PMOS 6F (2x for mobility), as NeuroSim/CACTI's minimum gate.
double technology::inverter_switch_energy() const {
    const double F = feature_size;
    const double c = gate_cap(3 * F) + gate_cap(6 * F) + drain_cap(3 * F) + drain_cap(6 * F);
    return c * vdd() * vdd();
}

// Horowitz/Rabaey first order: t = ln 2 R C for a step input, with a fan-out of four identical inverters.
double technology::fo4_delay() const {
    const double F = feature_size;
    const double c = 4.0 * (gate_cap(3 * F) + gate_cap(6 * F)) + drain_cap(3 * F) + drain_cap(6 * F);
    return std::log(2.0) * on_resistance(3 * F) * c;  // a step input: Horowitz gives ln 2 R C
}

double technology::inverter_leakage() const {
    return 0.5 * (off_current(3 * feature_size) + pmos_off_current(6 * feature_size)) * vdd();
}

void cell::validate() const {
    if (r_on <= 0) throw config_error("", 0, "r_on", "must be positive");
    if (on_off_ratio <= 1) throw config_error("", 0, "on_off_ratio", "must be greater than 1");
    if (bits < 1 || bits > 8) throw config_error("", 0, "bits", "must be in 1..8");
    if (type == "sram" && bits != 1) throw config_error("", 0, "bits", "an SRAM cell stores 1 bit");
    if (read_voltage < 0 || read_voltage > 5)
        throw config_error("", 0, "read_voltage", "must be in [0, 5 V] (0: the supply, a full-swing bit line)");
    if (read_pulse <= 0) throw config_error("", 0, "read_pulse", "must be positive");
    if (area_f2 <= 0) throw config_error("", 0, "area_f2", "must be positive");
    if (access_width_f <= 0) throw config_error("", 0, "access_width_f", "must be positive");
    if (!(write_voltage >= 0 && write_voltage <= 10)) throw config_error("", 0, "write_voltage", "must be in [0, 10 V]");
    if (!(write_pulse > 0 && write_pulse <= 1e-3)) throw config_error("", 0, "write_pulse", "must be in (0, 1 ms]");
    if (!(endurance >= 0 && endurance <= 1e18)) throw config_error("", 0, "endurance", "must be in [0, 1e18] cycles");
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
