#include "models/hw/tile.h"

#include <algorithm>
#include <string>

#include "models/core/error.h"

namespace cim::hw {

tile::tile(const sc_core::sc_module_name& name, run_record& rec, const tile_setup& setup, const mapping::tile_plan& plan,
           std::uint64_t first_block_id, const network::graph* graph, const std::vector<const func::adc_transfer*>& adcs,
           const buffer_config& buffer_cfg, double)
    : component(name, "tile", rec,
                &setup.adder(static_cast<unsigned>(std::max<std::size_t>(2, plan.pes.size())), true).table()),
      m_plan(plan),
      m_adder(setup.adder(static_cast<unsigned>(std::max<std::size_t>(2, plan.pes.size())), true)),
      m_buffer("buffer", rec, setup.buffer, buffer_cfg.size) {
    in.register_b_transport(this, &tile::b_transport);
    m_to_buffer.bind(m_buffer.in);
    m_input_rows = mapping::tile_input_rows(plan);
    m_input_bits = setup.subarrays.options.quant.input_bits;
    std::uint64_t block = first_block_id;
    std::size_t slot = 0;  // index into adcs: the tile's subarrays in plan order
    for (std::size_t i = 0; i < plan.pes.size(); ++i) {
        const auto& pp = plan.pes[i];
        const std::vector<const func::adc_transfer*> pe_adcs(
            adcs.begin() + static_cast<std::ptrdiff_t>(std::min(slot, adcs.size())),
            adcs.begin() + static_cast<std::ptrdiff_t>(std::min(slot + pp.subarrays.size(), adcs.size())));
        auto c = std::make_unique<child>();
        const std::string n = "pe_" + std::to_string(i);
        c->target = std::make_unique<pe>(n.c_str(), rec, setup.subarrays, pp, block, graph, pe_adcs,
                                         setup.adder(static_cast<unsigned>(std::max<std::size_t>(2, pp.subarrays.size())), false),
                                         setup.rtl);
        c->socket = std::make_unique<proto::compute_initiator_socket<tile>>(("to_" + n).c_str());
        c->socket->bind(c->target->in);
        m_children.push_back(std::move(c));
        block += pp.subarrays.size();
        slot += pp.subarrays.size();
    }
}

int tile::stage(int cause, std::uint64_t bytes, int layer, std::int64_t image) {
    if (bytes == 0) return cause;
    m_buffer_ext = proto::buffer_extension{};
    m_buffer_ext.what = proto::buffer_extension::kind::stage;
    m_buffer_ext.bytes = bytes;
    m_buffer_ext.layer = layer;
    m_buffer_ext.key = {layer, image};
    m_buffer_ext.cause = cause;
    proto::extension_guard<proto::buffer_extension> guard(m_buffer_payload, m_buffer_ext);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    m_to_buffer->b_transport(m_buffer_payload, d);
    if (m_buffer_payload.get_response_status() != tlm::TLM_OK_RESPONSE)
        throw model_error(name(), "the tile buffer rejected the staging");
    sync(d);
    return m_buffer_ext.cause;
}

void tile::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* x = tx.get_extension<proto::mvm_extension>();
    if (x == nullptr || x->layer != m_plan.layer) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    sync(delay);
    int cause = m_rec.time.later(x->cause, m_self.acquire());
    m_vectors += static_cast<std::uint64_t>(x->n_vectors);
    // Stage the inputs: written into the tile buffer from the interconnect, read out to the PEs.
    const std::uint64_t in_bytes =
        (static_cast<std::uint64_t>(x->n_vectors) * static_cast<std::uint64_t>(m_input_rows) * m_input_bits + 7) / 8;
    cause = stage(cause, in_bytes, x->layer, x->image);
    // The PEs compute concurrently.
    m_branches.clear();
    std::vector<child*> active;
    for (auto& cp : m_children) {
        child& c = *cp;
        if (c.target->idle()) continue;
        c.ext = *x;
        c.ext.cause = cause;
        c.ext.response_words = 0;
        active.push_back(&c);
        m_branches.emplace_back([&c] {
            proto::extension_guard<proto::mvm_extension> guard(c.payload, c.ext);
            sc_core::sc_time d = sc_core::SC_ZERO_TIME;
            (*c.socket)->b_transport(c.payload, d);
            if (c.payload.get_response_status() != tlm::TLM_OK_RESPONSE)
                throw model_error(c.target->name(), "the PE rejected the transaction");
            sync(d);
        });
    }
    m_rec.pool.fork_join(m_branches);
    std::uint64_t words = 0;
    for (child* c : active) {
        cause = m_rec.time.later(cause, c->ext.cause);
        words += c->ext.response_words;
    }
    // The tile's adder tree sums the PEs' partial sums.
    m_n.assign(m_n.size(), 0.0);
    m_adder.count(words, m_n);
    add_counts(x->layer, m_n);
    cause = work(cause, m_n, x->layer, x->image, "adder tree");
    m_self.release(cause);
    x->cause = cause;
    x->response_words = words;
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
