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
    if (cols_per_adc < 1 || cols_per_adc > cols) throw config_error("", 0, "cols_per_adc", "must be in 1..cols");
    if (readout == "partial" && (partial_rows < 1 || partial_rows > rows))
        throw config_error("", 0, "partial_rows", "must be in 1..rows for partial read-out");
}

subarray_model::subarray_model(const technology& t, const cell& c, const subarray_config& g, unsigned ref_cols,
                               unsigned adc_bits_eff)
    : m_tech(t), m_cell(c), m_geo(g), m_ref_cols(ref_cols), m_adc_bits(adc_bits_eff) {
    const gate_unit u(t);
    const double F = t.feature_size;
    const unsigned cols = g.cols + ref_cols;
    // Cell array: cell area in F^2; pitch = sqrt(area) sets the wire lengths of bit and word lines.
    m_area_array = double(g.rows) * cols * c.area_f2 * F * F;
    const double pitch = std::sqrt(c.area_f2) * F;
    m_c_bitline = g.rows * (pitch * t.wire_cap_per_length + c.access_width_f * F * t.drain_cap_per_width);
    m_c_wordline = cols * (pitch * t.wire_cap_per_length + c.access_width_f * F * t.gate_cap_per_width);
    // WL driver + decoder: ~8 inverter equivalents per row (NAND decode + 2-stage driver); column mux +
    // decoder: ~4 per column; shift-add: a (adc_bits + cell_bits + 8)-bit adder per ADC, ~14 per bit.
    const unsigned adcs = (cols + g.cols_per_adc - 1) / g.cols_per_adc;
    const double shift_add_bits = m_adc_bits + c.bits + 8.0;
    m_area_periphery = u.area * (8.0 * g.rows + 4.0 * cols + 14.0 * shift_add_bits * adcs);
    // ADC: flash / multilevel sense amp of 2^b - 1 comparators, ~20 inverter equivalents each (NeuroSim's
    // MultilevelSenseAmp structure); latency ~ (b + 2) FO4 stages of comparator + encoder.
    const double comparators = std::ldexp(1.0, static_cast<int>(m_adc_bits)) - 1.0;
    m_area_adc = adcs * comparators * 20.0 * u.area;
    m_e_conversion = comparators * 10.0 * u.energy;
    m_t_conversion = (m_adc_bits + 2.0) * 4.0 * u.delay;
    m_e_shift_add = 14.0 * shift_add_bits * u.energy * 0.5;
    const double gates = 8.0 * g.rows + 4.0 * cols + 14.0 * shift_add_bits * adcs + adcs * comparators * 20.0;
    m_leakage = gates * u.leakage;
    if (c.is_sram()) m_leakage += double(g.rows) * cols * 2.0 * u.leakage;  // cross-coupled inverters leak
}

unsigned subarray_model::cycles_per_slice(unsigned active_rows) const {
    if (m_geo.readout == "sequential") return std::max(1u, active_rows);
    if (m_geo.readout == "partial") return std::max(1u, (active_rows + m_geo.partial_rows - 1) / m_geo.partial_rows);
    return 1;
}

subarray_model::read_cost subarray_model::read(const read_activity& a) const {
    read_cost r;
    if (a.vectors == 0 || a.input_slices == 0) return r;
    const double reads = double(a.vectors) * a.input_slices;  // bit-serial cycles of the whole batch
    const double cycles = reads * cycles_per_slice(a.active_rows);
    const unsigned mux_steps = std::min(m_geo.cols_per_adc, std::max(1u, a.active_cols));
    // Cell energy: V^2 * G * t over every cell on an active input; G = g_min + level * dg.
    const double dg = (m_cell.g_max() - m_cell.g_min()) / double(m_cell.levels() - 1);
    const double active_cells = double(a.input_ones) * a.active_cols;
    const double g_sum = active_cells * m_cell.g_min() + a.column_level_sum * dg;
    const double v = m_cell.read_voltage;
    r.energy_array = v * v * g_sum * m_cell.read_pulse;
    // Bit lines charge to V_read once per cycle; word lines swing Vdd for every active input.
    r.energy_array += cycles * a.active_cols * m_c_bitline * v * v;
    r.energy_array += double(a.input_ones) * m_c_wordline * m_tech.vdd * m_tech.vdd;
    r.conversions = static_cast<std::uint64_t>(cycles) * a.active_cols;
    r.energy_adc = double(r.conversions) * m_e_conversion;
    r.energy_accumulation = double(r.conversions) * m_e_shift_add;
    // Bit-line settling: the larger of the read pulse and the RC of the loaded bit line.
    const double settle = std::max(m_cell.read_pulse, 2.3 * m_c_bitline / m_cell.g_max());
    r.latency_array = cycles * settle;
    r.latency_adc = cycles * mux_steps * m_t_conversion;
    r.total.energy = r.energy_array + r.energy_adc + r.energy_accumulation;
    r.total.latency = r.latency_array + r.latency_adc;
    return r;
}

adder_tree::adder_tree(const technology& t, unsigned inputs, unsigned bits, unsigned lanes)
    : m_lanes(std::max(1u, lanes)) {
    const gate_unit u(t);
    const double adders = std::max(1u, inputs - 1) * double(bits);  // full adders in one tree
    m_area = m_lanes * adders * 14.0 * u.area;
    m_leakage = m_lanes * adders * 14.0 * u.leakage;
    m_energy_per_word = adders * 14.0 * u.energy * 0.5;
    m_depth = std::ceil(std::log2(std::max(2u, inputs)));
    m_stage = bits * 2.0 * u.delay;
}

action_cost adder_tree::reduce(std::uint64_t words) const {
    if (words == 0) return {};
    const double beats = std::ceil(double(words) / m_lanes);
    return {double(words) * m_energy_per_word, (m_depth + beats - 1.0) * m_stage};
}

sram_buffer::sram_buffer(const technology& t, double capacity_bytes, unsigned bus_bits, double clock_hz)
    : m_capacity(capacity_bytes), m_bus_bits(bus_bits) {
    if (capacity_bytes <= 0 || bus_bits == 0 || clock_hz <= 0)
        throw model_error("buffer", "a buffer needs a positive size, bus width and clock");
    const gate_unit u(t);
    const double F = t.feature_size;
    const double bits = capacity_bytes * 8.0;
    m_area = bits * 146.0 * F * F * 1.3;
    m_leakage = bits * 2.0 * u.leakage;
    // A bit line spans sqrt(bits) cells of ~12F pitch; swing Vdd/2 on read, full on write (averaged).
    const double bl = std::sqrt(bits) * 12.0 * F * t.wire_cap_per_length;
    m_energy_per_bit = bl * t.vdd * t.vdd * 0.75 + 4.0 * u.energy;
    m_cycle = 1.0 / clock_hz;
}

action_cost sram_buffer::access(std::uint64_t bytes) const {
    const double bits = double(bytes) * 8.0;
    const double beats = std::ceil(bits / m_bus_bits);
    return {bits * m_energy_per_bit, beats * m_cycle};
}

htree::htree(const technology& t, unsigned leaves, double leaf_side, unsigned bus_bits, double clock_hz)
    : m_bus_bits(bus_bits) {
    if (bus_bits == 0 || clock_hz <= 0) throw model_error("htree", "an H-tree needs a bus width and a clock");
    const gate_unit u(t);
    const double side = leaf_side * std::ceil(std::sqrt(double(std::max(1u, leaves))));  // chip side
    // Root to leaf of an H-tree over a square of side D: D/2 + D/4 + ... ~ D (both directions summed).
    m_path = side;
    // Total wire: each level halves the length and doubles the count: ~ D * log2(leaves) / 2 per bit.
    const double levels = std::max(1.0, std::ceil(std::log2(double(std::max(2u, leaves)))));
    const double total_wire = side * levels * 0.5 * bus_bits;
    m_area = total_wire * 8.0 * t.feature_size;  // wire pitch of 8F on a dedicated metal layer
    const double repeaters = total_wire / (200e-6);  // one repeater per 200 um
    m_leakage = repeaters * 20.0 * u.leakage;
    m_energy_per_bit = 0.5 * m_path * t.wire_cap_per_length * t.vdd * t.vdd * 1.3;  // 30 % repeater overhead
    // Optimally repeated wire: ~2 sqrt(R C t_fo4) per unit length (Bakoglu / Ho, Mai, Horowitz 2001).
    m_wire_delay = 2.0 * std::sqrt(t.wire_res_per_length * t.wire_cap_per_length * u.delay) * m_path;
    m_cycle = 1.0 / clock_hz;
}

action_cost htree::transfer(std::uint64_t bytes) const {
    if (bytes == 0) return {};
    const double bits = double(bytes) * 8.0;
    return {bits * m_energy_per_bit, std::ceil(bits / m_bus_bits) * m_cycle + m_wire_delay};
}

digital_unit::digital_unit(const technology& t, unsigned lanes, double gates_per_op, double clock_hz)
    : m_lanes(std::max(1u, lanes)) {
    const gate_unit u(t);
    m_area = m_lanes * gates_per_op * u.area;
    m_leakage = m_lanes * gates_per_op * u.leakage;
    m_energy = gates_per_op * u.energy * 0.5;
    m_cycle = 1.0 / clock_hz;
}

action_cost digital_unit::process(std::uint64_t elements) const {
    return {double(elements) * m_energy, std::ceil(double(elements) / m_lanes) * m_cycle};
}

}  // namespace cim::circuit
