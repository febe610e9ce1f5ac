#pragma once
#include <memory>
#include <vector>

#include "models/circuit/components.h"
#include "models/hw/component.h"
#include "models/proto/compute.h"

namespace cim::hw {

/// The H-tree between the global buffer and the tiles: a router on the compute protocol whose root link is one
/// shared resource. A transaction's address is the index of the target tile; the interconnect carries its
/// request bytes to the tile over the link, forwards the transaction, and carries the tile's partial-sum words
/// back (32-bit each) over the same link. Transfers from and to different tiles queue on the link in simulated-time
/// order. Priced by circuit::htree's actions.
/// Does not model: separate links per branch of the tree (only the root is shared), flit-level arbitration.
class interconnect : public component {
public:
    proto::compute_target_socket<interconnect> in{"in"};
    /// One per tile, in tile order (bound by the chip).
    std::vector<std::unique_ptr<proto::compute_initiator_socket<interconnect>>> to_tiles;

    interconnect(const sc_core::sc_module_name& name, run_record& rec, const circuit::htree& model, std::size_t tiles);

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    int transfer(int cause, std::uint64_t bytes, int layer, std::int64_t image, const char* label);

    const circuit::htree& m_model;
    resource m_link;
    stats::sum m_wait{m_stats, "wait_time", "s", "time transfers waited for the link (contention)"};
};

}  // namespace cim::hw
