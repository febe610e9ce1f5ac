#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/hw/chip.h"
#include "models/engine/hardware_model.h"
#include "models/hw/context.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"
#include "models/report/report.h"
#include "models/trace/dataset.h"
#include "platforms/inference/run_config.h"

namespace cim::inference {

/// The network with its quantised weights and scales, the floorplan and the input images: everything the
/// chip is elaborated from. Built without SystemC, so `cimtlm map` and tests can use it too.
struct prepared {
    network::graph graph;
    mapping::plan plan;
    std::vector<std::vector<std::int32_t>> images;
    std::vector<std::vector<std::int32_t>> calibration;  // images that set activation scales and ADC references
};

/// The data path options of a run config.
engine::hardware_options hardware_options_of(const run_config& c);

/// Program the chip (device non-idealities frozen) and set the ADC references (from `p.calibration` when
/// adc.reference is calibrated; from the run's own images for batch_minmax). The model references p.graph and
/// p.plan, which must outlive it.
std::unique_ptr<engine::hardware_model> build_model(const run_config& c, const prepared& p);

/// Load the network, synthesise seeded weights, calibrate activation scales, pick the run's images, and build
/// the floorplan. Without a dataset the calibration and run images are seeded synthetic images; with one, the
/// first run.calibration_images images calibrate and the first run.images images are run.
/// `calibration` (optional) replaces `data` as the source of the calibration images.
prepared prepare(const loaded_config& lc, const trace::dataset* data = nullptr,
                 const trace::dataset* calibration = nullptr);

/// The elaborated SystemC platform: owns the context the modules reference and the chip.
/// Elaborate once per process (SystemC cannot re-elaborate).
class platform {
public:
    platform(const loaded_config& lc, prepared p, const std::string& name = "chip");
    hw::chip& chip() { return *m_chip; }
    const prepared& data() const { return m_data; }
    const engine::hardware_model& model() const { return *m_model; }
    /// The transaction log; enable before simulate() to record it (--trace-json, tests).
    hw::trace_log& log() { return m_rec.log; }
    /// sc_start() until the controller finishes; returns the simulated time in seconds.
    double simulate();
    report::report_data report() const;

private:
    loaded_config m_lc;
    prepared m_data;
    hw::recorder m_rec;
    std::unique_ptr<engine::hardware_model> m_model;
    hw::accumulator_factory m_accumulators;
    std::unique_ptr<hw::context> m_ctx;
    std::vector<double> m_layer_mean_level;  // pseudo trace: mean programmed level per layer
    std::unique_ptr<hw::chip> m_chip;
};

}  // namespace cim::inference
