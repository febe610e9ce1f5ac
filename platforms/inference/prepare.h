#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "models/dataset/dataset.h"
#include "models/engine/hardware_model.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"
#include "platforms/inference/run_config.h"

// The kernel-free half of a run: the config's network, weights, scales, images and floorplan, and the programmed
// batched engine. No SystemC here: `cimtlm map`, the accuracy engine and the Python extension use it alone.
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
engine::hardware_options hardware_options_of(const run_config& c, const mapping::plan& plan);

/// Program the chip (device non-idealities frozen) and set the ADC references (from `p.calibration` when
/// adc.reference is calibrated; from the run's own images for batch_minmax). The model references p.graph and
/// p.plan, which must outlive it.
std::unique_ptr<engine::hardware_model> build_model(const run_config& c, const prepared& p);

/// Load the network, synthesise seeded weights, calibrate activation scales, pick the run's images, and build
/// the floorplan. Without a dataset the calibration and run images are seeded synthetic images; with one, the
/// first run.calibration_images images calibrate and the first run.images images are run.
/// `calibration` (optional) replaces `data` as the source of the calibration images.
prepared prepare(const loaded_config& lc, const dataset::dataset* data = nullptr,
                 const dataset::dataset* calibration = nullptr);

}  // namespace cim::inference
