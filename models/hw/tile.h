#pragma once
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "models/circuit/components.h"
#include "models/hw/buffer.h"
#include "models/hw/chip_config.h"
#include "models/hw/pe.h"

namespace cim::hw {

/// The circuit models a tile is built from, shared by the tiles of a chip.
struct tile_setup {
    const subarray_setup& subarrays;
    const circuit::sram_buffer& buffer;
    /// The adder tree of a PE of `inputs` subarrays, or of a tile of `inputs` PEs (made once per size).
    std::function<const circuit::adder_tree&(unsigned inputs, bool tile)> adder;
    const accumulation_factory* rtl = nullptr;
};

/// A tile: a tile buffer that stages the layer's input vectors, PEs computing concurrently (one process each,
/// joined by the tile), and an adder tree that sums the PEs' partial sums. All subarrays of a tile belong to one
/// layer (layer-by-layer dataflow, as DNN+NeuroSim). A transaction carries every vector of the layer for one
/// image; the tile stages the rows its PEs hold through its buffer and returns its partial-sum words. A tile
/// serves one transaction at a time (in pipelined mode its layer's next image waits for it).
class tile : public component {
public:
    proto::compute_target_socket<tile> in{"in"};

    tile(const sc_core::sc_module_name& name, run_record& rec, const tile_setup& setup, const mapping::tile_plan& plan,
         std::uint64_t first_block_id, const network::graph* graph, const std::vector<const func::adc_transfer*>& adcs,
         const buffer_config& buffer_cfg, double clock_hz);

    bool idle() const override { return m_plan.layer < 0; }

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    int stage(int cause, std::uint64_t bytes, int layer, std::int64_t image);

    struct child {
        std::unique_ptr<pe> target;
        std::unique_ptr<proto::compute_initiator_socket<tile>> socket;
        proto::payload payload;
        proto::mvm_extension ext;
    };
    const mapping::tile_plan& m_plan;
    const circuit::adder_tree& m_adder;
    buffer m_buffer;
    proto::buffer_initiator_socket<tile> m_to_buffer{"to_buffer"};
    proto::payload m_buffer_payload;
    proto::buffer_extension m_buffer_ext;
    std::vector<std::unique_ptr<child>> m_children;
    resource m_self;
    int m_input_rows = 0;
    unsigned m_input_bits = 8;
    std::vector<double> m_n;
    std::vector<std::function<void()>> m_branches;
    stats::counter m_vectors{m_stats, "vectors", "op", "input vectors received"};
};

}  // namespace cim::hw
