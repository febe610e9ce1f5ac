#pragma once
#include <cstdint>
#include <vector>

#include "models/circuit/components.h"
#include "models/functional/adc_transfer.h"
#include "models/functional/subarray_block.h"
#include "models/hw/component.h"
#include "models/hw/context.h"
#include "models/proto/compute.h"

namespace cim::hw {

/// One synaptic subarray: rows x cols cells (plus reference columns) with WL drivers, column mux, ADCs and
/// shift-add. Loosely timed: one b_transport runs the bit-serial MVMs of every input vector its copy owns
/// (vector v belongs to copy v % duplication) through the functional crossbar kernel, and the circuit model
/// prices the measured activity. Physics lives in circuit::subarray_model; this class counts and times.
/// Does not model: IR drop, device non-idealities (functional issue), write/programming cost.
class subarray : public component {
public:
    proto::compute_target_socket<subarray> in{"in"};

    /// `slot` is the plan's placement; `programmed` the model's slot index, or -1 when idle.
    subarray(const sc_core::sc_module_name& name, const context& ctx, const mapping::subarray_slot& slot, int programmed);

    std::array<double, 6> own_area() const override;
    double own_leakage_power() const override { return m_model.leakage_power(); }
    bool idle() const override { return !m_slot.used(); }
    const mapping::subarray_slot& slot() const { return m_slot; }
    /// Output words (vector x channel partial sums) produced by the last transaction.
    std::uint64_t last_words() const { return m_last_words; }
    /// The last transaction's compact partial sums (vectors of this copy x the slot's channels), for the PE's
    /// accumulation path.
    const std::vector<std::int64_t>& psums() const { return m_psums; }

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);

    const context& m_ctx;
    const mapping::subarray_slot m_slot;
    const circuit::subarray_model m_model;
    const int m_programmed;                       // index into ctx.model.slots(), -1 when idle
    std::vector<std::int64_t> m_psums;
    std::uint64_t m_last_words = 0;

    stats::counter m_vectors{m_stats, "vectors", "op", "input vectors processed (bit-serial MVMs)"};
    stats::counter m_conversions{m_stats, "adc_conversions", "op", "ADC conversions"};
    stats::counter m_input_ones{m_stats, "input_ones", "op", "(row, input bit) pairs with a 1 applied"};
    stats::sum m_energy_array{m_stats, "energy_array", "J", "cell, bit-line and word-line energy"};
    stats::sum m_energy_adc{m_stats, "energy_adc", "J", "ADC energy"};
    stats::sum m_energy_switch{m_stats, "energy_switch", "J", "column-mux switching energy"};
    stats::sum m_energy_shift_add{m_stats, "energy_shift_add", "J", "shift-add energy"};
    stats::sum m_busy{m_stats, "busy_time", "s", "time spent reading"};
};

}  // namespace cim::hw
