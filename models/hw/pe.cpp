#include "models/hw/pe.h"

#include <algorithm>
#include <string>

#include "models/core/error.h"

namespace cim::hw {

pe::pe(const sc_core::sc_module_name& name, run_record& rec, const subarray_setup& setup, const mapping::pe_plan& plan,
       std::uint64_t first_block_id, const network::graph* graph, const std::vector<const func::adc_transfer*>& adcs,
       const circuit::adder_tree& adder, const accumulation_factory* rtl)
    : component(name, "pe", rec, &adder.table()), m_plan(plan), m_adder(adder) {
    in.register_b_transport(this, &pe::b_transport);
    if (rtl != nullptr && *rtl) m_rtl = (*rtl)(std::string(sc_core::sc_object::name()));
    for (std::size_t k = 0; k < plan.subarrays.size(); ++k) {
        const mapping::subarray_slot& slot = plan.subarrays[k];
        const network::layer* layer =
            slot.used() && graph ? &graph->layers.at(static_cast<std::size_t>(slot.layer)) : nullptr;
        auto c = std::make_unique<child>();
        const std::string n = "subarray_" + std::to_string(k);
        c->target = std::make_unique<subarray>(n.c_str(), rec, setup, slot, first_block_id + k, layer,
                                               k < adcs.size() ? adcs[k] : nullptr);
        c->socket = std::make_unique<proto::compute_initiator_socket<pe>>(("to_" + n).c_str());
        c->socket->bind(c->target->in);
        if (slot.used()) ++m_used;
        m_children.push_back(std::move(c));
    }
}

void pe::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* x = tx.get_extension<proto::mvm_extension>();
    if (x == nullptr) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    sync(delay);
    int cause = m_rec.time.later(x->cause, m_self.acquire());
    // The subarrays of this layer read concurrently. Under an RTL block each writes its partial sums into its own
    // buffer, which the block reads after the join. Otherwise each adds them into the layer's accumulators as its
    // read finishes: the adder tree adds integers exactly, so the order does not matter, and its time and energy are
    // still booked at the join below. The layer's partial sums are then never all held at once.
    m_branches.clear();
    m_blocks.clear();
    std::vector<child*> active;
    for (std::size_t k = 0; k < m_children.size(); ++k) {
        const mapping::subarray_slot& slot = m_plan.subarrays[k];
        if (!slot.used() || slot.layer != x->layer) continue;
        if (engine::vectors_of_copy(slot.copy, x->n_vectors, x->duplication) == 0) continue;  // a copy with no vector
        child& c = *m_children[k];
        c.ext = *x;
        c.ext.cause = cause;
        c.ext.response_words = 0;
        if (x->inputs != nullptr && m_rtl) {
            c.psums.resize(static_cast<std::size_t>(engine::vectors_of_copy(slot.copy, x->n_vectors, x->duplication)) *
                           static_cast<std::size_t>(slot.ch_end - slot.ch_begin));
            c.ext.psums = c.psums.data();
        } else {
            c.ext.psums = nullptr;  // TLM: the subarray adds its partial sums into the layer's accumulators (acc)
        }
        if (m_rtl) m_blocks.push_back({c.psums.data(), slot.copy, slot.ch_begin, slot.ch_end - slot.ch_begin});
        active.push_back(&c);
        m_branches.emplace_back([&c, this] {
            proto::extension_guard<proto::mvm_extension> guard(c.payload, c.ext);
            sc_core::sc_time d = sc_core::SC_ZERO_TIME;
            (*c.socket)->b_transport(c.payload, d);
            if (c.payload.get_response_status() != tlm::TLM_OK_RESPONSE)
                throw model_error(c.target->name(), "the subarray rejected the read");
            sync(d);
        });
    }
    m_rec.pool.fork_join(m_branches);
    // Join: the accumulation follows the subarray that finished last.
    std::uint64_t words = 0;
    for (child* c : active) {
        cause = m_rec.time.later(cause, c->ext.cause);
        words += c->ext.response_words;
    }
    // Accumulation: the adder tree's words are counted either way (its table prices the energy); the time is the
    // adder tree's (TLM) or the RTL block's clock cycles.
    m_n.assign(m_n.size(), 0.0);
    m_adder.count(words, m_n);
    add_counts(x->layer, m_n);
    if (m_rtl) {
        // The block accumulates into the PE's own sums (its channels, from zero); they join the layer's
        // accumulators when it is done, as the tile's adder tree would. The PEs of a layer run at once, so the block
        // must never read-modify-write the layer's shared accumulators over its clock cycles.
        int lo = x->out_channels, hi = 0;
        for (const psum_block& b : m_blocks) lo = std::min(lo, b.ch_begin), hi = std::max(hi, b.ch_begin + b.chans);
        const int width = std::max(0, hi - lo);
        std::vector<psum_block> local_blocks = m_blocks;
        for (psum_block& b : local_blocks) b.ch_begin -= lo;
        std::vector<std::int64_t> local(x->inputs ? static_cast<std::size_t>(x->n_vectors) * static_cast<std::size_t>(width) : 0, 0);
        const sc_core::sc_time start = sc_core::sc_time_stamp();
        const std::uint64_t c0 = m_rtl->cycles();
        m_rtl->accumulate(x->inputs ? local.data() : nullptr, x->n_vectors, x->duplication, width, local_blocks);
        if (x->inputs)
            for (int v = 0; v < x->n_vectors; ++v)
                for (int c = 0; c < width; ++c)
                    x->acc[static_cast<std::size_t>(v) * static_cast<std::size_t>(x->out_channels) + static_cast<std::size_t>(lo + c)] +=
                        local[static_cast<std::size_t>(v) * static_cast<std::size_t>(width) + static_cast<std::size_t>(c)];
        m_rtl_cycles += static_cast<double>(m_rtl->cycles() - c0);
        cause = elapsed(cause, start, circuit::category::accumulation, x->layer, x->image, "rtl accumulate");
    } else {
        cause = work(cause, m_n, x->layer, x->image, "adder tree");
    }
    for (child* c : active) std::vector<std::int64_t>().swap(c->psums);  // transient: free until the next read
    m_self.release(cause);
    x->cause = cause;
    x->response_words = words;
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
