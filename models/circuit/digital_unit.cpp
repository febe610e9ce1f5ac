#include "models/circuit/digital_unit.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "models/core/error.h"

namespace cim::circuit {

digital_unit::digital_unit(const std::string& kind, const calibration& k, bool accumulation, unsigned lanes,
                           const lane_circuit& lane, double clock_hz)
    : m_lanes(std::max(1u, lanes)) {
    if (clock_hz <= 0) throw model_error("digital_unit", "a digital unit needs a clock");
    const cost_class cls = accumulation ? cost_class::accumulation : cost_class::digital;
    const category cat = accumulation ? category::accumulation : category::other;
    const double area_k = accumulation ? k.area_accumulation : k.area_digital;
    const double energy_k = accumulation ? k.energy_accumulation : k.energy_digital;
    const double latency_k = accumulation ? k.latency_accumulation : k.latency_digital;
    std::ostringstream variant;
    variant << m_lanes << " lanes";
    m_table = action_table(kind, variant.str());
    m_table.add(action{"element", "op", "element processed by a lane", cat, cls, energy_k * lane.op.energy, 0.0});
    m_table.add(action{"beat", "op", "clock cycle of the lanes (one element each)", cat, cls, 0.0,
                       latency_k * std::max(1.0 / clock_hz, lane.op.latency)});
    m_rows = lane.has_row();
    if (m_rows) {
        m_table.add(action{"row", "op", "row operation of a lane (a reciprocal, a square root)", cat, cls,
                           energy_k * lane.row.energy, 0.0});
        m_table.add(action{"row_beat", "op", "row operations of the lanes at once (one row each)", cat, cls, 0.0,
                           latency_k * std::max(1.0 / clock_hz, lane.row.latency)});
    }
    m_table.add(area_part{"lanes", cat, cls, area_k * m_lanes * lane.area});
    m_table.add(leakage_part{"lanes", leakage_class::logic, k.leakage_logic * m_lanes * lane.leakage});
}

void digital_unit::count(std::uint64_t elements, std::vector<double>& n, std::uint64_t rows) const {
    n.resize(m_rows ? action_count : row, 0.0);
    n[element] += double(elements);
    n[beat] += std::ceil(double(elements) / m_lanes);
    if (m_rows && rows > 0) {
        n[row] += double(rows);
        n[row_beat] += std::ceil(double(rows) / m_lanes);
    }
}

action_cost digital_unit::process(std::uint64_t elements, std::uint64_t rows) const {
    std::vector<double> n;
    count(elements, n, rows);
    return {m_table.energy(n), m_table.latency(n)};
}

lane_circuit accumulator_lane(const technology& t, unsigned bits) {
    const accumulator a(t, bits);
    return {a.area(), a.leakage(), a.accumulate(), {}};
}

lane_circuit activation_lane(const technology& t, unsigned acc_bits) {
    const relu r(t, acc_bits);
    const multiplier m(t, acc_bits, 8);
    const action_cost a = r.apply(), b = m.multiply();
    return {r.area() + m.area(), r.leakage() + m.leakage(), {a.energy + b.energy, a.latency + b.latency}, {}};
}

lane_circuit pooling_lane(const technology& t, unsigned bits) {
    const max_pool p(t, bits);
    return {p.area(), p.leakage(), p.compare(), {}};
}

namespace {
action_cost operator+(action_cost a, action_cost b) { return {a.energy + b.energy, a.latency + b.latency}; }
}  // namespace

lane_circuit softmax_lane(const technology& t, unsigned input_bits) {
    const unsigned entries = 2u * ((1u << input_bits) - 1u) + 1u;
    const max_pool cmp(t, input_bits + 1);
    const lookup_table exp_table(t, entries, 17);
    const adder sum(t, 32), round(t, 24);
    const multiplier scale(t, 24, 24);
    const divider recip(t, 32);
    lane_circuit l;
    l.area = cmp.area() + exp_table.area() + sum.area() + round.area() + scale.area() + recip.area();
    l.leakage = cmp.leakage() + exp_table.leakage() + sum.leakage() + round.leakage() + scale.leakage() + recip.leakage();
    l.op = cmp.compare() + exp_table.read() + sum.add() + scale.multiply() + round.add();
    l.row = recip.divide();
    return l;
}

lane_circuit layernorm_lane(const technology& t) {
    const adder sum(t, 24), sum_sq(t, 48), beta(t, 32);
    const multiplier square(t, 20, 20), norm(t, 24, 24), gamma(t, 24, 8), requant(t, 32, 16);
    const square_root root(t, 48);
    const divider recip(t, 32);
    lane_circuit l;
    l.area = sum.area() + sum_sq.area() + beta.area() + square.area() + norm.area() + gamma.area() + requant.area() +
             root.area() + recip.area();
    l.leakage = sum.leakage() + sum_sq.leakage() + beta.leakage() + square.leakage() + norm.leakage() + gamma.leakage() +
                requant.leakage() + root.leakage() + recip.leakage();
    l.op = sum.add() + square.multiply() + sum_sq.add() + norm.multiply() + gamma.multiply() + beta.add() + requant.multiply();
    l.row = root.root() + recip.divide();
    return l;
}

lane_circuit gelu_lane(const technology& t, unsigned input_bits) {
    const unsigned entries = 2u * ((1u << input_bits) - 1u) + 1u;
    const lookup_table table(t, entries, input_bits + 1);
    return {table.area(), table.leakage(), table.read(), {}};
}

lane_circuit mac_lane(const technology& t, unsigned input_bits) {
    const multiplier mul(t, input_bits + 1, input_bits + 1);
    const accumulator acc(t, 32);
    return {mul.area() + acc.area(), mul.leakage() + acc.leakage(), mul.multiply() + acc.accumulate(), {}};
}

}  // namespace cim::circuit
