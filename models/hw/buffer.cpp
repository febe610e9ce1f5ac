#include "models/hw/buffer.h"

#include "models/core/error.h"

namespace cim::hw {

void buffer_config::validate() const {
    if (size < 1) throw config_error("", 0, "size", "must be at least 1 B");
    if (bus_bits < 1 || bus_bits > 65536) throw config_error("", 0, "bus_bits", "must be in 1..65536");
}

buffer::buffer(const sc_core::sc_module_name& name, recorder& rec, const circuit::technology& t, const circuit::calibration& k,
               const buffer_config& cfg, double clock_hz)
    : component(name, "buffer", rec), m_model(t, k, cfg.size, cfg.bus_bits, clock_hz) {
    in.register_b_transport(this, &buffer::b_transport);
}

std::array<double, 6> buffer::own_area() const {
    std::array<double, 6> a{};
    a[static_cast<std::size_t>(category::buffer)] = m_model.area();
    return a;
}

void buffer::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    const std::uint64_t bytes = tx.get_data_length();
    const circuit::action_cost c = tx.is_read() ? m_model.read(bytes) : m_model.write(bytes);
    (tx.is_read() ? m_read_bytes : m_write_bytes) += bytes;
    m_energy += c.energy;
    charge(category::buffer, c.energy);
    const sc_core::sc_time now = sc_core::sc_time_stamp(), arrival = now + delay;
    const sc_core::sc_time occupancy(c.latency, sc_core::SC_SEC);
    const sc_core::sc_time start = m_port.acquire(arrival, occupancy);
    m_wait += (start - arrival).to_seconds();
    log_interval(std::string(tx.is_read() ? "read " : "write ") + std::to_string(bytes) + " B", start, start + occupancy);
    delay = start + occupancy - now;
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

htree::htree(const sc_core::sc_module_name& name, recorder& rec, const circuit::technology& t, const circuit::calibration& k,
          unsigned leaves,
             double leaf_side, unsigned bus_bits, double clock_hz)
    : component(name, "htree", rec), m_model(t, k, leaves, leaf_side, bus_bits, clock_hz) {
    in.register_b_transport(this, &htree::b_transport);
}

std::array<double, 6> htree::own_area() const {
    std::array<double, 6> a{};
    a[static_cast<std::size_t>(category::interconnect)] = m_model.area();
    return a;
}

void htree::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    const std::uint64_t bytes = tx.get_data_length();
    const circuit::action_cost c = m_model.transfer_cost(bytes);
    m_bytes += bytes;
    m_transfers += 1;
    m_energy += c.energy;
    charge(category::interconnect, c.energy);
    const sc_core::sc_time now = sc_core::sc_time_stamp(), arrival = now + delay;
    const sc_core::sc_time occupancy(c.latency, sc_core::SC_SEC);
    const sc_core::sc_time start = m_link.acquire(arrival, occupancy);
    m_wait += (start - arrival).to_seconds();
    m_busy += c.latency;
    log_interval(std::string(tx.is_read() ? "from tile " : "to tile ") + std::to_string(bytes) + " B", start,
                 start + occupancy);
    delay = start + occupancy - now;
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
