#pragma once
// The circuit library: gates, drivers and the periphery circuits of a synaptic subarray. Every object is
// immutable once built and gives its area (m^2), its leakage (W) and, per action, an energy (J) and a latency (s).
// These are the uncalibrated physics of one technology node; the priced units of components.h (subarray_model,
// adder_tree, sram_buffer, htree, digital_unit) compose them and apply the calibration of their cost class.
// docs/models.md explains each model with its source.
#include <cstdint>

#include "models/circuit/technology.h"

namespace cim::circuit {

/// A transistor biased in its linear region, as a switch passing a cell current, has ~0.2x the resistance
/// Vdd / (I_on W) derived from its saturation current (NeuroSim's LINEAR_REGION_RATIO = 0.2).
constexpr double k_linear_region = 0.2;

/// Energy (J) and latency (s) of one action of a circuit.
struct action_cost {
    double energy = 0.0;
    double latency = 0.0;
};

/// The minimum inverter (NMOS 3F, PMOS 6F) as the unit of the gate-count models: its area with wiring (~30 F^2),
/// switching energy, FO4 delay and leakage. Source: Rabaey, Digital Integrated Circuits (2nd ed.), ch. 5-6; Weste &
/// Harris, CMOS VLSI Design, ch. 4 (logical effort, FO4).
struct gate_unit {
    explicit gate_unit(const technology& t);
    double area;     // m^2 of a minimum inverter including wiring overhead (~30 F^2)
    double energy;   // J per switching event
    double delay;    // s, FO4
    double leakage;  // W
};

/// What every library circuit has: its area (m^2) and leakage (W), set once by its constructor.
class circuit_block {
public:
    double area() const { return m_area; }        // m^2
    double leakage() const { return m_leakage; }  // W

protected:
    double m_area = 0, m_leakage = 0;
};

/// Horowitz's delay of a gate stage (M. Horowitz, "Timing models for MOS circuits", Stanford 1983, as used by
/// CACTI): t = tau * sqrt(ln(v_s)^2 + 2 a b (1 - v_s)), a = ramp_in / tau, switching threshold v_s = 0.5 and
/// b = 0.5. A step input (ramp_in = 0) gives ln 2 * tau = 0.69 R C. `ramp_out`, when given, receives the output
/// transition time, 2 t.
double horowitz(double tau, double ramp_in, double* ramp_out = nullptr);

/// A static CMOS gate (INV, NAND, NOR) sized for the drive of an inverter of `size` minimum inverters: series
/// transistors are widened by the stack height (logical effort sizing), a PMOS is twice as wide as an NMOS of the
/// same drive (hole mobility ~ half). Leakage counts the off transistors of one state, halved over the two states.
class logic_gate : public circuit_block {
public:
    enum class kind { inv, nand, nor };
    logic_gate(const technology& t, kind k, unsigned inputs = 1, double size = 1.0);
    double input_cap() const { return m_c_in; }         // F, one input
    double resistance() const { return m_r; }           // Ohm, worst-case pull-up or pull-down
    /// Switching the output into `load` (F) after an input transition of `ramp_in` (s): energy (C_out + load) Vdd^2,
    /// Horowitz latency; the output transition goes to `ramp_out`.
    action_cost drive(double load, double ramp_in = 0.0, double* ramp_out = nullptr) const;

private:
    double m_vdd2, m_c_in = 0, m_c_out = 0, m_r = 0;
};

/// A buffer chain sized for its load (driver sizing by logical effort): inverters growing by ~4x per stage from a
/// minimum inverter until the last one drives `load` at a fan-out of ~4. Source: Sutherland, Sproull & Harris,
/// Logical Effort (1999), ch. 3.
class driver_chain : public circuit_block {
public:
    driver_chain(const technology& t, double load);
    unsigned stages() const { return m_stages; }
    double input_cap() const { return m_c_in; }
    /// One transition of the chain and its load.
    action_cost drive() const { return m_cost; }

private:
    double m_c_in = 0;
    unsigned m_stages = 0;
    action_cost m_cost;
};

/// A row (or column-mux) decoder with an output driver per line: the address is predecoded in groups of up to 3
/// bits (NAND + INV per predecoded line), each line ANDs one predecoded line per group (a NAND of the group count)
/// and drives its load through an inverter of `driver_width_f` (NMOS, in F; PMOS twice that). The predecoded lines
/// run the length `span` (m) of the decoder. Source: Amrutur & Horowitz, "Fast low-power decoders for RAMs",
/// JSSC 2001; NeuroSim's RowDecoder has the same structure.
class decoder : public circuit_block {
public:
    decoder(const technology& t, unsigned lines, double span, double driver_width_f);
    /// Decode an address: the predecoder and the line's NAND, up to the input of its driver.
    action_cost select() const { return m_select; }
    /// The driver switching `load` (F) after a select(): energy (C_drain + load) Vdd^2, Horowitz latency.
    action_cost drive(double load) const;

private:
    double m_ramp = 0;
    logic_gate m_driver;
    action_cost m_select;
};

/// A switch matrix: one transmission gate (NMOS and PMOS of width `width_f` F) per line, passing a line's signal or
/// current (row switches of a crossbar, the column multiplexer). Its on resistance is the linear-region resistance
/// of the pair; it has no static current path of its own.
class switch_matrix : public circuit_block {
public:
    switch_matrix(const technology& t, unsigned lines, double width_f);
    double resistance() const { return m_r; }       // Ohm, one conducting gate
    double gate_cap() const { return m_c_gate; }    // F, both gates of one line (the select load)
    double drain_cap() const { return m_c_drain; }  // F, on each side of one gate
    /// Toggle the gates of `lines` transmission gates once.
    action_cost toggle(double lines) const { return {lines * m_c_gate * m_vdd2, 0.0}; }

private:
    double m_vdd2, m_r = 0, m_c_gate = 0, m_c_drain = 0;
};

/// Level shifters from Vdd to a write voltage above it, one per driven line: a low-voltage input stage, a
/// cross-coupled high-voltage latch and a high-voltage output stage (NMOS/PMOS widths 30/80, 64/40 and 128/328 F,
/// after NeuroSim V1.4's LevelShifter, which it instantiates for write voltages above 1.5 V). A read passes the
/// input stage and latch at Vdd.
class level_shifter : public circuit_block {
public:
    level_shifter(const technology& t, unsigned outputs);
    /// Shift `lines` inputs into `load` (F) each.
    action_cost shift(double lines, double load) const;

private:
    double m_vdd2, m_c_low = 0, m_c_high = 0, m_r_low = 0, m_r_high = 0;
};

/// Bit-line prechargers: a PMOS per column sized so that it restores its bit line of `c_bitline` (F) within
/// 4 FO4 (at least 2F). Each read draws C_bl * swing from Vdd on every column it precharges.
class precharger : public circuit_block {
public:
    precharger(const technology& t, unsigned columns, double c_bitline);
    double width_f() const { return m_width_f; }
    /// Precharge `columns` bit lines that discharged by `swing` (V).
    action_cost precharge(double columns, double swing) const;

private:
    double m_vdd, m_c_bl, m_width_f = 2, m_t = 0;
};

/// A voltage-mode latch sense amplifier (1 bit, e.g. an SRAM bit line): ~20 minimum-inverter equivalents
/// (cross-coupled pair, isolation and enable transistors). It resolves the bit-line swing in `sense_time`, then
/// latches and buffers its output in 3 stages of 4 FO4; it switches ~10 inverter loads.
class sense_amplifier : public circuit_block {
public:
    sense_amplifier(const technology& t, double sense_time);
    action_cost sense() const { return m_cost; }

private:
    action_cost m_cost;
};

/// A current-mode sense amplifier (1 bit): the column current is mirrored against a reference current
/// (`reference`, A: midway between a column's two states), then a latch sense amplifier decides. While it senses
/// (`sense_time`) the mirror draws the column current plus the reference from Vdd; ~30 minimum-inverter
/// equivalents (the mirror pair and the latch); the latch and its output take 3 stages of 4 FO4 as in
/// sense_amplifier.
class current_sense_amplifier : public circuit_block {
public:
    current_sense_amplifier(const technology& t, double sense_time, double reference);
    /// Sense a column carrying `current` (A).
    action_cost sense(double current) const;

private:
    double m_vdd, m_sense_time, m_reference;
    action_cost m_latch;
};

/// A flash ADC (NeuroSim's multilevel sense amplifier): 2^b - 1 comparators of ~20 inverter equivalents resolve
/// the column current in `sense_time` (an analog settling time that does not scale with the node), then latch and
/// encode in b + 2 stages of 4 FO4; each comparator switches ~10 inverter loads.
class flash_adc : public circuit_block {
public:
    flash_adc(const technology& t, unsigned bits, double sense_time);
    action_cost convert() const { return m_cost; }

private:
    action_cost m_cost;
};

/// A SAR ADC: one comparator, a binary-weighted capacitive DAC and the SAR register, 239 + 91 (b - 1) inverter
/// equivalents (NeuroSim V1.4 SarADC.cpp: 269 + 109 (b - 1) NMOS and 209 + 73 (b - 1) PMOS minimum transistors);
/// b + 1 decisions (sample, then one per bit) of `sense_time` each; per decision the comparator, DAC and logic
/// switch ~19 + 2.5 b inverter loads (NeuroSim's 32 nm LP power fit, (1.13 b + 8.9) uW over 1 ns decisions, in
/// units of the 32 nm LSTP inverter's 0.46 fJ, so it scales with the node).
class sar_adc : public circuit_block {
public:
    sar_adc(const technology& t, unsigned bits, double sense_time);
    action_cost convert() const { return m_cost; }

private:
    action_cost m_cost;
};

/// A counting ADC built on a current-controlled oscillator (CCO): the column current drives a ring oscillator of 5
/// stages whose cycles a `bits` ripple counter counts over the integration window, so the count is the charge the
/// column delivered (Khaddam-Aljameh et al., IEEE JSSC 57(4), 2022: linearized CCO-based ADCs, shift-and-add in the
/// counter). ~5 + 8 b + 20 inverter equivalents (ring, counter, control). One count (an oscillator period) switches
/// the 5 stages twice and toggles ~2 counter flip-flops on average (~18 inverter loads); a conversion clears and
/// reads the counter (2 b loads). The oscillator's fastest period, at full-scale current, is 2 x 5 stages at fan-out
/// 1 (~0.4 FO4 each): 4 FO4 per LSB. When it integrates during a pulse-width input window, the conversion adds only
/// the counter's read-out (b stages of 2 FO4); otherwise it spans a window of 2^b periods.
class cco_adc : public circuit_block {
public:
    cco_adc(const technology& t, unsigned bits, bool integrates_during_input);
    action_cost convert() const { return m_cost; }
    /// One count of the output code (one oscillator period).
    action_cost count() const { return m_count; }

private:
    action_cost m_cost, m_count;
};

/// A counting (charge-decrement) ADC: the column charge integrated on a capacitor during the input is removed one
/// unit charge at a time until a comparator flips; the counter's value is the output (Wan et al., Nature 608, 2022:
/// the NeuRRAM neuron's charge-decrement ADC). ~20 + 8 b + 20 inverter equivalents (comparator, counter, control and
/// switches). A step is one comparator decision, a counter increment and a unit charge (~18 inverter loads); the
/// conversion lasts the worst-case 2^b steps of `sense_time` each (every column converts in parallel, the
/// slowest sets the time); a conversion resets the integrator and counter (10 + 2 b loads).
class counting_adc : public circuit_block {
public:
    counting_adc(const technology& t, unsigned bits, double sense_time);
    action_cost convert() const { return m_cost; }
    /// One step of the output code.
    action_cost count() const { return m_count; }

private:
    action_cost m_cost, m_count;
};

/// A ripple-carry adder of `bits` full adders (28-transistor mirror adder, ~14 inverter equivalents each); half
/// its gates switch per addition; the carry ripples at 2 FO4 per bit.
class adder : public circuit_block {
public:
    adder(const technology& t, unsigned bits);
    unsigned bits() const { return m_bits; }
    action_cost add() const { return m_cost; }

private:
    unsigned m_bits;
    action_cost m_cost;
};

/// A register of `bits` D flip-flops: two transmission-gate latches of 2 inverters and 2 transmission gates each,
/// ~8 inverter equivalents per bit (the count NeuroSim's DFF leaks with). A clock edge switches the 4 clocked
/// transmission gates (~1 inverter load) and, at data activity 0.5, the 2 inverters of each latch (2 loads):
/// 2 inverter energies per bit; clock-to-output 2 FO4.
class dff_register : public circuit_block {
public:
    dff_register(const technology& t, unsigned bits);
    action_cost clock() const { return m_cost; }

private:
    action_cost m_cost;
};

/// A shift-add: an adder and a register of `bits` that accumulate the shifted outputs of one ADC over the cell
/// slices and input bits of a weight.
class shift_add : public circuit_block {
public:
    shift_add(const technology& t, unsigned bits);
    action_cost accumulate() const;

private:
    adder m_adder;
    dff_register m_register;
};

/// An accumulation unit is the same circuit as a shift-add (the shift is wiring): an adder and a register.
using accumulator = shift_add;

/// An array multiplier of a x b bits: a b AND gates (NAND2 + INV) for the partial products and b - 1 a-bit
/// ripple-carry adders to sum them (Weste & Harris, CMOS VLSI Design, sec. 11.9); half the gates switch per product;
/// the carries ripple through a + b full adders.
class multiplier : public circuit_block {
public:
    multiplier(const technology& t, unsigned a_bits, unsigned b_bits);
    action_cost multiply() const { return m_cost; }

private:
    action_cost m_cost;
};

/// A ReLU: `bits` AND gates (NAND2 + INV) pass the value or zero on its sign bit, into a `bits` register.
class relu : public circuit_block {
public:
    relu(const technology& t, unsigned bits);
    action_cost apply() const { return m_cost; }

private:
    action_cost m_cost;
};

/// A max-pooling lane: a comparator (a `bits` subtractor, i.e. an adder), a 2:1 mux per bit (two transmission gates
/// and an inverter, ~2 inverter equivalents) choosing the larger, and the register holding the running maximum; one
/// comparison per element of the window.
class max_pool : public circuit_block {
public:
    max_pool(const technology& t, unsigned bits);
    action_cost compare() const { return m_cost; }

private:
    action_cost m_cost;
};

/// A lookup table (ROM) of `entries` words of `bits`: a decoder selects one word line, which drives the gates of its
/// `bits` cells (~0.5 inverter input each); half the bit lines, each loaded by the drains of its `entries` cells
/// (~0.25 inverter equivalents each), discharge; the word lands in a `bits` register. Cells are one transistor
/// (~0.5 inverter area). The tables of the transformer's exponential and GELU.
class lookup_table : public circuit_block {
public:
    lookup_table(const technology& t, unsigned entries, unsigned bits);
    action_cost read() const { return m_cost; }

private:
    action_cost m_cost;
};

/// An iterative restoring divider of `bits`: one subtractor (an adder) and two registers (remainder, quotient); a
/// division takes `bits` iterations of a subtract and a clock. (Hennessy & Patterson, Computer Architecture,
/// App. J.) The softmax's and the layer norm's per-row reciprocals.
class divider : public circuit_block {
public:
    divider(const technology& t, unsigned bits);
    action_cost divide() const { return m_cost; }

private:
    action_cost m_cost;
};

/// An iterative digit-by-digit integer square root of a `bits` radicand: bits/2 iterations of a subtract and a
/// clock of two registers (the restoring method). The layer norm's per-row standard deviation.
class square_root : public circuit_block {
public:
    square_root(const technology& t, unsigned bits);
    action_cost root() const { return m_cost; }

private:
    action_cost m_cost;
};

}  // namespace cim::circuit
