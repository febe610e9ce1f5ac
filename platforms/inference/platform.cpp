#include "platforms/inference/platform.h"

#include "models/config/describe.h"
#include "models/core/error.h"
#include "models/engine/quantized_model.h"
#include "models/functional/quant_config.h"
#include "models/network/loader.h"

namespace cim::inference {

prepared prepare(const loaded_config& lc) {
    const run_config& c = lc.cfg;
    prepared p;
    p.graph = network::load(lc.network_path);
    engine::check_crossbar_inputs(p.graph);
    engine::synthesize_weights(p.graph, c.quant, c.seed);
    std::vector<std::vector<std::int32_t>> calib;
    // Calibration images use their own stream ids so they never coincide with the run's images.
    for (unsigned i = 0; i < c.run.calibration_images; ++i)
        calib.push_back(engine::synthetic_image(p.graph.input, c.quant, c.seed, 1000000 + static_cast<int>(i)));
    engine::calibrate(p.graph, c.quant, calib);
    for (unsigned i = 0; i < c.run.images; ++i)
        p.images.push_back(engine::synthetic_image(p.graph.input, c.quant, c.seed, static_cast<int>(i)));
    mapping::geometry geo;
    geo.rows = c.subarray.rows;
    geo.cols = c.subarray.cols;
    geo.columns_per_weight = func::columns_per_weight(c.quant, c.cell.bits);
    p.plan = mapping::build(p.graph, c.mapping, geo);
    return p;
}

platform::platform(const loaded_config& lc, prepared p, const std::string& name) : m_lc(lc), m_data(std::move(p)) {
    const run_config& c = m_lc.cfg;
    m_ctx = std::make_unique<hw::context>(hw::context{c.technology, c.cell, c.subarray, c.quant, m_data.graph,
                                                      m_data.plan, c.chip.clock, m_ledger});
    m_chip = std::make_unique<hw::chip>(name.c_str(), *m_ctx, c.chip, m_data.images);
}

double platform::simulate() {
    sc_core::sc_start();
    if (!m_chip->ctrl().finished()) throw model_error("chip.controller", "the simulation stopped before the last layer");
    return sc_core::sc_time_stamp().to_seconds();
}

report::report_data platform::report() const {
    report::report_data r = report::collect(*m_chip, m_ledger, m_data.plan, m_data.graph);
    r.config = cfg::to_json(m_lc.cfg);
    r.network_path = m_lc.network_path;
    r.sources = m_lc.sources;
    r.sim_time_s = sc_core::sc_time_stamp().to_seconds();
    return r;
}

}  // namespace cim::inference
