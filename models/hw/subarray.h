#pragma once
#include <functional>
#include <cstdint>
#include <map>
#include <vector>

#include "models/circuit/components.h"
#include "models/engine/hardware_model.h"
#include "models/functional/adc_transfer.h"
#include "models/hw/component.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"
#include "models/proto/compute.h"

namespace cim::hw {

/// How the subarray read costs see the data (run.activity; Fig. 7 of the DNN+NeuroSim paper). The data path always
/// computes the real values; only the activity that the counts are taken from changes.
struct activity_costing {
    enum class mode { real, pseudo, average } kind = mode::real;
    double average_activity = 0.5;          // average: input-bit density and mean level fraction
    std::vector<double> layer_mean_level;   // pseudo: mean programmed level per graph layer
};

/// What every subarray of a chip shares: its circuit model (the action table its counts refer to), the data path
/// options it programs and reads with, and the costing mode.
struct subarray_setup {
    subarray_setup(const circuit::subarray_model& m, const engine::hardware_options& o, activity_costing a = {})
        : model(m), options(o), activity(std::move(a)) {}
    const circuit::subarray_model& model;
    const engine::hardware_options& options;
    activity_costing activity;
    /// Told the layer of every block programmed at elaboration (chip_inputs::programmed).
    std::function<void(int layer)> programmed;
    /// The full-scale ADC of a block, made once per full scale: the subarrays' copies share its conversion table.
    const func::adc_transfer& default_adc(const func::subarray_block& b) const;

private:
    mutable std::map<std::int64_t, func::adc_transfer> m_default_adcs;
};

/// One synaptic subarray: rows x cols cells (plus reference columns) with word-line drivers, column mux, ADCs and
/// shift-add. It owns its state: the cells it programs itself (engine::program_slot, the routine the batched
/// engine uses, with the device non-idealities of its block's seeded streams) and its ADC references. A
/// transaction carries every input vector of a layer for one image; the subarray reads the vectors of its
/// duplicate copy (v % duplication == copy) bit-serially through the functional crossbar kernel, writes its partial
/// sums where the payload points, counts the actions of the measured activity and spends their time.
/// In a timing replay it takes the activity from the run's read log and computes nothing.
/// A write transaction (proto::write_extension) programs new weights into its cells during the run, with the same
/// routine and device streams, and counts the program actions (row_write, cell_write, level_pulse).
/// Does not model: IR drop, write-verify, the wear of a cell (endurance is counted, not enforced).
class subarray : public component {
public:
    proto::compute_target_socket<subarray> in{"in"};

    /// `layer` holds the weights of the slot's layer (nullptr for an idle slot); `calibrated` is the ADC set by
    /// calibration (nullptr: linear over the block's full scale).
    subarray(const sc_core::sc_module_name& name, run_record& rec, const subarray_setup& setup,
             const mapping::subarray_slot& slot, std::uint64_t block_id, const network::layer* layer,
             const func::adc_transfer* calibrated);

    bool idle() const override { return !m_slot.where.used(); }
    /// Times the cells have been written (programming at elaboration excluded).
    std::uint64_t writes() const { return m_writes.get(); }
    /// The programmed cells (tests compare them with the batched engine's), until release_cells().
    const func::subarray_block& block() const { return m_slot.block; }
    /// Frees the programmed cells when no read or write can follow (the run has ended): a chip's cells are most of
    /// its memory, and the report needs only the counts.
    void release_cells() { m_slot.block = func::subarray_block{}; }

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    void write(tlm::tlm_generic_payload& tx, proto::write_extension& x);

    const subarray_setup& m_setup;
    engine::programmed_slot m_slot;
    func::adc_transfer m_adc;
    unsigned m_columns = 0;  // weight and reference columns the slot's block reads
    bool m_signed = false;   // the layer's input can be negative: two read passes
    // The read log's key of the current block: its id, plus (bit 40 on) the rank of its write within one (layer,
    // image), for a pool subarray written several times per image.
    int m_log_layer = -1;
    std::int64_t m_log_image = -1;
    std::uint64_t m_log_seq = 0;
    std::uint64_t log_key() const { return m_slot.block_id + (m_log_seq << 40); }
    std::vector<double> m_n;
    stats::counter m_reads{m_stats, "transactions", "op", "read transactions served (a layer's vectors for one image)"};
    stats::counter m_vectors{m_stats, "vectors", "op", "input vectors read (bit-serial MVMs)"};
    stats::counter m_writes{m_stats, "writes", "op", "times the cells were written during the run"};
    stats::sum m_endurance{m_stats, "endurance_used", "1",
                           "write cycles of the run over the cell's endurance (cell.endurance; 0 when unlimited)"};
};

}  // namespace cim::hw
