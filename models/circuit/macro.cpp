#include "models/circuit/macro.h"

#include <cmath>
#include <map>

#include "models/core/error.h"

namespace cim::circuit {

void macro_config::validate() const {
    if (!(input_activity >= 0.0 && input_activity <= 1.0)) throw config_error("", 0, "input_activity", "must be in [0, 1]");
    if (!(weight_activity >= 0.0 && weight_activity <= 1.0)) throw config_error("", 0, "weight_activity", "must be in [0, 1]");
    if (weight_rows < 1 || weight_rows > 16) throw config_error("", 0, "weight_rows", "must be in 1..16");
    if (weight_cols > 64) throw config_error("", 0, "weight_cols", "must be in 0..64");
    if (cores < 1 || cores > 100000) throw config_error("", 0, "cores", "must be in 1..100000");
    if (ops_per_mac < 1 || ops_per_mac > 2) throw config_error("", 0, "ops_per_mac", "must be 1 or 2");
    if (input_bits > 16) throw config_error("", 0, "input_bits", "must be in 0..16 (0: quant.input_bits)");
    if (weight_bits > 16) throw config_error("", 0, "weight_bits", "must be in 0..16 (0: quant.weight_bits)");
}

namespace {
// Macro-boundary component of each action and area part of the subarray's table (models/circuit/components.h).
const std::map<std::string, std::string>& groups() {
    static const std::map<std::string, std::string> g{
        {"activation", "drivers"}, {"row_drive", "drivers"},       {"row_level_shift", "drivers"},
        {"mux_select", "readout"}, {"mux_step", "readout"},        {"mux_decode", "readout"},
        {"mux_toggle", "readout"}, {"bitline", "array"},           {"cell_on", "array"},
        {"cell_level", "array"},   {"conversion_step", "adc"},     {"conversion", "adc"},
        {"sense_on", "adc"},       {"sense_level", "adc"},         {"adc_count", "adc"},
        {"shift_add", "shift_add"}, {"row_accumulate", "shift_add"}, {"row_write", "array"},
        {"cell_write", "array"},   {"level_pulse", "array"},       {"cells", "array"},
        {"switches", "drivers"},   {"decoders", "drivers"},        {"adc", "adc"},
        {"pulse_slot", "drivers"}, {"pulse_generators", "drivers"}};
    return g;
}
std::size_t group_index(const std::string& name) {
    const auto it = groups().find(name);
    if (it == groups().end()) throw model_error("macro", "no macro component for the subarray's '" + name + "'");
    for (std::size_t i = 0; i < k_macro_groups.size(); ++i)
        if (it->second == k_macro_groups[i]) return i;
    throw model_error("macro", "unknown macro component '" + it->second + "'");
}
}  // namespace

macro_result evaluate_macro(const technology& t, const calibration& k, const cell& c, subarray_config g,
                            const macro_config& m, unsigned input_bits, unsigned weight_bits) {
    if (m.input_bits) input_bits = m.input_bits;
    if (m.weight_bits) weight_bits = m.weight_bits;
    const bool pulsed = g.input_encoding != "bit_serial";
    if (pulsed) g.input_pulse_bits = input_bits;
    g.validate();
    const subarray_model s(t, k, c, g, 0);

    // The activity of one MVM as expectations. The subarray counts integers, so the MVM is repeated `vectors`
    // times and the counts divided back: the rounding of an expected count is below 1e-6 of it.
    constexpr double vectors = 1e6;
    const double p_max = pulsed ? std::ldexp(1.0, static_cast<int>(input_bits)) - 1.0 : 1.0;
    const unsigned slices = pulsed ? 1u : input_bits;
    const double ones = vectors * g.rows * slices * m.input_activity * p_max;  // 1 bits, or unit pulses
    read_activity a;
    a.vectors = static_cast<std::uint64_t>(vectors);
    a.input_slices = slices;
    a.active_rows = g.rows;
    a.active_cols = g.cols;
    a.input_ones = static_cast<std::uint64_t>(std::llround(ones));
    a.column_level_sum = double(a.input_ones) * g.cols * m.weight_activity * double(c.levels() - 1);
    a.active_inputs = m.input_activity > 0 ? static_cast<std::uint64_t>(vectors * g.rows) : 0;
    std::vector<double> n;
    s.count(a, n);

    macro_result r;
    r.variant = s.table().variant();
    const action_table& tab = s.table();
    for (std::size_t i = 0; i < tab.size(); ++i) {
        const double count = n[i] / vectors, e = count * tab[i].energy;
        const std::size_t gi = group_index(tab[i].name);
        r.actions.push_back({tab[i].name, k_macro_groups[gi], count, e});
        r.energy_by_group[gi] += e;
        r.dynamic_energy += e;
    }
    for (const auto& p : tab.areas()) {
        const std::size_t gi = group_index(p.name);
        r.areas.push_back({p.name, k_macro_groups[gi], p.area});
        r.area_by_group[gi] += p.area;
        r.area += p.area;
    }
    for (double l : tab.latency_by_category(n)) r.latency += l / vectors;
    r.leakage_power = tab.leakage();
    r.energy = r.dynamic_energy + r.leakage_power * r.latency;
    const unsigned per_weight = m.weight_cols ? m.weight_cols : (weight_bits + c.bits - 1) / c.bits;
    r.macs = std::floor(double(g.rows) / m.weight_rows) * std::floor(double(g.cols) / per_weight);
    if (r.macs <= 0) throw config_error("", 0, "macro.weight_cols", "the array holds no whole weight");
    r.ops = m.ops_per_mac * r.macs;
    r.tops_per_w = r.energy > 0 ? r.ops / r.energy * 1e-12 : 0.0;
    r.tops = r.latency > 0 ? r.ops * m.cores / r.latency * 1e-12 : 0.0;
    r.tops_per_mm2 = r.area > 0 ? r.tops / (m.cores * r.area * 1e6) : 0.0;
    return r;
}

}  // namespace cim::circuit
