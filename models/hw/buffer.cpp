#include "models/hw/buffer.h"

#include <string>

#include "models/core/error.h"

namespace cim::hw {

buffer::buffer(const sc_core::sc_module_name& name, run_record& rec, const circuit::sram_buffer& model,
               double capacity_bytes)
    : component(name, "buffer", rec, &model.table()), m_model(model), m_capacity(capacity_bytes) {
    in.register_b_transport(this, &buffer::b_transport);
    if (rec.in_vcd(this->name())) {
        m_occupancy_signal =
            std::make_unique<sc_core::sc_signal<std::uint64_t, sc_core::SC_MANY_WRITERS>>("occupancy", 0);
        m_stall_signal = std::make_unique<sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS>>("stall", false);
        sc_core::sc_trace(rec.vcd, *m_occupancy_signal, std::string(this->name()) + ".occupancy");
        sc_core::sc_trace(rec.vcd, *m_stall_signal, std::string(this->name()) + ".stall");
    }
}

void buffer::set_occupancy(double bytes) {
    m_occupied = bytes;
    m_peak.update(bytes);
    if (m_occupancy_signal) m_occupancy_signal->write(static_cast<std::uint64_t>(bytes));
}

int buffer::access(int cause, bool write, std::uint64_t bytes, int layer, std::int64_t image, const char* label) {
    const sc_core::sc_time asked = sc_core::sc_time_stamp();
    cause = m_rec.time.later(cause, m_port.acquire());
    m_wait += (sc_core::sc_time_stamp() - asked).to_seconds();
    m_n.assign(m_n.size(), 0.0);
    m_model.count(write, bytes, m_n);
    add_counts(layer, m_n);
    cause = work(cause, m_n, layer, image, label);
    m_port.release(cause);
    return cause;
}

int buffer::write(proto::buffer_extension& x) {
    int cause = x.cause;
    const double need = static_cast<double>(x.bytes);
    if (need > m_capacity)
        throw model_error(name(), "a tensor of " + std::to_string(x.bytes) + " B (layer " + std::to_string(x.key.layer) +
                                      ") does not fit the buffer's " + std::to_string(static_cast<std::uint64_t>(m_capacity)) +
                                      " B; raise its size");
    if (m_occupied + need > m_capacity || !m_space_line.empty()) {  // back-pressure: wait for readers to free space
        space_waiter w{x.bytes, {}, -1};
        m_space_line.push_back(&w);
        const sc_core::sc_time asked = sc_core::sc_time_stamp();
        if (m_stall_signal) m_stall_signal->write(true);
        sc_core::wait(w.granted);
        m_stall += (sc_core::sc_time_stamp() - asked).to_seconds();
        if (m_stall_signal && m_space_line.empty()) m_stall_signal->write(false);
        cause = m_rec.time.later(cause, w.cause);
    } else {
        set_occupancy(m_occupied + need);
    }
    if (!x.host) cause = access(cause, true, x.bytes, x.layer, x.key.image, "write");
    stored& s = m_tensors[x.key];
    if (s.readers != 0) throw model_error(name(), "tensor of layer " + std::to_string(x.key.layer) + " written twice");
    if (x.tensor != nullptr) s.data = std::move(*x.tensor);
    s.bytes = x.bytes;
    s.readers = x.readers;
    if (s.readers <= 0) {  // nobody reads it: free at once
        m_tensors.erase(x.key);
        free_bytes(need, cause);
    }
    return cause;
}

int buffer::read(proto::buffer_extension& x) {
    const auto it = m_tensors.find(x.key);
    if (it == m_tensors.end())
        throw model_error(name(), "read of a tensor it does not hold (layer " + std::to_string(x.key.layer) + ", image " +
                                      std::to_string(x.key.image) + ")");
    const int cause = access(x.cause, false, x.bytes, x.layer, x.key.image, "read");
    x.result = &it->second.data;
    return cause;
}

void buffer::release(proto::buffer_extension& x) {
    const auto it = m_tensors.find(x.key);
    if (it == m_tensors.end() || it->second.readers <= 0)
        throw model_error(name(), "release of a tensor it does not hold (layer " + std::to_string(x.key.layer) + ")");
    if (--it->second.readers > 0) return;
    const double freed = static_cast<double>(it->second.bytes);
    m_tensors.erase(it);
    free_bytes(freed, x.cause);
}

void buffer::free_bytes(double bytes, int cause) {
    double occupied = m_occupied - bytes;
    // Grant waiting writers in the order they asked, while they fit.
    while (!m_space_line.empty() && occupied + static_cast<double>(m_space_line.front()->bytes) <= m_capacity) {
        space_waiter* w = m_space_line.front();
        m_space_line.pop_front();
        occupied += static_cast<double>(w->bytes);
        w->cause = cause;
        w->granted.notify(sc_core::SC_ZERO_TIME);
    }
    set_occupancy(occupied);
}

void buffer::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* x = tx.get_extension<proto::buffer_extension>();
    if (x == nullptr) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    sync(delay);
    switch (x->what) {
    case proto::buffer_extension::kind::write: x->cause = write(*x); break;
    case proto::buffer_extension::kind::read: x->cause = read(*x); break;
    case proto::buffer_extension::kind::release: release(*x); break;
    case proto::buffer_extension::kind::stage: {
        // Staged through the port: written and read back, the two accesses in one activity.
        int cause = m_rec.time.later(x->cause, m_port.acquire());
        m_n.assign(m_n.size(), 0.0);
        m_model.count(true, x->bytes, m_n);
        m_model.count(false, x->bytes, m_n);
        add_counts(x->layer, m_n);
        cause = work(cause, m_n, x->layer, x->key.image, "stage");
        m_port.release(cause);
        x->cause = cause;
        break;
    }
    }
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
