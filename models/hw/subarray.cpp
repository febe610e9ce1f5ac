#include "models/hw/subarray.h"

#include <cmath>

#include "models/core/error.h"
#include "models/functional/crossbar_mvm.h"

namespace cim::hw {

const func::adc_transfer& subarray_setup::default_adc(const func::subarray_block& b) const {
    const std::int64_t fs = func::full_scale(b, options.quant, options.rows_per_read);
    auto it = m_default_adcs.find(fs);
    if (it == m_default_adcs.end()) it = m_default_adcs.emplace(fs, engine::default_adc(b, options)).first;
    return it->second;
}

subarray::subarray(const sc_core::sc_module_name& name, run_record& rec, const subarray_setup& setup,
                   const mapping::subarray_slot& slot, std::uint64_t block_id, const network::layer* layer,
                   const func::adc_transfer* calibrated)
    : component(name, "subarray", rec, &setup.model.table()), m_setup(setup), m_adc(1, 0) {
    in.register_b_transport(this, &subarray::b_transport);
    m_slot.where = slot;
    m_slot.block_id = block_id;
    if (!slot.used()) return;
    const auto& o = setup.options;
    m_columns = static_cast<unsigned>((slot.ch_end - slot.ch_begin) * func::columns_per_weight(o.quant, o.cell_bits) +
                                      func::reference_columns(o.quant, o.cell_bits));
    if (layer != nullptr) m_signed = layer->signed_input;
    if (rec.replay) return;  // a timing replay reads no cells
    if (layer == nullptr) throw model_error(std::string(sc_core::sc_object::name()), "a mapped subarray has no layer");
    m_slot.block = engine::program_slot(*layer, slot, block_id, o);
    m_slot.signed_input = layer->signed_input;
    m_adc = calibrated ? *calibrated : setup.default_adc(m_slot.block);
    if (setup.programmed) setup.programmed(slot.layer);
}

void subarray::write(tlm::tlm_generic_payload& tx, proto::write_extension& x) {
    const auto& o = m_setup.options;
    if (x.where != nullptr) {  // a pool subarray takes a new block
        m_slot.where = *x.where;
        m_signed = m_slot.signed_input = x.signed_input;
        m_columns = static_cast<unsigned>((m_slot.where.ch_end - m_slot.where.ch_begin) *
                                              func::columns_per_weight(o.quant, o.cell_bits) +
                                          func::reference_columns(o.quant, o.cell_bits));
    }
    // The log key: the block id, and for a block written several times in one (layer, image) the write's rank.
    if (x.layer != m_log_layer || x.image != m_log_image) m_log_layer = x.layer, m_log_image = x.image, m_log_seq = 0;
    else ++m_log_seq;
    const mapping::subarray_slot& where = m_slot.where;
    const unsigned rows = static_cast<unsigned>(where.row_end - where.row_begin);
    double level_sum = x.level_sum;
    if (!m_rec.replay) {
        if (x.weights == nullptr || x.weight_rows < where.row_end) throw model_error(name(), "a write without its weights");
        m_slot.block = engine::program_slot(x.weights, x.weight_rows, where, m_slot.block_id, o);
        m_adc = m_setup.default_adc(m_slot.block);
        level_sum = 0;
        const double unit = std::ldexp(1.0, -static_cast<int>(m_slot.block.frac_bits));
        for (float v : m_slot.block.levels) level_sum += static_cast<double>(v) * unit;
        m_rec.reads.add(read_log::write{log_key(), x.layer, x.image, level_sum});
    } else {
        level_sum = m_rec.reads.find_write(log_key(), x.layer, x.image).level_sum;
    }
    m_n.assign(m_n.size(), 0.0);
    m_setup.model.count_write(rows, m_columns, level_sum, m_n);
    add_counts(x.layer, m_n);
    m_writes += 1;
    if (m_setup.model.endurance() > 0) m_endurance += 1.0 / m_setup.model.endurance();
    x.cause = work(x.cause, m_n, x.layer, x.image, "write");
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

void subarray::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
    if (auto* w = tx.get_extension<proto::write_extension>()) {
        if (w->where == nullptr && (!m_slot.where.used() || w->layer != m_slot.where.layer)) {
            tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
            return;
        }
        sync(delay);
        write(tx, *w);
        return;
    }
    auto* x = tx.get_extension<proto::mvm_extension>();
    const mapping::subarray_slot& where = m_slot.where;
    if (x == nullptr || !where.used() || x->layer != where.layer) {
        tx.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    sync(delay);
    const int n = engine::vectors_of_copy(where.copy, x->n_vectors, x->duplication);
    const int rows = where.row_end - where.row_begin;
    const int chans = where.ch_end - where.ch_begin;
    // Behaviour: the read the batched engine runs for this block, or its recorded activity in a replay.
    func::mvm_activity act;
    if (m_rec.replay) {
        const read_log::read& r = m_rec.reads.find(log_key(), x->layer, x->image);
        act.input_ones = r.input_ones;
        act.column_sum_total = r.column_level_sum;
    } else {
        if (x->inputs == nullptr || (x->psums == nullptr && x->acc == nullptr))
            throw model_error(name(), "a read without data");
        if (x->psums != nullptr) {
            engine::read_block(m_slot, m_adc, m_setup.options, x->inputs, x->n_vectors, x->row_stride, x->duplication,
                               x->image, x->psums, &act);
        } else {  // added into the layer's accumulators
            engine::accumulate_block(m_slot, m_adc, m_setup.options, x->inputs, x->n_vectors, x->row_stride,
                                     x->duplication, x->image, x->out_channels, x->acc, &act);
        }
        m_rec.reads.add(read_log::read{log_key(), x->layer, x->image, act.input_ones, act.column_sum_total});
    }
    // The activity the counts are taken from: measured, or the pseudo / average costing's assumption.
    circuit::read_activity a;
    a.vectors = static_cast<std::uint64_t>(n) * (m_signed ? 2 : 1);  // a signed input: two passes
    a.input_slices = func::input_slices(m_setup.options.quant);
    a.active_rows = static_cast<unsigned>(rows);
    a.active_cols = m_columns;
    a.input_ones = act.input_ones;
    a.column_level_sum = act.column_sum_total;
    const activity_costing& tc = m_setup.activity;
    if (tc.kind != activity_costing::mode::real) {
        const bool pseudo = tc.kind == activity_costing::mode::pseudo;
        const double density = pseudo ? x->input_density : tc.average_activity;
        const double level = pseudo ? tc.layer_mean_level.at(static_cast<std::size_t>(x->layer))
                                    : tc.average_activity * double((1u << m_setup.options.cell_bits) - 1);
        a.input_ones = static_cast<std::uint64_t>(std::llround(density * double(n) * a.input_slices * rows));
        a.column_level_sum = double(a.input_ones) * a.active_cols * level;
    }
    m_n.assign(m_n.size(), 0.0);
    m_setup.model.count(a, m_n);
    add_counts(x->layer, m_n);
    m_reads += 1;
    m_vectors += static_cast<std::uint64_t>(n);
    x->cause = work(x->cause, m_n, x->layer, x->image, "read");
    x->response_words = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(chans);
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace cim::hw
