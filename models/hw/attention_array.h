#pragma once
#include <memory>
#include <vector>

#include "models/circuit/components.h"
#include "models/engine/attention.h"
#include "models/hw/component.h"
#include "models/hw/subarray.h"
#include "models/hw/vector_unit.h"
#include "models/proto/compute.h"

namespace cim::hw {

/// What the attention array is built from: the pool subarrays' setup (their circuit model and data path options,
/// with input_bits + 1-bit weights), the chip's data path options (the pool's size and block ids), the network, and
/// the digital units that add the row blocks' partial sums and requantise the products.
struct attention_setup {
    const subarray_setup& pool;
    const engine::hardware_options& chip_options;
    const network::graph& graph;
    const func::quant_config& quant;
    const circuit::digital_unit& accumulator;
    const circuit::digital_unit& requantizer;
};

/// The attention products on compute-in-memory subarrays written at run time (chip.attention.impl = cim): a pool of
/// subarrays that take a block of the second operand (K^T or V of one head) by a write transaction and then read
/// the first operand's rows (Q, or the attention probabilities) through it, like a weight layer's vectors. The
/// blocks of a product (engine::attention_blocks) go out in waves of the pool's size: a wave writes its blocks
/// concurrently, then reads them concurrently; the partial sums of a head's row blocks are added in the array's
/// accumulator, and the products requantised in its activation lanes. Writes count their program actions and
/// endurance in the subarrays. The data path is the batched engine's (engine::cim_matmul): the same blocks, block
/// ids, programming and reads.
class attention_array : public component {
public:
    proto::compute_target_socket<attention_array> in{"in"};
    attention_array(const sc_core::sc_module_name& name, run_record& rec, const attention_setup& setup);

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    struct child {
        std::unique_ptr<subarray> target;
        std::unique_ptr<proto::compute_initiator_socket<attention_array>> socket;
        proto::payload payload;
        proto::mvm_extension read;
        proto::write_extension write;
        const engine::attention_block* block = nullptr;
        std::vector<std::int64_t> psums;
    };
    int unit(proto::compute_initiator_socket<attention_array>& s, std::uint64_t elements, int layer, std::int64_t image,
             int cause);
    const attention_setup& m_setup;
    std::vector<std::unique_ptr<child>> m_pool;
    std::unique_ptr<vector_unit> m_accumulator, m_requantizer;
    proto::compute_initiator_socket<attention_array> m_to_accumulator{"to_accumulator"}, m_to_requantizer{"to_requantizer"};
    proto::payload m_unit_payload;
    proto::op_extension m_unit_ext;
    resource m_self;
    std::vector<std::function<void()>> m_branches;
    stats::counter m_products{m_stats, "products", "op", "activation matmuls (one layer for one image) served"};
    stats::counter m_waves{m_stats, "waves", "op", "rounds of writes and reads of the pool"};
};

}  // namespace cim::hw
