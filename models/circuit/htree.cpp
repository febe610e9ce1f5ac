#include "models/circuit/htree.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "models/core/error.h"

namespace cim::circuit {

htree::htree(const technology& t, const calibration& k, unsigned leaves, double leaf_side, unsigned bus_bits, double clock_hz)
    : m_bus_bits(bus_bits) {
    if (bus_bits == 0 || clock_hz <= 0) throw model_error("htree", "an H-tree needs a bus width and a clock");
    const gate_unit u(t);
    const double side = leaf_side * std::ceil(std::sqrt(double(std::max(1u, leaves))));  // chip side
    // Root to leaf of an H-tree over a square of side D: D/2 + D/4 + ... ~ D (both directions summed).
    const double path = side;
    // Total wire: each level halves the length and doubles the count: ~ D * log2(leaves) / 2 per bit.
    const double levels = std::max(1.0, std::ceil(std::log2(double(std::max(2u, leaves)))));
    const double total_wire = side * levels * 0.5 * bus_bits;
    const double repeaters = total_wire / (200e-6);  // one repeater per 200 um
    std::ostringstream variant;
    variant << leaves << " leaves, " << bus_bits << "-bit bus, path " << path * 1e3 << " mm";
    m_table = action_table("htree", variant.str());
    const category ci = category::interconnect;
    const cost_class I = cost_class::interconnect;
    m_table.add(action{"bit", "bit", "bit moved over the root-to-leaf path",
                       ci, I, k.energy_interconnect * 0.5 * path * t.wire_cap_per_length * t.vdd() * t.vdd() * 1.3, 0.0});  // 30 % repeaters
    m_table.add(action{"beat", "op", "bus cycle of the link", ci, I, 0.0, k.latency_interconnect / clock_hz});
    // Optimally repeated wire: ~2 sqrt(R C t_fo4) per unit length (Bakoglu / Ho, Mai, Horowitz 2001).
    m_table.add(action{"transfer", "op", "a transfer's flight over the repeated wires of the path", ci, I, 0.0,
                       k.latency_interconnect * 2.0 * std::sqrt(t.wire_res_per_length * t.wire_cap_per_length * u.delay) * path});
    m_table.add(area_part{"wires", ci, I, k.area_interconnect * total_wire * 8.0 * t.feature_size});  // 8F pitch
    m_table.add(leakage_part{"repeaters", leakage_class::logic, k.leakage_logic * repeaters * 20.0 * u.leakage});
}

void htree::count(std::uint64_t bytes, std::vector<double>& n) const {
    n.resize(action_count, 0.0);
    if (bytes == 0) return;
    const double bits = double(bytes) * 8.0;
    n[bit] += bits;
    n[beat] += std::ceil(bits / m_bus_bits);
    n[transfer] += 1.0;
}

action_cost htree::transfer_cost(std::uint64_t bytes) const {
    std::vector<double> n;
    count(bytes, n);
    return {m_table.energy(n), m_table.latency(n)};
}

}  // namespace cim::circuit
