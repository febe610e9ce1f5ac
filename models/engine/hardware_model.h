#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/functional/adc_transfer.h"
#include "models/functional/crossbar_mvm.h"
#include "models/functional/device_config.h"
#include "models/functional/quant_config.h"
#include "models/functional/subarray_block.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"

namespace cim::engine {

/// What the hardware data path needs besides the network and the plan (built from the run config).
struct hardware_options {
    func::quant_config quant;
    unsigned cell_bits = 4;
    double on_off_ratio = 10;  // <= 0 or inf: ideal off state
    unsigned adc_bits = 5;
    int rows_per_read = 0;  // rows one conversion sums (subarray_config::rows_per_activation); 0 = all
    func::adc_config adc;
    func::device_config device;
    std::uint64_t seed = 1;
    unsigned rows = 128, cols = 128;  // subarray geometry (weight columns, reference columns excluded)
    // Attention products (activation matmuls): on digital MAC lanes (exact), or on a pool of compute-in-memory
    // subarrays written at run time (engine/attention.h)
    bool attention_cim = false;
    unsigned attention_subarrays = 64;
    std::uint64_t attention_block_base = 0;  // block id of the pool's first subarray: after the floorplan's positions
};

/// One programmed subarray of the chip: the block of one copy of one layer, its ADC, and the stable id that
/// keys its random streams (its index in plan order: tile, PE, subarray).
struct programmed_slot {
    mapping::subarray_slot where;
    std::uint64_t block_id = 0;
    func::subarray_block block;
    bool signed_input = false;  // the layer's input can be negative: every read is two unsigned passes
};

/// Programs the block of subarray slot `where` (block id `block_id`, its index in plan order) of layer `L`, with the
/// device non-idealities frozen from its seeded streams: the one programming routine of both engines (the batched
/// engine's hardware_model and the platform's subarray modules, which program their own cells).
func::subarray_block program_slot(const network::layer& L, const mapping::subarray_slot& where, std::uint64_t block_id,
                                  const hardware_options& o);
/// The same from a weight matrix `qweights`, row-major [channels][weight_rows] (a write during the run). T: the
/// weights' storage (std::int8_t, std::int16_t or std::int32_t).
template <class T>
func::subarray_block program_slot(const T* qweights, std::int64_t weight_rows,
                                  const mapping::subarray_slot& where, std::uint64_t block_id, const hardware_options& o);

/// The ADC a block starts with: linear over the largest column value one conversion can produce.
func::adc_transfer default_adc(const func::subarray_block& b, const hardware_options& o);

/// Vectors of an n-vector batch that copy `copy` of a layer duplicated `duplication` times processes
/// (v = copy, copy + duplication, ...).
inline int vectors_of_copy(int copy, int n, int duplication) {
    return copy < n ? (n - copy + duplication - 1) / duplication : 0;
}

/// One subarray read: the vectors of its copy (v % duplication == copy) of an n x R input matrix through the
/// programmed block `s` and `adc`, read noise keyed by (seed, layer, block, image << 32 | vector). Writes the compact
/// partial sums (vectors of the copy in order x the slot's channels) to `psums`, which must hold that many. A slot
/// with a signed input reads x+ = max(x, 0), then x- = max(-x, 0) (noise keyed with bit 31 of the vector id set),
/// and returns the difference; `act` counts both passes. The one routine both engines call for a subarray read.
void read_block(const programmed_slot& s, const func::adc_transfer& adc, const hardware_options& o,
                const std::int32_t* x, int n, std::int64_t row_stride, int duplication, std::int64_t image_id,
                std::int64_t* psums, func::mvm_activity* act, func::column_histogram* observe = nullptr);
/// read_block, then its partial sums added into `acc` (n x out_channels) at the slot's vectors and channels
/// (add_partial_sums), through a scratch buffer of the calling thread.
void accumulate_block(const programmed_slot& s, const func::adc_transfer& adc, const hardware_options& o,
                      const std::int32_t* x, int n, std::int64_t row_stride, int duplication, std::int64_t image_id,
                      int out_channels, std::int64_t* acc, func::mvm_activity* act,
                      func::column_histogram* observe = nullptr);

/// The chip as the data path sees it: every used subarray programmed once, with device non-idealities frozen
/// at programming time from a seeded stream per (layer, subarray). Both engines use this one object: the
/// SystemC subarray modules point into it, and the batched engine loops over it, so they cannot disagree
/// about what is stored. Immutable after program() and calibrate_adcs().
class hardware_model {
public:
    hardware_model(const network::graph& g, const mapping::plan& p, const hardware_options& o);

    const network::graph& graph() const { return m_graph; }
    const mapping::plan& plan() const { return m_plan; }
    const hardware_options& options() const { return m_opt; }
    const std::vector<programmed_slot>& slots() const { return m_slots; }
    /// Slots of graph layer `layer` (indices into slots()).
    const std::vector<int>& slots_of(int layer) const { return m_by_layer[static_cast<std::size_t>(layer)]; }
    /// The slot at plan position (tile, pe, subarray); nullptr when idle.
    const programmed_slot* slot_at(std::size_t tile, std::size_t pe, std::size_t subarray) const;

    /// Read options for one image: noise streams keyed by (seed, layer, block, image << 32 | vector).
    func::read_options read_options_for(int layer, const programmed_slot& s) const;

    /// One ADC per slot (index as slots()).
    using adc_set = std::vector<func::adc_transfer>;
    const adc_set& adcs() const { return m_adcs; }
    void set_adcs(adc_set a);

    /// One slot's read of the vectors of its copy (v % duplication == copy) of an n x R input matrix: writes the
    /// compact partial sums (vectors of the copy in order x the slot's channels) into `psums` (resized). The one
    /// routine both engines call for a subarray read.
    void read_slot(int slot, const func::adc_transfer& adc, const std::int32_t* x, int n, std::int64_t row_stride,
                   int duplication, std::int64_t image_id, std::vector<std::int64_t>& psums, func::mvm_activity* act,
                   func::column_histogram* observe = nullptr) const;

    /// read_slot, then add the partial sums into acc (n x out_channels) at the slot's vectors and channels.
    void run_slot(int slot, const func::adc_transfer& adc, const std::int32_t* x, int n, std::int64_t row_stride,
                  int duplication, std::int64_t image_id, int out_channels, std::int64_t* acc,
                  func::mvm_activity* act, func::column_histogram* observe = nullptr) const;

    /// Every layer's output for one image through the programmed chip (index = layer; [0] = the image).
    /// `adcs` overrides the model's ADCs (batch_minmax mode).
    std::vector<std::vector<std::int32_t>> forward(const std::vector<std::int32_t>& image, std::int64_t image_id,
                                                   const adc_set* adcs = nullptr) const;

    /// ADC references from the column values of `images`, layer by layer, each layer seeing the outputs of the
    /// already calibrated earlier layers (adc.reference calibrated or batch_minmax; transfer linear or
    /// nonlinear). With reference == full_scale: each slot's fixed full scale.
    adc_set calibrate_adcs(const std::vector<std::vector<std::int32_t>>& images, std::int64_t first_image_id) const;

    /// Mean programmed cell level of each graph layer (index = layer; 0 without slots), in level units, with the
    /// off current of non-ideal blocks included as the measured column sums count it (run.activity: pseudo).
    std::vector<double> mean_levels() const;

private:
    void program();
    /// A layer without weights for one image: an activation matmul on the attention subarrays when they are
    /// configured, every other op (and a digital matmul) as the integer semantics say.
    void apply_other(int layer, std::vector<std::vector<std::int32_t>>& out, std::int64_t image_id) const;
    const network::graph& m_graph;
    const mapping::plan& m_plan;
    hardware_options m_opt;
    std::vector<programmed_slot> m_slots;
    adc_set m_adcs;
    std::vector<std::vector<int>> m_by_layer;
    std::vector<std::vector<std::vector<int>>> m_index;  // [tile][pe][subarray] -> slot index or -1
};

/// Adds one subarray's compact partial sums (the vectors v = copy, copy + duplication, ... of n, times `chans`
/// channels from ch_begin) into the layer accumulators acc (n x out_channels). The accumulation step of the batched
/// engine and of the PE's TLM accumulation path.
void add_partial_sums(const std::int64_t* psums, int copy, int duplication, int n, int out_channels, int ch_begin,
                      int chans, std::int64_t* acc);

/// Hardware-aware accuracy over a dataset.
struct accuracy_result {
    std::int64_t images = 0;
    std::int64_t correct = 0;        // hardware path
    std::int64_t correct_ideal = 0;  // integer-exact quantised network (no crossbar, ADC or device effects)
    std::int64_t agree = 0;          // hardware and ideal predict the same class
    std::vector<int> predictions, predictions_ideal;  // per image
    double accuracy() const { return images ? double(correct) / double(images) : 0.0; }
    double accuracy_ideal() const { return images ? double(correct_ideal) / double(images) : 0.0; }
};

/// Index of the largest logit (first on ties).
int argmax(const std::vector<std::int32_t>& logits);

/// Runs `count` images (get_image(i) -> pixels, labels[i]) through the hardware model and the ideal
/// reference on `threads` worker threads (over images; Eigen stays single-threaded). Results are per image,
/// so they do not depend on the thread count. `progress(done, total)` is called from the calling thread.
accuracy_result evaluate(const hardware_model& hw, std::int64_t count,
                         const std::function<std::vector<std::int32_t>(std::int64_t)>& get_image,
                         const std::vector<int>& labels, unsigned threads,
                         const std::function<void(std::int64_t, std::int64_t)>& progress = {});

}  // namespace cim::engine
