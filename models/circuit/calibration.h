#pragma once

namespace cim::circuit {

/// Global multipliers on the first-principles estimates of the circuit models, one per (metric, cost class).
/// They play the role of DNN+NeuroSim V1.3's macro calibration factors (alpha..zeta, fitted to a 40 nm RRAM
/// macro): the physics sets how each cost scales with the node, the device, the array and the data; a factor
/// only sets the magnitude of one class of cost, the same for every configuration. There are no per-device or
/// per-node factors.
///
/// The values are data, not code: an experiment names a calibration file (`circuit_calibration:
/// ../calibration/iedm2019.yaml`, fitted by `scripts/fit_calibration.py` to the 45 figures of Table 1 of Peng et
/// al., IEDM 2019; docs/validation.md gives the fit, the residuals and a leave-one-out check). Without one, every
/// factor is 1: the uncalibrated physics.
///
/// Cost classes:
///  - array: cells, bit lines, word lines, and the decoders, drivers and prechargers that serve them (latency: the
///    decoders, the word-line wire and access gates, bit-line settling and precharge);
///  - switch: the transmission gates sized for the cell current (column multiplexers and row switches) and the
///    write path's level shifters (latency: charging the gates of the row switches and mux transmission gates);
///  - adc: the ADCs or sense amplifiers;
///  - accumulation: shift-add, adder trees, accumulation units;
///  - buffer: the SRAM buffers;
///  - interconnect: the H-tree;
///  - digital: activation, pooling and the other digital units;
///  - charge: charge-domain accumulation, the unit capacitors a product charges (energy only). No design of Table 1
///    computes in the charge domain, so no fit to it can set this factor: the iedm2019 calibration leaves it at 1,
///    the physics (C V Vdd per unit product), instead of pricing capacitors with the resistive read's array factor;
///  - leakage_logic / leakage_memory / leakage_buffer: leakage of the CMOS logic, of SRAM synaptic cells and of
///    the SRAM buffers.
/// The sensing time of a column (the read pulse its sense amplifier integrates, plus the conversion) is in the adc
/// latency class.
struct calibration {
    // 1 is the uncalibrated physics; the fitted values are data (configs/calibration/*.yaml), chosen by the experiment.
    double area_array = 1, area_switch = 1, area_adc = 1, area_accumulation = 1, area_buffer = 1, area_interconnect = 1,
           area_digital = 1;
    double energy_array = 1, energy_switch = 1, energy_adc = 1, energy_accumulation = 1, energy_buffer = 1,
           energy_interconnect = 1, energy_digital = 1, energy_charge = 1;
    double latency_array = 1, latency_switch = 1, latency_adc = 1, latency_accumulation = 1, latency_buffer = 1,
           latency_interconnect = 1, latency_digital = 1;
    double leakage_logic = 1, leakage_memory = 1, leakage_buffer = 1;

    template <class V>
    void visit(V& v) {
        v("area_array", area_array, "multiplier on the area of a subarray's cells, decoders, drivers and prechargers");
        v("area_switch", area_switch, "multiplier on the area of the column muxes, row switches and level shifters");
        v("area_adc", area_adc, "multiplier on the ADC / sense-amplifier area");
        v("area_accumulation", area_accumulation, "multiplier on the shift-add, adder-tree and accumulator area");
        v("area_buffer", area_buffer, "multiplier on the SRAM buffer area");
        v("area_interconnect", area_interconnect, "multiplier on the H-tree area");
        v("area_digital", area_digital, "multiplier on the activation and pooling unit area");
        v("energy_array", energy_array, "multiplier on the cell, bit-line, word-line and decoder read energy");
        v("energy_switch", energy_switch, "multiplier on the column-mux and level-shifter switching energy");
        v("energy_adc", energy_adc, "multiplier on the energy per ADC conversion");
        v("energy_accumulation", energy_accumulation, "multiplier on the shift-add, adder-tree and accumulator energy");
        v("energy_buffer", energy_buffer, "multiplier on the SRAM buffer access energy");
        v("energy_interconnect", energy_interconnect, "multiplier on the H-tree transfer energy");
        v("energy_digital", energy_digital, "multiplier on the activation and pooling energy");
        v("energy_charge", energy_charge, "multiplier on the charge-domain accumulation energy (the unit capacitors a product charges)");
        v("latency_array", latency_array, "multiplier on the decoder, word-line and access-gate drive, bit-line settling and mux-decode time");
        v("latency_switch", latency_switch, "multiplier on the time to charge the gates of the row switches and column-mux transmission gates");
        v("latency_adc", latency_adc, "multiplier on the ADC conversion time");
        v("latency_accumulation", latency_accumulation, "multiplier on the adder-tree and accumulator time");
        v("latency_buffer", latency_buffer, "multiplier on the SRAM buffer access time");
        v("latency_interconnect", latency_interconnect, "multiplier on the H-tree transfer time");
        v("latency_digital", latency_digital, "multiplier on the activation and pooling time");
        v("leakage_logic", leakage_logic, "multiplier on the leakage of CMOS logic");
        v("leakage_memory", leakage_memory, "multiplier on the leakage of SRAM synaptic cells");
        v("leakage_buffer", leakage_buffer, "multiplier on the leakage of the SRAM buffers");
    }
    void validate() const;
};

}  // namespace cim::circuit
