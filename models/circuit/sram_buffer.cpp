#include "models/circuit/sram_buffer.h"

#include <cmath>
#include <sstream>

#include "models/core/error.h"

namespace cim::circuit {

sram_buffer::sram_buffer(const technology& t, const calibration& k, double capacity_bytes, unsigned bus_bits, double clock_hz)
    : m_bus_bits(bus_bits) {
    if (capacity_bytes <= 0 || bus_bits == 0 || clock_hz <= 0)
        throw model_error("buffer", "a buffer needs a positive size, bus width and clock");
    const gate_unit u(t);
    const double F = t.feature_size;
    const double bits = capacity_bytes * 8.0;
    // A bit line spans sqrt(bits) cells of ~12F pitch; swing Vdd/2 on read, full on write (averaged).
    const double bl = std::sqrt(bits) * 12.0 * F * t.wire_cap_per_length;
    const double e_bit = k.energy_buffer * (bl * t.vdd() * t.vdd() * 0.75 + 4.0 * u.energy);
    std::ostringstream variant;
    variant << capacity_bytes << " B, " << bus_bits << "-bit bus";
    m_table = action_table("sram_buffer", variant.str());
    const category cb = category::buffer;
    const cost_class B = cost_class::buffer;
    m_table.add(action{"read_bit", "bit", "bit read", cb, B, e_bit, 0.0});
    m_table.add(action{"write_bit", "bit", "bit written", cb, B, e_bit, 0.0});
    m_table.add(action{"beat", "op", "bus cycle of the buffer port", cb, B, 0.0, k.latency_buffer / clock_hz});
    m_table.add(area_part{"cells", cb, B, k.area_buffer * bits * 146.0 * F * F * 1.3});
    m_table.add(leakage_part{"cells", leakage_class::buffer, k.leakage_buffer * bits * 2.0 * u.leakage});
}

void sram_buffer::count(bool write, std::uint64_t bytes, std::vector<double>& n) const {
    n.resize(action_count, 0.0);
    const double bits = double(bytes) * 8.0;
    n[write ? write_bit : read_bit] += bits;
    n[beat] += std::ceil(bits / m_bus_bits);
}

action_cost sram_buffer::access(bool write, std::uint64_t bytes) const {
    std::vector<double> n;
    count(write, bytes, n);
    return {m_table.energy(n), m_table.latency(n)};
}

}  // namespace cim::circuit
