#include "models/circuit/components.h"

#include <algorithm>
#include <cmath>

#include "models/core/error.h"

namespace cim::circuit {

gate_unit::gate_unit(const technology& t)
    : area(30.0 * t.feature_size * t.feature_size),
      energy(t.inverter_switch_energy()),
      delay(t.fo4_delay()),
      leakage(t.inverter_leakage()) {}

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
// A transistor biased in its linear region conducts ~5x its saturation-derived Vdd/I_on resistance; NeuroSim
// sizes access devices with the same ratio (LINEAR_REGION_RATIO = 0.2).
constexpr double k_linear_region = 0.2;
constexpr double k_min_width_f = 2.0;   // narrowest transistor drawn (F)
constexpr double k_driver_width_f = 8.0;  // fixed decoder/driver output stage (NMOS width, F)
constexpr double k_tg_pitch_f = 4.0;     // layout pitch of a transmission-gate transistor across its width (F)
bool two_terminal(const cell& c) { return c.type == "rram" || c.type == "pcm" || c.type == "stt_mram"; }
bool three_terminal(const cell& c) { return c.type == "fefet" || c.type == "ecram"; }
}  // namespace

subarray_model::subarray_model(const technology& t, const calibration& k, const cell& c, const subarray_config& g,
                               unsigned ref_cols, unsigned adc_bits_eff)
    : m_vdd2(t.vdd() * t.vdd()), m_k(k), m_cell(c), m_geo(g), m_ref_cols(ref_cols), m_adc_bits(adc_bits_eff) {
    const gate_unit u(t);
    const double F = t.feature_size;
    const double cols = double(g.cols + ref_cols);
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
    const double rows_par = g.readout == "parallel" ? rows : g.readout == "partial" ? double(g.partial_rows) : 1.0;
    // SRAM senses a voltage (its read ports discharge a precharged bit line), so no DC cell current flows through
    // its switches: they stay minimum size.
    m_w_mux = c.is_sram() ? k_min_width_f : sized_f(r_path / rows_par, k_min_width_f);
    m_w_row = (three_terminal(c) || c.is_sram()) ? k_min_width_f : sized_f(r_path / cols, k_min_width_f);
    // Capacitances: bit line (wire + access drains + mux drain), row (wire + access gates + row-switch gates),
    // mux select line (the transmission gates it switches: cols/cols_per_adc of them, NMOS + PMOS).
    const double cw = t.wire_cap_per_length;
    m_c_bitline = rows * (pitch * cw + t.drain_cap(m_w_access * F)) + 2.0 * t.drain_cap(m_w_mux * F);
    m_c_row = cols * (pitch * cw + t.gate_cap(m_w_access * F)) + 2.0 * t.gate_cap(m_w_row * F);
    const double c_select_gates = (cols / mux_ways()) * 2.0 * t.gate_cap(m_w_mux * F);
    m_c_mux_gates = cols * 2.0 * t.gate_cap(m_w_mux * F);
    // Timing: the decoder and its wire buffers take ~4 FO4 (they are sized for the wire, so they scale with the
    // node); the final driver is a fixed 8F stage, so the gates it turns on add 0.69 R C: the access gates of a
    // word line (class array), the row switch and the mux transmission gates of a select line (class switch).
    // The word line (local metal) adds its distributed wire delay 0.38 r c L^2.
    const double r_drv = t.on_resistance(k_driver_width_f * F);
    const double wire_rc = 0.38 * t.local_wire_res_per_length * cw * std::pow(cols * pitch, 2.0);
    m_t_row = 4.0 * t.fo4_delay() + wire_rc + 0.69 * r_drv * cols * t.gate_cap(m_w_access * F);  // class latency_array
    m_t_row_load = 0.69 * r_drv * 2.0 * t.gate_cap(m_w_row * F);  // the row switch: class latency_switch
    m_t_mux_step = 4.0 * t.fo4_delay();         // class latency_array
    m_t_mux_load = 0.69 * r_drv * c_select_gates;  // class latency_switch
    // The ADC senses the column current with the bit line clamped at V_read (current mode), so the cells'
    // resistance does not set an RC; the bit line settles through the mux switch.
    m_t_settle = 2.3 * k_linear_region * t.on_resistance(m_w_mux * F) * m_c_bitline;
    // Areas. Array: cells. Periphery: transmission gates (2 transistors of width w at a 4F pitch), plus a
    // decoder and driver of ~8 inverter equivalents per row and per mux select line.
    // Sequential read-out senses one row at a time: a 1-bit latch sense amplifier per column, no mux stepping.
    const unsigned adcs = g.readout == "sequential" ? g.cols + ref_cols : (g.cols + ref_cols + g.cols_per_adc - 1) / g.cols_per_adc;
    auto tg = [&](double w) { return 2.0 * (w + k_min_width_f) * k_tg_pitch_f * F * F; };
    m_area_array = k.area_array * rows * cols * cell_f2 * F * F;
    const double decoder_gates = 8.0 * (rows + mux_ways());
    m_area_periphery = k.area_switch * (cols * tg(m_w_mux) + rows * tg(m_w_row) + decoder_gates * u.area);
    // ADC. flash: a multilevel sense amplifier of 2^b - 1 comparators of ~20 inverter equivalents (a 1-bit one is a
    // latch sense amplifier); the comparators resolve the column current in sense_time (an analog settling time that
    // does not scale with the node), then latch and encode in (b + 2) stages of 4 FO4. The cell's read pulse sets the
    // cell energy, not the time: as in NeuroSim, the sense amplifier, not the pulse, paces the read.
    // sar: one comparator, a binary-weighted capacitive DAC and the SAR register, 239 + 91 (b - 1) inverter
    // equivalents (NeuroSim V1.4 SarADC.cpp: 269 + 109 (b - 1) NMOS and 209 + 73 (b - 1) PMOS minimum transistors);
    // b + 1 decisions (sample, then one per bit) of sense_time each (NeuroSim: (b + 1) ns); per decision the
    // comparator, DAC and logic switch ~19 + 2.5 b inverter equivalents (NeuroSim's 32 nm LP power fit,
    // (1.13 b + 8.9) uW over 1 ns decisions, in units of the 32 nm LSTP inverter's 0.46 fJ, so it scales with the node).
    const double b = m_adc_bits;
    double adc_gates = 0;  // inverter equivalents of one ADC (area, leakage)
    if (g.adc_type == "sar") {
        adc_gates = 239.0 + 91.0 * (b - 1.0);
        m_e_conversion = k.energy_adc * (b + 1.0) * (19.0 + 2.5 * b) * u.energy;
        m_t_conversion = k.latency_adc * (b + 1.0) * g.sense_time;
    } else {
        const double comparators = std::ldexp(1.0, static_cast<int>(m_adc_bits)) - 1.0;
        adc_gates = comparators * 20.0;
        m_e_conversion = k.energy_adc * comparators * 10.0 * u.energy;
        m_t_conversion = k.latency_adc * (g.sense_time + (b + 2.0) * 4.0 * u.delay);  // resolve, convert
    }
    m_area_adc = k.area_adc * adcs * adc_gates * u.area;
    // Shift-add: an (adc_bits + cell_bits + 8)-bit adder and register per ADC, ~14 inverter equivalents per bit.
    const double shift_add_bits = m_adc_bits + c.bits + 8.0;
    m_area_shift_add = k.area_accumulation * adcs * 14.0 * shift_add_bits * u.area;
    m_e_shift_add = k.energy_accumulation * 14.0 * shift_add_bits * u.energy * 0.5;
    // Leakage: logic gates (decoders, drivers, ADCs, shift-add) at the inverter leakage; an SRAM cell leaks
    // through two off transistors of its cross-coupled pair.
    const double gates = decoder_gates + 14.0 * shift_add_bits * adcs + adcs * adc_gates;
    m_leakage = k.leakage_logic * gates * u.leakage;
    if (c.is_sram()) m_leakage += k.leakage_memory * rows * cols * 2.0 * u.leakage;
}

unsigned subarray_model::cycles_per_slice(unsigned active_rows) const {
    if (m_geo.readout == "sequential") return std::max(1u, active_rows);
    if (m_geo.readout == "partial") return std::max(1u, (active_rows + m_geo.partial_rows - 1) / m_geo.partial_rows);
    return 1;
}

unsigned subarray_model::mux_ways() const { return m_geo.readout == "sequential" ? 1u : m_geo.cols_per_adc; }

subarray_model::activation subarray_model::activation_of(unsigned active_cols) const {
    activation t;
    t.steps = std::min(mux_ways(), std::max(1u, active_cols));
    t.drive = m_k.latency_array * (m_t_row + m_t_settle) + m_k.latency_switch * m_t_row_load;
    // Per mux step: switch the mux (not without one), then sense: integrate the read pulse and convert.
    t.mux = t.steps > 1 ? m_k.latency_array * m_t_mux_step + m_k.latency_switch * m_t_mux_load : 0.0;
    return t;
}

double subarray_model::activation_time(unsigned active_cols) const {
    const activation t = activation_of(active_cols);
    return t.drive + t.steps * (t.mux + m_t_conversion);
}

subarray_model::read_cost subarray_model::read(const read_activity& a) const {
    read_cost r;
    if (a.vectors == 0 || a.input_slices == 0) return r;
    const double reads = double(a.vectors) * a.input_slices;  // bit-serial cycles of the whole batch
    const double cycles = reads * cycles_per_slice(a.active_rows);
    const activation t = activation_of(a.active_cols);
    const double steps = t.steps;
    // Cell energy: V^2 * G over every cell on an active input, for one read pulse: the mux applies V_read to the
    // selected column only, for the read pulse its sense amplifier integrates.
    const double dg = (m_cell.g_max() - m_cell.g_min()) / double(m_cell.levels() - 1);
    const double active_cells = double(a.input_ones) * a.active_cols;
    const double g_sum = active_cells * m_cell.g_min() + a.column_level_sum * dg;
    const double v = m_cell.read_voltage;
    const double e_cells = v * v * g_sum * m_cell.read_pulse;
    // Bit lines charge to V_read once per activation; rows swing Vdd for every active input (and every row
    // activation of a sequential read); the mux select lines toggle every transmission gate once per activation.
    const double e_bitlines = cycles * a.active_cols * m_c_bitline * v * v;
    const double row_swings = m_geo.readout == "sequential" ? cycles : double(a.input_ones);
    const double e_rows = row_swings * m_c_row * m_vdd2;
    r.energy_array = m_k.energy_array * (e_cells + e_bitlines + e_rows);
    r.energy_switch = steps > 1 ? m_k.energy_switch * cycles * m_c_mux_gates * m_vdd2 : 0.0;
    r.conversions = static_cast<std::uint64_t>(cycles) * a.active_cols;
    r.energy_adc = double(r.conversions) * m_e_conversion;
    r.energy_accumulation = double(r.conversions) * m_e_shift_add;
    r.latency_array = cycles * (t.drive + steps * t.mux);
    r.latency_adc = cycles * steps * m_t_conversion;
    r.total.energy = r.energy_array + r.energy_switch + r.energy_adc + r.energy_accumulation;
    r.total.latency = r.latency_array + r.latency_adc;
    return r;
}

adder_tree::adder_tree(const technology& t, const calibration& k, unsigned inputs, unsigned bits, unsigned lanes)
    : m_lanes(std::max(1u, lanes)) {
    const gate_unit u(t);
    const double adders = std::max(1u, inputs - 1) * double(bits);  // full adders in one tree
    m_area = k.area_accumulation * m_lanes * adders * 14.0 * u.area;
    m_leakage = k.leakage_logic * m_lanes * adders * 14.0 * u.leakage;
    m_energy_per_word = k.energy_accumulation * adders * 14.0 * u.energy * 0.5;
    m_depth = std::ceil(std::log2(std::max(2u, inputs)));
    m_stage = k.latency_accumulation * bits * 2.0 * u.delay;
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

digital_unit::digital_unit(const technology& t, const calibration& k, bool accumulation, unsigned lanes,
                           double gates_per_op, double clock_hz)
    : m_lanes(std::max(1u, lanes)) {
    const gate_unit u(t);
    m_area = (accumulation ? k.area_accumulation : k.area_digital) * m_lanes * gates_per_op * u.area;
    m_leakage = k.leakage_logic * m_lanes * gates_per_op * u.leakage;
    m_energy = (accumulation ? k.energy_accumulation : k.energy_digital) * gates_per_op * u.energy * 0.5;
    m_cycle = (accumulation ? k.latency_accumulation : k.latency_digital) / clock_hz;
}

action_cost digital_unit::process(std::uint64_t elements) const {
    return {double(elements) * m_energy, std::ceil(double(elements) / m_lanes) * m_cycle};
}

}  // namespace cim::circuit
