#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "models/circuit/components.h"
#include "models/hw/component.h"
#include "models/proto/compute.h"

namespace cim::hw {


/// An SRAM buffer with one port (a resource granted in time order), on the buffer protocol. It holds the
/// activation tensors written to it (the global buffer holds the chip's activations) with their size on the wire,
/// ceil(elements x bits / 8) bytes, against its capacity: a write that does not fit waits until readers release
/// enough (back-pressure: the writer stalls), and a tensor is freed when its last reader releases it. A tile buffer
/// only stages bytes through its port. Accesses are priced by circuit::sram_buffer's actions.
/// Does not model: banking, addresses and fragmentation (the capacity is a byte count), refresh.
class buffer : public component {
public:
    proto::buffer_target_socket<buffer> in{"in"};

    buffer(const sc_core::sc_module_name& name, run_record& rec, const circuit::sram_buffer& model, double capacity_bytes);

    double capacity() const { return m_capacity; }

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    int write(proto::buffer_extension& x);
    int read(proto::buffer_extension& x);
    void release(proto::buffer_extension& x);
    int access(int cause, bool write, std::uint64_t bytes, int layer, std::int64_t image, const char* label);
    void set_occupancy(double bytes);
    void free_bytes(double bytes, int cause);

    const circuit::sram_buffer& m_model;
    double m_capacity;
    resource m_port;
    struct stored {
        std::vector<std::int32_t> data;
        std::uint64_t bytes = 0;
        int readers = 0;
    };
    std::map<proto::tensor_key, stored> m_tensors;
    double m_occupied = 0;  // bytes held or granted to writers
    struct space_waiter {
        std::uint64_t bytes;
        sc_core::sc_event granted;
        int cause = -1;
    };
    std::deque<space_waiter*> m_space_line;
    std::vector<double> m_n;
    stats::sum m_stall{m_stats, "stall_time", "s", "time writers waited for space (a full buffer: back-pressure)"};
    stats::sum m_wait{m_stats, "wait_time", "s", "time accesses waited for the port (contention)"};
    stats::maximum m_peak{m_stats, "peak_occupancy", "B", "largest number of bytes held at once"};
    std::unique_ptr<sc_core::sc_signal<std::uint64_t, sc_core::SC_MANY_WRITERS>> m_occupancy_signal;
    std::unique_ptr<sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS>> m_stall_signal;
};

}  // namespace cim::hw
