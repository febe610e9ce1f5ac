#pragma once
#include <cstdint>

#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/circuit/components.h"
#include "models/hw/component.h"
#include "models/hw/trace_log.h"

namespace cim::hw {

/// Buffer options (global buffer and tile buffer sections).
struct buffer_config {
    double size = 64 * 1024;  // bytes
    unsigned bus_bits = 128;
    template <class V>
    void visit(V& v) {
        v("size", size, unit::byte, "capacity");
        v("bus_bits", bus_bits, "bits moved per clock on the buffer port");
    }
    void validate() const;
};

/// An SRAM buffer on the base protocol: reads and writes of bytes. It prices each access with
/// circuit::sram_buffer and tracks occupancy (bytes of live data) for the waveform. It keeps no data:
/// the controller owns the functional tensors, the buffer accounts for their movement.
class buffer : public component {
public:
    tlm_utils::simple_target_socket<buffer> in{"in"};

    buffer(const sc_core::sc_module_name& name, recorder& rec, const circuit::technology& t, const circuit::calibration& k,
           const buffer_config& cfg, double clock_hz);

    std::array<double, 6> own_area() const override;
    double own_leakage_power() const override { return m_model.leakage_power(); }
    const circuit::sram_buffer& model() const { return m_model; }

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    circuit::sram_buffer m_model;
    resource m_port;  // one access at a time: requests queue behind busy_until
    stats::counter m_read_bytes{m_stats, "read_bytes", "B", "bytes read"};
    stats::counter m_write_bytes{m_stats, "write_bytes", "B", "bytes written"};
    stats::sum m_energy{m_stats, "energy", "J", "dynamic energy of reads and writes"};
    stats::sum m_wait{m_stats, "wait_time", "s", "time requests waited for the port (contention)"};
};

/// The H-tree between the global buffer and the tiles, on the base protocol (a write moves bytes to a
/// tile, a read brings results back). Priced by circuit::htree.
class htree : public component {
public:
    tlm_utils::simple_target_socket<htree> in{"in"};
    htree(const sc_core::sc_module_name& name, recorder& rec, const circuit::technology& t, const circuit::calibration& k,
          unsigned leaves,
          double leaf_side, unsigned bus_bits, double clock_hz);
    std::array<double, 6> own_area() const override;
    double own_leakage_power() const override { return m_model.leakage_power(); }

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    circuit::htree m_model;
    resource m_link;  // the shared root link: transfers to different tiles queue behind each other
    stats::counter m_bytes{m_stats, "bytes", "B", "bytes transferred"};
    stats::counter m_transfers{m_stats, "transfers", "op", "transfers"};
    stats::sum m_energy{m_stats, "energy", "J", "dynamic energy of transfers"};
    stats::sum m_wait{m_stats, "wait_time", "s", "time transfers waited for the link (contention)"};
    stats::sum m_busy{m_stats, "busy_time", "s", "time the link was occupied"};
};

}  // namespace cim::hw
