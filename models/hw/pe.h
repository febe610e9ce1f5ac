#pragma once
#include <memory>
#include <vector>

#include "models/circuit/components.h"
#include "models/hw/accumulation_path.h"
#include "models/hw/component.h"
#include "models/hw/subarray.h"
#include "models/proto/compute.h"

namespace cim::hw {

/// A processing element: subarrays that read concurrently (one process each, joined by the PE), and the
/// accumulation of their partial sums: a TLM adder tree, or an RTL block (accumulation_factory). Partial sums come
/// back in each subarray's payload (into a buffer the PE owns per subarray) and go into the layer's accumulators
/// that the PE's own payload points at. A PE serves one transaction at a time.
/// Does not model: a PE-level input buffer (inputs arrive from the tile buffer with each transaction).
class pe : public component {
public:
    proto::compute_target_socket<pe> in{"in"};

    /// `adder`: the PE's adder tree (the table its counts refer to, and its TLM timing).
    pe(const sc_core::sc_module_name& name, run_record& rec, const subarray_setup& setup, const mapping::pe_plan& plan,
       std::uint64_t first_block_id, const network::graph* graph, const std::vector<const func::adc_transfer*>& adcs,
       const circuit::adder_tree& adder, const accumulation_factory* rtl);

    bool idle() const override { return m_used == 0; }

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);

    struct child {
        std::unique_ptr<subarray> target;
        std::unique_ptr<proto::compute_initiator_socket<pe>> socket;
        proto::payload payload;
        proto::mvm_extension ext;
        std::vector<std::int64_t> psums;
    };
    const mapping::pe_plan& m_plan;
    const circuit::adder_tree& m_adder;
    std::vector<std::unique_ptr<child>> m_children;
    std::unique_ptr<rtl_accumulation> m_rtl;
    resource m_self;
    int m_used = 0;
    std::vector<double> m_n;
    std::vector<psum_block> m_blocks;
    std::vector<std::function<void()>> m_branches;
    stats::sum m_rtl_cycles{m_stats, "accumulator_rtl_cycles", "cycle", "clock cycles of the RTL accumulation block"};
};

}  // namespace cim::hw
