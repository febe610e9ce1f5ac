#pragma once
#include <cstdint>
#include <vector>

#include "models/circuit/action_table.h"
#include "models/circuit/calibration.h"
#include "models/circuit/periphery.h"
#include "models/circuit/technology.h"

namespace cim::circuit {

/// `lanes` N-input adder trees of b-bit operands (PE and tile accumulation): one tree per output column, as
/// NeuroSim's AdderTree: N - 1 b-bit ripple-carry adders (periphery.h) in log2(N) pipelined levels; a level
/// takes one addition. Reducing w words takes ceil(w / lanes) beats after a pipeline fill of log2(N) - 1 levels.
class adder_tree {
public:
    enum action_id : std::size_t { word, beat, fill, action_count };
    adder_tree(const technology& t, const calibration& k, unsigned inputs, unsigned bits, unsigned lanes);
    const action_table& table() const { return m_table; }
    double area() const { return m_table.area(); }
    double leakage_power() const { return m_table.leakage(); }
    /// Counts of reducing `words` output words (each an N-input sum): lanes work in parallel, levels pipeline.
    void count(std::uint64_t words, std::vector<double>& counts) const;
    /// count() priced by the table.
    action_cost reduce(std::uint64_t words) const;

private:
    unsigned m_lanes = 1;
    action_table m_table;
};

}  // namespace cim::circuit
