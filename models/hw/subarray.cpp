#include "models/hw/subarray.h"

#include <cmath>

#include "models/core/error.h"
#include "models/functional/crossbar_mvm.h"

namespace cim::hw {

namespace {
// With a lossless-enough ADC the conversion is exact; the ADC the circuit model prices is the configured one.
unsigned ref_columns(const context& ctx) { return func::reference_columns(ctx.quant, ctx.cell.bits); }
}  // namespace

subarray::subarray(const sc_core::sc_module_name& name, const context& ctx, const mapping::subarray_slot& slot,
                   int programmed)
    : component(name, "subarray", ctx.rec),
      m_ctx(ctx),
      m_slot(slot),
      m_model(ctx.tech, ctx.calib, ctx.cell, ctx.subarray, ref_columns(ctx)),
      m_programmed(programmed) {
    in.register_b_transport(this, &subarray::b_transport);
    if (m_slot.used() && m_programmed < 0) throw model_error(std::string(sc_core::sc_object::name()), "a mapped subarray was not programmed");
}

std::array<double, 6> subarray::own_area() const {
    return m_model.table().area_by_category();
}

void subarray::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* op = tx.get_extension<proto::mvm_extension>();
    m_last_words = 0;
    m_psums.clear();
    if (op == nullptr || !m_slot.used() || op->layer != m_slot.layer) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    const int rows = m_slot.row_end - m_slot.row_begin;
    const int chans = m_slot.ch_end - m_slot.ch_begin;
    int n = 0;  // vectors of this copy: v % duplication == copy
    for (int v = m_slot.copy; v < op->n_vectors; v += op->duplication) ++n;
    if (n == 0) {
        tx.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    // Behaviour: the same routine the batched engine runs for this subarray (bit-identical by construction).
    func::mvm_activity act;
    const auto& model = m_ctx.model;
    model.read_slot(m_programmed, model.adcs()[static_cast<std::size_t>(m_programmed)], op->inputs, op->n_vectors,
                    op->row_stride, op->duplication, op->image, m_psums, &act);
    const func::subarray_block& block = model.slots()[static_cast<std::size_t>(m_programmed)].block;

    circuit::read_activity a;  // price the measured activity
    a.vectors = static_cast<std::uint64_t>(n);
    a.input_slices = func::input_slices(m_ctx.quant);
    a.active_rows = static_cast<unsigned>(rows);
    a.active_cols = static_cast<unsigned>(block.columns());
    a.input_ones = act.input_ones;
    a.column_level_sum = act.column_sum_total;
    if (m_ctx.trace.kind != trace_costing::mode::real) {  // price assumed activity parameters instead
        const bool pseudo = m_ctx.trace.kind == trace_costing::mode::pseudo;
        const double density = pseudo ? op->input_density : m_ctx.trace.average_activity;
        const double level = pseudo ? m_ctx.trace.layer_mean_level->at(static_cast<std::size_t>(op->layer))
                                    : m_ctx.trace.average_activity * double(m_ctx.cell.levels() - 1);
        a.input_ones = static_cast<std::uint64_t>(std::llround(density * double(n) * a.input_slices * rows));
        a.column_level_sum = double(a.input_ones) * a.active_cols * level;
    }
    const auto cost = m_model.read(a);

    m_vectors += static_cast<std::uint64_t>(n);  // count
    m_conversions += cost.conversions;
    m_input_ones += act.input_ones;
    m_energy_array += cost.energy_array;
    m_energy_adc += cost.energy_adc;
    m_energy_switch += cost.energy_switch;
    m_energy_shift_add += cost.energy_accumulation;
    m_busy += cost.total.latency;
    charge(category::array, cost.energy_array);
    charge(category::adc, cost.energy_adc);
    charge(category::other, cost.energy_switch);
    charge(category::accumulation, cost.energy_accumulation);
    op->critical = {};
    op->critical.array = cost.latency_array;
    op->critical.adc = cost.latency_adc;
    op->critical.accumulation = cost.latency_accumulation;
    m_last_words = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(chans);
    const sc_core::sc_time start = sc_core::sc_time_stamp() + delay;
    delay += sc_core::sc_time(cost.total.latency, sc_core::SC_SEC);
    log_interval(m_ctx.graph.layers[static_cast<std::size_t>(op->layer)].name + " read", start, sc_core::sc_time_stamp() + delay);
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
