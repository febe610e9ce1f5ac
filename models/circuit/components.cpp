#include "models/circuit/components.h"

#include <algorithm>
#include <cmath>

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
}

namespace {
constexpr double k_min_width_f = 2.0;     // narrowest transistor drawn (F)
constexpr double k_driver_width_f = 8.0;  // decoder output driver (NMOS width, F)
bool two_terminal(const cell& c) { return c.type == "rram" || c.type == "pcm" || c.type == "stt_mram"; }
bool three_terminal(const cell& c) { return c.type == "fefet" || c.type == "ecram"; }
}  // namespace

subarray_model::subarray_model(const technology& t, const calibration& k, const cell& c, const subarray_config& g,
                               unsigned ref_cols, unsigned adc_bits_eff)
    : m_k(k), m_cell(c), m_geo(g), m_ref_cols(ref_cols), m_adc_bits(adc_bits_eff) {
    const double F = t.feature_size;
    const unsigned n_cols = g.cols + ref_cols;
    const double cols = double(n_cols);
    const double rows = double(g.rows);
    const double tol = g.ir_drop_tolerance;
    // Drawn width (in F) of the narrowest transistor whose linear-region resistance, k_linear * Vdd / (I_on * W_eff),
    // is at most tol * r; on FinFET nodes it rounds up to whole fins.
    const double r_per_width = k_linear_region * t.vdd() / t.fet().on_current_per_width;  // Ohm * m
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
    m_w_row = (three_terminal(c) || c.is_sram()) ? k_min_width_f : sized_f(r_path / cols, k_min_width_f);
    // The periphery circuits (models/circuit/periphery.h): the column mux and the row switch matrix, the row
    // decoder (it spans the array's height) and the mux decoder (its width), each line through an 8F driver.
    const switch_matrix mux(t, n_cols, m_w_mux), row_switch(t, g.rows, m_w_row);
    const decoder row_decoder(t, g.rows, rows * pitch, k_driver_width_f);
    const decoder mux_decoder(t, mux_ways(), cols * pitch, k_driver_width_f);
    // Capacitances: bit line (wire + access drains + mux drains), word line (wire + access gates), the row
    // switch's gates, and a mux select line (the transmission gates it switches: cols / cols_per_adc of them).
    const double cw = t.wire_cap_per_length;
    m_c_bitline = rows * (pitch * cw + t.drain_cap(m_w_access * F)) + mux.drain_cap();
    const double c_wordline = cols * (pitch * cw + t.gate_cap(m_w_access * F));
    const double c_select = std::ceil(cols / mux_ways()) * mux.gate_cap();
    m_e_mux_toggle = mux.toggle(cols).energy;  // every transmission gate of the mux, once
    // A row activation: the row decoder's driver charges the word line; the row switch's gates (switch class)
    // add their marginal delay. The word line (local metal) adds its distributed wire delay 0.38 r c L^2.
    const double wire_rc = 0.38 * t.local_wire_res_per_length * cw * std::pow(cols * pitch, 2.0);
    const action_cost wl = row_decoder.drive(c_wordline), wl_switch = row_decoder.drive(c_wordline + row_switch.gate_cap());
    m_e_row = wl_switch.energy;
    // Sequential and partial read-out decode the row (group) to activate; in parallel read-out the input bits
    // drive every row at once through the switch matrix, so there is nothing to decode (as for the energy).
    m_t_row = (g.readout == "parallel" ? 0.0 : row_decoder.select().latency) + wire_rc + wl.latency;  // latency_array
    m_t_row_load = wl_switch.latency - wl.latency;                  // class latency_switch
    m_e_row_decode = row_decoder.select().energy;
    // A mux step: decode (class array) and charge a select line's transmission gates (class switch).
    m_t_mux_step = mux_decoder.select().latency;
    m_t_mux_load = mux_decoder.drive(c_select).latency;
    m_e_mux_decode = mux_decoder.select().energy + mux_decoder.drive(c_select).energy - c_select * t.vdd() * t.vdd();
    // The bit line settles through the mux switch (the sense circuit clamps it at V_read: current mode, so the
    // cells' resistance sets no RC). SRAM's read ports discharge bit lines that a precharger restores.
    m_t_settle = 2.3 * mux.resistance() * m_c_bitline;
    // Cost classes: the transmission gates sized for the cell current (and the write path's level shifters) are
    // the switch class; the decoders, drivers and prechargers that serve the word and bit lines the array class.
    double area_switch = mux.area() + row_switch.area();
    double area_lines = row_decoder.area() + mux_decoder.area();
    double leak_logic = row_decoder.leakage() + mux_decoder.leakage();
    if (c.is_sram()) {
        m_precharger.emplace(t, n_cols, m_c_bitline);
        area_lines += m_precharger->area();
        leak_logic += m_precharger->leakage();
        m_t_settle += m_precharger->precharge(0, 0).latency;
    }
    // The write path's level shifters (word and bit lines per row, source lines per column): area and leakage;
    // a read passes its word-line input through the low-voltage stage.
    if (g.level_shifters && !c.is_sram()) {
        const level_shifter ls(t, 2 * g.rows + n_cols);
        area_switch += ls.area();
        leak_logic += ls.leakage();
        const action_cost shift = ls.shift(1.0, c_wordline);
        m_e_row_shift = shift.energy;
        m_t_row_load += shift.latency;
    }
    m_area_periphery = k.area_switch * area_switch + k.area_array * area_lines;
    m_area_array = k.area_array * rows * cols * cell_f2 * F * F;
    // Conversion: a sense circuit per column in sequential read-out, else one per cols_per_adc columns.
    // 1 bit: a latch sense amplifier on SRAM's bit-line voltage, a current sense amplifier on a non-volatile
    // column's current; more bits: a flash (multilevel sense amplifier) or SAR ADC.
    const unsigned adcs = g.readout == "sequential" ? n_cols : (n_cols + g.cols_per_adc - 1) / g.cols_per_adc;
    double adc_area = 0, adc_leak = 0;
    if (g.adc_type == "sar") {
        const sar_adc adc(t, m_adc_bits, g.sense_time);
        adc_area = adc.area(), adc_leak = adc.leakage(), m_conversion = adc.convert();
    } else if (m_adc_bits > 1) {
        const flash_adc adc(t, m_adc_bits, g.sense_time);
        adc_area = adc.area(), adc_leak = adc.leakage(), m_conversion = adc.convert();
    } else if (c.is_sram()) {
        const sense_amplifier sa(t, g.sense_time);
        adc_area = sa.area(), adc_leak = sa.leakage(), m_conversion = sa.sense();
    } else {
        // Reference midway between a column's lowest and highest current.
        const double i_ref = 0.5 * c.read_voltage * rows_par * (c.g_max() + c.g_min());
        m_csa.emplace(t, g.sense_time, i_ref);
        adc_area = m_csa->area(), adc_leak = m_csa->leakage(), m_conversion = m_csa->sense(0.0);
    }
    m_conversion.energy *= k.energy_adc;
    m_conversion.latency *= k.latency_adc;
    m_area_adc = k.area_adc * adcs * adc_area;
    // Shift-add: an adder and register of (adc_bits + cell_bits + 8) bits per ADC.
    const shift_add sa(t, m_adc_bits + c.bits + 8);
    m_area_shift_add = k.area_accumulation * adcs * sa.area();
    m_e_shift_add = k.energy_accumulation * sa.accumulate().energy;
    m_t_shift_add = k.latency_accumulation * sa.accumulate().latency;
    // Leakage: the logic (decoders, prechargers, level shifters, ADCs, shift-add); an SRAM cell leaks through two
    // off transistors of its cross-coupled pair.
    m_leakage = k.leakage_logic * (leak_logic + adcs * (adc_leak + sa.leakage()));
    if (c.is_sram()) m_leakage += k.leakage_memory * rows * cols * 2.0 * t.inverter_leakage();
}

unsigned subarray_model::cycles_per_slice(unsigned active_rows) const {
    const unsigned group = m_geo.rows_per_activation();
    return std::max(1u, (active_rows + group - 1) / group);
}

unsigned subarray_model::mux_ways() const { return m_geo.readout == "sequential" ? 1u : m_geo.cols_per_adc; }

subarray_model::activation subarray_model::activation_of(unsigned active_cols) const {
    activation t;
    t.steps = std::min(mux_ways(), std::max(1u, active_cols));
    t.drive = m_k.latency_array * (m_t_row + m_t_settle) + m_k.latency_switch * m_t_row_load;
    if (t.steps > 1) {
        // Per mux step: the mux decoder decodes the column's address, its driver charges the select line's
        // transmission gates, then the converter samples the column for `sense_time` and resolves on its own
        // (latch and encode, or a SAR's bit decisions on the sampled charge). Each next address is known in advance
        // and decodes during the previous step, and the next select line switches while the previous conversion
        // resolves, so after the first step each shows only where it is longer than what it overlaps.
        const double decode = m_k.latency_array * m_t_mux_step;
        const double select = m_k.latency_switch * m_t_mux_load;
        const double sample = std::min(m_conversion.latency, m_k.latency_adc * m_geo.sense_time);
        const double resolve = m_conversion.latency - sample;
        const double later = std::max(0.0, select - resolve) + std::max(0.0, decode - (select + m_conversion.latency));
        t.mux = decode + select + (t.steps - 1) * later;
    }
    return t;
}

double subarray_model::activation_time(unsigned active_cols) const {
    const activation t = activation_of(active_cols);
    return t.drive + t.mux + t.steps * m_conversion.latency;
}

subarray_model::read_cost subarray_model::read(const read_activity& a) const {
    read_cost r;
    if (a.vectors == 0 || a.input_slices == 0) return r;
    const double reads = double(a.vectors) * a.input_slices;  // bit-serial cycles of the whole batch
    // Row activations: sequential read-out with zero skipping reads the rows whose input bit is 1, one at a time.
    const bool sequential = m_geo.readout == "sequential";
    const double cycles = sequential && m_geo.skip_zero_rows ? double(a.input_ones) : reads * cycles_per_slice(a.active_rows);
    const activation t = activation_of(a.active_cols);
    const double steps = t.steps;
    // Cell energy: V^2 * G over every cell on an active input, for one read pulse: the mux applies V_read to the
    // selected column only, for the read pulse its sense amplifier integrates. SRAM senses a voltage: its read
    // ports only discharge the precharged bit lines, drawing nothing from a supply, and the prechargers' energy
    // below restores that charge (as NeuroSim: "just BL discharging").
    const double dg = (m_cell.g_max() - m_cell.g_min()) / double(m_cell.levels() - 1);
    const double active_cells = double(a.input_ones) * a.active_cols;
    const double g_sum = active_cells * m_cell.g_min() + a.column_level_sum * dg;
    const double v = m_cell.read_voltage;
    const double e_cells = m_precharger ? 0.0 : v * v * g_sum * m_cell.read_pulse;
    // Bit lines: a non-volatile array's are charged to V_read once per activation. SRAM's prechargers restore the
    // V_read swing of the bit lines its read ports discharged, from Vdd: in sequential read-out a bit line
    // discharges only when the row's cell holds a 1 (the fraction measured on the active inputs); in parallel
    // read-out the rows on a column discharge it once per activation.
    const double bitline_reads = cycles * a.active_cols;
    double e_bitlines = bitline_reads * m_c_bitline * v * v;
    if (m_precharger) {
        const double ones = active_cells > 0 ? a.column_level_sum / (active_cells * (m_cell.levels() - 1)) : 0.5;
        e_bitlines = m_precharger->precharge(bitline_reads * (sequential ? ones : 1.0), v).energy;
    }
    const double row_swings = sequential ? cycles : double(a.input_ones);
    // The row decoder selects a row per activation of a sequential or partial read (in parallel read-out the
    // inputs drive the rows through the switch matrix); its energy joins its drivers' in the array class.
    const double decodes = m_geo.readout == "parallel" ? 0.0 : cycles;
    const double mux_decodes = steps > 1 ? cycles * steps : 0.0;
    r.energy_array = m_k.energy_array *
                     (e_cells + e_bitlines + row_swings * m_e_row + decodes * m_e_row_decode + mux_decodes * m_e_mux_decode);
    // Switch class: the mux's transmission gates (when there is a mux) and the level shifters the row inputs pass.
    r.energy_switch = m_k.energy_switch * ((steps > 1 ? cycles * m_e_mux_toggle : 0.0) + row_swings * m_e_row_shift);
    r.conversions = static_cast<std::uint64_t>(cycles) * a.active_cols;
    // A current sense amplifier draws the column current it senses: the total cell current over the reads.
    r.energy_adc = double(r.conversions) * m_conversion.energy;
    if (m_csa) r.energy_adc += m_k.energy_adc * (m_csa->sense(v * g_sum).energy - m_csa->sense(0.0).energy);
    r.energy_accumulation = double(r.conversions) * m_e_shift_add;
    r.latency_array = cycles * (t.drive + t.mux);
    r.latency_adc = cycles * steps * m_conversion.latency;
    // Sequential read-out adds each row's sensed bits into the running sums before the next row is read (the
    // adder and register per row read in series, as NeuroSim V1.0's sequential mode); a parallel read's
    // shift-add overlaps the next conversion.
    r.latency_accumulation = sequential ? cycles * m_t_shift_add : 0.0;
    r.total.energy = r.energy_array + r.energy_switch + r.energy_adc + r.energy_accumulation;
    r.total.latency = r.latency_array + r.latency_adc + r.latency_accumulation;
    return r;
}

adder_tree::adder_tree(const technology& t, const calibration& k, unsigned inputs, unsigned bits, unsigned lanes)
    : m_lanes(std::max(1u, lanes)) {
    const adder a(t, bits);
    const double adders = std::max(1u, inputs - 1);  // b-bit adders in one tree
    m_area = k.area_accumulation * m_lanes * adders * a.area();
    m_leakage = k.leakage_logic * m_lanes * adders * a.leakage();
    m_energy_per_word = k.energy_accumulation * adders * a.add().energy;
    m_depth = std::ceil(std::log2(std::max(2u, inputs)));
    m_stage = k.latency_accumulation * a.add().latency;
}

action_cost adder_tree::reduce(std::uint64_t words) const {
    if (words == 0) return {};
    const double beats = std::ceil(double(words) / m_lanes);
    return {double(words) * m_energy_per_word, (m_depth + beats - 1.0) * m_stage};
}

sram_buffer::sram_buffer(const technology& t, const calibration& k, double capacity_bytes, unsigned bus_bits, double clock_hz)
    : m_capacity(capacity_bytes), m_bus_bits(bus_bits) {
    if (capacity_bytes <= 0 || bus_bits == 0 || clock_hz <= 0)
        throw model_error("buffer", "a buffer needs a positive size, bus width and clock");
    const gate_unit u(t);
    const double F = t.feature_size;
    const double bits = capacity_bytes * 8.0;
    m_area = k.area_buffer * bits * 146.0 * F * F * 1.3;
    m_leakage = k.leakage_buffer * bits * 2.0 * u.leakage;
    // A bit line spans sqrt(bits) cells of ~12F pitch; swing Vdd/2 on read, full on write (averaged).
    const double bl = std::sqrt(bits) * 12.0 * F * t.wire_cap_per_length;
    m_energy_per_bit = k.energy_buffer * (bl * t.vdd() * t.vdd() * 0.75 + 4.0 * u.energy);
    m_cycle = k.latency_buffer / clock_hz;
}

action_cost sram_buffer::access(std::uint64_t bytes) const {
    const double bits = double(bytes) * 8.0;
    const double beats = std::ceil(bits / m_bus_bits);
    return {bits * m_energy_per_bit, beats * m_cycle};
}

htree::htree(const technology& t, const calibration& k, unsigned leaves, double leaf_side, unsigned bus_bits, double clock_hz)
    : m_bus_bits(bus_bits) {
    if (bus_bits == 0 || clock_hz <= 0) throw model_error("htree", "an H-tree needs a bus width and a clock");
    const gate_unit u(t);
    const double side = leaf_side * std::ceil(std::sqrt(double(std::max(1u, leaves))));  // chip side
    // Root to leaf of an H-tree over a square of side D: D/2 + D/4 + ... ~ D (both directions summed).
    m_path = side;
    // Total wire: each level halves the length and doubles the count: ~ D * log2(leaves) / 2 per bit.
    const double levels = std::max(1.0, std::ceil(std::log2(double(std::max(2u, leaves)))));
    const double total_wire = side * levels * 0.5 * bus_bits;
    m_area = k.area_interconnect * total_wire * 8.0 * t.feature_size;  // wire pitch of 8F on a dedicated metal layer
    const double repeaters = total_wire / (200e-6);  // one repeater per 200 um
    m_leakage = k.leakage_logic * repeaters * 20.0 * u.leakage;
    m_energy_per_bit = k.energy_interconnect * 0.5 * m_path * t.wire_cap_per_length * t.vdd() * t.vdd() * 1.3;  // 30 % repeaters
    // Optimally repeated wire: ~2 sqrt(R C t_fo4) per unit length (Bakoglu / Ho, Mai, Horowitz 2001).
    m_wire_delay = k.latency_interconnect * 2.0 * std::sqrt(t.wire_res_per_length * t.wire_cap_per_length * u.delay) * m_path;
    m_cycle = k.latency_interconnect / clock_hz;
}

action_cost htree::transfer(std::uint64_t bytes) const {
    if (bytes == 0) return {};
    const double bits = double(bytes) * 8.0;
    return {bits * m_energy_per_bit, std::ceil(bits / m_bus_bits) * m_cycle + m_wire_delay};
}

digital_unit::digital_unit(const calibration& k, bool accumulation, unsigned lanes, const lane_circuit& lane,
                           double clock_hz)
    : m_lanes(std::max(1u, lanes)) {
    if (clock_hz <= 0) throw model_error("digital_unit", "a digital unit needs a clock");
    m_area = (accumulation ? k.area_accumulation : k.area_digital) * m_lanes * lane.area;
    m_leakage = k.leakage_logic * m_lanes * lane.leakage;
    m_energy = (accumulation ? k.energy_accumulation : k.energy_digital) * lane.op.energy;
    m_cycle = (accumulation ? k.latency_accumulation : k.latency_digital) * std::max(1.0 / clock_hz, lane.op.latency);
}

lane_circuit accumulator_lane(const technology& t, unsigned bits) {
    const accumulator a(t, bits);
    return {a.area(), a.leakage(), a.accumulate()};
}

lane_circuit activation_lane(const technology& t, unsigned acc_bits) {
    const relu r(t, acc_bits);
    const multiplier m(t, acc_bits, 8);
    const action_cost a = r.apply(), b = m.multiply();
    return {r.area() + m.area(), r.leakage() + m.leakage(), {a.energy + b.energy, a.latency + b.latency}};
}

lane_circuit pooling_lane(const technology& t, unsigned bits) {
    const max_pool p(t, bits);
    return {p.area(), p.leakage(), p.compare()};
}

action_cost digital_unit::process(std::uint64_t elements) const {
    return {double(elements) * m_energy, std::ceil(double(elements) / m_lanes) * m_cycle};
}

}  // namespace cim::circuit
