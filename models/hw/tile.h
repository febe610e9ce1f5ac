#pragma once
#include <memory>
#include <vector>

#include "models/hw/buffer.h"
#include "models/hw/pe.h"

namespace cim::hw {

/// A tile: a tile buffer that stages the input vectors, PEs computing in parallel, and an accumulation
/// adder tree that sums the PEs' partial sums. All subarrays of a tile belong to one layer (layer-by-layer
/// dataflow, as DNN+NeuroSim). An input transaction carries every vector of the layer; the tile takes the
/// rows its PEs hold. Does not model: contention on the tile buffer port between PEs (a later issue).
class tile : public component {
public:
    proto::compute_target_socket<tile> in{"in"};

    tile(const sc_core::sc_module_name& name, const context& ctx, const mapping::tile_plan& plan, std::size_t index,
         const buffer_config& buffer_cfg);

    std::array<double, 6> own_area() const override;
    double own_leakage_power() const override { return m_adder.leakage_power(); }
    bool idle() const override { return m_plan.layer < 0; }
    int layer() const { return m_plan.layer; }
    /// Distinct weight rows held (the input bytes per vector the tile needs).
    int input_rows() const { return m_input_rows; }
    std::uint64_t last_words() const { return m_last_words; }

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    const context& m_ctx;
    const mapping::tile_plan& m_plan;
    buffer m_buffer;
    tlm_utils::simple_initiator_socket<tile> m_to_buffer{"to_buffer"};
    std::vector<std::unique_ptr<pe>> m_pes;
    std::vector<std::unique_ptr<proto::compute_initiator_socket<tile>>> m_out;
    circuit::adder_tree m_adder;
    int m_input_rows = 0;
    std::uint64_t m_last_words = 0;
    stats::counter m_vectors{m_stats, "vectors", "op", "input vectors received"};
    stats::counter m_adds{m_stats, "accumulation_words", "op", "partial sums reduced across PEs"};
    stats::sum m_energy{m_stats, "energy_accumulation", "J", "tile accumulation energy"};
};

}  // namespace cim::hw
