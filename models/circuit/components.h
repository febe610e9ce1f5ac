#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "models/circuit/calibration.h"
#include "models/circuit/periphery.h"
#include "models/circuit/technology.h"

namespace cim::circuit {

/// Geometry and options of one synaptic subarray (the `subarray:` config section).
struct subarray_config {
    unsigned rows = 128;
    unsigned cols = 128;
    unsigned adc_bits = 5;
    std::string adc_type = "flash";  // flash (multilevel sense amplifier) | sar
    unsigned cols_per_adc = 8;  // columns multiplexed onto one ADC
    std::string readout = "parallel";
    unsigned partial_rows = 32;  // rows read at once in `partial` read-out
    double ir_drop_tolerance = 0.25;  // series switch resistance allowed, as a fraction of the cell path it drives
    double sense_time = 1e-9;         // s: time a sense amplifier or ADC comparator needs to resolve a column
    bool level_shifters = false;      // count the write path's level shifters (non-volatile cells)
    bool skip_zero_rows = true;       // sequential read-out activates only the rows whose input bit is 1

    template <class V>
    void visit(V& v) {
        v("rows", rows, "word lines (rows) per subarray");
        v("cols", cols, "bit lines (columns) per subarray holding weights; reference columns come on top");
        v("adc_bits", adc_bits, "ADC resolution in bits");
        v.choice("adc_type", adc_type, {"flash", "sar"},
                 "ADC architecture: flash (a multilevel sense amplifier of 2^bits - 1 comparators, one decision) or "
                 "sar (one comparator, a capacitive DAC and SAR logic, bits + 1 decisions)");
        v("cols_per_adc", cols_per_adc, "columns sharing one ADC through a column mux");
        v.choice("readout", readout, {"parallel", "sequential", "partial"},
                 "read-out: all rows at once, one row at a time, or partial_rows at a time");
        v("partial_rows", partial_rows, "rows activated together in partial read-out");
        v("ir_drop_tolerance", ir_drop_tolerance,
          "largest resistance of an access transistor or switch in a current path, as a fraction of the resistance "
          "of the cells it carries (sets the transistor widths)");
        v("sense_time", sense_time, unit::second,
          "time a sense amplifier or ADC comparator needs to resolve one column's current, before the conversion "
          "logic (NeuroSim V1.0's sense amplifiers: 1 ns at LP nodes of 22 nm and below, 0.8-1.4 ns at 32 nm)");
        v("level_shifters", level_shifters,
          "count the level shifters of the write path of a non-volatile array (one per row on the word and bit "
          "lines, one per column on the source lines, as NeuroSim V1.4 for write voltages above 1.5 V) in area, "
          "leakage and read energy; off by default, as in NeuroSim V1.0, the release behind Table 1 of the paper");
        v("skip_zero_rows", skip_zero_rows,
          "sequential read-out: activate only the rows whose input bit is 1 (the input bit enables its word line) and "
          "step straight to the next such row, so a slice costs one read per 1 bit (NeuroSim V1.0's sequential "
          "read-out); false: step through every row of the block, one read each");
    }
    void validate() const;
    /// Rows one activation turns on together: all of them (parallel), partial_rows (partial) or one (sequential).
    unsigned rows_per_activation() const {
        return readout == "parallel" ? rows : readout == "partial" ? partial_rows : 1u;
    }
};

/// Activity of a batch of reads on one subarray, measured by the functional kernel.
struct read_activity {
    std::uint64_t vectors = 0;        // input vectors
    unsigned input_slices = 0;        // bit-serial cycles per vector
    unsigned active_rows = 0;         // rows holding weights
    unsigned active_cols = 0;         // columns read (weights + reference)
    std::uint64_t input_ones = 0;     // (row, slice, vector) with a non-zero input
    double column_level_sum = 0.0;    // sum over reads of cell levels on active inputs (level units)
};

/// A synaptic subarray with its periphery: row switches and drivers, cell array, column mux, ADCs (or sense
/// amplifiers) and shift-add. docs/models.md derives every term; in short:
///  - transistors in a current path are sized so their resistance is at most `ir_drop_tolerance` of the cells they
///    carry: the 1T1R access transistor against r_on, the column mux against rows_parallel cells in parallel, the
///    row switch against a row of cells. Small r_on gives wide transistors: more area, more gate capacitance to
///    switch, slower activation (Peng et al., IEDM 2019, sec. III);
///  - cell current from the programmed levels and the inputs, held for the whole activation;
///  - an activation drives the rows, settles the bit lines, then steps the column mux through cols_per_adc
///    columns with one conversion each.
/// Does not model: IR drop along the wires, sense-amplifier offset, write energy.
class subarray_model {
public:
    subarray_model(const technology& t, const calibration& k, const cell& c, const subarray_config& g,
                   unsigned ref_cols, unsigned adc_bits_eff);

    double area() const { return m_area_array + m_area_periphery + m_area_adc + m_area_shift_add; }
    double area_array() const { return m_area_array; }
    double area_adc() const { return m_area_adc; }
    double area_periphery() const { return m_area_periphery; }  // switches, muxes, decoders, drivers
    double area_shift_add() const { return m_area_shift_add; }
    double leakage_power() const { return m_leakage; }

    /// Derived sizes, exposed for tests and `docs/models.md`.
    double access_width_f() const { return m_w_access; }  // access transistor width (F)
    double mux_width_f() const { return m_w_mux; }        // column-mux transistor width (F)
    double activation_time(unsigned active_cols) const;  // s, one activation (unscaled by the activity)

    /// Cost of a batch of reads, split by cost class.
    struct read_cost {
        action_cost total;
        double energy_array = 0, energy_switch = 0, energy_adc = 0, energy_accumulation = 0;
        double latency_array = 0, latency_adc = 0;  // latency_array includes the mux switching
        double latency_accumulation = 0;             // sequential read-out: each row's shift-add, in series
        std::uint64_t conversions = 0;
    };
    read_cost read(const read_activity& a) const;

    /// Cycles (array activations) per input slice for a given number of active rows.
    unsigned cycles_per_slice(unsigned active_rows) const;
    /// Columns sharing one ADC through the mux: cols_per_adc, or 1 in sequential read-out (a sense amp per column).
    unsigned mux_ways() const;

private:
    /// One activation's timing: row drive and settling, the column mux's switching over all `steps` (`mux`:
    /// the first step's decode and select, and what the conversions do not hide of the later ones), and `steps`
    /// conversions.
    struct activation {
        double steps = 1, drive = 0, mux = 0;
    };
    activation activation_of(unsigned active_cols) const;
    calibration m_k;
    cell m_cell;
    subarray_config m_geo;
    unsigned m_ref_cols;
    unsigned m_adc_bits;
    double m_area_array = 0, m_area_periphery = 0, m_area_adc = 0, m_area_shift_add = 0, m_leakage = 0;
    double m_w_access = 1, m_w_mux = 1, m_w_row = 1;
    double m_c_bitline = 0, m_e_mux_toggle = 0;
    double m_t_row = 0, m_t_row_load = 0, m_t_settle = 0, m_t_mux_step = 0, m_t_mux_load = 0;
    double m_e_row = 0, m_e_row_decode = 0, m_e_row_shift = 0, m_e_mux_decode = 0, m_e_shift_add = 0;
    double m_t_shift_add = 0;  // s, calibrated: one shift-add (adder and register)
    action_cost m_conversion;                         // one conversion, calibrated
    std::optional<precharger> m_precharger;           // SRAM bit lines
    std::optional<current_sense_amplifier> m_csa;     // 1-bit read-out of a non-volatile column
};

/// `lanes` N-input adder trees of b-bit operands (PE and tile accumulation): one tree per output column, as
/// NeuroSim's AdderTree: N - 1 b-bit ripple-carry adders (periphery.h) in log2(N) pipelined levels; a level
/// takes one addition.
class adder_tree {
public:
    adder_tree(const technology& t, const calibration& k, unsigned inputs, unsigned bits, unsigned lanes);
    double area() const { return m_area; }
    double leakage_power() const { return m_leakage; }
    /// Cost of reducing `words` output words (each an N-input sum): lanes work in parallel, levels pipeline.
    action_cost reduce(std::uint64_t words) const;

private:
    double m_area = 0, m_leakage = 0, m_energy_per_word = 0, m_stage = 0, m_depth = 0;
    unsigned m_lanes = 1;
};

/// An SRAM buffer (global or tile buffer) with a bus of `bus_bits` per clock.
/// 6T cells of ~146 F^2 plus 30 % periphery; access energy from bit-line swing on a sqrt(capacity) array.
class sram_buffer {
public:
    sram_buffer(const technology& t, const calibration& k, double capacity_bytes, unsigned bus_bits, double clock_hz);
    double area() const { return m_area; }
    double leakage_power() const { return m_leakage; }
    action_cost read(std::uint64_t bytes) const { return access(bytes); }
    action_cost write(std::uint64_t bytes) const { return access(bytes); }
    double capacity_bytes() const { return m_capacity; }

private:
    action_cost access(std::uint64_t bytes) const;
    double m_capacity, m_area = 0, m_leakage = 0, m_energy_per_bit = 0, m_cycle = 0;
    unsigned m_bus_bits;
};

/// H-tree interconnect between the global buffer and `leaves` tiles of side `leaf_side` metres, with
/// repeated wires. Transfer energy: C_wire * L * Vdd^2 per bit toggled (activity 0.5); latency: bus cycles plus
/// the repeated-wire delay of the path (0.7 * sqrt(R C ...) per unit length, Bakoglu).
class htree {
public:
    htree(const technology& t, const calibration& k, unsigned leaves, double leaf_side, unsigned bus_bits, double clock_hz);
    double area() const { return m_area; }
    double leakage_power() const { return m_leakage; }
    double path_length() const { return m_path; }
    action_cost transfer(std::uint64_t bytes) const;

private:
    double m_area = 0, m_leakage = 0, m_path = 0, m_energy_per_bit = 0, m_wire_delay = 0, m_cycle = 0;
    unsigned m_bus_bits;
};

/// One lane of a digital unit: the circuit (periphery.h) that processes one element per action, uncalibrated.
struct lane_circuit {
    double area = 0;     // m^2
    double leakage = 0;  // W
    action_cost op;      // one element
};

/// A digital unit (accumulation, activation, pooling): `lanes` copies of a lane circuit, each processing one
/// element per clock cycle (or per op latency, if longer).
class digital_unit {
public:
    /// `accumulation`: the unit is priced in the accumulation cost class, otherwise in the digital class.
    digital_unit(const calibration& k, bool accumulation, unsigned lanes, const lane_circuit& lane, double clock_hz);
    double area() const { return m_area; }
    double leakage_power() const { return m_leakage; }
    action_cost process(std::uint64_t elements) const;

private:
    double m_area = 0, m_leakage = 0, m_energy = 0, m_cycle = 0;
    unsigned m_lanes;
};

/// The lanes of the chip's digital units, built from periphery.h: an accumulator of `bits` (adder and register);
/// an activation lane: a ReLU of the `acc_bits` sum and its requantisation, a multiplier by an 8-bit fixed-point
/// scale; a max-pooling lane comparing `bits` elements.
lane_circuit accumulator_lane(const technology& t, unsigned bits);
lane_circuit activation_lane(const technology& t, unsigned acc_bits);
lane_circuit pooling_lane(const technology& t, unsigned bits);

}  // namespace cim::circuit
