#include "platforms/inference/platform.h"

#include "models/config/json_writer.h"
#include "models/core/error.h"
#include "models/dataset/readers.h"
#include "models/engine/quantized_model.h"
#include "models/functional/quant_config.h"
#include "models/network/loader.h"
#include "platforms/rtl/rtl_accumulator.h"

namespace cim::inference {

prepared prepare(const loaded_config& lc, const dataset::dataset* data, const dataset::dataset* calibration) {
    const run_config& c = lc.cfg;
    prepared p;
    p.graph = network::load(lc.network_path);
    // Weights: imported and quantised (ONNX with cimtlm.quant metadata: scales included), imported float (post-
    // training quantisation here, scales calibrated below), or none (seeded synthetic weights).
    bool has_float = false, has_int = false;
    for (const auto& l : p.graph.layers) {
        has_float = has_float || !l.fweights.empty();
        has_int = has_int || !l.qweights.empty();
    }
    if (p.graph.quantized) {
        if (p.graph.weight_bits != c.quant.weight_bits || p.graph.input_bits != c.quant.input_bits)
            throw config_error(lc.file, 0, "quant", "the model " + lc.network_path + " was quantised to " +
                                                        std::to_string(p.graph.weight_bits) + "-bit weights and " +
                                                        std::to_string(p.graph.input_bits) +
                                                        "-bit activations; set quant.weight_bits and quant.input_bits to match");
    } else if (has_float) {
        engine::quantize_weights(p.graph, c.quant);
    } else if (!has_int) {
        engine::synthesize_weights(p.graph, c.quant, c.seed);
    }
    if (data) {
        dataset::check_shape(*data, p.graph.input, data->name);
        const dataset::dataset& cal = calibration ? *calibration : *data;
        if (calibration) dataset::check_shape(cal, p.graph.input, cal.name);
        const int nc = std::min<int>(cal.n, static_cast<int>(c.run.calibration_images));
        for (int i = 0; i < nc; ++i) p.calibration.push_back(cal.input(i, c.quant.input_bits));
        const int ni = std::min<int>(data->n, static_cast<int>(c.run.images));
        for (int i = 0; i < ni; ++i) p.images.push_back(data->input(i, c.quant.input_bits));
        if (p.calibration.empty() || p.images.empty()) throw config_error(data->name, 0, "--dataset", "the dataset is empty");
    } else {
        // Calibration images use their own stream ids so they never coincide with the run's images.
        for (unsigned i = 0; i < c.run.calibration_images; ++i)
            p.calibration.push_back(engine::synthetic_image(p.graph.input, c.quant, c.seed, 1000000 + static_cast<int>(i)));
        for (unsigned i = 0; i < c.run.images; ++i)
            p.images.push_back(engine::synthetic_image(p.graph.input, c.quant, c.seed, static_cast<int>(i)));
    }
    if (!p.graph.quantized) engine::calibrate(p.graph, c.quant, p.calibration);
    mapping::geometry geo;
    geo.rows = c.subarray.rows;
    geo.cols = c.subarray.cols;
    geo.columns_per_weight = func::columns_per_weight(c.quant, c.cell.bits);
    p.plan = mapping::build(p.graph, c.mapping, geo);
    return p;
}

engine::hardware_options hardware_options_of(const run_config& c, const mapping::plan& plan) {
    engine::hardware_options o;
    o.quant = c.quant;
    o.cell_bits = c.cell.bits;
    o.on_off_ratio = c.cell.is_sram() ? 0.0 : c.cell.on_off_ratio;  // an SRAM cell's off state is ideal
    o.adc_bits = c.subarray.adc_bits;
    // What one conversion sees: the rows one activation turns on (all of a block's rows in parallel read-out).
    o.rows_per_read = static_cast<int>(c.subarray.rows_per_activation());
    o.adc = c.adc;
    o.device = c.device;
    o.seed = c.seed;
    o.rows = c.subarray.rows;
    o.cols = c.subarray.cols;
    o.attention_cim = c.chip.attention.impl == "cim";
    o.attention_subarrays = c.chip.attention.subarrays;
    // The attention pool's block ids follow every subarray position of the floorplan.
    for (const auto& t : plan.tiles)
        for (const auto& pe : t.pes) o.attention_block_base += pe.subarrays.size();
    return o;
}

std::unique_ptr<engine::hardware_model> build_model(const run_config& c, const prepared& p) {
    auto m = std::make_unique<engine::hardware_model>(p.graph, p.plan, hardware_options_of(c, p.plan));
    if (c.adc.reference == "calibrated") m->set_adcs(m->calibrate_adcs(p.calibration, 1000000));
    if (c.adc.reference == "batch_minmax") m->set_adcs(m->calibrate_adcs(p.images, 0));
    return m;
}

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
                       static_cast<int>(c.run.images), m_rtl ? &m_rtl : nullptr};
    if (!m_opt.replay && static_cast<int>(m_data.images.size()) != in.image_count) in.image_count = static_cast<int>(m_data.images.size());
    m_chip = std::make_unique<hw::chip>(name.c_str(), *m_rec, in, c.chip);
    m_chip->ctrl().keep_outputs(m_opt.keep_outputs);
}

platform::~platform() {
    // A VCD file that the kernel never initialised (no sc_start: an error during elaboration) cannot be closed.
    if (m_rec && m_rec->vcd && sc_core::sc_start_of_simulation_invoked()) {
        sc_core::sc_close_vcd_trace_file(m_rec->vcd);
        m_rec->vcd = nullptr;
    }
}

std::unique_ptr<engine::hardware_model> platform::engine_model() const {
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

nlohmann::ordered_json platform::counts() const { return report::counts_json(*m_chip, *m_rec); }

}  // namespace cim::inference
