#include "models/hw/interconnect.h"

#include <string>

#include "models/core/error.h"

namespace cim::hw {

interconnect::interconnect(const sc_core::sc_module_name& name, run_record& rec, const circuit::htree& model,
                           std::size_t tiles)
    : component(name, "interconnect", rec, &model.table()), m_model(model) {
    in.register_b_transport(this, &interconnect::b_transport);
    for (std::size_t i = 0; i < tiles; ++i)
        to_tiles.push_back(
            std::make_unique<proto::compute_initiator_socket<interconnect>>(("to_tile_" + std::to_string(i)).c_str()));
}

int interconnect::transfer(int cause, std::uint64_t bytes, int layer, std::int64_t image, const char* label) {
    if (bytes == 0) return cause;
    const sc_core::sc_time asked = sc_core::sc_time_stamp();
    cause = m_rec.time.later(cause, m_link.acquire());
    m_wait += (sc_core::sc_time_stamp() - asked).to_seconds();
    std::vector<double> n;
    m_model.count(bytes, n);
    add_counts(layer, n);
    cause = work(cause, n, layer, image, label);
    m_link.release(cause);
    return cause;
}

void interconnect::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* x = tx.get_extension<proto::mvm_extension>();
    const std::uint64_t target = tx.get_address();
    if (x == nullptr || target >= to_tiles.size()) {
        tx.set_response_status(x == nullptr ? tlm::TLM_GENERIC_ERROR_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    sync(delay);
    x->cause = transfer(x->cause, x->request_bytes, x->layer, x->image, "to tile");
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    (*to_tiles[target])->b_transport(tx, d);
    if (tx.get_response_status() != tlm::TLM_OK_RESPONSE) return;
    sync(d);
    x->cause = transfer(x->cause, x->response_words * 4, x->layer, x->image, "from tile");
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
