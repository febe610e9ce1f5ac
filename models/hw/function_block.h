#pragma once
#include <memory>
#include <vector>

#include "models/circuit/components.h"
#include "models/hw/attention_array.h"
#include "models/hw/component.h"
#include "models/hw/vector_unit.h"
#include "models/proto/compute.h"

namespace cim::hw {

/// The units of a transformer's layers without weights, elaborated from the network (a unit exists only when some
/// layer needs it): the softmax, layer-norm and GELU units (digital lanes, circuit::softmax_lane ...), and the
/// attention products: a digital multiply-accumulate unit, or the attention array of compute-in-memory
/// subarrays (chip.attention.impl). The block routes each layer operation to its unit and tells the unit how much
/// work it is (elements, rows, multiply-accumulates); the unit performs it (the integer semantics of
/// models/functional/transformer_ops) and spends its time.
class function_block : public component {
public:
    proto::compute_target_socket<function_block> in{"in"};

    struct models {
        const circuit::digital_unit* softmax = nullptr;
        const circuit::digital_unit* layernorm = nullptr;
        const circuit::digital_unit* gelu = nullptr;
        const circuit::digital_unit* mac = nullptr;   // digital attention
        const attention_setup* attention = nullptr;   // compute-in-memory attention
    };
    /// Builds the units of `m` that are not null.
    function_block(const sc_core::sc_module_name& name, run_record& rec, const network::graph& g, const models& m);

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    struct route {
        std::unique_ptr<component> unit;
        std::unique_ptr<proto::compute_initiator_socket<function_block>> socket;
    };
    template <class U, class... A>
    route* add(A&&... args);
    const network::graph& m_graph;
    route *m_softmax = nullptr, *m_layernorm = nullptr, *m_gelu = nullptr, *m_attention = nullptr;
    std::vector<std::unique_ptr<route>> m_routes;
};

}  // namespace cim::hw
