#include "models/hw/pe.h"

#include <algorithm>
#include <string>

namespace cim::hw {

digital::digital(const sc_core::sc_module_name& name, const char* type, const context& ctx, category cat,
                 unsigned lanes, const circuit::lane_circuit& lane)
    : component(name, type, ctx.rec), m_category(cat), m_model(type, ctx.calib, cat == category::accumulation, lanes, lane, ctx.clock_hz) {
    in.register_b_transport(this, &digital::b_transport);
}

std::array<double, 6> digital::own_area() const {
    std::array<double, 6> a{};
    a[static_cast<std::size_t>(m_category)] = m_model.area();
    return a;
}

circuit::action_cost digital::run(std::uint64_t elements) {
    const auto c = m_model.process(elements);
    m_ops += elements;
    m_energy += c.energy;
    charge(m_category, c.energy);
    return c;
}

void digital::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* op = tx.get_extension<proto::op_extension>();
    if (op == nullptr) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    const sc_core::sc_time start = sc_core::sc_time_stamp() + delay;
    delay += sc_core::sc_time(run(op->elements).latency, sc_core::SC_SEC);
    log_interval(std::to_string(op->elements) + " ops", start, sc_core::sc_time_stamp() + delay);
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

namespace {
// Partial-sum width entering the PE adder tree: ADC output + shifts of weight and input bits.
unsigned psum_bits(const context& ctx) { return ctx.subarray.adc_bits + ctx.quant.weight_bits + ctx.quant.input_bits; }
}  // namespace

pe::pe(const sc_core::sc_module_name& name, const context& ctx, const mapping::pe_plan& plan,
       const std::vector<int>& programmed)
    : component(name, "pe", ctx.rec),
      m_adder(ctx.tech, ctx.calib, static_cast<unsigned>(std::max<std::size_t>(2, plan.subarrays.size())), psum_bits(ctx),
              ctx.subarray.cols) {
    in.register_b_transport(this, &pe::b_transport);
    if (ctx.make_accumulator) m_acc = (*ctx.make_accumulator)(std::string(sc_core::sc_object::name()));
    if (!m_acc) m_acc = std::make_unique<tlm_pe_accumulator>();
    for (std::size_t i = 0; i < plan.subarrays.size(); ++i) {
        const std::string n = "subarray_" + std::to_string(i);
        m_subarrays.push_back(std::make_unique<subarray>(n.c_str(), ctx, plan.subarrays[i], programmed.at(i)));
        m_out.push_back(std::make_unique<proto::compute_initiator_socket<pe>>(("to_" + n).c_str()));
        m_out.back()->bind(m_subarrays.back()->in);
        if (plan.subarrays[i].used()) ++m_used;
    }
}

std::array<double, 6> pe::own_area() const {
    std::array<double, 6> a{};
    a[static_cast<std::size_t>(category::accumulation)] = m_adder.area();
    return a;
}

void pe::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* op = tx.get_extension<proto::mvm_extension>();
    m_last_words = 0;
    if (op == nullptr) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    // Subarrays read in parallel: each starts at the PE's time; the PE waits for the slowest.
    sc_core::sc_time slowest = delay;
    proto::latency_split split;
    m_blocks.clear();
    for (std::size_t i = 0; i < m_subarrays.size(); ++i) {
        if (m_subarrays[i]->idle() || m_subarrays[i]->slot().layer != op->layer) continue;
        sc_core::sc_time d = delay;
        (*m_out[i])->b_transport(tx, d);
        if (tx.get_response_status() != tlm::TLM_OK_RESPONSE) return;
        m_last_words += m_subarrays[i]->last_words();
        const auto& where = m_subarrays[i]->slot();
        if (!m_subarrays[i]->psums().empty())
            m_blocks.push_back({m_subarrays[i]->psums().data(), where.copy, where.ch_begin, where.ch_end - where.ch_begin});
        if (d > slowest) {
            slowest = d;
            split = op->critical;
        }
    }
    // Behaviour: the accumulation path adds the subarrays' partial sums into the layer's accumulators.
    m_rtl_cycles += m_acc->accumulate(op->outputs, op->n_vectors, op->duplication, op->out_channels, m_blocks);
    const auto c = m_adder.reduce(m_last_words);
    m_adds += m_last_words;
    m_energy += c.energy;
    charge(category::accumulation, c.energy);
    split.accumulation += c.latency;
    op->critical = split;
    log_interval("adder tree", sc_core::sc_time_stamp() + slowest,
                 sc_core::sc_time_stamp() + slowest + sc_core::sc_time(c.latency, sc_core::SC_SEC));
    delay = slowest + sc_core::sc_time(c.latency, sc_core::SC_SEC);
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
