#include "models/circuit/periphery.h"

#include <algorithm>
#include <cmath>

namespace cim::circuit {

namespace {
// Layout rule of the gate-count models: a minimum inverter (9F of transistor width) takes ~30 F^2 with its
// wiring, so a circuit takes 30/9 F^2 per F of transistor width.
constexpr double k_area_per_width_f = 30.0 / 9.0;
constexpr double k_inverter_width_f = 9.0;  // NMOS 3F + PMOS 6F
// A PMOS conducts about half the current of an NMOS of the same width (hole mobility).
double pmos_resistance(const technology& t, double drawn) { return 2.0 * t.on_resistance(drawn); }
}  // namespace

gate_unit::gate_unit(const technology& t)
    : area(k_area_per_width_f * k_inverter_width_f * t.feature_size * t.feature_size),
      energy(t.inverter_switch_energy()),
      delay(t.fo4_delay()),
      leakage(t.inverter_leakage()) {}

double horowitz(double tau, double ramp_in, double* ramp_out) {
    double t = 0.0;
    if (tau > 0.0) {
        constexpr double vs = 0.5, b = 0.5;
        const double a = ramp_in / tau;
        t = tau * std::sqrt(std::log(vs) * std::log(vs) + 2.0 * a * b * (1.0 - vs));
    }
    if (ramp_out) *ramp_out = 2.0 * t;
    return t;
}

logic_gate::logic_gate(const technology& t, kind k, unsigned inputs, double size) : m_vdd2(t.vdd() * t.vdd()) {
    const double F = t.feature_size;
    const unsigned n = (k == kind::inv) ? 1u : std::max(1u, inputs);
    const double wn = 3.0 * F * size, wp = 6.0 * F * size;
    // Widths of one transistor of each network (series stacks widened by their height) and the counts.
    const double wn_each = (k == kind::nand) ? n * wn : wn;
    const double wp_each = (k == kind::nor) ? n * wp : wp;
    m_c_in = t.gate_cap(wn_each) + t.gate_cap(wp_each);
    // Output node: the NMOS drains of a NOR (parallel) or one NMOS of a NAND stack, and the PMOS likewise.
    const double n_drains = (k == kind::nor) ? n : 1.0, p_drains = (k == kind::nand) ? n : 1.0;
    m_c_out = n_drains * t.drain_cap(wn_each) + p_drains * t.drain_cap(wp_each);
    m_r = t.on_resistance(wn);  // equal drive: a stack of n of width n*w conducts as one of width w
    m_area = k_area_per_width_f * n * (wn_each + wp_each) * F;
    // Output high: the NMOS network is off (a stack leaks like one transistor of its width / n); low: the PMOS.
    const double leak_n = (k == kind::nor) ? n * t.off_current(wn_each) : t.off_current(wn_each) / n;
    const double leak_p = (k == kind::nand) ? n * t.pmos_off_current(wp_each) : t.pmos_off_current(wp_each) / n;
    m_leakage = 0.5 * (leak_n + leak_p) * t.vdd();
}

action_cost logic_gate::drive(double load, double ramp_in, double* ramp_out) const {
    const double c = m_c_out + load;
    return {c * m_vdd2, horowitz(m_r * c, ramp_in, ramp_out)};
}

driver_chain::driver_chain(const technology& t, double load) {
    const logic_gate unit(t, logic_gate::kind::inv);
    m_c_in = unit.input_cap();
    const double effort = std::max(1.0, load / m_c_in);
    m_stages = std::max(1u, static_cast<unsigned>(std::lround(std::log(effort) / std::log(4.0))));
    const double fanout = std::pow(effort, 1.0 / m_stages);
    double ramp = 0.0;
    for (unsigned i = 0; i < m_stages; ++i) {
        const logic_gate stage(t, logic_gate::kind::inv, 1, std::pow(fanout, double(i)));
        const double next = (i + 1 < m_stages) ? stage.input_cap() * fanout : load;
        const action_cost c = stage.drive(next, ramp, &ramp);
        m_cost.energy += c.energy;
        m_cost.latency += c.latency;
        m_area += stage.area();
        m_leakage += stage.leakage();
    }
}

decoder::decoder(const technology& t, unsigned lines, double span, double driver_width_f)
    : m_driver(t, logic_gate::kind::inv, 1, driver_width_f / 3.0) {
    const unsigned n_lines = std::max(1u, lines);
    const unsigned bits = n_lines <= 2 ? 1u : static_cast<unsigned>(std::ceil(std::log2(double(n_lines))));
    const unsigned groups = (bits + 2) / 3;  // predecoder groups of up to 3 bits
    const logic_gate final_gate(t, groups > 1 ? logic_gate::kind::nand : logic_gate::kind::inv, groups);
    // The slowest predecoder group (the one with the most bits) sets the select time.
    double slowest = 0.0, ramp_group = 0.0, select_energy = 0.0;
    for (unsigned g = 0; g < groups; ++g) {
        const unsigned b = bits / groups + (g < bits % groups ? 1u : 0u);
        const double outputs = std::ldexp(1.0, static_cast<int>(b));
        // A predecoded line feeds the final gates of lines / 2^b lines along the decoder's span.
        const double load = std::ceil(n_lines / outputs) * final_gate.input_cap() + span * t.wire_cap_per_length;
        const driver_chain chain(t, load);
        const logic_gate nand(t, b > 1 ? logic_gate::kind::nand : logic_gate::kind::inv, b);
        double ramp = 0.0;
        const action_cost first = nand.drive(chain.input_cap(), 0.0, &ramp);
        const action_cost line = chain.drive();
        m_area += outputs * (nand.area() + chain.area());
        m_leakage += outputs * (nand.leakage() + chain.leakage());
        select_energy += first.energy + line.energy;  // one predecoded line per group rises
        if (first.latency + line.latency > slowest) {
            slowest = first.latency + line.latency;
            // The chain's own output ramp: its last stage at fan-out ~4, 2 x its delay share.
            ramp_group = 2.0 * line.latency / chain.stages();
        }
    }
    const action_cost last = final_gate.drive(m_driver.input_cap(), ramp_group, &m_ramp);
    m_area += n_lines * (final_gate.area() + m_driver.area());
    m_leakage += n_lines * (final_gate.leakage() + m_driver.leakage());
    m_select = {select_energy + last.energy, slowest + last.latency};
}

action_cost decoder::drive(double load) const { return m_driver.drive(load, m_ramp); }

switch_matrix::switch_matrix(const technology& t, unsigned lines, double width_f)
    : m_vdd2(t.vdd() * t.vdd()) {
    const double F = t.feature_size, w = width_f * F;
    // Two transistors of width w at a 4F pitch across their width, with 2F of diffusion each.
    m_area = double(lines) * 2.0 * (width_f + 2.0) * 4.0 * F * F;
    m_r = k_linear_region * t.on_resistance(w);
    m_c_gate = 2.0 * t.gate_cap(w);
    m_c_drain = 2.0 * t.drain_cap(w);
}

level_shifter::level_shifter(const technology& t, unsigned outputs) : m_vdd2(t.vdd() * t.vdd()) {
    const double F = t.feature_size;
    // NMOS / PMOS widths (F) of the input stage, the cross-coupled latch and the output stage.
    constexpr double n_low = 30, p_low = 80, n_latch = 64, p_latch = 40, n_high = 128, p_high = 328;
    const double width_f = n_low + p_low + n_latch + p_latch + n_high + p_high;
    m_area = double(outputs) * k_area_per_width_f * width_f * F * F;
    m_leakage = double(outputs) * 0.5 *
                (t.off_current((n_low + n_latch + n_high) * F) + t.pmos_off_current((p_low + p_latch + p_high) * F)) *
                t.vdd();
    m_c_low = t.drain_cap(n_low * F) + t.drain_cap(p_low * F) + 2.0 * t.gate_cap(n_latch * F);
    m_c_high = t.drain_cap(n_high * F) + t.drain_cap(p_high * F);
    m_r_low = pmos_resistance(t, p_low * F);
    m_r_high = pmos_resistance(t, p_high * F);
}

action_cost level_shifter::shift(double lines, double load) const {
    double ramp = 0.0;
    const double t_low = horowitz(m_r_low * m_c_low, 0.0, &ramp);
    const double t_high = horowitz(m_r_high * (m_c_high + load), ramp);
    return {lines * m_c_low * m_vdd2, t_low + t_high};
}

precharger::precharger(const technology& t, unsigned columns, double c_bitline) : m_vdd(t.vdd()), m_c_bl(c_bitline) {
    const double F = t.feature_size;
    // Width whose pull-up restores the bit line and its own drain in 4 FO4: ln 2 * 2 R_on(w) * (C_bl + c_d w) <= 4 FO4
    // with R_on(w) = Vdd / (I_on w), so w = 2 Vdd C_bl / (I_on t / ln 2 - 2 Vdd c_d) (per effective width).
    const double budget = t.on_current_per_width() * 4.0 * t.fo4_delay() / std::log(2.0) -
                          2.0 * t.vdd() * t.fet().drain_cap_per_width;
    const double w_eff = budget > 0.0 ? 2.0 * t.vdd() * c_bitline / budget : 1e3 * F;
    m_width_f = std::max(2.0, t.drawn_width(w_eff) / F);
    const double w = m_width_f * F;
    m_area = double(columns) * (m_width_f + 2.0) * 4.0 * F * F;
    m_leakage = double(columns) * 0.5 * t.pmos_off_current(w) * t.vdd();
    m_t = horowitz(pmos_resistance(t, w) * (c_bitline + t.drain_cap(w)), 0.0);
}

action_cost precharger::precharge(double columns, double swing) const {
    return {columns * m_c_bl * m_vdd * swing, m_t};
}

sense_amplifier::sense_amplifier(const technology& t, double sense_time) {
    const gate_unit u(t);
    m_area = 20.0 * u.area;
    m_leakage = 20.0 * u.leakage;
    m_cost = {10.0 * u.energy, sense_time + 3.0 * 4.0 * u.delay};
}

current_sense_amplifier::current_sense_amplifier(const technology& t, double sense_time, double reference)
    : m_vdd(t.vdd()), m_sense_time(sense_time), m_reference(reference) {
    const gate_unit u(t);
    m_area = 30.0 * u.area;
    m_leakage = 30.0 * u.leakage;
    m_latch = {10.0 * u.energy, sense_time + 3.0 * 4.0 * u.delay};
}

action_cost current_sense_amplifier::sense(double current) const {
    return {(current + m_reference) * m_vdd * m_sense_time + m_latch.energy, m_latch.latency};
}

flash_adc::flash_adc(const technology& t, unsigned bits, double sense_time) {
    const gate_unit u(t);
    const double comparators = std::ldexp(1.0, static_cast<int>(bits)) - 1.0;
    const double gates = 20.0 * comparators;  // minimum-inverter equivalents
    m_area = gates * u.area;
    m_leakage = gates * u.leakage;
    m_cost = {comparators * 10.0 * u.energy, sense_time + (bits + 2.0) * 4.0 * u.delay};
}

sar_adc::sar_adc(const technology& t, unsigned bits, double sense_time) {
    const gate_unit u(t);
    const double b = bits;
    const double gates = 239.0 + 91.0 * (b - 1.0);  // minimum-inverter equivalents
    m_area = gates * u.area;
    m_leakage = gates * u.leakage;
    m_cost = {(b + 1.0) * (19.0 + 2.5 * b) * u.energy, (b + 1.0) * sense_time};
}

cco_adc::cco_adc(const technology& t, unsigned bits, bool integrates_during_input) {
    const gate_unit u(t);
    const double b = bits;
    const double gates = 5.0 + 8.0 * b + 20.0;  // ring, ripple counter, control
    m_area = gates * u.area;
    m_leakage = gates * u.leakage;
    const double t_lsb = 2.0 * 5.0 * 0.4 * u.delay;  // fastest oscillator period: 5 stages at fan-out 1, twice
    const double readout = b * 2.0 * u.delay;
    m_cost = {2.0 * b * u.energy, integrates_during_input ? readout : std::ldexp(t_lsb, static_cast<int>(bits)) + readout};
    m_count = {18.0 * u.energy, 0.0};
}

counting_adc::counting_adc(const technology& t, unsigned bits, double sense_time) {
    const gate_unit u(t);
    const double b = bits;
    const double gates = 20.0 + 8.0 * b + 20.0;  // comparator, counter, control and charge switches
    m_area = gates * u.area;
    m_leakage = gates * u.leakage;
    m_cost = {(10.0 + 2.0 * b) * u.energy, std::ldexp(sense_time, static_cast<int>(bits)) + b * 2.0 * u.delay};
    m_count = {18.0 * u.energy, 0.0};
}

adder::adder(const technology& t, unsigned bits) : m_bits(bits) {
    const gate_unit u(t);
    m_area = 14.0 * bits * u.area;
    m_leakage = 14.0 * bits * u.leakage;
    m_cost = {0.5 * 14.0 * bits * u.energy, 2.0 * bits * u.delay};
}

dff_register::dff_register(const technology& t, unsigned bits) {
    const gate_unit u(t);
    m_area = 8.0 * bits * u.area;
    m_leakage = 8.0 * bits * u.leakage;
    m_cost = {2.0 * bits * u.energy, 2.0 * u.delay};
}

shift_add::shift_add(const technology& t, unsigned bits) : m_adder(t, bits), m_register(t, bits) {
    m_area = m_adder.area() + m_register.area();
    m_leakage = m_adder.leakage() + m_register.leakage();
}

action_cost shift_add::accumulate() const {
    const action_cost a = m_adder.add(), r = m_register.clock();
    return {a.energy + r.energy, a.latency + r.latency};
}

multiplier::multiplier(const technology& t, unsigned a_bits, unsigned b_bits) {
    const logic_gate nand2(t, logic_gate::kind::nand, 2), inv(t, logic_gate::kind::inv);
    const adder row(t, a_bits);
    const double ands = double(a_bits) * b_bits, rows = b_bits > 1 ? b_bits - 1.0 : 0.0;
    m_area = ands * (nand2.area() + inv.area()) + rows * row.area();
    m_leakage = ands * (nand2.leakage() + inv.leakage()) + rows * row.leakage();
    const double and_energy = nand2.drive(inv.input_cap()).energy + inv.drive(nand2.input_cap()).energy;
    m_cost = {0.5 * ands * and_energy + rows * row.add().energy, (a_bits + b_bits) * row.add().latency / a_bits};
}

relu::relu(const technology& t, unsigned bits) {
    const logic_gate nand2(t, logic_gate::kind::nand, 2), inv(t, logic_gate::kind::inv);
    const dff_register out(t, bits);
    m_area = bits * (nand2.area() + inv.area()) + out.area();
    m_leakage = bits * (nand2.leakage() + inv.leakage()) + out.leakage();
    const action_cost gate = nand2.drive(inv.input_cap()), buffer = inv.drive(inv.input_cap());  // into the register
    m_cost = {0.5 * bits * (gate.energy + buffer.energy) + out.clock().energy, gate.latency + buffer.latency + out.clock().latency};
}

max_pool::max_pool(const technology& t, unsigned bits) {
    const gate_unit u(t);
    const adder comparator(t, bits);
    const dff_register running(t, bits);
    const double mux_gates = 2.0 * bits;
    m_area = comparator.area() + mux_gates * u.area + running.area();
    m_leakage = comparator.leakage() + mux_gates * u.leakage + running.leakage();
    m_cost = {comparator.add().energy + 0.5 * mux_gates * u.energy + running.clock().energy,
              comparator.add().latency + u.delay + running.clock().latency};
}

lookup_table::lookup_table(const technology& t, unsigned entries, unsigned bits) {
    const gate_unit u(t);
    const double span = std::sqrt(double(entries) * bits * 0.5 * u.area);  // the side of the cell array
    const decoder dec(t, entries, span, 2.0);
    const dff_register out(t, bits);
    const logic_gate inv(t, logic_gate::kind::inv);
    const double cells = double(entries) * bits;
    m_area = dec.area() + 0.5 * cells * u.area + out.area();
    m_leakage = dec.leakage() + 0.5 * cells * u.leakage + out.leakage();
    const action_cost word = dec.drive(0.5 * bits * inv.input_cap());
    const double bitlines = 0.5 * bits * 0.25 * entries * u.energy;
    const double discharge = (1.0 + entries / 64.0) * u.delay;  // a bit line loaded by its cells' drains
    m_cost = {dec.select().energy + word.energy + bitlines + out.clock().energy,
              dec.select().latency + word.latency + discharge + out.clock().latency};
}

divider::divider(const technology& t, unsigned bits) {
    const adder sub(t, bits);
    const dff_register reg(t, bits);
    m_area = sub.area() + 2.0 * reg.area();
    m_leakage = sub.leakage() + 2.0 * reg.leakage();
    m_cost = {bits * (sub.add().energy + 2.0 * reg.clock().energy), bits * (sub.add().latency + reg.clock().latency)};
}

square_root::square_root(const technology& t, unsigned bits) {
    const adder sub(t, bits);
    const dff_register reg(t, bits);
    const double steps = std::ceil(bits / 2.0);
    m_area = sub.area() + 2.0 * reg.area();
    m_leakage = sub.leakage() + 2.0 * reg.leakage();
    m_cost = {steps * (sub.add().energy + 2.0 * reg.clock().energy), steps * (sub.add().latency + reg.clock().latency)};
}

}  // namespace cim::circuit
