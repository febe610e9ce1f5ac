#pragma once
#include <string>

#include "models/core/units.h"

namespace cim::circuit {

/// A CMOS technology node: the few device and wire parameters the first-order cost models need.
/// Values are SI. Files under configs/tech/ carry a `source:` line. Does not model: process corners,
/// temperature, separate HP/LSTP devices (the calibrated library of a later issue adds them).
struct technology {
    double feature_size = 32e-9;          // m
    double vdd = 0.9;                     // V
    double vth = 0.3;                     // V
    double gate_cap_per_width = 1.0e-9;   // F/m: gate capacitance per transistor width
    double drain_cap_per_width = 0.6e-9;  // F/m: junction capacitance per width
    double on_current_per_width = 600.0;  // A/m (uA/um)
    double off_current_per_width = 1e-4;  // A/m: subthreshold leakage per width
    double wire_cap_per_length = 0.2e-9;  // F/m (0.2 fF/um)
    double wire_res_per_length = 2.0e6;   // Ohm/m (2 Ohm/um, intermediate metal)

    template <class V>
    void visit(V& v) {
        v("feature_size", feature_size, unit::meter, "feature size F");
        v("vdd", vdd, unit::volt, "supply voltage");
        v("vth", vth, unit::volt, "threshold voltage");
        v("gate_cap_per_width", gate_cap_per_width, unit::farad_per_meter, "gate capacitance per transistor width");
        v("drain_cap_per_width", drain_cap_per_width, unit::farad_per_meter, "drain junction capacitance per width");
        v("on_current_per_width", on_current_per_width, unit::ampere_per_meter, "NMOS on current per width");
        v("off_current_per_width", off_current_per_width, unit::ampere_per_meter, "NMOS off (leakage) current per width");
        v("wire_cap_per_length", wire_cap_per_length, unit::farad_per_meter, "wire capacitance per length");
        v("wire_res_per_length", wire_res_per_length, unit::ohm_per_meter, "wire resistance per length");
    }
    void validate() const;

    /// Effective on resistance of a transistor of width w: Vdd / (I_on * w).
    double on_resistance(double width) const { return vdd / (on_current_per_width * width); }
    /// Energy to switch a minimum inverter (input 3F wide NMOS + 6F PMOS) once: C * Vdd^2.
    double inverter_switch_energy() const;
    /// FO4 delay of a minimum inverter: 0.69 * R_on(3F) * C_load(4 inverters). Horowitz-style first order.
    double fo4_delay() const;
    /// Leakage of one minimum inverter: I_off * 3F * Vdd.
    double inverter_leakage() const;
};

/// The synaptic memory cell. Conductance levels lie between g_min = g_max / on_off_ratio and g_max = 1/r_on.
struct cell {
    std::string type = "rram";  // sram | rram | pcm | stt_mram | fefet | ecram
    double r_on = 100e3;        // Ohm
    double on_off_ratio = 10;   // g_max / g_min
    unsigned bits = 4;          // bits per cell (levels = 2^bits); SRAM is 1
    double read_voltage = 0.5;  // V
    double read_pulse = 10e-9;  // s
    double area_f2 = 4;         // F^2 per cell (without access device sizing)
    double access_width_f = 1;  // access transistor width in F (1T1R, FeFET/ECRAM read transistor)

    template <class V>
    void visit(V& v) {
        v.choice("type", type, {"sram", "rram", "pcm", "stt_mram", "fefet", "ecram"}, "memory device");
        v("r_on", r_on, unit::ohm, "on-state resistance (lowest resistance level)");
        v("on_off_ratio", on_off_ratio, "ratio of highest to lowest conductance");
        v("bits", bits, "bits stored per cell (levels = 2^bits)");
        v("read_voltage", read_voltage, unit::volt, "read voltage on the bit line");
        v("read_pulse", read_pulse, unit::second, "read pulse width per input bit");
        v("area_f2", area_f2, unit::feature_square, "cell area in units of F^2");
        v("access_width_f", access_width_f, "access transistor width in units of F");
    }
    void validate() const;

    double g_max() const { return 1.0 / r_on; }
    double g_min() const { return g_max() / on_off_ratio; }
    unsigned levels() const { return 1u << bits; }
    bool is_sram() const { return type == "sram"; }
};

}  // namespace cim::circuit
