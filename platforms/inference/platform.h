#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/engine/hardware_model.h"
#include "models/hw/accumulation_path.h"
#include "models/hw/chip.h"
#include "models/hw/component.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"
#include "models/report/report.h"
#include "platforms/inference/prepare.h"
#include "platforms/inference/run_config.h"

namespace cim::inference {

/// How a platform runs, besides its config.
struct platform_options {
    /// Timing only: the subarrays take their activity from `reads` (a finished run's read log) and no data
    /// flows; the weights are not programmed and the ADCs not calibrated (cimtlm reprice).
    const hw::read_log* replay = nullptr;
    /// --vcd: the file (written when the simulation ends) and the module-path globs whose signals it holds.
    std::string vcd;
    std::vector<std::string> vcd_scopes;
    /// Keep every layer's output of the last image (tests).
    bool keep_outputs = false;
    /// The graph keeps its weights once the subarrays are programmed (engine_model() builds from them). false frees
    /// them when the chip is built: the subarrays then hold the only copy (cimtlm run without an accuracy pass).
    bool keep_weights = true;
};

/// The elaborated SystemC platform: owns the run record the modules share and the chip.
/// Elaborate once per process (SystemC cannot re-elaborate).
class platform {
public:
    platform(const loaded_config& lc, prepared p, platform_options opt = {}, const std::string& name = "chip");
    ~platform();
    hw::chip& chip() { return *m_chip; }
    const hw::chip& chip() const { return *m_chip; }
    const prepared& data() const { return m_data; }
    hw::run_record& record() { return *m_rec; }
    const hw::run_record& record() const { return *m_rec; }
    /// The ADC of every used subarray as calibrated (empty when the blocks keep their full-scale ADCs).
    const engine::hardware_model::adc_set& adcs() const { return m_adcs; }
    /// The batched engine over the same chip: every block programmed again by the same routine, with the
    /// calibrated ADCs (for the accuracy step, and for tests that compare the two engines).
    std::unique_ptr<engine::hardware_model> engine_model() const;
    /// sc_start() until the controller finishes; returns the simulated time in seconds. An error raised in a
    /// process is rethrown here with its key; a run that stops before the last layer (a deadlock: the global
    /// buffer cannot hold what a layer needs) is a model error.
    double simulate();
    report::report_data report() const;
    /// counts.json of the run (report::write_counts_json), `what` naming it in errors.
    void write_counts(std::ostream& os, const std::string& what) const;

private:
    void run_kernel();
    loaded_config m_lc;
    prepared m_data;
    platform_options m_opt;
    std::unique_ptr<hw::run_record> m_rec;
    engine::hardware_options m_options;
    engine::hardware_model::adc_set m_adcs;
    std::unique_ptr<sc_core::sc_clock> m_clock;  // the RTL blocks' clock (chip.pe.accumulator.impl: rtl)
    hw::accumulation_factory m_rtl;
    std::unique_ptr<hw::chip> m_chip;
    bool m_weights_released = false;  // keep_weights was false: the graph's weights are gone
};

}  // namespace cim::inference
