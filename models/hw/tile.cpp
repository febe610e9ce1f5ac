#include "models/hw/tile.h"

#include <algorithm>
#include <set>
#include <string>

namespace cim::hw {

namespace {
unsigned psum_bits(const context& ctx) {
    return ctx.subarray.adc_bits + ctx.quant.weight_bits + ctx.quant.input_bits + 4;
}

/// Move `bytes` through a base-protocol target (buffer), adding its delay.
void move_bytes(tlm_utils::simple_initiator_socket<tile>& s, tlm::tlm_command cmd, std::uint64_t bytes,
                sc_core::sc_time& delay) {
    if (bytes == 0) return;
    tlm::tlm_generic_payload p;
    p.set_command(cmd);
    p.set_address(0);
    p.set_data_ptr(nullptr);  // the buffer accounts for bytes; functional data stays with the controller
    p.set_data_length(static_cast<unsigned>(std::min<std::uint64_t>(bytes, 0xffffffffu)));
    p.set_streaming_width(p.get_data_length());
    p.set_byte_enable_ptr(nullptr);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    s->b_transport(p, delay);
}
}  // namespace

tile::tile(const sc_core::sc_module_name& name, const context& ctx, const mapping::tile_plan& plan, std::size_t index,
           const buffer_config& buffer_cfg)
    : component(name, "tile", ctx.rec),
      m_ctx(ctx),
      m_plan(plan),
      m_buffer("buffer", ctx.rec, ctx.tech, ctx.calib, buffer_cfg, ctx.clock_hz),
      m_adder(ctx.tech, ctx.calib, static_cast<unsigned>(std::max<std::size_t>(2, plan.pes.size())), psum_bits(ctx),
              ctx.subarray.cols) {
    in.register_b_transport(this, &tile::b_transport);
    m_to_buffer.bind(m_buffer.in);
    std::set<int> rows_seen;
    for (std::size_t i = 0; i < plan.pes.size(); ++i) {
        const std::string n = "pe_" + std::to_string(i);
        std::vector<int> programmed(plan.pes[i].subarrays.size(), -1);
        for (std::size_t k = 0; k < programmed.size(); ++k)
            if (const auto* s = ctx.model.slot_at(index, i, k)) programmed[k] = static_cast<int>(s - ctx.model.slots().data());
        m_pes.push_back(std::make_unique<pe>(n.c_str(), ctx, plan.pes[i], programmed));
        m_out.push_back(std::make_unique<proto::compute_initiator_socket<tile>>(("to_" + n).c_str()));
        m_out.back()->bind(m_pes.back()->in);
        for (const auto& s : plan.pes[i].subarrays)
            if (s.used() && s.copy == 0 && rows_seen.insert(s.row_begin).second) m_input_rows += s.row_end - s.row_begin;
    }
}

std::array<double, 6> tile::own_area() const {
    std::array<double, 6> a{};
    a[static_cast<std::size_t>(category::accumulation)] = m_adder.area();
    return a;
}

void tile::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* op = tx.get_extension<proto::mvm_extension>();
    m_last_words = 0;
    if (op == nullptr || op->layer != m_plan.layer) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    m_vectors += static_cast<std::uint64_t>(op->n_vectors);
    // Stage the inputs: written into the tile buffer from the H-tree, read out to the PEs.
    const std::uint64_t in_bytes = (static_cast<std::uint64_t>(op->n_vectors) * m_input_rows * m_ctx.quant.input_bits + 7) / 8;
    const sc_core::sc_time start = delay;
    move_bytes(m_to_buffer, tlm::TLM_WRITE_COMMAND, in_bytes, delay);
    move_bytes(m_to_buffer, tlm::TLM_READ_COMMAND, in_bytes, delay);
    const double t_buffer = (delay - start).to_seconds();

    sc_core::sc_time slowest = delay;
    proto::latency_split split;
    for (std::size_t i = 0; i < m_pes.size(); ++i) {
        if (m_pes[i]->idle()) continue;
        sc_core::sc_time d = delay;
        (*m_out[i])->b_transport(tx, d);
        if (tx.get_response_status() != tlm::TLM_OK_RESPONSE) return;
        m_last_words += m_pes[i]->last_words();
        if (d > slowest) {
            slowest = d;
            split = op->critical;
        }
    }
    const auto c = m_adder.reduce(m_last_words);
    m_adds += m_last_words;
    m_energy += c.energy;
    charge(category::accumulation, c.energy);
    split.accumulation += c.latency;
    split.buffer += t_buffer;
    op->critical = split;
    delay = slowest + sc_core::sc_time(c.latency, sc_core::SC_SEC);
    log_interval(m_ctx.graph.layers[static_cast<std::size_t>(op->layer)].name, sc_core::sc_time_stamp() + start,
                 sc_core::sc_time_stamp() + delay);
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
