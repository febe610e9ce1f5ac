#include "models/hw/subarray.h"

#include "models/functional/crossbar_mvm.h"

namespace cim::hw {

namespace {
// With a lossless-enough ADC the conversion is exact; the ADC the circuit model prices is the configured one.
unsigned ref_columns(const context& ctx) { return func::reference_columns(ctx.quant, ctx.cell.bits); }
}  // namespace

subarray::subarray(const sc_core::sc_module_name& name, const context& ctx, const mapping::subarray_slot& slot)
    : component(name, "subarray", ctx.ledger),
      m_ctx(ctx),
      m_slot(slot),
      m_model(ctx.tech, ctx.cell, ctx.subarray, ref_columns(ctx), ctx.subarray.adc_bits) {
    in.register_b_transport(this, &subarray::b_transport);
    if (!m_slot.used()) return;
    const network::layer& L = ctx.graph.layers[static_cast<std::size_t>(m_slot.layer)];
    m_block = func::program_block(L.qweights.data(), L.weight_rows(), m_slot.row_begin, m_slot.row_end, m_slot.ch_begin,
                                  m_slot.ch_end, ctx.quant, ctx.cell.bits);
    m_adc = std::make_unique<func::adc_transfer>(ctx.subarray.adc_bits, func::full_scale(m_block, ctx.quant));
}

std::array<double, 6> subarray::own_area() const {
    std::array<double, 6> a{};
    a[static_cast<std::size_t>(category::array)] = m_model.area_array();
    a[static_cast<std::size_t>(category::adc)] = m_model.area_adc();
    a[static_cast<std::size_t>(category::other)] = m_model.area_periphery();
    return a;
}

void subarray::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    auto* op = tx.get_extension<proto::mvm_extension>();
    m_last_words = 0;
    if (op == nullptr || !m_slot.used() || op->layer != m_slot.layer) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    const int rows = m_slot.row_end - m_slot.row_begin;
    const int chans = m_slot.ch_end - m_slot.ch_begin;
    // Gather the vectors of this copy (v % duplication == copy), rows of this block only.
    int n = 0;
    for (int v = m_slot.copy; v < op->n_vectors; v += op->duplication) ++n;
    if (n == 0) {
        tx.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    m_x.resize(static_cast<std::size_t>(n) * rows);
    m_y.resize(static_cast<std::size_t>(n) * chans);
    int i = 0;
    for (int v = m_slot.copy; v < op->n_vectors; v += op->duplication, ++i) {
        const std::int32_t* src = op->inputs + static_cast<std::size_t>(v) * op->row_stride + m_slot.row_begin;
        std::copy(src, src + rows, m_x.begin() + static_cast<std::ptrdiff_t>(i) * rows);
    }
    func::mvm_activity act;
    func::block_mvm(m_block, m_x.data(), n, rows, m_ctx.quant, *m_adc, m_y.data(), &act);  // behaviour
    i = 0;
    for (int v = m_slot.copy; v < op->n_vectors; v += op->duplication, ++i) {
        std::int64_t* dst = op->outputs + static_cast<std::size_t>(v) * op->out_channels + m_slot.ch_begin;
        const std::int64_t* src = m_y.data() + static_cast<std::size_t>(i) * chans;
        for (int c = 0; c < chans; ++c) dst[c] += src[c];
    }

    circuit::read_activity a;  // price the measured activity
    a.vectors = static_cast<std::uint64_t>(n);
    a.input_slices = func::input_slices(m_ctx.quant);
    a.active_rows = static_cast<unsigned>(rows);
    a.active_cols = static_cast<unsigned>(m_block.columns());
    a.input_ones = act.input_ones;
    a.column_level_sum = act.column_sum_total;
    const auto cost = m_model.read(a);

    m_vectors += static_cast<std::uint64_t>(n);  // count
    m_conversions += cost.conversions;
    m_input_ones += act.input_ones;
    m_energy_array += cost.energy_array;
    m_energy_adc += cost.energy_adc;
    m_energy_shift_add += cost.energy_accumulation;
    m_busy += cost.total.latency;
    charge(category::array, cost.energy_array);
    charge(category::adc, cost.energy_adc);
    charge(category::accumulation, cost.energy_accumulation);
    op->critical = {};
    op->critical.array = cost.latency_array;
    op->critical.adc = cost.latency_adc;
    m_last_words = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(chans);
    delay += sc_core::sc_time(cost.total.latency, sc_core::SC_SEC);
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
