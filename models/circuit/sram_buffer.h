#pragma once
#include <cstdint>
#include <vector>

#include "models/circuit/action_table.h"
#include "models/circuit/calibration.h"
#include "models/circuit/periphery.h"
#include "models/circuit/technology.h"

namespace cim::circuit {

/// An SRAM buffer (global or tile buffer) with a bus of `bus_bits` per clock.
/// 6T cells of ~146 F^2 plus 30 % periphery; access energy from bit-line swing on a sqrt(capacity) array.
class sram_buffer {
public:
    enum action_id : std::size_t { read_bit, write_bit, beat, action_count };
    sram_buffer(const technology& t, const calibration& k, double capacity_bytes, unsigned bus_bits, double clock_hz);
    const action_table& table() const { return m_table; }
    double area() const { return m_table.area(); }
    double leakage_power() const { return m_table.leakage(); }
    /// Counts of reading or writing `bytes`: bits moved and bus beats.
    void count(bool write, std::uint64_t bytes, std::vector<double>& counts) const;
    action_cost read(std::uint64_t bytes) const { return access(false, bytes); }
    action_cost write(std::uint64_t bytes) const { return access(true, bytes); }

private:
    action_cost access(bool write, std::uint64_t bytes) const;
    unsigned m_bus_bits;
    action_table m_table;
};

}  // namespace cim::circuit
