#pragma once
#include <cstdint>
#include <vector>

#include "models/engine/hardware_model.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"

namespace cim::engine {

// Attention products on compute-in-memory subarrays written at run time (chip.attention.impl = cim): for each
// head, the second operand B (K x N; K^T of Q K^T, or V of A V) is written into a pool of subarrays as a weight
// matrix (K rows, N channels of input_bits + 1-bit signed weights, since activations span [-A, A]), then the first
// operand's rows (Q, or the attention probabilities) are read through it like any weight layer's input vectors
// (two passes when they can be negative). The products are split into blocks of the subarray's rows and channels
// and dealt round-robin over the pool: block j goes to pool subarray j % pool in wave j / pool. Both engines use
// these routines, so the batched engine and the platform's attention array write and read the same blocks.

/// One block of an activation matmul on the pool.
struct attention_block {
    int head = 0;
    mapping::subarray_slot where;  // layer, rows [row_begin, row_end) of K, channels [ch_begin, ch_end) of N
    int pool = 0;                  // the pool subarray
    int wave = 0;                  // the round of writes and reads it belongs to
};

/// The operands of an activation matmul: `batch` products of (m x k) by (k x n).
struct matmul_dims {
    int batch = 1, m = 0, k = 0, n = 0;
};
matmul_dims matmul_dims_of(const network::graph& g, int layer);

/// The data path options of the attention subarrays: the chip's, with weight_bits = input_bits + 1.
hardware_options attention_options(const hardware_options& o);

/// Channels of N one attention subarray holds: its weight columns over the columns of one weight.
int attention_channels(const hardware_options& o);

/// The blocks of layer `layer`'s matmul, in order (head, row block, channel block).
std::vector<attention_block> attention_blocks(int layer, const matmul_dims& d, const hardware_options& o);

/// Block id of pool subarray p: after every subarray position of the floorplan (hardware_options::block_base).
inline std::uint64_t attention_block_id(const hardware_options& o, int pool) {
    return o.attention_block_base + static_cast<std::uint64_t>(pool);
}

/// Head h's second operand as a weight matrix, row-major [n][k] (B_h transposed), into w.
void attention_weights(const std::int32_t* b, const matmul_dims& d, int head, std::vector<std::int32_t>& w);

/// The batched engine's CIM matmul of layer `layer` for one image: accumulators acc (batch x m x n, row-major),
/// through the same blocks, programming and reads as the platform's attention array.
void cim_matmul(const network::graph& g, int layer, const std::int32_t* a, const std::int32_t* b,
                const hardware_options& o, std::int64_t image_id, std::vector<std::int64_t>& acc);

}  // namespace cim::engine
