#include "platforms/inference/platform.h"

#include <memory>

#include "models/config/json_writer.h"
#include "models/core/error.h"
#include "models/hw/subarray.h"
#include "models/engine/quantized_model.h"
#include "models/functional/quant_config.h"
#include "platforms/rtl/rtl_accumulator.h"

namespace cim::inference {

platform::platform(const loaded_config& lc, prepared p, platform_options opt, const std::string& name)
    : m_lc(lc), m_data(std::move(p)), m_opt(std::move(opt)), m_rec(std::make_unique<hw::run_record>()) {
    const run_config& c = m_lc.cfg;
    m_options = hardware_options_of(c, m_data.plan);
    hw::activity_costing activity;
    if (c.run.activity != "real") {
        activity.kind = c.run.activity == "pseudo" ? hw::activity_costing::mode::pseudo : hw::activity_costing::mode::average;
        activity.average_activity = c.run.average_activity;
    }
    m_rec->replay = m_opt.replay != nullptr;
    if (m_opt.replay) {
        m_rec->reads = *m_opt.replay;
    } else if (c.adc.reference != "full_scale" || activity.kind == hw::activity_costing::mode::pseudo) {
        // The batched engine calibrates the ADC references; the subarray modules program their own cells and take
        // the references. The engine's copy of the cells is dropped before the chip programs its own.
        const auto model = build_model(c, m_data);
        if (c.adc.reference != "full_scale") m_adcs = model->adcs();
        if (activity.kind == hw::activity_costing::mode::pseudo) activity.layer_mean_level = model->mean_levels();
    }
    if (activity.kind == hw::activity_costing::mode::pseudo && m_opt.replay)
        throw config_error(m_lc.file, 0, "run.activity", "pseudo activity cannot be re-priced (it needs the programmed cells)");
    if (!m_opt.vcd.empty()) {
        // SystemC writes `<name>.vcd`; the CLI moves it into place when the run ends.
        std::string base = m_opt.vcd;
        if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0) base.resize(base.size() - 4);
        m_rec->vcd = sc_core::sc_create_vcd_trace_file(base.c_str());
        m_rec->vcd->set_time_unit(1, sc_core::SC_PS);
        m_rec->vcd_scopes = m_opt.vcd_scopes;
    }
    if (c.chip.pe.accumulator.impl == "rtl") {
        const double hz = c.chip.pe.accumulator.clock > 0 ? c.chip.pe.accumulator.clock : c.chip.clock_hz(c.technology);
        m_clock = std::make_unique<sc_core::sc_clock>("rtl_clock", sc_core::sc_time(1.0 / hz, sc_core::SC_SEC));
    }
    m_rtl = rtl::make_factory(c.chip.pe.accumulator, m_clock.get(), *m_rec);
    hw::chip_inputs in{c.technology, c.circuit_calibration, c.cell, c.subarray, m_options, m_data.graph, m_data.plan,
                       m_adcs.empty() ? nullptr : &m_adcs, activity,
                       c.run.mode == "pipelined" ? hw::run_mode::pipelined : hw::run_mode::layer_by_layer,
                       m_opt.replay ? std::vector<std::vector<std::int32_t>>{} : m_data.images,
                       static_cast<int>(c.run.images), m_rtl ? &m_rtl : nullptr, {}};
    // Without keep_weights each layer's weights are freed as soon as its last block is programmed, so the graph's
    // copy and the cells are never both held whole (and every layer's once the chip is built).
    auto release = [](network::layer& l) {
        l.qweights.clear();
        std::vector<float>().swap(l.fweights);
    };
    if (!m_opt.keep_weights) {
        // Blocks left to program per layer; shared, so the hook the chip keeps never refers to this frame.
        auto left = std::make_shared<std::vector<int>>(m_data.graph.layers.size(), 0);
        for (const auto& t : m_data.plan.tiles)
            for (const auto& pe : t.pes)
                for (const auto& s : pe.subarrays)
                    if (s.used()) ++(*left)[static_cast<std::size_t>(s.layer)];
        in.programmed = [this, left, release](int layer) {
            if (--(*left)[static_cast<std::size_t>(layer)] == 0) release(m_data.graph.layers[static_cast<std::size_t>(layer)]);
        };
    }
    if (!m_opt.replay && static_cast<int>(m_data.images.size()) != in.image_count) in.image_count = static_cast<int>(m_data.images.size());
    m_chip = std::make_unique<hw::chip>(name.c_str(), *m_rec, in, c.chip);
    m_chip->ctrl().keep_outputs(m_opt.keep_outputs);
    if (!m_opt.keep_weights) {
        for (auto& l : m_data.graph.layers) release(l);
        m_weights_released = true;
    }
}

namespace {
// Every subarray below `o` (the chip's tiles, PEs and attention pool).
void release_cells_below(sc_core::sc_object& o) {
    for (sc_core::sc_object* c : o.get_child_objects()) {
        if (auto* s = dynamic_cast<hw::subarray*>(c)) s->release_cells();
        release_cells_below(*c);
    }
}
}  // namespace

platform::~platform() {
    // A VCD file that the kernel never initialised (no sc_start: an error during elaboration) cannot be closed.
    if (m_rec && m_rec->vcd && sc_core::sc_start_of_simulation_invoked()) {
        sc_core::sc_close_vcd_trace_file(m_rec->vcd);
        m_rec->vcd = nullptr;
    }
}

std::unique_ptr<engine::hardware_model> platform::engine_model() const {
    if (m_weights_released)
        throw model_error("platform", "the graph's weights were freed once the chip was programmed (keep_weights)");
    auto m = std::make_unique<engine::hardware_model>(m_data.graph, m_data.plan, m_options);
    if (!m_adcs.empty()) m->set_adcs(m_adcs);
    return m;
}

double platform::simulate() {
    try {
        run_kernel();
    } catch (...) {
        m_rec->vcd = nullptr;  // the kernel failed: its VCD file may be half set up, and cannot be closed
        throw;
    }
    if (m_rec->failure) std::rethrow_exception(m_rec->failure);
    if (!m_chip->ctrl().finished())
        throw model_error("chip.controller",
                          "the simulation stopped before the last layer: a deadlock (the global buffer cannot hold the "
                          "activations the layers in flight need; raise chip.global_buffer.size)");
    if (m_rec->vcd) {
        sc_core::sc_close_vcd_trace_file(m_rec->vcd);
        m_rec->vcd = nullptr;
    }
    // The run is over: no subarray is read again, and the report needs only the counts.
    release_cells_below(*m_chip);
    return m_chip->ctrl().end_time().to_seconds();
}

void platform::run_kernel() {
    if (!m_clock) {
        sc_core::sc_start();  // returns when nothing is left to do: finished, or blocked for good
    } else {
        // A clock never runs out of events: run in slices and stop when a slice made no progress (a deadlock).
        const sc_core::sc_time slice(1, sc_core::SC_MS);
        std::size_t seen = m_rec->time.activities().size() + m_rec->ticks;
        while (sc_core::sc_get_status() != sc_core::SC_STOPPED && !m_rec->failure) {
            sc_core::sc_start(slice);
            if (sc_core::sc_get_status() == sc_core::SC_STOPPED) break;
            const std::size_t now = m_rec->time.activities().size() + m_rec->ticks;
            const int last = m_rec->time.last();
            const bool in_flight = last >= 0 && m_rec->time[last].end > hw::timeline::to_ps(sc_core::sc_time_stamp());
            if (now == seen && !in_flight) break;
            seen = now;
        }
    }
}

report::report_data platform::report() const {
    report::report_data r = report::collect(*m_chip, *m_rec, m_data.plan, m_data.graph,
                                            m_lc.cfg.run.mode == "pipelined" ? hw::run_mode::pipelined
                                                                             : hw::run_mode::layer_by_layer);
    r.config = cfg::to_json(m_lc.cfg);
    r.network_path = m_lc.network_path;
    r.sources = m_lc.sources;
    return r;
}

void platform::write_counts(std::ostream& os, const std::string& what) const {
    report::write_counts_json(os, *m_chip, *m_rec, what);
}

}  // namespace cim::inference
