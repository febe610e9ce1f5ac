#pragma once
#include <cstdint>
#include <vector>

#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

namespace cim::proto {

/// Protocol traits of compute transactions. A distinct traits class makes a compute socket a distinct
/// type, so a compute initiator cannot be bound to a buffer (which speaks the base protocol) by mistake.
struct compute_protocol {
    typedef tlm::tlm_generic_payload tlm_payload_type;
    typedef tlm::tlm_phase tlm_phase_type;
};

template <class M>
using compute_target_socket = tlm_utils::simple_target_socket<M, 32, compute_protocol>;
template <class M>
using compute_initiator_socket = tlm_utils::simple_initiator_socket<M, 32, compute_protocol>;

/// Time spent on the critical path of a compute transaction, by kind (for the latency breakdown).
struct latency_split {
    double array = 0, adc = 0, accumulation = 0, buffer = 0, interconnect = 0, other = 0;
    double total() const { return array + adc + accumulation + buffer + interconnect + other; }
};

/// A batch of matrix-vector multiplies of one weight layer: the unrolled input vectors (im2col rows) and the
/// accumulator the receivers add their partial sums into. Vector v is processed by the duplicate copy
/// v % duplication (mapping::plan).
struct mvm_extension : tlm::tlm_extension<mvm_extension> {
    int layer = -1;                        // graph layer index
    std::int64_t image = 0;                // image index (keys the read-noise streams)
    const std::int32_t* inputs = nullptr;  // n_vectors x row_stride, unsigned activations
    int n_vectors = 0;
    int row_stride = 0;                    // = the layer's weight rows
    int duplication = 1;
    std::int64_t* outputs = nullptr;       // n_vectors x out_channels, accumulated with +=
    int out_channels = 0;
    double input_density = 0;              // fraction of 1 bits in the layer's input activations (pseudo trace)
    latency_split critical;                // filled by the target: the slowest path's split

    tlm_extension_base* clone() const override { return new mvm_extension(*this); }
    void copy_from(const tlm_extension_base& e) override { *this = static_cast<const mvm_extension&>(e); }
};

/// An element-wise or window operation of a non-weight layer (relu, pooling, add, flatten) or the
/// post-accumulation step of a weight layer (requantisation), executed by a digital unit.
struct op_extension : tlm::tlm_extension<op_extension> {
    int layer = -1;
    std::uint64_t elements = 0;  // output elements produced
    tlm_extension_base* clone() const override { return new op_extension(*this); }
    void copy_from(const tlm_extension_base& e) override { *this = static_cast<const op_extension&>(e); }
};

}  // namespace cim::proto
