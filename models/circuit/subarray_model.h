#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "models/circuit/action_table.h"
#include "models/circuit/calibration.h"
#include "models/circuit/periphery.h"
#include "models/circuit/technology.h"

namespace cim::circuit {

/// Geometry and options of one synaptic subarray (the `subarray:` config section).
struct subarray_config {
    unsigned rows = 128;
    unsigned cols = 128;
    unsigned adc_bits = 5;
    std::string adc_type = "flash";  // flash (multilevel sense amplifier) | sar | cco | counting
    unsigned cols_per_adc = 8;  // columns multiplexed onto one ADC
    std::string readout = "parallel";
    unsigned partial_rows = 32;  // rows read at once in `partial` read-out
    double ir_drop_tolerance = 0.25;  // series switch resistance allowed, as a fraction of the cell path it drives
    double sense_time = 1e-9;         // s: time a sense amplifier or ADC comparator needs to resolve a column
    bool level_shifters = false;      // count the write path's level shifters (non-volatile cells)
    bool skip_zero_rows = true;       // sequential read-out activates only the rows whose input bit is 1
    std::string compute = "current";  // current | charge: how a column accumulates its products
    double compute_cap = 0;           // F: charge-domain capacitor a unit product charges (0: derived from the bit line)
    std::string input_encoding = "bit_serial";  // bit_serial | pulse_count | pulse_width
    std::string read_window = "pulse";          // pulse | sense: how long a bit-serial current-mode read conducts
    unsigned combine_cols = 1;        // adjacent columns weighted and summed in the analog domain into one conversion
    /// Bits of an input applied as pulses (pulse_count, pulse_width): set by the run from quant.input_bits, not read
    /// from the config.
    unsigned input_pulse_bits = 1;

    template <class V>
    void visit(V& v) {
        v("rows", rows, "word lines (rows) per subarray");
        v("cols", cols, "bit lines (columns) per subarray holding weights; reference columns come on top");
        v("adc_bits", adc_bits, "ADC resolution in bits");
        v.choice("adc_type", adc_type, {"flash", "sar", "cco", "counting"},
                 "ADC architecture: flash (a multilevel sense amplifier of 2^bits - 1 comparators, one decision), "
                 "sar (one comparator, a capacitive DAC and SAR logic, bits + 1 decisions), cco (a current-controlled "
                 "ring oscillator and ripple counter; energy per count of the output code) or counting (charge "
                 "integrated, then removed one unit per step until a comparator flips; energy per step, 2^bits steps "
                 "of sense_time)");
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
        v.choice("compute", compute, {"current", "charge"},
                 "how a column accumulates its products: current (cell currents summed on the bit line for a read "
                 "pulse, V_read^2 G t per cell) or charge (each unit product moves a charge q onto the column, which "
                 "is reset after its conversion: no static current, Vdd q per unit product drawn from the supply)");
        v("compute_cap", compute_cap, unit::farad,
          "charge compute: the capacitor a unit product charges to the read voltage (e.g. a bit cell's MOM "
          "capacitor); 0: the bit line's capacitance divided by the column's full-scale sum (the swing of a full-scale "
          "column is the read voltage)");
        v.choice("input_encoding", input_encoding, {"bit_serial", "pulse_count", "pulse_width"},
                 "how an input drives its row: bit_serial (one read per input bit, shift-added), pulse_count (an "
                 "input x as x read pulses of read_pulse with equal gaps, one conversion per input) or pulse_width "
                 "(one pulse of x read_pulse units, one conversion per input). Pulse encodings: macro runs only");
        v.choice("read_window", read_window, {"pulse", "sense"},
                 "current compute with bit-serial inputs: how long a read draws its cells' current, the cell's "
                 "read_pulse (pulse) or only the converter's sampling window, sense_time, when that is shorter (sense: "
                 "a read whose row pulse ends once the column is sampled). Pulse-encoded inputs conduct for their "
                 "pulses either way");
        v("combine_cols", combine_cols,
          "adjacent columns (e.g. the bit columns of one weight, or a differential pair) weighted and summed in the "
          "analog domain (binary-weighted capacitors, current mirrors or stacking) into one conversion; the column "
          "mux steps through cols_per_adc / combine_cols such groups. 1: every column is converted");
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
    std::uint64_t active_inputs = 0;  // pulse_width: rows with a non-zero input (0: input_ones)
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
/// Its action table (table()) lists what a read is made of; count() turns a batch's measured activity into counts
/// of those actions, and the energy and latency of the batch are the counts times the table.
/// Does not model: IR drop along the wires, sense-amplifier offset, write energy.
class subarray_model {
public:
    /// The actions of table(), in table order (the index of each count).
    enum action_id : std::size_t {
        activation,       // an array activation: rows driven, bit lines settled (latency: drive and settle)
        mux_select,       // the column mux's first step of an activation: decode and select
        mux_step,         // each further mux step: what the conversions do not hide of decode and select
        row_drive,        // a word line switched by its driver
        row_level_shift,  // a row input through the write path's level shifter
        mux_decode,       // a mux select line decoded and driven
        mux_toggle,       // the mux's transmission gates switched once
        bitline,          // a bit line charged to V_read (non-volatile) or restored by its precharger (SRAM)
        cell_on,          // a cell on an active input: its off current for one read pulse
        cell_level,       // one conductance level of a cell on an active input, for one read pulse
        conversion_step,  // one conversion in series on an activation's critical path
        conversion,       // one column converted (ADC or sense amplifier)
        sense_on,         // a current sense amplifier mirroring a cell's off current
        sense_level,      // a current sense amplifier mirroring one conductance level
        shift_add,        // one converted value shifted and added
        row_accumulate,   // sequential read-out: a row's shift-add before the next row is read
        row_write,        // a row programmed: decoded and driven, its cells' pulses applied in parallel
        cell_write,       // a cell written: a non-volatile cell's reset pulse, an SRAM cell's bit-line swing
        level_pulse,      // one set pulse of a non-volatile cell (one per level it is programmed to)
        adc_count,        // one LSB of a counting ADC's output code (cco, counting)
        pulse_slot,       // pulse-encoded inputs: one row's pulse generator clocked for one pulse slot
        action_count
    };

    subarray_model(const technology& t, const calibration& k, const cell& c, const subarray_config& g,
                   unsigned ref_cols);

    const action_table& table() const { return m_table; }
    /// Adds the counts of a batch of reads to `counts` (table order; resized to the table).
    void count(const read_activity& a, std::vector<double>& counts) const;
    /// Adds the counts of programming `rows` rows of `cols` cells whose levels sum to `level_sum`.
    void count_write(unsigned rows, unsigned cols, double level_sum, std::vector<double>& counts) const;

    double area() const { return m_table.area(); }
    double area_array() const;  // the cells
    double area_adc() const;
    double area_periphery() const;  // switches, muxes, decoders, drivers
    double leakage_power() const { return m_table.leakage(); }
    /// Write cycles a cell survives (cell.endurance; 0: unlimited).
    double endurance() const { return m_cell.endurance; }

    /// Derived sizes, exposed for tests and `docs/models.md`.
    double access_width_f() const { return m_w_access; }  // access transistor width (F)
    double mux_width_f() const { return m_w_mux; }        // column-mux transistor width (F)
    double activation_time(unsigned active_cols) const;  // s, one activation (unscaled by the activity)

    /// Energy and latency of a batch of reads by category: count() priced by the table (for tests and tools).
    struct read_cost {
        action_cost total;
        double energy_array = 0, energy_switch = 0, energy_adc = 0, energy_accumulation = 0;
        double energy_charge = 0;  // charge-domain accumulation
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
    /// Mux steps (conversions in series) of one activation of `active_cols` columns.
    unsigned steps_of(unsigned active_cols) const {
        const unsigned groups = (std::max(1u, active_cols) + m_geo.combine_cols - 1) / m_geo.combine_cols;
        return std::min(std::max(1u, mux_ways() / m_geo.combine_cols), groups);
    }
    /// Conversions of one activation of `active_cols` columns.
    double conversions_of(unsigned active_cols) const;
    /// Largest input of a pulse encoding (2^input_pulse_bits - 1), 1 for bit-serial inputs.
    double pulse_max() const;
    cell m_cell;
    subarray_config m_geo;
    double m_w_access = 1, m_w_mux = 1;
    action_table m_table;
};

}  // namespace cim::circuit
