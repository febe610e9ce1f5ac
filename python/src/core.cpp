// cimtlm._core: the in-process Python bindings of the batched engine (docs/python.md). A model is loaded from an
// experiment config with --set style overrides, prepared and programmed exactly as `cimtlm accuracy` does it, and
// runs NumPy batches through the hardware data path and the ideal integer network. No SystemC elaboration happens
// here, and none is linked: the kernel-free cim_inference_core holds the config types and the preparation code.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/config/overrides.h"
#include "models/core/error.h"
#include "models/engine/hardware_model.h"
#include "models/engine/quantized_model.h"
#include "models/engine/work_pool.h"
#include "models/network/loader.h"
#include "models/dataset/dataset.h"
#include "models/dataset/readers.h"
#include "platforms/inference/prepare.h"
#include "platforms/inference/run_config.h"

namespace py = pybind11;

namespace {

/// The images the model is calibrated with, chosen as `cimtlm accuracy` chooses them (main.cpp load_dataset).
std::unique_ptr<cim::dataset::dataset> config_dataset(cim::inference::loaded_config& lc) {
    auto& c = lc.cfg;
    if (c.run.dataset == "synthetic") c.run.dataset = "synthetic:" + std::to_string(c.run.limit ? c.run.limit : 100);
    std::unique_ptr<cim::dataset::dataset> d;
    if (c.run.dataset.rfind("synthetic:", 0) == 0) {
        const auto g = cim::network::load(lc.network_path);
        const auto classes = static_cast<int>(g.layers.back().out.size());
        d = std::make_unique<cim::dataset::dataset>(cim::dataset::load_spec(c.run.dataset, g.input, classes, c.seed));
    } else {
        d = std::make_unique<cim::dataset::dataset>(cim::dataset::load_spec(c.run.dataset, std::nullopt, 10, c.seed));
    }
    if (c.run.limit && c.run.limit < static_cast<unsigned>(d->n)) *d = d->subset(static_cast<int>(c.run.limit));
    return d;
}

/// A programmed chip: the prepared network and floorplan and the hardware model built from them, as
/// `cimtlm accuracy` builds them (same calibration images, device streams and ADC references).
/// Does not model: timing, energy or any SystemC module (those come from `cimtlm run`, cimtlm.run in Python).
class model {
public:
    model(const std::string& config, const std::vector<std::string>& sets) {
        std::vector<cim::cfg::override_spec> ov;
        for (const auto& s : sets) ov.push_back(cim::cfg::parse_override(s));
        m_lc = cim::inference::load_run_config(config, ov);
        auto data = config_dataset(m_lc);
        std::unique_ptr<cim::dataset::dataset> calib;
        if (m_lc.cfg.run.calibration_dataset != "same") {
            auto d = cim::dataset::load_spec(m_lc.cfg.run.calibration_dataset, std::nullopt, 10, m_lc.cfg.seed);
            calib = std::make_unique<cim::dataset::dataset>(d.subset(static_cast<int>(m_lc.cfg.run.calibration_images)));
        }
        m_prepared = std::make_unique<cim::inference::prepared>(cim::inference::prepare(m_lc, data.get(), calib.get()));
        m_model = cim::inference::build_model(m_lc.cfg, *m_prepared);
        m_c = data->c;
        m_h = data->h;
        m_w = data->w;
    }

    std::vector<int> input_shape() const { return {m_c, m_h, m_w}; }
    std::string network_name() const { return m_prepared->graph.name; }
    std::string network_path() const { return m_lc.network_path; }
    unsigned threads() const { return m_lc.cfg.run.threads; }

    /// Runs `images` (N x C x H x W or N x C*H*W; uint8 scaled by 1/255 or float in [0, 1]) with image ids
    /// first_id, first_id + 1, ...: a dict of logits and predictions of the hardware and of the ideal network.
    py::dict run(const py::array& images, std::int64_t first_id, unsigned threads) const {
        cim::dataset::dataset ds = to_dataset(images);
        const auto& g = m_prepared->graph;
        const auto& hw = *m_model;
        const unsigned bits = m_lc.cfg.quant.input_bits;
        const std::int64_t n = ds.n;
        const int classes = static_cast<int>(g.layers.back().out.size());
        std::vector<std::int32_t> logits_hw(static_cast<std::size_t>(n * classes)), logits_ideal(logits_hw.size());
        std::vector<std::int64_t> pred_hw(static_cast<std::size_t>(n)), pred_ideal(static_cast<std::size_t>(n));
        {
            py::gil_scoped_release nogil;
            // The loop of cim::engine::evaluate, keeping the logits: same image ids, same per-batch ADC references.
            const std::string ref = hw.options().adc.reference;
            const std::int64_t batch = ref == "batch_minmax" ? std::max<std::int64_t>(1, hw.options().adc.batch_images) : n;
            const cim::engine::work_pool pool(threads ? threads : m_lc.cfg.run.threads);
            for (std::int64_t b0 = 0; b0 < n; b0 += batch) {
                const std::int64_t b1 = std::min(n, b0 + batch);
                cim::engine::hardware_model::adc_set batch_adcs;
                if (ref == "batch_minmax") {
                    std::vector<std::vector<std::int32_t>> imgs;
                    for (std::int64_t i = b0; i < b1; ++i) imgs.push_back(ds.input(static_cast<int>(i), bits));
                    batch_adcs = hw.calibrate_adcs(imgs, first_id + b0);
                }
                pool.run(b1 - b0, [&](std::int64_t k) {
                    const std::int64_t i = b0 + k;
                    const auto img = ds.input(static_cast<int>(i), bits);
                    const auto h = hw.forward(img, first_id + i, batch_adcs.empty() ? nullptr : &batch_adcs);
                    const auto r = cim::engine::reference_forward(g, hw.options().quant, img, 1);
                    copy_logits(h.back(), classes, logits_hw.data() + i * classes);
                    copy_logits(r.back(), classes, logits_ideal.data() + i * classes);
                    pred_hw[static_cast<std::size_t>(i)] = cim::engine::argmax(h.back());
                    pred_ideal[static_cast<std::size_t>(i)] = cim::engine::argmax(r.back());
                });
            }
        }
        py::dict out;
        out["logits"] = to_array(logits_hw, n, classes);
        out["logits_ideal"] = to_array(logits_ideal, n, classes);
        out["predictions"] = py::array_t<std::int64_t>(n, pred_hw.data());
        out["predictions_ideal"] = py::array_t<std::int64_t>(n, pred_ideal.data());
        return out;
    }

private:
    static void copy_logits(const std::vector<std::int32_t>& v, int classes, std::int32_t* dst) {
        if (static_cast<int>(v.size()) != classes) throw cim::model_error("network", "the last layer's output size changed");
        std::copy(v.begin(), v.end(), dst);
    }
    static py::array_t<std::int32_t> to_array(const std::vector<std::int32_t>& v, std::int64_t n, int classes) {
        py::array_t<std::int32_t> a({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(classes)});
        std::copy(v.begin(), v.end(), a.mutable_data());
        return a;
    }

    /// The batch as a dataset, converted as the NPY reader converts a file (uint8 / 255, float checked in [0, 1]).
    cim::dataset::dataset to_dataset(const py::array& images) const {
        const std::int64_t size = std::int64_t{m_c} * m_h * m_w;
        if (images.ndim() < 2) throw py::value_error("images: expected a batch (N, C, H, W) or (N, C*H*W), got " +
                                                     std::to_string(images.ndim()) + " dimension(s)");
        std::int64_t per = 1;
        for (py::ssize_t d = 1; d < images.ndim(); ++d) per *= images.shape(d);
        if (per != size)
            throw py::value_error("images: each image has " + std::to_string(per) + " values; the model takes " +
                                  std::to_string(m_c) + "x" + std::to_string(m_h) + "x" + std::to_string(m_w) + " = " +
                                  std::to_string(size));
        cim::dataset::dataset ds;
        ds.name = "numpy";
        ds.n = static_cast<int>(images.shape(0));
        ds.c = m_c;
        ds.h = m_h;
        ds.w = m_w;
        ds.labels.assign(static_cast<std::size_t>(ds.n), 0);
        ds.pixels.resize(static_cast<std::size_t>(ds.n * size));
        const auto k = images.dtype().kind();
        if (py::isinstance<py::array_t<std::uint8_t>>(images) && images.dtype().itemsize() == 1 && k == 'u') {
            const auto a = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(images);
            const auto* p = a.data();
            for (std::size_t i = 0; i < ds.pixels.size(); ++i) ds.pixels[i] = static_cast<float>(p[i]) / 255.0f;
        } else if (k == 'f' && (images.dtype().itemsize() == 4 || images.dtype().itemsize() == 8)) {
            const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(images);
            const auto* p = a.data();
            for (std::size_t i = 0; i < ds.pixels.size(); ++i) {
                const double v = p[i];
                if (!(v >= 0.0 && v <= 1.0))
                    throw py::value_error("images: pixel value " + std::to_string(v) + " at flat index " +
                                          std::to_string(i) + " is outside [0, 1]; scale float images to [0, 1] "
                                          "(or pass uint8)");
                ds.pixels[i] = static_cast<float>(v);  // as the NPY reader stores <f4 and <f8 pixels
            }
        } else {
            throw py::type_error("images: dtype " + py::str(images.dtype()).cast<std::string>() +
                                 " is not supported; pass uint8 (scaled by 1/255) or float32/float64 in [0, 1]");
        }
        return ds;
    }

    cim::inference::loaded_config m_lc;
    std::unique_ptr<cim::inference::prepared> m_prepared;
    std::unique_ptr<cim::engine::hardware_model> m_model;
    int m_c = 0, m_h = 0, m_w = 0;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "cimtlm's batched engine in process (see docs/python.md)";
    m.attr("version") = CIMTLM_VERSION;
    // Errors become cimtlm.ConfigError / cimtlm.ModelError (python/cimtlm/errors.py) with the CLI's fields.
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const cim::config_error& e) {
            auto cls = py::module_::import("cimtlm.errors").attr("ConfigError");
            auto obj = cls(e.file(), e.line(), e.key(), cim::one_line(e.what()));
            PyErr_SetObject(cls.ptr(), obj.ptr());
        } catch (const cim::model_error& e) {
            auto cls = py::module_::import("cimtlm.errors").attr("ModelError");
            auto obj = cls(e.key(), cim::one_line(e.what()));
            PyErr_SetObject(cls.ptr(), obj.ptr());
        }
    });
    py::class_<model>(m, "Model")
        .def(py::init<const std::string&, const std::vector<std::string>&>(), py::arg("config"),
             py::arg("set") = std::vector<std::string>{}, py::call_guard<py::gil_scoped_release>())
        .def_property_readonly("input_shape", &model::input_shape)
        .def_property_readonly("network", &model::network_name)
        .def_property_readonly("network_path", &model::network_path)
        .def_property_readonly("threads", &model::threads)
        .def("run", &model::run, py::arg("images"), py::arg("first_id") = 0, py::arg("threads") = 0);
}
