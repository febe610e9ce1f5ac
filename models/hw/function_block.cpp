#include "models/hw/function_block.h"

#include <string>

#include "models/core/error.h"

namespace cim::hw {

template <class U, class... A>
function_block::route* function_block::add(A&&... args) {
    auto r = std::make_unique<route>();
    auto u = std::make_unique<U>(std::forward<A>(args)...);
    r->socket = std::make_unique<proto::compute_initiator_socket<function_block>>(
        (std::string("to_") + u->basename()).c_str());
    r->socket->bind(u->in);
    r->unit = std::move(u);
    m_routes.push_back(std::move(r));
    return m_routes.back().get();
}

function_block::function_block(const sc_core::sc_module_name& name, run_record& rec, const network::graph& g,
                               const models& m)
    : component(name, "function_block", rec, nullptr), m_graph(g) {
    in.register_b_transport(this, &function_block::b_transport);
    bool softmax = false, layernorm = false, gelu = false, matmul = false;
    for (const auto& l : g.layers) {
        softmax = softmax || l.kind == network::op::softmax;
        layernorm = layernorm || l.kind == network::op::layernorm;
        gelu = gelu || l.kind == network::op::gelu;
        matmul = matmul || l.kind == network::op::matmul;
    }
    if (softmax && m.softmax) m_softmax = add<vector_unit>("softmax", "softmax", rec, *m.softmax);
    if (layernorm && m.layernorm) m_layernorm = add<vector_unit>("layernorm", "layernorm", rec, *m.layernorm);
    if (gelu && m.gelu) m_gelu = add<vector_unit>("gelu", "gelu", rec, *m.gelu);
    if (matmul && m.attention) m_attention = add<attention_array>("attention", rec, *m.attention);
    else if (matmul && m.mac) m_attention = add<vector_unit>("attention", "attention", rec, *m.mac);
}

void function_block::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* x = tx.get_extension<proto::op_extension>();
    if (x == nullptr || x->layer < 0 || static_cast<std::size_t>(x->layer) >= m_graph.layers.size()) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    const network::layer& l = m_graph.layers[static_cast<std::size_t>(x->layer)];
    const auto size = static_cast<std::uint64_t>(l.out.size());
    const auto last = static_cast<std::uint64_t>(std::max(1, l.in.last()));
    route* r = nullptr;
    switch (l.kind) {
        case network::op::softmax:  // a pass for the maximum and the sum, one to normalise: two per element
            r = m_softmax, x->elements = 2 * size, x->rows = size / last;
            break;
        case network::op::layernorm:  // a pass for the sums, one to normalise
            r = m_layernorm, x->elements = 2 * size, x->rows = size / last;
            break;
        case network::op::gelu: r = m_gelu, x->elements = size, x->rows = 0; break;
        case network::op::matmul: r = m_attention, x->elements = static_cast<std::uint64_t>(l.macs()), x->rows = 0; break;
        default: break;
    }
    if (r == nullptr) throw model_error(name(), std::string("no unit for ") + network::op_name(l.kind) + " layer '" + l.name + "'");
    (*r->socket)->b_transport(tx, delay);
}

}  // namespace cim::hw
