#include "models/hw/vector_unit.h"

#include "models/core/error.h"
#include "models/engine/quantized_model.h"

namespace cim::hw {

vector_unit::vector_unit(const sc_core::sc_module_name& name, const char* type, run_record& rec,
                         const circuit::digital_unit& model)
    : component(name, type, rec, &model.table()), m_model(model) {
    in.register_b_transport(this, &vector_unit::b_transport);
}

void vector_unit::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* x = tx.get_extension<proto::op_extension>();
    if (x == nullptr) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    sync(delay);
    // Behaviour (skipped in a timing replay, where no data flows).
    using kind = proto::op_extension::kind;
    if (x->what == kind::requantize && x->acc != nullptr && x->out != nullptr) {
        *x->out = engine::finish_layer(*x->rule, *x->acc, x->n, x->oc);
    } else if (x->what == kind::layer && x->out != nullptr) {
        engine::apply_nonweight_layer(*x->graph, x->layer, x->inputs, *x->out, *x->quant);
    }
    if (x->elements == 0) {
        tx.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    const sc_core::sc_time asked = sc_core::sc_time_stamp();
    int cause = m_rec.time.later(x->cause, m_self.acquire());
    m_wait += (sc_core::sc_time_stamp() - asked).to_seconds();
    m_n.assign(m_n.size(), 0.0);
    m_model.count(x->elements, m_n, x->rows);
    add_counts(x->layer, m_n);
    cause = work(cause, m_n, x->layer, x->image, type());
    m_self.release(cause);
    x->cause = cause;
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
