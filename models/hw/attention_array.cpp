#include "models/hw/attention_array.h"

#include <string>

#include "models/core/error.h"

namespace cim::hw {

attention_array::attention_array(const sc_core::sc_module_name& name, run_record& rec, const attention_setup& setup)
    : component(name, "attention_array", rec, nullptr), m_setup(setup) {
    in.register_b_transport(this, &attention_array::b_transport);
    const auto& o = setup.chip_options;
    for (unsigned p = 0; p < o.attention_subarrays; ++p) {
        auto c = std::make_unique<child>();
        const std::string n = "subarray_" + std::to_string(p);
        c->target = std::make_unique<subarray>(n.c_str(), rec, setup.pool, mapping::subarray_slot{},
                                               engine::attention_block_id(o, static_cast<int>(p)), nullptr, nullptr);
        c->socket = std::make_unique<proto::compute_initiator_socket<attention_array>>(("to_" + n).c_str());
        c->socket->bind(c->target->in);
        m_pool.push_back(std::move(c));
    }
    m_accumulator = std::make_unique<vector_unit>("accumulator", "accumulator", rec, setup.accumulator);
    m_requantizer = std::make_unique<vector_unit>("activation", "activation", rec, setup.requantizer);
    m_to_accumulator.bind(m_accumulator->in);
    m_to_requantizer.bind(m_requantizer->in);
}

int attention_array::unit(proto::compute_initiator_socket<attention_array>& s, std::uint64_t elements, int layer,
                          std::int64_t image, int cause) {
    m_unit_ext = proto::op_extension{};
    m_unit_ext.what = proto::op_extension::kind::accumulate;  // counts only: the array holds the data
    m_unit_ext.layer = layer;
    m_unit_ext.image = image;
    m_unit_ext.elements = elements;
    m_unit_ext.cause = cause;
    proto::extension_guard<proto::op_extension> guard(m_unit_payload, m_unit_ext);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    s->b_transport(m_unit_payload, d);
    if (m_unit_payload.get_response_status() != tlm::TLM_OK_RESPONSE) throw model_error(name(), "a digital unit failed");
    sync(d);
    return m_unit_ext.cause;
}

void attention_array::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* x = tx.get_extension<proto::op_extension>();
    if (x == nullptr || x->layer < 0) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    sync(delay);
    int cause = m_rec.time.later(x->cause, m_self.acquire());
    const network::graph& g = m_setup.graph;
    const int layer = x->layer;
    const network::layer& l = g.layers.at(static_cast<std::size_t>(layer));
    const engine::matmul_dims d = engine::matmul_dims_of(g, layer);
    const bool a_signed = g.layers.at(static_cast<std::size_t>(l.input_ids.at(0))).may_be_negative;
    const bool data = x->out != nullptr && x->inputs.size() == 2 && x->inputs[0] != nullptr && x->inputs[1] != nullptr;
    const auto blocks = engine::attention_blocks(layer, d, m_setup.chip_options);

    // The second operand of every head as a weight matrix ([n][k], B_h transposed).
    std::vector<std::vector<std::int32_t>> weights(static_cast<std::size_t>(d.batch));
    if (data)
        for (int h = 0; h < d.batch; ++h) engine::attention_weights(x->inputs[1]->data(), d, h, weights[static_cast<std::size_t>(h)]);
    std::vector<std::int64_t> acc(data ? static_cast<std::size_t>(d.batch) * d.m * d.n : 0, 0);

    std::uint64_t words = 0;
    for (std::size_t first = 0; first < blocks.size();) {
        const int wave = blocks[first].wave;
        std::size_t last = first;
        while (last < blocks.size() && blocks[last].wave == wave) ++last;
        m_waves += 1;
        // Writes of the wave, concurrently.
        m_branches.clear();
        for (std::size_t j = first; j < last; ++j) {
            const engine::attention_block& b = blocks[j];
            child& c = *m_pool[static_cast<std::size_t>(b.pool)];
            c.block = &b;
            c.write = proto::write_extension{};
            c.write.layer = layer;
            c.write.image = x->image;
            c.write.weights = data ? weights[static_cast<std::size_t>(b.head)].data() : nullptr;
            c.write.weight_rows = d.k;
            c.write.where = &b.where;
            c.write.signed_input = a_signed;
            c.write.cause = cause;
            m_branches.emplace_back([&c, this] {
                proto::extension_guard<proto::write_extension> guard(c.payload, c.write);
                sc_core::sc_time t = sc_core::SC_ZERO_TIME;
                (*c.socket)->b_transport(c.payload, t);
                if (c.payload.get_response_status() != tlm::TLM_OK_RESPONSE)
                    throw model_error(c.target->name(), "the pool subarray rejected the write");
                sync(t);
            });
        }
        m_rec.pool.fork_join(m_branches);
        int wrote = cause;
        for (std::size_t j = first; j < last; ++j) wrote = m_rec.time.later(wrote, m_pool[static_cast<std::size_t>(blocks[j].pool)]->write.cause);
        // Reads of the wave, concurrently.
        m_branches.clear();
        for (std::size_t j = first; j < last; ++j) {
            const engine::attention_block& b = blocks[j];
            child& c = *m_pool[static_cast<std::size_t>(b.pool)];
            const int chans = b.where.ch_end - b.where.ch_begin;
            c.read = proto::mvm_extension{};
            c.read.layer = layer;
            c.read.image = x->image;
            c.read.inputs = data ? x->inputs[0]->data() + static_cast<std::int64_t>(b.head) * d.m * d.k : nullptr;
            c.read.n_vectors = d.m;
            c.read.row_stride = d.k;
            c.read.duplication = 1;
            c.read.out_channels = chans;
            if (data) {
                c.psums.assign(static_cast<std::size_t>(d.m) * static_cast<std::size_t>(chans), 0);
                c.read.psums = c.psums.data();
            }
            c.read.cause = wrote;
            m_branches.emplace_back([&c, this] {
                proto::extension_guard<proto::mvm_extension> guard(c.payload, c.read);
                sc_core::sc_time t = sc_core::SC_ZERO_TIME;
                (*c.socket)->b_transport(c.payload, t);
                if (c.payload.get_response_status() != tlm::TLM_OK_RESPONSE)
                    throw model_error(c.target->name(), "the pool subarray rejected the read");
                sync(t);
            });
        }
        m_rec.pool.fork_join(m_branches);
        int wave_done = wrote;
        for (std::size_t j = first; j < last; ++j) {
            const engine::attention_block& b = blocks[j];
            child& c = *m_pool[static_cast<std::size_t>(b.pool)];
            wave_done = m_rec.time.later(wave_done, c.read.cause);
            const int chans = b.where.ch_end - b.where.ch_begin;
            words += static_cast<std::uint64_t>(d.m) * static_cast<std::uint64_t>(chans);
            if (!data) continue;
            std::int64_t* out = acc.data() + static_cast<std::int64_t>(b.head) * d.m * d.n;
            for (int i = 0; i < d.m; ++i)
                for (int ch = 0; ch < chans; ++ch)
                    out[static_cast<std::size_t>(i) * d.n + b.where.ch_begin + ch] += c.psums[static_cast<std::size_t>(i) * chans + ch];
        }
        cause = wave_done;
        first = last;
    }
    // The row blocks' partial sums added, then the products requantised.
    cause = unit(m_to_accumulator, words, layer, x->image, cause);
    if (data) *x->out = engine::finish_matmul(g, layer, acc, m_setup.quant);
    cause = unit(m_to_requantizer, static_cast<std::uint64_t>(l.out.size()), layer, x->image, cause);
    m_products += 1;
    m_self.release(cause);
    x->cause = cause;
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
