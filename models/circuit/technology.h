#pragma once
#include <string>

#include "models/core/units.h"

namespace cim::circuit {

/// One transistor flavour of a node (high-performance or low-standby-power). Per-width values are per
/// *effective* channel width: the drawn width on planar nodes, the fins' (or nanosheets') perimeter on FinFET
/// and GAA nodes. A flavour whose vdd is 0 is absent from the node file.
struct transistor {
    double vdd = 0;                    // V
    double vth = 0;                    // V
    double gate_cap_per_width = 0;     // F/m: gate capacitance per effective width (ideal + overlap + fringe)
    double drain_cap_per_width = 0;    // F/m: drain junction capacitance per effective width
    double on_current_per_width = 0;   // A/m: NMOS saturation current per effective width at 300 K
    double off_current_per_width = 0;  // A/m: NMOS subthreshold leakage per effective width at 300 K
    double pmos_off_current_per_width = 0;  // A/m: PMOS subthreshold leakage per effective width at 300 K

    template <class V>
    void visit(V& v) {
        v("vdd", vdd, unit::volt, "supply voltage (0: the node has no such device)");
        v("vth", vth, unit::volt, "threshold voltage");
        v("gate_cap_per_width", gate_cap_per_width, unit::farad_per_meter, "gate capacitance per effective width");
        v("drain_cap_per_width", drain_cap_per_width, unit::farad_per_meter, "drain junction capacitance per effective width");
        v("on_current_per_width", on_current_per_width, unit::ampere_per_meter, "NMOS on current per effective width at 300 K");
        v("off_current_per_width", off_current_per_width, unit::ampere_per_meter,
          "NMOS off (leakage) current per effective width at 300 K");
        v("pmos_off_current_per_width", pmos_off_current_per_width, unit::ampere_per_meter,
          "PMOS off (leakage) current per effective width at 300 K");
    }
    bool given() const { return vdd > 0; }
    void validate(const std::string& section) const;
};

/// A CMOS technology node: feature size, the transistor flavours, the fin geometry and the wires. Values are SI.
/// Files under configs/tech/ carry a `source:` line. Every circuit model asks the node for a transistor's
/// capacitance, resistance and leakage through the width helpers below, so FinFET width quantisation applies
/// everywhere at once. Does not model: process corners, temperature other than 300 K, PMOS drive and capacitance
/// separately (a PMOS is drawn twice as wide as its NMOS; only its leakage has its own figure).
struct technology {
    double feature_size = 32e-9;  // m
    std::string device = "lstp";  // hp | lstp: the flavour every circuit uses
    transistor hp;                // high-performance devices
    transistor lstp;              // low-standby-power devices
    double fin_width = 0;         // m: effective width of one fin or nanosheet stack; 0 on planar nodes
    double wire_cap_per_length = 0.2e-9;      // F/m (0.2 fF/um)
    double wire_res_per_length = 5.6995e6;        // Ohm/m: intermediate metal (Metal1): periphery, buses, H-tree
    double local_wire_res_per_length = 5.6995e6;  // Ohm/m: local metal (Metal0): word and bit lines in the arrays
    double supply = 0;            // V: operating supply of periphery and array; 0: the flavour's nominal vdd
    double alpha = 1.3;           // velocity-saturation index of the alpha-power law (Sakurai & Newton, JSSC 1990)

    template <class V>
    void visit(V& v) {
        v("feature_size", feature_size, unit::meter, "feature size F");
        v.choice("device", device, {"hp", "lstp"}, "transistor flavour the chip uses: high performance or low standby power");
        v("hp", hp, "high-performance transistors");
        v("lstp", lstp, "low-standby-power transistors");
        v("fin_width", fin_width, unit::meter,
          "effective width of one fin (FinFET) or nanosheet stack (GAA); drawn widths round up to whole fins of pitch 2F. "
          "0 on planar nodes");
        v("wire_cap_per_length", wire_cap_per_length, unit::farad_per_meter, "wire capacitance per length");
        v("wire_res_per_length", wire_res_per_length, unit::ohm_per_meter,
          "intermediate-metal (Metal1) resistance per length: periphery, buses, H-tree");
        v("local_wire_res_per_length", local_wire_res_per_length, unit::ohm_per_meter,
          "local-metal (Metal0) resistance per length: word and bit lines inside the arrays");
        v("supply", supply, unit::volt,
          "operating supply voltage of the periphery and the array (0: the flavour's nominal vdd). Switching energies "
          "scale with supply^2; the on current follows the alpha-power law I_on ~ (supply - vth)^alpha, so delays "
          "scale with supply / I_on; leakage power scales with supply (DIBL not modelled)");
        v("alpha", alpha,
          "velocity-saturation index of the alpha-power law used to scale the on current with the supply (1: fully "
          "velocity-saturated, 2: long-channel square law; Sakurai & Newton, JSSC 1990)");
    }
    void validate() const;

    /// The 32 nm planar node with both flavours (configs/tech/32nm.yaml), the default of a config without one.
    static technology node_32nm();

    /// The transistor flavour in use.
    const transistor& fet() const { return device == "hp" ? hp : lstp; }
    /// The operating supply: `supply`, or the flavour's nominal vdd when it is 0.
    double vdd() const { return supply > 0 ? supply : fet().vdd; }
    /// NMOS on current per effective width at the operating supply: the flavour's figure at its nominal vdd, scaled
    /// by the alpha-power law ((vdd - vth) / (vdd_nom - vth))^alpha (Sakurai & Newton, IEEE JSSC 25(2), 1990).
    double on_current_per_width() const;
    /// Effective width of a transistor drawn `drawn` wide: the drawn width on planar nodes; on FinFET nodes
    /// ceil(drawn / 2F) fins (at least one) of fin_width each (NeuroSim V1.4's rule).
    double effective_width(double drawn) const;
    /// Smallest drawn width whose effective width reaches `effective` (whole fins on FinFET nodes).
    double drawn_width(double effective) const;
    double gate_cap(double drawn) const { return fet().gate_cap_per_width * effective_width(drawn); }
    double drain_cap(double drawn) const { return fet().drain_cap_per_width * effective_width(drawn); }
    /// Effective on resistance of a transistor drawn `drawn` wide: Vdd / (I_on * W_eff).
    double on_resistance(double drawn) const { return vdd() / (on_current_per_width() * effective_width(drawn)); }
    /// Subthreshold leakage current of an NMOS drawn `drawn` wide.
    double off_current(double drawn) const { return fet().off_current_per_width * effective_width(drawn); }
    /// Subthreshold leakage current of a PMOS drawn `drawn` wide.
    double pmos_off_current(double drawn) const { return fet().pmos_off_current_per_width * effective_width(drawn); }
    /// Energy to switch a minimum inverter (input 3F wide NMOS + 6F PMOS) once: C * Vdd^2.
    double inverter_switch_energy() const;
    /// FO4 delay of a minimum inverter: ln 2 * R_on(3F) * C_load(4 inverters), Horowitz with a step input.
    double fo4_delay() const;
    /// Leakage of one minimum inverter, averaged over its two states (the NMOS leaks with the output high, the PMOS
    /// with it low): (I_off,n(3F) + I_off,p(6F)) / 2 * Vdd.
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
    double write_voltage = 2.0;  // V; an SRAM cell writes at the node's Vdd (0 here means Vdd)
    double write_pulse = 10e-9;  // s, one programming pulse
    double endurance = 1e6;      // write cycles a cell survives; 0: unlimited

    template <class V>
    void visit(V& v) {
        v.choice("type", type, {"sram", "rram", "pcm", "stt_mram", "fefet", "ecram"}, "memory device");
        v("r_on", r_on, unit::ohm, "on-state resistance (lowest resistance level)");
        v("on_off_ratio", on_off_ratio, "ratio of highest to lowest conductance");
        v("bits", bits, "bits stored per cell (levels = 2^bits)");
        v("read_voltage", read_voltage, unit::volt, "read voltage on the bit line (0: the supply, a full-swing bit line)");
        v("read_pulse", read_pulse, unit::second, "read pulse width per input bit");
        v("area_f2", area_f2, unit::feature_square, "cell area in units of F^2");
        v("access_width_f", access_width_f, "access transistor width in units of F");
        v("write_voltage", write_voltage, unit::volt,
          "programming voltage of a non-volatile cell (0: the node's Vdd, as an SRAM cell writes)");
        v("write_pulse", write_pulse, unit::second,
          "one programming pulse; a non-volatile cell takes a reset pulse and one pulse per level it is set to, an "
          "SRAM cell one pulse");
        v("endurance", endurance, range{0, 1e18},
          "write cycles a cell survives (0: unlimited); runs that write report the cycles used");
    }
    void validate() const;

    double g_max() const { return 1.0 / r_on; }
    double g_min() const { return g_max() / on_off_ratio; }
    unsigned levels() const { return 1u << bits; }
    bool is_sram() const { return type == "sram"; }
};

}  // namespace cim::circuit
