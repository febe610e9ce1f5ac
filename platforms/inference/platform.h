#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/hw/chip.h"
#include "models/hw/context.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"
#include "models/report/report.h"
#include "platforms/inference/run_config.h"

namespace cim::inference {

/// The network with its quantised weights and scales, the floorplan and the input images: everything the
/// chip is elaborated from. Built without SystemC, so `cimtlm map` and tests can use it too.
struct prepared {
    network::graph graph;
    mapping::plan plan;
    std::vector<std::vector<std::int32_t>> images;
};

/// Load the network, synthesise seeded weights, calibrate activation scales on seeded calibration images,
/// generate the run's images, and build the floorplan.
prepared prepare(const loaded_config& lc);

/// The elaborated SystemC platform: owns the context the modules reference and the chip.
/// Elaborate once per process (SystemC cannot re-elaborate).
class platform {
public:
    platform(const loaded_config& lc, prepared p, const std::string& name = "chip");
    hw::chip& chip() { return *m_chip; }
    const prepared& data() const { return m_data; }
    /// sc_start() until the controller finishes; returns the simulated time in seconds.
    double simulate();
    report::report_data report() const;

private:
    loaded_config m_lc;
    prepared m_data;
    hw::energy_ledger m_ledger;
    std::unique_ptr<hw::context> m_ctx;
    std::unique_ptr<hw::chip> m_chip;
};

}  // namespace cim::inference
