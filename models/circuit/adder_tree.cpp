#include "models/circuit/adder_tree.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace cim::circuit {

adder_tree::adder_tree(const technology& t, const calibration& k, unsigned inputs, unsigned bits, unsigned lanes)
    : m_lanes(std::max(1u, lanes)) {
    const adder a(t, bits);
    const double adders = std::max(1u, inputs - 1);  // b-bit adders in one tree
    const double depth = std::ceil(std::log2(std::max(2u, inputs)));
    const double stage = k.latency_accumulation * a.add().latency;
    std::ostringstream variant;
    variant << inputs << " inputs, " << bits << " bits, " << m_lanes << " lanes";
    m_table = action_table("adder_tree", variant.str());
    const category cc = category::accumulation;
    const cost_class C = cost_class::accumulation;
    m_table.add(action{"word", "op", "output word reduced (an N-input sum)", cc, C, k.energy_accumulation * adders * a.add().energy, 0.0});
    m_table.add(action{"beat", "op", "pipeline beat: one word per lane", cc, C, 0.0, stage});
    m_table.add(action{"fill", "op", "pipeline fill of a reduction: the tree's levels after the first", cc, C, 0.0, (depth - 1.0) * stage});
    m_table.add(area_part{"adders", cc, C, k.area_accumulation * m_lanes * adders * a.area()});
    m_table.add(leakage_part{"adders", leakage_class::logic, k.leakage_logic * m_lanes * adders * a.leakage()});
}

void adder_tree::count(std::uint64_t words, std::vector<double>& n) const {
    n.resize(action_count, 0.0);
    if (words == 0) return;
    n[word] += double(words);
    n[beat] += std::ceil(double(words) / m_lanes);
    n[fill] += 1.0;
}

action_cost adder_tree::reduce(std::uint64_t words) const {
    std::vector<double> n;
    count(words, n);
    return {m_table.energy(n), m_table.latency(n)};
}

}  // namespace cim::circuit
