#pragma once
#include <cstdint>
#include <vector>

#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/engine/quantized_model.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"

namespace cim::proto {

// The platform's transactions are blocking (LT) generic payloads with TLM_IGNORE_COMMAND: the operation and its
// data travel in an extension, so no payload is a read or write with a null data pointer. Two protocol-traits
// classes keep the socket types apart: a compute socket cannot be bound to a buffer, nor a buffer socket to a
// compute unit. Extensions are owned by the initiator (a member of it, never a stack object) and attached for one
// call through extension_guard, which detaches them even when the call throws.

/// Compute transactions: matrix-vector multiplies to tiles, PEs and subarrays (mvm_extension) and element-wise
/// operations to the vector units (op_extension).
struct compute_protocol {
    typedef tlm::tlm_generic_payload tlm_payload_type;
    typedef tlm::tlm_phase tlm_phase_type;
};

/// Buffer transactions: tensors written to, read from and released by a buffer, and bytes staged through one
/// (buffer_extension).
struct buffer_protocol {
    typedef tlm::tlm_generic_payload tlm_payload_type;
    typedef tlm::tlm_phase tlm_phase_type;
};

template <class M>
using compute_target_socket = tlm_utils::simple_target_socket<M, 32, compute_protocol>;
template <class M>
using compute_initiator_socket = tlm_utils::simple_initiator_socket<M, 32, compute_protocol>;
template <class M>
using buffer_target_socket = tlm_utils::simple_target_socket<M, 32, buffer_protocol>;
template <class M>
using buffer_initiator_socket = tlm_utils::simple_initiator_socket<M, 32, buffer_protocol>;

/// A generic payload owned by an initiator, whose extensions are the initiator's members: it detaches whatever is
/// still attached before the base destructor would delete it (a process left blocked inside a transport when the
/// simulation ended, for instance, still holds its guard).
struct payload : tlm::tlm_generic_payload {
    payload() = default;
    ~payload() {
        for (unsigned i = 0; i < tlm::max_num_extensions(); ++i) set_extension(i, nullptr);
    }
    payload(const payload&) = delete;
    payload& operator=(const payload&) = delete;
};

/// Attaches `ext` to `p` for the lifetime of the guard and detaches it on exit, also when the transport throws,
/// so the payload never owns (and never deletes) an extension of its initiator.
template <class E>
class extension_guard {
public:
    extension_guard(tlm::tlm_generic_payload& p, E& ext) : m_p(p), m_ext(ext) {
        m_p.set_command(tlm::TLM_IGNORE_COMMAND);
        m_p.set_address(0);
        m_p.set_data_ptr(nullptr);
        m_p.set_data_length(0);
        m_p.set_streaming_width(0);
        m_p.set_byte_enable_ptr(nullptr);
        m_p.set_dmi_allowed(false);
        m_p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        m_p.set_extension(&m_ext);
    }
    ~extension_guard() { m_p.clear_extension(&m_ext); }
    extension_guard(const extension_guard&) = delete;
    extension_guard& operator=(const extension_guard&) = delete;

private:
    tlm::tlm_generic_payload& m_p;
    E& m_ext;
};

/// A batch of matrix-vector multiplies of one weight layer for one image: the unrolled input vectors (im2col rows)
/// go down to the subarrays, partial sums come back up. Vector v is processed by the duplicate copy
/// v % duplication (mapping::plan). `cause` carries the timeline activity the request follows, and on return the
/// target's last activity (the causality of the critical path).
struct mvm_extension : tlm::tlm_extension<mvm_extension> {
    int layer = -1;                        // graph layer index
    std::int64_t image = 0;                // image index (keys the read-noise streams)
    const std::int32_t* inputs = nullptr;  // n_vectors x row_stride unsigned activations; nullptr in a timing replay
    int n_vectors = 0;
    int row_stride = 0;                    // = the layer's weight rows
    int duplication = 1;
    std::int64_t* acc = nullptr;           // n_vectors x out_channels accumulators that tiles and PEs add into (+=)
    int out_channels = 0;
    std::int64_t* psums = nullptr;         // to a subarray: where it writes its compact partial sums (vectors of its
                                           // copy x its channels), sized by the PE; nullptr: it adds them into acc
    double input_density = 0;              // fraction of 1 bits of the layer's input activations (run.activity: pseudo)
    std::uint64_t request_bytes = 0;       // to the interconnect: the bytes it carries to the target
    std::uint64_t response_words = 0;      // set by the target: partial-sum words it returns (32-bit each)
    int cause = -1;

    tlm_extension_base* clone() const override { return new mvm_extension(*this); }
    void copy_from(const tlm_extension_base& e) override { *this = static_cast<const mvm_extension&>(e); }
};

/// A write of new weights into a subarray during the run (the matrix an attention layer computes, for instance):
/// `weights` holds the signed integer weights of the whole matrix, row-major [channels][rows] as
/// network::layer::qweights, of which the target programs its slot's rows and channels. The target counts the
/// program actions and spends their time.
struct write_extension : tlm::tlm_extension<write_extension> {
    int layer = -1;
    std::int64_t image = 0;
    const std::int32_t* weights = nullptr;  // nullptr in a timing replay (the programmed levels are then unknown)
    std::int64_t weight_rows = 0;           // rows of the whole matrix (its row stride)
    double level_sum = 0;                   // a replay: the sum of the levels the write programmed
    // A pool subarray (attention): the block it holds from now on (layer, rows, channels), and whether the
    // vectors it will read can be negative (two passes); nullptr keeps the slot of the floorplan.
    const mapping::subarray_slot* where = nullptr;
    bool signed_input = false;
    int cause = -1;

    tlm_extension_base* clone() const override { return new write_extension(*this); }
    void copy_from(const tlm_extension_base& e) override { *this = static_cast<const write_extension&>(e); }
};

/// An element-wise operation for a vector unit: the chip's accumulation across tiles, the requantisation of a weight
/// layer's accumulators (activation unit), or a layer without weights (relu, pooling, add; activation or pooling
/// unit). The unit performs it on the data (skipped in a timing replay, where the pointers are null) and counts
/// `elements` lane operations.
struct op_extension : tlm::tlm_extension<op_extension> {
    enum class kind { accumulate, requantize, layer };
    kind what = kind::layer;
    int layer = -1;
    std::int64_t image = 0;
    std::uint64_t elements = 0;  // lane operations (input elements of a pooling window, outputs otherwise)
    std::uint64_t rows = 0;      // rows of a row-wise function (softmax, layer norm): its per-row operations
    // requantize: the accumulators (n x oc, pixel-major) through `rule` into `out` (CHW)
    const std::vector<std::int64_t>* acc = nullptr;
    const engine::weight_output_rule* rule = nullptr;
    int n = 0, oc = 0;
    // layer: graph layer `layer` of `graph` from its producers' outputs (in input_ids order)
    const network::graph* graph = nullptr;
    const func::quant_config* quant = nullptr;
    std::vector<const std::vector<std::int32_t>*> inputs;
    std::vector<std::int32_t>* out = nullptr;
    int cause = -1;

    tlm_extension_base* clone() const override { return new op_extension(*this); }
    void copy_from(const tlm_extension_base& e) override { *this = static_cast<const op_extension&>(e); }
};

/// The key of an activation tensor in a buffer: the layer that produced it and the image.
struct tensor_key {
    int layer = -1;
    std::int64_t image = 0;
    bool operator<(const tensor_key& o) const { return layer != o.layer ? layer < o.layer : image < o.image; }
    bool operator==(const tensor_key& o) const { return layer == o.layer && image == o.image; }
};

/// A buffer operation:
///  - write: store `tensor` (moved from; may be empty in a timing replay) as `key`, occupying `bytes` until every
///    one of its `readers` has released it; blocks while the buffer lacks the space (back-pressure, a stall);
///  - read: `bytes` of `key` over the port; `result` points at the stored tensor until the reader releases it;
///  - release: a reader is done with `key` (no port time); the last release frees its space;
///  - stage: `bytes` through the port and back (a tile buffer staging input vectors), no storage.
struct buffer_extension : tlm::tlm_extension<buffer_extension> {
    enum class kind { write, read, release, stage };
    kind what = kind::stage;
    tensor_key key;
    int layer = -1;              // the layer the access serves (for the counts)
    std::uint64_t bytes = 0;
    int readers = 1;
    bool host = false;           // write: placed by the host (the input image): takes space, no port time
    std::vector<std::int32_t>* tensor = nullptr;
    const std::vector<std::int32_t>* result = nullptr;
    int cause = -1;

    tlm_extension_base* clone() const override { return new buffer_extension(*this); }
    void copy_from(const tlm_extension_base& e) override { *this = static_cast<const buffer_extension&>(e); }
};

}  // namespace cim::proto
