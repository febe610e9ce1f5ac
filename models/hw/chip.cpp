#include "models/hw/chip.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/core/error.h"
#include "models/engine/quantized_model.h"
#include "models/functional/quant_ops.h"

namespace cim::hw {

void chip_config::validate() const {
    if (clock < 0 || clock > 20e9) throw config_error("", 0, "clock", "must be in [0, 20 GHz] (0: derived from the node)");
    if (!(clock_fo4 >= 5 && clock_fo4 <= 1000)) throw config_error("", 0, "clock_fo4", "must be in [5, 1000]");
    if (htree_bus_bits < 1) throw config_error("", 0, "htree_bus_bits", "must be at least 1");
    if (accumulator_lanes < 1) throw config_error("", 0, "accumulator_lanes", "must be at least 1");
    if (activation_lanes < 1) throw config_error("", 0, "activation_lanes", "must be at least 1");
    if (pooling_lanes < 1) throw config_error("", 0, "pooling_lanes", "must be at least 1");
}

double subtree_area(const sc_core::sc_object& root) {
    double a = 0;
    if (const auto* c = dynamic_cast<const component*>(&root)) a += area_sum(c->own_area());
    for (const sc_core::sc_object* child : root.get_child_objects()) a += subtree_area(*child);
    return a;
}

chip::chip(const sc_core::sc_module_name& name, const context& ctx, const chip_config& cfg,
           std::vector<std::vector<std::int32_t>> images)
    : component(name, "chip", ctx.rec) {
    for (std::size_t i = 0; i < ctx.plan.tiles.size(); ++i)
        m_tiles.push_back(
            std::make_unique<tile>(("tile_" + std::to_string(i)).c_str(), ctx, ctx.plan.tiles[i], i, cfg.tile_buffer));
    m_global_buffer = std::make_unique<buffer>("global_buffer", ctx.rec, ctx.tech, ctx.calib, cfg.global_buffer, ctx.clock_hz);
    const double tile_side = m_tiles.empty() ? 0.0 : std::sqrt(subtree_area(*m_tiles.front()));
    m_htree = std::make_unique<htree>("htree", ctx.rec, ctx.tech, ctx.calib, static_cast<unsigned>(m_tiles.size()), tile_side,
                                      cfg.htree_bus_bits, ctx.clock_hz);
    // Lanes from the circuit library: a 24-bit accumulator, a ReLU + requantising multiplier of the 24-bit sum, a
    // max-pooling comparator of 8-bit activations, priced with the calibration's accumulation and digital classes.
    m_accumulator = std::make_unique<digital>("accumulator", "accumulator", ctx, category::accumulation,
                                              cfg.accumulator_lanes, circuit::accumulator_lane(ctx.tech, 24));
    m_activation = std::make_unique<digital>("activation", "activation", ctx, category::other, cfg.activation_lanes,
                                             circuit::activation_lane(ctx.tech, 24));
    m_pooling = std::make_unique<digital>("pooling", "pooling", ctx, category::other, cfg.pooling_lanes,
                                          circuit::pooling_lane(ctx.tech, 8));
    m_controller = std::make_unique<controller>("controller", ctx, *this, std::move(images));
    m_controller->to_global_buffer.bind(m_global_buffer->in);
    m_controller->to_htree.bind(m_htree->in);
    m_controller->to_accumulator.bind(m_accumulator->in);
    m_controller->to_activation.bind(m_activation->in);
    m_controller->to_pooling.bind(m_pooling->in);
    for (std::size_t i = 0; i < m_tiles.size(); ++i) {
        m_controller->to_tiles.push_back(
            std::make_unique<proto::compute_initiator_socket<controller>>(("to_tile_" + std::to_string(i)).c_str()));
        m_controller->to_tiles.back()->bind(m_tiles[i]->in);
    }
}

controller::controller(const sc_core::sc_module_name& name, const context& ctx, chip& parent,
                       std::vector<std::vector<std::int32_t>> images)
    : component(name, "controller", ctx.rec), m_ctx(ctx), m_chip(parent), m_images(std::move(images)) {
    const auto& g = ctx.graph;
    m_last_use.assign(g.layers.size(), 0);
    for (std::size_t i = 0; i < g.layers.size(); ++i)
        for (int p : g.layers[i].input_ids) m_last_use[static_cast<std::size_t>(p)] = static_cast<int>(i);
    m_results.resize(g.layers.size());
    for (std::size_t i = 0; i < g.layers.size(); ++i) {
        m_results[i].layer = static_cast<int>(i);
        m_results[i].name = g.layers[i].name;
    }
    SC_THREAD(run);
}

double controller::move(tlm_utils::simple_initiator_socket<controller>& s, tlm::tlm_command cmd, std::uint64_t bytes,
                        sc_core::sc_time& t) {
    if (bytes == 0) return 0.0;
    const sc_core::sc_time before = t;
    tlm::tlm_generic_payload p;
    p.set_command(cmd);
    p.set_address(0);
    p.set_data_ptr(nullptr);
    p.set_data_length(static_cast<unsigned>(std::min<std::uint64_t>(bytes, 0xffffffffu)));
    p.set_streaming_width(p.get_data_length());
    p.set_byte_enable_ptr(nullptr);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    s->b_transport(p, t);
    if (p.get_response_status() != tlm::TLM_OK_RESPONSE) throw model_error(name(), "buffer or H-tree transfer failed");
    return (t - before).to_seconds();
}

double controller::op(proto::compute_initiator_socket<controller>& s, int layer, std::uint64_t elements,
                      sc_core::sc_time& t) {
    if (elements == 0) return 0.0;
    const sc_core::sc_time before = t;
    tlm::tlm_generic_payload p;
    proto::op_extension ext;
    ext.layer = layer;
    ext.elements = elements;
    p.set_extension(&ext);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    s->b_transport(p, t);
    p.clear_extension(&ext);
    if (p.get_response_status() != tlm::TLM_OK_RESPONSE) throw model_error(name(), "digital unit rejected an op");
    return (t - before).to_seconds();
}

namespace {
std::uint64_t act_bytes(std::size_t elements, unsigned bits) { return (std::uint64_t{elements} * bits + 7) / 8; }
}  // namespace

double controller::run_weight_layer(int li, proto::latency_split& split) {
    const auto& g = m_ctx.graph;
    const network::layer& L = g.layers[static_cast<std::size_t>(li)];
    const auto& in = m_outputs[static_cast<std::size_t>(L.input_ids.at(0))];
    const unsigned ib = m_ctx.quant.input_bits;
    const mapping::layer_plan* lp = m_ctx.plan.find_layer(li);
    if (lp == nullptr) throw model_error("layers." + L.name, "weight layer missing from the mapping plan");

    sc_core::sc_time t = sc_core::SC_ZERO_TIME;
    split.buffer += move(to_global_buffer, tlm::TLM_READ_COMMAND, act_bytes(in.size(), ib), t);

    // The unrolled input vectors: im2col for a convolution, the vector itself for a linear layer.
    const std::int64_t R = L.weight_rows();
    int n = 1;
    const std::int32_t* x = in.data();
    if (L.kind == network::op::conv2d) {
        n = static_cast<int>(L.output_pixels());
        m_cols.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(R));
        func::im2col(in.data(), L.in.c, L.in.h, L.in.w, L.kernel_h, L.kernel_w, L.stride, L.padding, m_cols.data());
        x = m_cols.data();
    }
    m_acc.assign(static_cast<std::size_t>(n) * static_cast<std::size_t>(L.out_channels), 0);

    proto::mvm_extension ext;
    ext.layer = li;
    ext.image = m_image;
    ext.inputs = x;
    ext.n_vectors = n;
    ext.row_stride = static_cast<int>(R);
    ext.duplication = lp->duplication;
    ext.outputs = m_acc.data();
    ext.out_channels = L.out_channels;
    {  // the layer's input-bit density (reported; the activity parameter of a pseudo-traced run)
        std::uint64_t ones = 0;
        for (const std::int32_t v : in) ones += static_cast<std::uint64_t>(__builtin_popcount(static_cast<unsigned>(v)));
        const std::uint64_t bits = std::uint64_t{in.size()} * ib;
        m_results[static_cast<std::size_t>(li)].input_ones += ones;
        m_results[static_cast<std::size_t>(li)].input_bits += bits;
        if (m_ctx.trace.kind == trace_costing::mode::pseudo) ext.input_density = bits ? double(ones) / double(bits) : 0.0;
    }
    tlm::tlm_generic_payload p;
    p.set_extension(&ext);

    // Every tile's inputs leave at t; the H-tree link serialises them (busy_until), so contention sets when each
    // tile can start. Each tile computes as soon as its inputs arrived and sends its partial sums back (32-bit
    // words) over the same link.
    // Three phases, so the link is booked in the order a real one is used: (1) every tile's inputs, back to back;
    // (2) each tile computes from its own arrival, overlapping the later transfers; (3) the partial sums return
    // in the order the tiles finish.
    auto& tiles = m_chip.tiles();
    const int first = lp->first_tile, count = lp->num_tiles;
    std::vector<sc_core::sc_time> ready(static_cast<std::size_t>(count), t);
    std::vector<double> in_s(static_cast<std::size_t>(count), 0.0);
    for (int k = 0; k < count; ++k) {
        const tile& tl = *tiles[static_cast<std::size_t>(first + k)];
        in_s[static_cast<std::size_t>(k)] = move(to_htree, tlm::TLM_WRITE_COMMAND,
                                                 act_bytes(std::size_t(n) * std::size_t(tl.input_rows()), ib),
                                                 ready[static_cast<std::size_t>(k)]);
    }
    std::vector<proto::latency_split> splits(static_cast<std::size_t>(count));
    std::vector<std::uint64_t> words(static_cast<std::size_t>(count), 0);
    std::uint64_t tile_words = 0;
    for (int k = 0; k < count; ++k) {
        tile& tl = *tiles[static_cast<std::size_t>(first + k)];
        p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        (*to_tiles[static_cast<std::size_t>(first + k)])->b_transport(p, ready[static_cast<std::size_t>(k)]);
        if (p.get_response_status() != tlm::TLM_OK_RESPONSE) {
            p.clear_extension(&ext);
            throw model_error(std::string(tl.name()), "tile rejected the compute transaction");
        }
        splits[static_cast<std::size_t>(k)] = ext.critical;
        words[static_cast<std::size_t>(k)] = tl.last_words();
        tile_words += tl.last_words();
    }
    p.clear_extension(&ext);
    std::vector<int> order(static_cast<std::size_t>(count));
    for (int k = 0; k < count; ++k) order[static_cast<std::size_t>(k)] = k;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return ready[static_cast<std::size_t>(a)] < ready[static_cast<std::size_t>(b)];
    });
    sc_core::sc_time end = t;
    proto::latency_split slowest;
    double t_ic = 0;
    for (int k : order) {
        sc_core::sc_time d = ready[static_cast<std::size_t>(k)];
        const double out_s = move(to_htree, tlm::TLM_READ_COMMAND, words[static_cast<std::size_t>(k)] * 4, d);
        if (d > end) {
            end = d;
            slowest = splits[static_cast<std::size_t>(k)];
            t_ic = in_s[static_cast<std::size_t>(k)] + out_s;  // the critical tile's transfers, waits included
        }
    }
    t = end;
    split.interconnect += t_ic;
    split.array += slowest.array;
    split.adc += slowest.adc;
    split.accumulation += slowest.accumulation;
    split.buffer += slowest.buffer;
    if (lp->num_tiles > 1) split.accumulation += op(to_accumulator, li, tile_words, t);

    // Requantise (activation unit) and write the layer output back, channels-first.
    const std::size_t out_elems = static_cast<std::size_t>(n) * static_cast<std::size_t>(L.out_channels);
    split.other += op(to_activation, li, out_elems, t);
    auto& out = m_outputs[static_cast<std::size_t>(li)];
    out = engine::finish_layer(engine::weight_output(g, li, m_ctx.quant), m_acc, n, L.out_channels);
    split.buffer += move(to_global_buffer, tlm::TLM_WRITE_COMMAND, act_bytes(out.size(), ib), t);
    return t.to_seconds();
}

double controller::run_other_layer(int li, proto::latency_split& split) {
    const auto& g = m_ctx.graph;
    const network::layer& L = g.layers[static_cast<std::size_t>(li)];
    const unsigned ib = m_ctx.quant.input_bits;
    sc_core::sc_time t = sc_core::SC_ZERO_TIME;
    if (L.kind == network::op::flatten) {  // a re-indexing: the buffer's addressing does it for free
        engine::apply_nonweight_layer(g, li, m_outputs, m_outputs[static_cast<std::size_t>(li)], m_ctx.quant);
        return 0.0;
    }
    for (int p : L.input_ids)
        split.buffer += move(to_global_buffer, tlm::TLM_READ_COMMAND, act_bytes(m_outputs[static_cast<std::size_t>(p)].size(), ib), t);
    engine::apply_nonweight_layer(g, li, m_outputs, m_outputs[static_cast<std::size_t>(li)], m_ctx.quant);
    const auto elems = m_outputs[static_cast<std::size_t>(li)].size();
    const bool pool = L.kind == network::op::max_pool || L.kind == network::op::avg_pool;
    // A pooling unit reads every window element once: in elements = out elements x window.
    const std::uint64_t work = pool ? std::uint64_t{elems} * std::uint64_t(L.kernel_h * L.kernel_w) : elems;
    split.other += op(pool ? to_pooling : to_activation, li, work, t);
    split.buffer += move(to_global_buffer, tlm::TLM_WRITE_COMMAND, act_bytes(elems, ib), t);
    return t.to_seconds();
}

void controller::run() {
    const auto& g = m_ctx.graph;
    trace_log& log = records().log;
    const int gb_track = log.enabled() ? log.track(m_chip.global_buffer().name()) : -1;
    const int my_track = log.enabled() ? log.track(name()) : -1;
    for (m_image = 0; m_image < static_cast<std::int64_t>(m_images.size()); ++m_image) {
        const auto& image = m_images[static_cast<std::size_t>(m_image)];
        m_outputs.assign(g.layers.size(), {});
        m_outputs[0] = image;
        for (std::size_t li = 1; li < g.layers.size(); ++li) {
            const int layer = static_cast<int>(li);
            const sc_core::sc_time t0 = sc_core::sc_time_stamp();
            const double e0 = m_ctx.rec.ledger.total();
            proto::latency_split split;
            const bool weights = g.layers[li].has_weights();
            const double latency = weights ? run_weight_layer(layer, split) : run_other_layer(layer, split);
            std::uint64_t live = 0;  // bytes of tensors still needed after this layer
            for (std::size_t j = 0; j <= li; ++j)
                if (m_last_use[j] >= layer || j == li) live += act_bytes(m_outputs[j].size(), m_ctx.quant.input_bits);
            log.record_value(my_track, "current_layer", t0, layer);
            log.record_value(gb_track, "occupancy", t0, static_cast<std::int64_t>(live));
            // Synchronise at the layer end (layer-by-layer execution: the next layer starts when this one ends).
            wait(sc_core::sc_time(latency, sc_core::SC_SEC));
            log_interval(g.layers[li].name, t0, sc_core::sc_time_stamp());
            layer_result& r = m_results[li];
            r.latency += latency;
            r.dynamic_energy += m_ctx.rec.ledger.total() - e0;
            r.split.array += split.array;
            r.split.adc += split.adc;
            r.split.accumulation += split.accumulation;
            r.split.buffer += split.buffer;
            r.split.interconnect += split.interconnect;
            r.split.other += split.other;
        }
    }
    log.record_value(my_track, "current_layer", sc_core::sc_time_stamp(), -1);
    m_finished = true;
}

}  // namespace cim::hw
