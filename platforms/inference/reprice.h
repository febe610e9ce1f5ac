#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/config/overrides.h"
#include "models/hw/read_log.h"
#include "platforms/inference/platform.h"
#include "platforms/inference/run_config.h"

namespace cim::inference {

/// A finished run, as `cimtlm run` left it in its folder: the effective config of report.json, the network it read,
/// and the read log of counts.json (every subarray read's activity and every layer's input bits).
struct finished_run {
    std::string dir;
    loaded_config config;  // the run's effective config (every parameter), network_path resolved
    nlohmann::ordered_json report;
    hw::read_log reads;
};

/// Reads RUN_DIR/report.json and RUN_DIR/counts.json. Throws config_error naming the file for a missing,
/// unreadable or malformed one.
finished_run load_finished_run(const std::string& dir);

/// Parameters whose change leaves the run's behaviour (the data path: every value, activity and count of a read)
/// as it was, so a run can be re-priced under them: the technology, the calibration, the cell's electrical and
/// geometric parameters, the periphery's sizing and timing, the chip's clock, buffers and digital units, the read
/// costing mode and the execution mode. Prefix match on dotted keys.
bool cost_only(const std::string& key);

/// Applies `sets` to the finished run's config. Throws config_error naming the first key whose change would alter
/// the behaviour (the --set argument and the key).
loaded_config reprice_config(const finished_run& run, const std::vector<cfg::override_spec>& sets);

/// The network's shapes and the floorplan: what a timing replay elaborates (no weights, images or calibration).
prepared prepare_structure(const loaded_config& lc);

}  // namespace cim::inference
