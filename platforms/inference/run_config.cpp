#include "platforms/inference/run_config.h"

#include "models/config/yaml_reader.h"
#include "models/core/error.h"

namespace cim::inference {

void run_section::validate() const {
    if (!(average_activity >= 0.0 && average_activity <= 1.0)) throw config_error("", 0, "average_activity", "must be in [0, 1]");
    if (images < 1 || images > 100000) throw config_error("", 0, "images", "must be in 1..100000");
    if (calibration_images < 1 || calibration_images > 10000)
        throw config_error("", 0, "calibration_images", "must be in 1..10000");
    if (dataset.empty()) throw config_error("", 0, "dataset", "must name a dataset or be 'synthetic'");
    if (threads < 1 || threads > 256) throw config_error("", 0, "threads", "must be in 1..256");
}

void run_config::validate() const {
    if (network.empty()) throw config_error("", 0, "network", "a network file is required");
    if (cell.is_sram() && cell.bits != 1) throw config_error("", 0, "cell.bits", "an SRAM cell stores 1 bit");
    if (cell.bits > quant.weight_bits) throw config_error("", 0, "cell.bits", "more bits per cell than weight bits");
    if (!macro.enabled && subarray.input_encoding != "bit_serial")
        throw config_error("", 0, "subarray.input_encoding",
                           "pulse encodings are supported by macro runs only (macro.enabled: true); the data path of a "
                           "network run is bit-serial");
    if (!macro.enabled && subarray.combine_cols != 1)
        throw config_error("", 0, "subarray.combine_cols",
                           "analog weight combination is supported by macro runs only (macro.enabled: true); the data "
                           "path of a network run converts every column");
}

loaded_config load_run_config(const std::string& file, const std::vector<cfg::override_spec>& overrides) {
    loaded_config lc;
    lc.file = file;
    if (!file.empty()) cfg::load_file(file, lc.cfg, &lc.sources);
    cfg::apply_overrides(lc.cfg, overrides);
    bool network_overridden = false;
    for (const auto& o : overrides) network_overridden = network_overridden || o.path == "network";
    lc.network_path = (network_overridden || file.empty()) ? lc.cfg.network : cfg::resolve_relative(file, lc.cfg.network);
    return lc;
}

}  // namespace cim::inference
