#include "models/circuit/subarray_model.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "models/core/error.h"

namespace cim::circuit {

void subarray_config::validate() const {
    if (rows < 2 || rows > 4096) throw config_error("", 0, "rows", "must be in 2..4096");
    if (cols < 2 || cols > 4096) throw config_error("", 0, "cols", "must be in 2..4096");
    if (adc_bits < 1 || adc_bits > 16) throw config_error("", 0, "adc_bits", "must be in 1..16");
    if (adc_type == "sar" && adc_bits < 2)
        throw config_error("", 0, "adc_type", "a SAR ADC needs adc_bits >= 2 (a 1-bit read-out is a latch sense amplifier: flash)");
    if (cols_per_adc < 1 || cols_per_adc > cols) throw config_error("", 0, "cols_per_adc", "must be in 1..cols");
    if (readout == "partial" && (partial_rows < 1 || partial_rows > rows))
        throw config_error("", 0, "partial_rows", "must be in 1..rows for partial read-out");
    if (!(ir_drop_tolerance > 0.0 && ir_drop_tolerance <= 1.0)) throw config_error("", 0, "ir_drop_tolerance", "must be in (0, 1]");
    if (!(sense_time > 0.0 && sense_time <= 1e-6)) throw config_error("", 0, "sense_time", "must be in (0, 1 us]");
    if ((adc_type == "cco" || adc_type == "counting") && adc_bits > 12)
        throw config_error("", 0, "adc_bits", "a counting ADC (cco, counting) takes at most 12 bits (2^bits steps)");
    if (!(compute_cap >= 0.0 && compute_cap <= 1e-12)) throw config_error("", 0, "compute_cap", "must be in [0, 1 pF]");
    if (input_encoding != "bit_serial" && readout == "sequential")
        throw config_error("", 0, "input_encoding", "pulse encodings need parallel or partial read-out");
    if (combine_cols < 1 || combine_cols > cols_per_adc || cols_per_adc % combine_cols != 0)
        throw config_error("", 0, "combine_cols", "must divide cols_per_adc (1: no analog combination)");
    if (combine_cols > 1 && readout == "sequential")
        throw config_error("", 0, "combine_cols", "analog column combination needs parallel or partial read-out");
    if (input_pulse_bits < 1 || input_pulse_bits > 10)
        throw config_error("", 0, "input_encoding", "a pulse-encoded input takes 1..10 bits (quant.input_bits)");
}

double subarray_model::pulse_max() const {
    return m_geo.input_encoding == "bit_serial" ? 1.0 : std::ldexp(1.0, static_cast<int>(m_geo.input_pulse_bits)) - 1.0;
}

double subarray_model::conversions_of(unsigned active_cols) const {
    return std::ceil(double(active_cols) / double(m_geo.combine_cols));
}

namespace {
constexpr double k_min_width_f = 2.0;     // narrowest transistor drawn (F)
constexpr double k_driver_width_f = 8.0;  // decoder output driver (NMOS width, F)
bool two_terminal(const cell& c) { return c.type == "rram" || c.type == "pcm" || c.type == "stt_mram"; }
bool three_terminal(const cell& c) { return c.type == "fefet" || c.type == "ecram"; }
}  // namespace

subarray_model::subarray_model(const technology& t, const calibration& k, const cell& c, const subarray_config& g,
                               unsigned ref_cols)
    : m_cell(c), m_geo(g) {
    const double F = t.feature_size;
    const unsigned n_cols = g.cols + ref_cols;
    const double cols = double(n_cols);
    const double rows = double(g.rows);
    const double tol = g.ir_drop_tolerance;
    // Drawn width (in F) of the narrowest transistor whose linear-region resistance, k_linear * Vdd / (I_on * W_eff),
    // is at most tol * r; on FinFET nodes it rounds up to whole fins.
    const double r_per_width = k_linear_region * t.vdd() / t.on_current_per_width();  // Ohm * m
    auto sized_f = [&](double r, double floor_f) { return std::max(floor_f, t.drawn_width(r_per_width / (tol * r)) / F); };
    // Access transistor (1T1R): r_access <= tol * r_on. Three-terminal cells read through their own channel and
    // SRAM through its read port, both of the drawn width.
    m_w_access = two_terminal(c) ? sized_f(c.r_on, c.access_width_f) : c.access_width_f;
    const double r_access = two_terminal(c) ? k_linear_region * t.on_resistance(m_w_access * F) : 0.0;
    const double r_path = c.r_on + r_access;  // on-state resistance of one cell's current path
    // Cell footprint: 4F high; a wide access transistor widens the cell beyond its drawn area.
    double cell_f2 = c.area_f2;
    if (two_terminal(c)) cell_f2 = std::max(c.area_f2, 4.0 * (m_w_access + 2.0));
    const double pitch = std::sqrt(cell_f2) * F;
    // Rows conducting at once, and the switches that carry their current: the column mux carries rows_par cells
    // in parallel, a row switch the cells of its row (a three-terminal cell's input drives only a gate).
    const double rows_par = g.rows_per_activation();
    // SRAM senses a voltage (its read ports discharge a precharged bit line), so no DC cell current flows through
    // its switches: they stay minimum size.
    m_w_mux = c.is_sram() ? k_min_width_f : sized_f(r_path / rows_par, k_min_width_f);
    const double w_row = (three_terminal(c) || c.is_sram()) ? k_min_width_f : sized_f(r_path / cols, k_min_width_f);
    // The periphery circuits (models/circuit/periphery.h): the column mux and the row switch matrix, the row
    // decoder (it spans the array's height) and the mux decoder (its width), each line through an 8F driver.
    const switch_matrix mux(t, n_cols, m_w_mux), row_switch(t, g.rows, w_row);
    const decoder row_decoder(t, g.rows, rows * pitch, k_driver_width_f);
    // The mux steps through cols_per_adc / combine_cols column groups; a select line switches a group's gates.
    const unsigned select_lines = std::max(1u, mux_ways() / g.combine_cols);
    const decoder mux_decoder(t, select_lines, cols * pitch, k_driver_width_f);
    // Capacitances: bit line (wire + access drains + mux drains), word line (wire + access gates), the row
    // switch's gates, and a mux select line (the transmission gates it switches: cols / cols_per_adc of them).
    const double cw = t.wire_cap_per_length;
    const double c_bitline = rows * (pitch * cw + t.drain_cap(m_w_access * F)) + mux.drain_cap();
    const double c_wordline = cols * (pitch * cw + t.gate_cap(m_w_access * F));
    const double c_select = std::ceil(cols / select_lines) * mux.gate_cap();
    // A row activation: the row decoder's driver charges the word line; the row switch's gates (switch class)
    // add their marginal delay. The word line (local metal) adds its distributed wire delay 0.38 r c L^2.
    const double wire_rc = 0.38 * t.local_wire_res_per_length * cw * std::pow(cols * pitch, 2.0);
    const action_cost wl = row_decoder.drive(c_wordline), wl_switch = row_decoder.drive(c_wordline + row_switch.gate_cap());
    // Sequential and partial read-out decode the row (group) to activate; in parallel read-out the input bits
    // drive every row at once through the switch matrix, so there is nothing to decode (as for the energy).
    const bool parallel = g.readout == "parallel", sequential = g.readout == "sequential";
    const double t_row = (parallel ? 0.0 : row_decoder.select().latency) + wire_rc + wl.latency;  // latency_array
    double t_row_load = wl_switch.latency - wl.latency;                                               // latency_switch
    double e_row_shift = 0;
    // A mux step: decode (class array) and charge a select line's transmission gates (class switch).
    const double t_mux_step = mux_decoder.select().latency;
    const double t_mux_load = mux_decoder.drive(c_select).latency;
    const double e_mux_decode = mux_decoder.select().energy + mux_decoder.drive(c_select).energy - c_select * t.vdd() * t.vdd();
    // The bit line settles through the mux switch (the sense circuit clamps it at V_read: current mode, so the
    // cells' resistance sets no RC). SRAM's read ports discharge bit lines that a precharger restores.
    double t_settle = 2.3 * mux.resistance() * c_bitline;
    // Cost classes: the transmission gates sized for the cell current (and the write path's level shifters) are
    // the switch class; the decoders, drivers and prechargers that serve the word and bit lines the array class.
    double area_switch = mux.area() + row_switch.area();
    double area_lines = row_decoder.area() + mux_decoder.area();
    double leak_logic = row_decoder.leakage() + mux_decoder.leakage();
    // The read voltage; 0 in a cell file means the supply (a full-swing bit line).
    const double v = c.read_voltage > 0 ? c.read_voltage : t.vdd();
    const bool charge = g.compute == "charge";
    // Bit lines: a non-volatile array's are charged to V_read once per activation; SRAM's prechargers restore from
    // Vdd the V_read swing its read ports discharged.
    double e_bitline = charge ? 0.0 : c_bitline * v * v;
    if (c.is_sram()) {
        const precharger pre(t, n_cols, c_bitline);
        area_lines += pre.area();
        leak_logic += pre.leakage();
        t_settle += pre.precharge(0, 0).latency;
        e_bitline = charge ? 0.0 : pre.precharge(1.0, v).energy;
    }
    // The write path's level shifters (word and bit lines per row, source lines per column): area and leakage;
    // a read passes its word-line input through the low-voltage stage.
    if (g.level_shifters && !c.is_sram()) {
        const level_shifter ls(t, 2 * g.rows + n_cols);
        area_switch += ls.area();
        leak_logic += ls.leakage();
        const action_cost shift = ls.shift(1.0, c_wordline);
        e_row_shift = shift.energy;
        t_row_load += shift.latency;
    }
    // Conversion: a sense circuit per column in sequential read-out, else one per cols_per_adc columns.
    // 1 bit: a latch sense amplifier on SRAM's bit-line voltage, a current sense amplifier on a non-volatile
    // column's current; more bits: a flash (multilevel sense amplifier) or SAR ADC.
    const unsigned adcs = sequential ? n_cols : (n_cols + g.cols_per_adc - 1) / g.cols_per_adc;
    double adc_area = 0, adc_leak = 0;
    action_cost conv;
    double sense_per_siemens = 0;  // J per S of column conductance a current sense amplifier mirrors
    action_cost lsb;               // one count of a counting ADC's output code
    const bool pulsed = g.input_encoding != "bit_serial";
    if (g.adc_type == "cco") {
        const cco_adc adc(t, g.adc_bits, pulsed);
        adc_area = adc.area(), adc_leak = adc.leakage(), conv = adc.convert(), lsb = adc.count();
    } else if (g.adc_type == "counting") {
        const counting_adc adc(t, g.adc_bits, g.sense_time);
        adc_area = adc.area(), adc_leak = adc.leakage(), conv = adc.convert(), lsb = adc.count();
    } else if (g.adc_type == "sar") {
        const sar_adc adc(t, g.adc_bits, g.sense_time);
        adc_area = adc.area(), adc_leak = adc.leakage(), conv = adc.convert();
    } else if (g.adc_bits > 1) {
        const flash_adc adc(t, g.adc_bits, g.sense_time);
        adc_area = adc.area(), adc_leak = adc.leakage(), conv = adc.convert();
    } else if (c.is_sram()) {
        const sense_amplifier sa(t, g.sense_time);
        adc_area = sa.area(), adc_leak = sa.leakage(), conv = sa.sense();
    } else {
        // Reference midway between a column's lowest and highest current. The mirror draws the column current
        // V_read * G for its sense time on top of the reference: linear in the conductance it senses.
        const double i_ref = 0.5 * v * rows_par * (c.g_max() + c.g_min());
        const current_sense_amplifier csa(t, g.sense_time, i_ref);
        adc_area = csa.area(), adc_leak = csa.leakage(), conv = csa.sense(0.0);
        sense_per_siemens = csa.sense(v).energy - csa.sense(0.0).energy;
    }
    const double t_conv = k.latency_adc * conv.latency;
    // Shift-add: an adder and register of (adc_bits + cell_bits + 8) bits per ADC.
    const circuit::shift_add sa(t, g.adc_bits + c.bits + 8);

    // The activation's timing: row drive and settling; then the column mux's switching over its steps: per step
    // the mux decoder decodes the column's address, its driver charges the select line's transmission gates, then
    // the converter samples the column for `sense_time` and resolves on its own (latch and encode, or a SAR's bit
    // decisions on the sampled charge). Each next address is known in advance and decodes during the previous
    // step, and the next select line switches while the previous conversion resolves, so after the first step
    // each shows only where it is longer than what it overlaps.
    // Pulse-encoded inputs: the read pulses of the largest input (pulse_count: a pulse and an equal gap each;
    // pulse_width: one pulse of that many units) are applied before the conversion. A stated time: not calibrated.
    const double p_max = pulse_max();
    const double t_window = g.input_encoding == "pulse_count" ? p_max * 2.0 * c.read_pulse
                            : g.input_encoding == "pulse_width" ? p_max * c.read_pulse
                                                                : 0.0;
    const double drive = k.latency_array * (t_row + t_settle) + k.latency_switch * t_row_load + t_window;
    // The pulse generator of a pulse-encoded row (a temporal DAC): a register of the input's bits and a comparator
    // (an adder of as many bits) against the slot counter shared by the rows, clocked once per pulse slot; half
    // the comparator's gates switch per slot. Digital logic: the digital cost class.
    const bool pulses = g.input_encoding != "bit_serial";
    const dff_register pulse_reg(t, g.input_pulse_bits);
    const adder pulse_cmp(t, g.input_pulse_bits);
    const double e_slot = pulses ? pulse_reg.clock().energy + 0.5 * pulse_cmp.add().energy : 0.0;
    const double pulse_gen_area = pulses ? rows * (pulse_reg.area() + pulse_cmp.area()) : 0.0;
    const double pulse_gen_leak = pulses ? rows * (pulse_reg.leakage() + pulse_cmp.leakage()) : 0.0;
    const double decode = k.latency_array * t_mux_step;
    const double select = k.latency_switch * t_mux_load;
    const double sample = std::min(t_conv, k.latency_adc * g.sense_time);
    const double resolve = t_conv - sample;
    const double later = std::max(0.0, select - resolve) + std::max(0.0, decode - (select + t_conv));

    // Cell energy: V^2 * G over every cell on an active input, for one read pulse: the mux applies V_read to the
    // selected column only, for the read pulse its sense amplifier integrates. SRAM senses a voltage: its read
    // ports only discharge the precharged bit lines, drawing nothing from a supply, and the prechargers' energy
    // restores that charge (as NeuroSim: "just BL discharging").
    const double dg = (c.g_max() - c.g_min()) / double(c.levels() - 1);
    // A bit-serial read conducts for the cell's read pulse, or (read_window: sense) only while the converter samples.
    const double t_conduct = g.read_window == "sense" && g.input_encoding == "bit_serial"
                                 ? std::min(c.read_pulse, g.sense_time)
                                 : c.read_pulse;
    const double e_cell = (c.is_sram() || charge) ? 0.0 : v * v * t_conduct;  // J per S
    // Charge compute: a unit product (one level of one cell on one input pulse) moves q onto the column, drawn from
    // the supply when the column is reset: Vdd q. Without a stated capacitor, a full-scale column (every row at the
    // top level for the largest input) swings the bit line by the read voltage.
    const double full_scale = std::max(1.0, rows_par * double(c.levels() - 1) * p_max);
    const double q_unit = g.compute_cap > 0 ? g.compute_cap * v : c_bitline * v / full_scale;
    const double e_charge = charge ? t.vdd() * q_unit : 0.0;  // J per level unit

    std::ostringstream variant;
    variant << g.rows << "x" << n_cols << " " << c.type << " " << g.readout << " " << g.adc_type << " " << g.adc_bits
            << "-bit";
    m_table = action_table("subarray", variant.str());
    const cost_class A = cost_class::array, S = cost_class::switches, D = cost_class::adc, C = cost_class::accumulation;
    const category ca = category::array, cd = category::adc, cc = category::accumulation, co = category::other;
    auto add = [&](const char* name, const char* unit, const char* desc, category cat, cost_class cls, double e,
                   double l) { m_table.add(action{name, unit, desc, cat, cls, e, l}); };
    add("activation", "op", "array activation: rows driven, bit lines settled (a row group decoded in sequential or "
        "partial read-out)", ca, A, parallel ? 0.0 : k.energy_array * row_decoder.select().energy, drive);
    add("mux_select", "op", "first column-mux step of an activation: address decoded, select line switched", ca, A, 0.0,
        decode + select);
    add("mux_step", "op", "further column-mux step: the decode and select time its conversion does not hide", ca, A, 0.0,
        later);
    add("row_drive", "op", "word line switched by its driver through the row switch", ca, A, k.energy_array * wl_switch.energy,
        0.0);
    add("row_level_shift", "op", "row input passed through the write path's level shifter", co, S,
        k.energy_switch * e_row_shift, 0.0);
    add("mux_decode", "op", "column-mux select line decoded and driven", ca, A, k.energy_array * e_mux_decode, 0.0);
    add("mux_toggle", "op", "every transmission gate of the column mux switched once", co, S,
        k.energy_switch * mux.toggle(cols).energy, 0.0);
    add("bitline", "op", c.is_sram() ? "bit line restored by its precharger" : "bit line charged to the read voltage", ca, A,
        k.energy_array * e_bitline, 0.0);
    add("cell_on", "op", "cell on an active input: its off conductance for one read pulse", ca, A,
        k.energy_array * e_cell * c.g_min(), 0.0);
    add("cell_level", "level", charge ? "one unit product's charge moved onto its column and restored"
                                      : "one conductance level of a cell on an active input, for one read pulse",
        ca, charge ? cost_class::charge : A, charge ? k.energy_charge * e_charge : k.energy_array * e_cell * dg, 0.0);
    add("conversion_step", "op", "conversion in series on an activation's critical path", cd, D, 0.0, t_conv);
    add("conversion", "op", "one column converted by an ADC or sense amplifier", cd, D, k.energy_adc * conv.energy, 0.0);
    add("sense_on", "op", "current sense amplifier mirroring a cell's off current", cd, D,
        k.energy_adc * sense_per_siemens * c.g_min(), 0.0);
    add("sense_level", "level", "current sense amplifier mirroring one conductance level", cd, D,
        k.energy_adc * sense_per_siemens * dg, 0.0);
    add("shift_add", "op", "converted value shifted and added into its weight's partial sum", cc, C,
        k.energy_accumulation * sa.accumulate().energy, 0.0);
    add("row_accumulate", "op", "sequential read-out: a row's shift-add before the next row is read", cc, C, 0.0,
        sequential ? k.latency_accumulation * sa.accumulate().latency : 0.0);

    // Writes (a subarray programmed during a run): row by row, all columns of a row in parallel. A non-volatile cell
    // takes a reset pulse and one set pulse per level (pulse-count programming, as NeuroSim's LTP/LTD pulses), each
    // driving V_w through the cell's mid conductance and charging its bit line; a row lasts the pulses of the top
    // level. An SRAM cell's write swings its bit line from Vdd in one pulse.
    const double v_w = c.is_sram() || c.write_voltage <= 0 ? t.vdd() : c.write_voltage;
    const double e_pulse = c.is_sram() ? 0.0 : v_w * v_w * (0.5 * (c.g_max() + c.g_min()) * c.write_pulse + c_bitline);
    const double pulses_per_row = c.is_sram() ? 1.0 : double(c.levels());
    add("row_write", "op", "a row programmed: decoded, its word line driven, its pulses applied", ca, A,
        k.energy_array * (row_decoder.select().energy + wl_switch.energy),
        k.latency_array * (row_decoder.select().latency + t_row) + pulses_per_row * c.write_pulse);
    add("cell_write", "op", c.is_sram() ? "a cell written: its bit line swung from Vdd" : "a cell written: its reset pulse",
        ca, A, k.energy_array * (c.is_sram() ? c_bitline * v_w * v_w : e_pulse), 0.0);
    add("level_pulse", "level", "one set pulse of a non-volatile cell (one per level it is programmed to)", ca, A,
        k.energy_array * e_pulse, 0.0);
    add("adc_count", "op", "one LSB of a counting ADC's output code (cco: an oscillator period; counting: a step)", cd, D,
        k.energy_adc * lsb.energy, 0.0);
    add("pulse_slot", "op", "a pulse-encoded row's pulse generator clocked for one pulse slot", co, cost_class::digital,
        k.energy_digital * e_slot, 0.0);

    m_table.add(area_part{"cells", ca, A, k.area_array * rows * cols * cell_f2 * F * F});
    m_table.add(area_part{"switches", co, S, k.area_switch * area_switch});
    if (pulses) m_table.add(area_part{"pulse_generators", co, cost_class::digital, k.area_digital * pulse_gen_area});
    m_table.add(area_part{"decoders", co, A, k.area_array * area_lines});
    m_table.add(area_part{"adc", cd, D, k.area_adc * adcs * adc_area});
    m_table.add(area_part{"shift_add", cc, C, k.area_accumulation * adcs * sa.area()});
    // Leakage: the logic (decoders, prechargers, level shifters, ADCs, shift-add); an SRAM cell leaks through two
    // off transistors of its cross-coupled pair.
    m_table.add(leakage_part{"logic", leakage_class::logic,
                             k.leakage_logic * (leak_logic + pulse_gen_leak + adcs * (adc_leak + sa.leakage()))});
    m_table.add(leakage_part{"cells", leakage_class::memory,
                             c.is_sram() ? k.leakage_memory * rows * cols * 2.0 * t.inverter_leakage() : 0.0});
}

double subarray_model::area_array() const {
    return m_table.area_by_category()[static_cast<std::size_t>(category::array)];
}

double subarray_model::area_adc() const { return m_table.area_by_category()[static_cast<std::size_t>(category::adc)]; }

double subarray_model::area_periphery() const {
    return m_table.area_by_category()[static_cast<std::size_t>(category::other)];
}

unsigned subarray_model::cycles_per_slice(unsigned active_rows) const {
    const unsigned group = m_geo.rows_per_activation();
    return std::max(1u, (active_rows + group - 1) / group);
}

unsigned subarray_model::mux_ways() const { return m_geo.readout == "sequential" ? 1u : m_geo.cols_per_adc; }

double subarray_model::activation_time(unsigned active_cols) const {
    const double steps = steps_of(active_cols);
    return m_table[activation].latency + (steps > 1 ? m_table[mux_select].latency + (steps - 1) * m_table[mux_step].latency : 0.0) +
           steps * m_table[conversion_step].latency;
}

void subarray_model::count(const read_activity& a, std::vector<double>& n) const {
    n.resize(action_count, 0.0);
    if (a.vectors == 0 || a.input_slices == 0) return;
    const double reads = double(a.vectors) * a.input_slices;  // bit-serial cycles of the whole batch
    // Row activations: sequential read-out with zero skipping reads the rows whose input bit is 1, one at a time.
    const bool sequential = m_geo.readout == "sequential";
    const double cycles = sequential && m_geo.skip_zero_rows ? double(a.input_ones) : reads * cycles_per_slice(a.active_rows);
    const double steps = steps_of(a.active_cols);
    const double active_cells = double(a.input_ones) * a.active_cols;
    const double columns = cycles * a.active_cols;
    const double converted = cycles * conversions_of(a.active_cols);
    n[activation] += cycles;
    if (steps > 1) {
        n[mux_select] += cycles;
        n[mux_step] += cycles * (steps - 1);
        n[mux_decode] += cycles * steps;
        n[mux_toggle] += cycles;
    }
    // A row swings per activation in sequential read-out, per 1 input bit in parallel or partial read-out.
    // A pulse-width input swings its row once, whatever its width.
    const double row_swings = sequential                                                          ? cycles
                              : (m_geo.input_encoding == "pulse_width" && a.active_inputs > 0) ? double(a.active_inputs)
                                                                                                : double(a.input_ones);
    n[row_drive] += row_swings;
    // Pulse-encoded inputs: every row's pulse generator is clocked through the slots of the largest input.
    if (m_geo.input_encoding != "bit_serial")
        n[pulse_slot] += cycles * std::min<double>(a.active_rows, m_geo.rows_per_activation()) * pulse_max();
    n[row_level_shift] += row_swings;
    // SRAM bit lines: in sequential read-out a bit line discharges only when the row's cell holds a 1 (the fraction
    // measured on the active inputs); in parallel read-out the rows on a column discharge it once per activation.
    double discharged = 1.0;
    if (m_cell.is_sram() && sequential)
        discharged = active_cells > 0 ? a.column_level_sum / (active_cells * (m_cell.levels() - 1)) : 0.5;
    n[bitline] += columns * discharged;
    n[cell_on] += active_cells;
    n[cell_level] += a.column_level_sum;
    n[conversion_step] += cycles * steps;
    n[conversion] += converted;
    n[sense_on] += active_cells;
    n[sense_level] += a.column_level_sum;
    n[shift_add] += converted;
    // A counting ADC's output code: the columns' sum as a fraction of their full scale, times the top code.
    const double rows_par = std::min<double>(a.active_rows, m_geo.rows_per_activation());
    const double full = columns * rows_par * double(m_cell.levels() - 1) * pulse_max();
    if (full > 0)
        n[adc_count] += converted * (std::ldexp(1.0, static_cast<int>(m_geo.adc_bits)) - 1.0) *
                        std::min(1.0, a.column_level_sum / full);
    n[row_accumulate] += cycles;
}

void subarray_model::count_write(unsigned rows, unsigned cols, double level_sum, std::vector<double>& n) const {
    n.resize(action_count, 0.0);
    n[row_write] += rows;
    n[cell_write] += double(rows) * cols;
    n[level_pulse] += m_cell.is_sram() ? 0.0 : level_sum;
}

subarray_model::read_cost subarray_model::read(const read_activity& a) const {
    std::vector<double> n;
    count(a, n);
    read_cost r;
    double e_other = 0;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const action& x = m_table[i];
        const double e = n[i] * x.energy, l = n[i] * x.latency;
        switch (x.cls) {
        case cost_class::array: r.energy_array += e; break;
        case cost_class::switches: r.energy_switch += e; break;
        case cost_class::adc: r.energy_adc += e; break;
        case cost_class::accumulation: r.energy_accumulation += e; break;
        case cost_class::charge: r.energy_charge += e; break;
        default: e_other += e;
        }
        switch (x.cat) {
        case category::array: r.latency_array += l; break;
        case category::adc: r.latency_adc += l; break;
        case category::accumulation: r.latency_accumulation += l; break;
        default: break;
        }
    }
    r.conversions = static_cast<std::uint64_t>(n[conversion]);
    r.total.energy = r.energy_array + r.energy_switch + r.energy_adc + r.energy_accumulation + r.energy_charge + e_other;
    r.total.latency = r.latency_array + r.latency_adc + r.latency_accumulation;
    return r;
}

}  // namespace cim::circuit
