#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/circuit/components.h"
#include "models/circuit/calibration.h"
#include "models/circuit/macro.h"
#include "models/circuit/technology.h"
#include "models/config/overrides.h"
#include "models/functional/adc_transfer.h"
#include "models/functional/device_config.h"
#include "models/functional/quant_config.h"
#include "models/hw/chip_config.h"
#include "models/mapping/plan.h"

namespace cim::inference {

/// The `run:` section: what to feed the chip.
struct run_section {
    unsigned images = 1;              // images simulated through the platform
    unsigned calibration_images = 4;  // synthetic images used to calibrate activation scales
    std::string dataset = "synthetic";  // "synthetic" or a dataset spec (dataset::load_spec)
    std::string calibration_dataset = "same";  // images that calibrate scales and ADC references
    unsigned limit = 0;                 // images of the dataset evaluated by `accuracy` (0 = all)
    unsigned threads = 1;               // worker threads of the batched engine
    std::string mode = "layer_by_layer";  // layer_by_layer | pipelined
    std::string activity = "real";      // how the subarray read costs see the data: real | pseudo | average
    double average_activity = 0.5;      // `average` activity: input-bit density and mean cell level (fraction of max)

    template <class V>
    void visit(V& v) {
        v("images", images, "images simulated through the SystemC platform (results are per inference)");
        v.choice("mode", mode, {"layer_by_layer", "pipelined"},
                 "how images go through the chip: layer_by_layer (layer n+1 starts when layer n has finished, the "
                 "paper's mode) or pipelined (every layer works on its next image as soon as its inputs are in the "
                 "global buffer; the buffer's capacity stalls producers)");
        v("calibration_images", calibration_images, "synthetic images used to calibrate per-layer activation scales");
        v("dataset", dataset,
          "input images: synthetic (seeded), fashion-mnist[:train|:test], idx:IMAGES,LABELS, "
          "cifar10:FILE[,FILE...], npy:IMAGES,LABELS or synthetic:N");
        v("calibration_dataset", calibration_dataset,
          "images that calibrate activation scales and ADC references: same (the first images of run.dataset) or a "
          "dataset spec, e.g. fashion-mnist:train");
        v("limit", limit, "images of the dataset that `cimtlm accuracy` evaluates; 0 = all");
        v("threads", threads, "worker threads of the batched engine (over images)");
        v.choice("activity", activity, {"real", "pseudo", "average"},
                 "how subarray read costs see the data (Fig. 7 of the paper): real = the measured inputs and cell "
                 "levels of every read; pseudo = per layer, the input-bit density of the layer's activations and "
                 "the mean programmed cell level; average = average_activity for both");
        v("average_activity", average_activity,
          "for activity: average, the assumed input-bit density and mean cell level (as a fraction of the top level)");
        v.renamed("trace", "activity");
    }
    void validate() const;
};

/// A whole experiment: the top-level YAML of `cimtlm run CONFIG`.
struct run_config {
    std::string network = "../networks/vgg8_cifar10.yaml";
    std::uint64_t seed = 1;
    circuit::technology technology = circuit::technology::node_32nm();
    circuit::calibration circuit_calibration;
    circuit::cell cell;
    func::quant_config quant;
    circuit::subarray_config subarray;
    func::adc_config adc;
    func::device_config device;
    mapping::config mapping;
    hw::chip_config chip;
    run_section run;
    circuit::macro_config macro;

    template <class V>
    void visit(V& v) {
        v("network", network, "network file (.yaml or NeuroSim .csv), relative to the config file");
        v("seed", seed, "seed of every random stream (synthetic weights and images)");
        v("technology", technology, "CMOS technology node (a file under configs/tech/ or inline)");
        v("circuit_calibration", circuit_calibration,
          "global multipliers of the circuit models, fitted to Table 1 of the DNN+NeuroSim paper (docs/validation.md)");
        v("cell", cell, "synaptic memory cell (a file under configs/cells/ or inline)");
        v("quant", quant, "number formats of weights and activations");
        v("subarray", subarray, "synaptic subarray geometry, ADC and read-out");
        v("adc", adc, "ADC transfer function and how its references are set");
        v("device", device, "device non-idealities: variation, stuck-at faults, read noise, retention drift");
        v("mapping", mapping, "how layers are mapped onto tiles, PEs and subarrays");
        v("chip", chip, "chip-level periphery: clock, buffers, H-tree, digital units");
        v("run", run, "what the run feeds the chip");
        v("macro", macro,
          "a macro run: one compute-in-memory macro at its boundary for one MVM, from stated data statistics "
          "(configs/macros/, docs/validation-silicon.md)");
    }
    void validate() const;
};

/// A loaded config and where it came from.
struct loaded_config {
    run_config cfg;
    std::string file;                  // config file path ("" for defaults)
    std::string network_path;          // resolved network path
    std::vector<std::string> sources;  // provenance lines of every file read
};

/// Load a run config (or the defaults when `file` is empty), then apply --set overrides.
/// The network path resolves against the config file's folder, or the working directory when set by --set.
loaded_config load_run_config(const std::string& file, const std::vector<cfg::override_spec>& overrides);

}  // namespace cim::inference
