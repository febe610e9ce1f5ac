#include "models/engine/hardware_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>

#include "models/core/error.h"
#include "models/engine/attention.h"
#include "models/engine/quantized_model.h"
#include "models/engine/work_pool.h"
#include "models/functional/quant_ops.h"

namespace cim::engine {

namespace {
double ratio_or_inf(double r) { return (r <= 0 || !std::isfinite(r)) ? std::numeric_limits<double>::infinity() : r; }
}  // namespace

func::subarray_block program_slot(const network::layer& L, const mapping::subarray_slot& where, std::uint64_t block_id,
                                  const hardware_options& o) {
    return L.qweights.visit([&](const auto* w) { return program_slot(w, L.weight_rows(), where, block_id, o); });
}

template <class T>
func::subarray_block program_slot(const T* qweights, std::int64_t weight_rows, const mapping::subarray_slot& where,
                                  std::uint64_t block_id, const hardware_options& o) {
    return func::program_block(qweights, weight_rows, where.row_begin, where.row_end, where.ch_begin, where.ch_end,
                               o.quant, o.cell_bits, o.device, ratio_or_inf(o.on_off_ratio),
                               func::rng_key{o.seed, static_cast<std::uint64_t>(where.layer), block_id});
}
template func::subarray_block program_slot<std::int8_t>(const std::int8_t*, std::int64_t, const mapping::subarray_slot&,
                                                        std::uint64_t, const hardware_options&);
template func::subarray_block program_slot<std::int16_t>(const std::int16_t*, std::int64_t,
                                                         const mapping::subarray_slot&, std::uint64_t,
                                                         const hardware_options&);
template func::subarray_block program_slot<std::int32_t>(const std::int32_t*, std::int64_t,
                                                         const mapping::subarray_slot&, std::uint64_t,
                                                         const hardware_options&);

func::adc_transfer default_adc(const func::subarray_block& b, const hardware_options& o) {
    return func::adc_transfer(o.adc_bits, func::full_scale(b, o.quant, o.rows_per_read));
}

void read_block(const programmed_slot& s, const func::adc_transfer& adc, const hardware_options& o,
                const std::int32_t* x, int n, std::int64_t row_stride, int duplication, std::int64_t image_id,
                std::int64_t* psums, func::mvm_activity* act, func::column_histogram* observe) {
    const int rows = s.where.row_end - s.where.row_begin;
    const int m = vectors_of_copy(s.where.copy, n, duplication);
    if (m == 0) return;
    // Per-thread scratch: the stable ids of this copy's vectors (and, for a signed input, their gathered rows).
    thread_local std::vector<std::int32_t> xs;
    thread_local std::vector<std::int64_t> ids;
    ids.resize(static_cast<std::size_t>(m));
    int i = 0;
    for (int v = s.where.copy; v < n; v += duplication, ++i) ids[static_cast<std::size_t>(i)] = (image_id << 32) | v;  // stable: image and output pixel
    func::read_options ro;
    ro.read_noise_sigma = o.device.read_noise_sigma;
    ro.seed = o.seed;
    ro.layer = static_cast<std::uint64_t>(s.where.layer);
    ro.block = s.block_id;
    ro.vector_ids = ids.data();
    ro.observe = observe;
    ro.rows_per_read = o.rows_per_read;
    // The copy's vectors v = copy, copy + duplication, ... lie duplication * row_stride apart: read in place.
    const std::int32_t* first = x + static_cast<std::size_t>(s.where.copy) * static_cast<std::size_t>(row_stride) + s.where.row_begin;
    const std::int64_t stride = row_stride * duplication;
    if (!s.signed_input && (m == 1 || stride <= std::numeric_limits<int>::max())) {
        func::block_mvm(s.block, first, m, m == 1 ? rows : static_cast<int>(stride), o.quant, adc, psums, act, ro);
        return;
    }
    xs.resize(static_cast<std::size_t>(m) * rows);
    for (int k = 0; k < m; ++k) {
        const std::int32_t* src = first + static_cast<std::size_t>(k) * static_cast<std::size_t>(stride);
        std::copy(src, src + rows, xs.begin() + static_cast<std::ptrdiff_t>(k) * rows);
    }
    if (!s.signed_input) {
        func::block_mvm(s.block, xs.data(), m, rows, o.quant, adc, psums, act, ro);
        return;
    }
    // Two unsigned passes: the positive parts, then the magnitudes of the negative parts.
    thread_local std::vector<std::int32_t> neg;
    thread_local std::vector<std::int64_t> pneg;
    neg.resize(xs.size());
    for (std::size_t k = 0; k < xs.size(); ++k) {
        neg[k] = xs[k] < 0 ? -xs[k] : 0;
        xs[k] = xs[k] > 0 ? xs[k] : 0;
    }
    const std::size_t outs = static_cast<std::size_t>(m) * static_cast<std::size_t>(s.where.ch_end - s.where.ch_begin);
    pneg.resize(outs);
    func::block_mvm(s.block, xs.data(), m, rows, o.quant, adc, psums, act, ro);
    for (auto& id : ids) id |= std::int64_t{1} << 31;
    func::block_mvm(s.block, neg.data(), m, rows, o.quant, adc, pneg.data(), act, ro);
    for (std::size_t k = 0; k < outs; ++k) psums[k] -= pneg[k];
}

hardware_model::hardware_model(const network::graph& g, const mapping::plan& p, const hardware_options& o)
    : m_graph(g), m_plan(p), m_opt(o) {
    program();
    m_adcs.clear();
    std::map<std::int64_t, func::adc_transfer> made;  // one per full scale: the copies share its table
    for (const auto& s : m_slots) {
        const std::int64_t fs = func::full_scale(s.block, m_opt.quant, m_opt.rows_per_read);
        auto it = made.find(fs);
        if (it == made.end()) it = made.emplace(fs, default_adc(s.block, m_opt)).first;
        m_adcs.push_back(it->second);
    }
}

void hardware_model::program() {
    m_by_layer.assign(m_graph.layers.size(), {});
    m_index.assign(m_plan.tiles.size(), {});
    std::uint64_t block_id = 0;
    for (std::size_t t = 0; t < m_plan.tiles.size(); ++t) {
        const auto& tile = m_plan.tiles[t];
        m_index[t].resize(tile.pes.size());
        for (std::size_t p = 0; p < tile.pes.size(); ++p) {
            m_index[t][p].assign(tile.pes[p].subarrays.size(), -1);
            for (std::size_t k = 0; k < tile.pes[p].subarrays.size(); ++k, ++block_id) {
                const mapping::subarray_slot& where = tile.pes[p].subarrays[k];
                if (!where.used()) continue;
                const network::layer& L = m_graph.layers[static_cast<std::size_t>(where.layer)];
                programmed_slot s;
                s.where = where;
                s.block_id = block_id;
                s.block = program_slot(L, where, block_id, m_opt);
                s.signed_input = L.signed_input;
                m_index[t][p][k] = static_cast<int>(m_slots.size());
                m_by_layer[static_cast<std::size_t>(where.layer)].push_back(static_cast<int>(m_slots.size()));
                m_slots.push_back(std::move(s));
            }
        }
    }
}

const programmed_slot* hardware_model::slot_at(std::size_t tile, std::size_t pe, std::size_t subarray) const {
    if (tile >= m_index.size() || pe >= m_index[tile].size() || subarray >= m_index[tile][pe].size()) return nullptr;
    const int i = m_index[tile][pe][subarray];
    return i < 0 ? nullptr : &m_slots[static_cast<std::size_t>(i)];
}

void hardware_model::set_adcs(adc_set a) {
    if (a.size() != m_slots.size()) throw model_error("adc", "one ADC per programmed subarray expected");
    m_adcs = std::move(a);
}

void hardware_model::read_slot(int slot, const func::adc_transfer& adc, const std::int32_t* x, int n,
                               std::int64_t row_stride, int duplication, std::int64_t image_id,
                               std::vector<std::int64_t>& psums, func::mvm_activity* act,
                               func::column_histogram* observe) const {
    const programmed_slot& s = m_slots[static_cast<std::size_t>(slot)];
    psums.resize(static_cast<std::size_t>(vectors_of_copy(s.where.copy, n, duplication)) *
                 static_cast<std::size_t>(s.where.ch_end - s.where.ch_begin));
    read_block(s, adc, m_opt, x, n, row_stride, duplication, image_id, psums.data(), act, observe);
}

void hardware_model::run_slot(int slot, const func::adc_transfer& adc, const std::int32_t* x, int n,
                              std::int64_t row_stride, int duplication, std::int64_t image_id, int out_channels,
                              std::int64_t* acc, func::mvm_activity* act, func::column_histogram* observe) const {
    accumulate_block(m_slots[static_cast<std::size_t>(slot)], adc, m_opt, x, n, row_stride, duplication, image_id,
                     out_channels, acc, act, observe);
}

void accumulate_block(const programmed_slot& s, const func::adc_transfer& adc, const hardware_options& o,
                      const std::int32_t* x, int n, std::int64_t row_stride, int duplication, std::int64_t image_id,
                      int out_channels, std::int64_t* acc, func::mvm_activity* act, func::column_histogram* observe) {
    thread_local std::vector<std::int64_t> ys;
    const int chans = s.where.ch_end - s.where.ch_begin;
    ys.resize(static_cast<std::size_t>(vectors_of_copy(s.where.copy, n, duplication)) * static_cast<std::size_t>(chans));
    read_block(s, adc, o, x, n, row_stride, duplication, image_id, ys.data(), act, observe);
    add_partial_sums(ys.data(), s.where.copy, duplication, n, out_channels, s.where.ch_begin, chans, acc);
}

void add_partial_sums(const std::int64_t* psums, int copy, int duplication, int n, int out_channels, int ch_begin,
                      int chans, std::int64_t* acc) {
    int i = 0;
    for (int v = copy; v < n; v += duplication, ++i) {
        std::int64_t* dst = acc + static_cast<std::size_t>(v) * out_channels + ch_begin;
        const std::int64_t* src = psums + static_cast<std::size_t>(i) * chans;
        for (int c = 0; c < chans; ++c) dst[c] += src[c];
    }
}

namespace {

/// The unrolled input vectors of a weight layer: im2col for a convolution, the vector itself for linear.
const std::int32_t* unroll(const network::layer& L, const std::vector<std::int32_t>& in, std::vector<std::int32_t>& cols,
                           int& n) {
    if (L.kind != network::op::conv2d) {  // linear: one flat vector, or one per token
        n = static_cast<int>(L.output_pixels());
        return in.data();
    }
    n = static_cast<int>(L.output_pixels());
    cols.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(L.weight_rows()));
    func::im2col(in.data(), L.in.c(), L.in.h(), L.in.w(), L.kernel_h, L.kernel_w, L.stride, L.padding, cols.data());
    return cols.data();
}

}  // namespace

std::vector<double> hardware_model::mean_levels() const {
    std::vector<double> mean(m_by_layer.size(), 0.0);
    for (std::size_t li = 0; li < m_by_layer.size(); ++li) {
        double sum = 0.0, cells = 0.0;
        for (const int k : m_by_layer[li]) {
            const func::subarray_block& b = m_slots[static_cast<std::size_t>(k)].block;
            for (const float v : b.levels) sum += std::ldexp(static_cast<double>(v), -static_cast<int>(b.frac_bits));
            cells += static_cast<double>(b.levels.size());
        }
        if (cells > 0) mean[li] = sum / cells;
    }
    return mean;
}

void hardware_model::apply_other(int layer, std::vector<std::vector<std::int32_t>>& out, std::int64_t image_id) const {
    const network::layer& L = m_graph.layers[static_cast<std::size_t>(layer)];
    if (L.kind != network::op::matmul || !m_opt.attention_cim) {
        apply_nonweight_layer(m_graph, layer, out, out[static_cast<std::size_t>(layer)], m_opt.quant);
        return;
    }
    std::vector<std::int64_t> acc;
    cim_matmul(m_graph, layer, out[static_cast<std::size_t>(L.input_ids[0])].data(),
               out[static_cast<std::size_t>(L.input_ids[1])].data(), m_opt, image_id, acc);
    out[static_cast<std::size_t>(layer)] = finish_matmul(m_graph, layer, acc, m_opt.quant);
}

std::vector<std::vector<std::int32_t>> hardware_model::forward(const std::vector<std::int32_t>& image,
                                                               std::int64_t image_id, const adc_set* adcs) const {
    const adc_set& A = adcs ? *adcs : m_adcs;
    std::vector<std::vector<std::int32_t>> out(m_graph.layers.size());
    out[0] = image;
    std::vector<std::int32_t> cols;
    std::vector<std::int64_t> acc;
    for (std::size_t li = 1; li < m_graph.layers.size(); ++li) {
        const network::layer& L = m_graph.layers[li];
        if (!L.has_weights()) {
            apply_other(static_cast<int>(li), out, image_id);
            continue;
        }
        const mapping::layer_plan* lp = m_plan.find_layer(static_cast<int>(li));
        if (lp == nullptr) throw model_error("layers." + L.name, "weight layer missing from the mapping plan");
        int n = 0;
        const std::int32_t* x = unroll(L, out[static_cast<std::size_t>(L.input_ids.at(0))], cols, n);
        acc.assign(static_cast<std::size_t>(n) * static_cast<std::size_t>(L.out_channels), 0);
        for (int s : slots_of(static_cast<int>(li)))
            run_slot(s, A[static_cast<std::size_t>(s)], x, n, L.weight_rows(), lp->duplication, image_id, L.out_channels,
                     acc.data(), nullptr);
        out[li] = finish_layer(weight_output(m_graph, static_cast<int>(li), m_opt.quant), acc, n, L.out_channels);
    }
    return out;
}

hardware_model::adc_set hardware_model::calibrate_adcs(const std::vector<std::vector<std::int32_t>>& images,
                                                       std::int64_t first_image_id) const {
    adc_set adcs = m_adcs;
    for (std::size_t i = 0; i < m_slots.size(); ++i)
        adcs[i] = func::adc_transfer(m_opt.adc_bits, func::full_scale(m_slots[i].block, m_opt.quant, m_opt.rows_per_read));
    if (m_opt.adc.reference == "full_scale" || images.empty()) return adcs;

    // Layer by layer: observe the layer's column values through an exact ADC, place the references, then
    // compute the layer's outputs with them so the next layer sees what the chip would.
    std::vector<std::vector<std::vector<std::int32_t>>> acts(images.size(), std::vector<std::vector<std::int32_t>>(m_graph.layers.size()));
    for (std::size_t k = 0; k < images.size(); ++k) acts[k][0] = images[k];
    std::vector<std::int32_t> cols;
    std::vector<std::int64_t> acc;
    for (std::size_t li = 1; li < m_graph.layers.size(); ++li) {
        const network::layer& L = m_graph.layers[li];
        if (!L.has_weights()) {
            for (std::size_t k = 0; k < acts.size(); ++k)
                apply_other(static_cast<int>(li), acts[k], first_image_id + static_cast<std::int64_t>(k));
            continue;
        }
        const mapping::layer_plan* lp = m_plan.find_layer(static_cast<int>(li));
        const auto& ids = slots_of(static_cast<int>(li));
        // Ideal blocks whose full-scale conversion is already lossless (e.g. 4-bit cells read row by row into a
        // 5-bit ADC) keep it: every value is an integer in [0, full scale], and no reference placement can beat
        // exact. Skipping the observation also spares the row-by-row histogram of a sequential read.
        bool lossless_layer = true;
        for (int s : ids)
            lossless_layer = lossless_layer && m_slots[static_cast<std::size_t>(s)].block.ideal() &&
                             adcs[static_cast<std::size_t>(s)].lossless();
        if (!lossless_layer) {
            // Histogram range: every column value of the layer fits in [-hi/4, hi] (noise and variation may push
            // a value below zero).
            double hi = 1.0;
            for (int s : ids) {
                const auto& b = m_slots[static_cast<std::size_t>(s)].block;
                const double gmax = b.frac_bits ? b.gmax_units : double((1u << b.cell_bits) - 1);
                hi = std::max(hi, func::rows_per_conversion(b, m_opt.rows_per_read) * double((1u << m_opt.quant.dac_bits) - 1) * 2.0 * gmax);
            }
            func::column_histogram hist(-0.25 * hi, hi);
            const func::adc_transfer exact = func::adc_transfer::linear(24, -0.25 * hi, hi);
            for (std::size_t k = 0; k < images.size(); ++k) {
                int n = 0;
                const std::int32_t* x = unroll(L, acts[k][static_cast<std::size_t>(L.input_ids.at(0))], cols, n);
                acc.assign(static_cast<std::size_t>(n) * static_cast<std::size_t>(L.out_channels), 0);
                for (int s : ids)
                    run_slot(s, exact, x, n, L.weight_rows(), lp->duplication, first_image_id + static_cast<std::int64_t>(k),
                             L.out_channels, acc.data(), nullptr, &hist);
            }
            const func::adc_transfer layer_adc =
                func::adc_transfer::from_histogram(m_opt.adc_bits, hist, m_opt.adc.transfer, m_opt.adc.percentile);
            for (int s : ids) adcs[static_cast<std::size_t>(s)] = layer_adc;
        }
        // The layer's outputs through its ADCs, so the next layer sees what the chip would produce.
        const weight_output_rule rule = weight_output(m_graph, static_cast<int>(li), m_opt.quant);
        for (std::size_t k = 0; k < images.size(); ++k) {
            int n = 0;
            const std::int32_t* x = unroll(L, acts[k][static_cast<std::size_t>(L.input_ids.at(0))], cols, n);
            acc.assign(static_cast<std::size_t>(n) * static_cast<std::size_t>(L.out_channels), 0);
            for (int s : ids)
                run_slot(s, adcs[static_cast<std::size_t>(s)], x, n, L.weight_rows(), lp->duplication,
                         first_image_id + static_cast<std::int64_t>(k), L.out_channels, acc.data(), nullptr);
            acts[k][li] = finish_layer(rule, acc, n, L.out_channels);
        }
    }
    return adcs;
}

int argmax(const std::vector<std::int32_t>& logits) {
    int best = 0;
    for (std::size_t i = 1; i < logits.size(); ++i)
        if (logits[i] > logits[static_cast<std::size_t>(best)]) best = static_cast<int>(i);
    return best;
}

accuracy_result evaluate(const hardware_model& hw, std::int64_t count,
                         const std::function<std::vector<std::int32_t>(std::int64_t)>& get_image,
                         const std::vector<int>& labels, unsigned threads,
                         const std::function<void(std::int64_t, std::int64_t)>& progress) {
    if (static_cast<std::int64_t>(labels.size()) < count) throw model_error("dataset", "fewer labels than images");
    const auto& g = hw.graph();
    const std::string ref = hw.options().adc.reference;
    const std::int64_t batch = ref == "batch_minmax" ? std::max<std::int64_t>(1, hw.options().adc.batch_images) : count;
    std::vector<int> pred_hw(static_cast<std::size_t>(count), -1), pred_ideal(static_cast<std::size_t>(count), -1);
    std::int64_t done_total = 0;
    const work_pool pool(threads);
    for (std::int64_t b0 = 0; b0 < count; b0 += batch) {
        const std::int64_t b1 = std::min(count, b0 + batch);
        // NeuroSim's per-batch min/max references: calibrate on the batch itself, then convert it.
        hardware_model::adc_set batch_adcs;
        if (ref == "batch_minmax") {
            std::vector<std::vector<std::int32_t>> imgs;
            for (std::int64_t i = b0; i < b1; ++i) imgs.push_back(get_image(i));
            batch_adcs = hw.calibrate_adcs(imgs, b0);
        }
        std::mutex image_mutex;  // get_image may not be thread-safe
        auto one = [&](std::int64_t k) {
            const std::int64_t i = b0 + k;
            std::vector<std::int32_t> img;
            {
                std::lock_guard<std::mutex> lock(image_mutex);
                img = get_image(i);
            }
            const auto h = hw.forward(img, i, batch_adcs.empty() ? nullptr : &batch_adcs);
            pred_hw[static_cast<std::size_t>(i)] = argmax(h.back());
            const auto r = reference_forward(g, hw.options().quant, img, 1);
            pred_ideal[static_cast<std::size_t>(i)] = argmax(r.back());
        };
        // With a progress callback the calling thread reports while `threads` workers run (work_pool::run).
        if (progress)
            pool.run(b1 - b0, one, [&](std::int64_t done) { progress(done_total + done, count); });
        else
            pool.run(b1 - b0, one);
        done_total += b1 - b0;
    }
    accuracy_result r;
    r.images = count;
    r.predictions = pred_hw;
    r.predictions_ideal = pred_ideal;
    for (std::int64_t i = 0; i < count; ++i) {
        const int y = labels[static_cast<std::size_t>(i)];
        r.correct += pred_hw[static_cast<std::size_t>(i)] == y;
        r.correct_ideal += pred_ideal[static_cast<std::size_t>(i)] == y;
        r.agree += pred_hw[static_cast<std::size_t>(i)] == pred_ideal[static_cast<std::size_t>(i)];
    }
    return r;
}

}  // namespace cim::engine
