#pragma once
#include <vector>

#include "models/circuit/components.h"
#include "models/hw/component.h"
#include "models/proto/compute.h"

namespace cim::hw {

/// A digital vector unit of the chip (the accumulator that sums partial sums across tiles, the activation unit that
/// requantises a weight layer's accumulators, the pooling unit): `lanes` lanes, one element per lane per clock. It
/// performs the operation of an op_extension on its data (engine::finish_layer, engine::apply_nonweight_layer: the
/// integer semantics the reference network uses) and spends the time of its lane beats. One resource: operations
/// from several layers (pipelined mode) queue in time order. Priced by circuit::digital_unit's actions.
class vector_unit : public component {
public:
    proto::compute_target_socket<vector_unit> in{"in"};
    vector_unit(const sc_core::sc_module_name& name, const char* type, run_record& rec, const circuit::digital_unit& model);

private:
    void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
    const circuit::digital_unit& m_model;
    resource m_self;
    std::vector<double> m_n;
    stats::sum m_wait{m_stats, "wait_time", "s", "time operations waited for the unit (contention)"};
};

}  // namespace cim::hw
