#pragma once
#include <cstdint>
#include <vector>

#include "models/circuit/action_table.h"
#include "models/circuit/calibration.h"
#include "models/circuit/periphery.h"
#include "models/circuit/technology.h"

namespace cim::circuit {

/// H-tree interconnect between the global buffer and `leaves` tiles of side `leaf_side` metres, with
/// repeated wires. Transfer energy: C_wire * L * Vdd^2 per bit toggled (activity 0.5); latency: bus cycles plus
/// the repeated-wire delay of the path (0.7 * sqrt(R C ...) per unit length, Bakoglu).
class htree {
public:
    enum action_id : std::size_t { bit, beat, transfer, action_count };
    htree(const technology& t, const calibration& k, unsigned leaves, double leaf_side, unsigned bus_bits, double clock_hz);
    const action_table& table() const { return m_table; }
    double area() const { return m_table.area(); }
    double leakage_power() const { return m_table.leakage(); }
    /// Counts of one transfer of `bytes`: bits, bus beats and the path's wire delay once.
    void count(std::uint64_t bytes, std::vector<double>& counts) const;
    /// count() priced by the table.
    action_cost transfer_cost(std::uint64_t bytes) const;

private:
    unsigned m_bus_bits;
    action_table m_table;
};

}  // namespace cim::circuit
