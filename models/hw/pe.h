#pragma once
#include <memory>
#include <vector>

#include "models/circuit/components.h"
#include "models/hw/component.h"
#include "models/hw/context.h"
#include "models/hw/subarray.h"
#include "models/proto/compute.h"

namespace cim::hw {

/// A digital unit module (accumulator, activation, pooling): one op per element, priced by
/// circuit::digital_unit or circuit::adder_tree. Receives op_extension transactions.
class digital : public component {
public:
    proto::compute_target_socket<digital> in{"in"};
    digital(const sc_core::sc_module_name& name, const char* type, const context& ctx, category cat, unsigned lanes,
            const circuit::lane_circuit& lane);
    std::array<double, 6> own_area() const override;
    double own_leakage_power() const override { return m_model.leakage_power(); }
    /// Price `elements` operations directly (used by a parent that owns the unit).
    circuit::action_cost run(std::uint64_t elements);

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    category m_category;
    circuit::digital_unit m_model;
    stats::counter m_ops{m_stats, "ops", "op", "elements processed"};
    stats::sum m_energy{m_stats, "energy", "J", "dynamic energy"};
};

/// A processing element: subarrays that read in parallel, and an adder tree that sums their partial sums.
/// Does not model: a PE-level buffer (inputs arrive from the tile buffer each transaction).
class pe : public component {
public:
    proto::compute_target_socket<pe> in{"in"};
    /// `programmed[k]`: the model slot of subarray k (-1 when idle).
    pe(const sc_core::sc_module_name& name, const context& ctx, const mapping::pe_plan& plan,
       const std::vector<int>& programmed);
    std::array<double, 6> own_area() const override;
    double own_leakage_power() const override { return m_adder.leakage_power(); }
    bool idle() const override { return m_used == 0; }
    std::uint64_t last_words() const { return m_last_words; }

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    std::vector<std::unique_ptr<subarray>> m_subarrays;
    std::vector<std::unique_ptr<proto::compute_initiator_socket<pe>>> m_out;
    circuit::adder_tree m_adder;
    std::unique_ptr<pe_accumulator> m_acc;  // the accumulation path: TLM or RTL
    std::vector<psum_block> m_blocks;
    int m_used = 0;
    std::uint64_t m_last_words = 0;
    stats::counter m_adds{m_stats, "adder_tree_words", "op", "partial sums reduced by the adder tree"};
    stats::sum m_energy{m_stats, "energy_adder_tree", "J", "adder tree energy"};
    stats::counter m_rtl_cycles{m_stats, "accumulator_rtl_cycles", "cycle", "clock cycles of the RTL accumulation block"};
};

}  // namespace cim::hw
