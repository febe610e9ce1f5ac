#include "platforms/inference/prepare.h"

#include "models/core/error.h"
#include "models/dataset/readers.h"
#include "models/engine/quantized_model.h"
#include "models/functional/quant_config.h"
#include "models/network/loader.h"

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

}  // namespace cim::inference
