#include "models/hw/controller.h"

#include <algorithm>

#include "models/core/error.h"
#include "models/functional/quant_ops.h"

namespace cim::hw {

/// One process's transactions and scratch (a layer's stage in pipelined mode; the one process layer by layer).
struct controller::stage {
    proto::payload buffer_payload;
    proto::buffer_extension buffer_ext;
    proto::payload unit_payload;
    proto::op_extension unit_ext;
    struct tile_call {
        proto::payload payload;
        proto::mvm_extension ext;
    };
    std::vector<std::unique_ptr<tile_call>> tiles;
    std::vector<std::function<void()>> branches;
    std::vector<std::int32_t> cols;  // im2col
    std::vector<std::int64_t> acc;
    std::vector<std::int32_t> out;
    std::unique_ptr<sc_core::sc_signal<std::int64_t, sc_core::SC_MANY_WRITERS>>* image_signal = nullptr;
};

controller::controller(const sc_core::sc_module_name& name, run_record& rec, controller_setup setup)
    : component(name, "controller", rec, nullptr), m_setup(std::move(setup)) {
    const auto& g = m_setup.graph;
    const std::size_t L = g.layers.size();
    if (!rec.replay && static_cast<int>(m_setup.images.size()) != m_setup.image_count)
        throw model_error(this->name(), "image count does not match the images given");
    m_source.resize(L);
    m_readers.assign(L, 0);
    for (std::size_t i = 0; i < L; ++i) {
        const auto& l = g.layers[i];
        const bool alias = l.kind == network::op::flatten || l.kind == network::op::reshape;  // same values, same order
        m_source[i] = alias ? m_source[static_cast<std::size_t>(l.input_ids.at(0))] : int(i);
        if (!alias)
            for (int p : l.input_ids) ++m_readers[static_cast<std::size_t>(m_source[static_cast<std::size_t>(p)])];
    }
    m_live.assign(L, 0);
    m_slots.assign(L, 1);
    if (m_setup.mode == run_mode::pipelined) {
        // Every producer gets one slot; the capacity left gives more slots (up to eight), layer by layer in order.
        double need = 0;
        for (std::size_t i = 0; i < L; ++i)
            if (m_source[i] == int(i) && m_readers[i] > 0) need += static_cast<double>(tensor_bytes(int(i)));
        if (need > m_setup.buffer_capacity)
            throw model_error("chip.global_buffer.size",
                              "pipelined mode holds an output of every layer at once: " + std::to_string(std::uint64_t(need)) +
                                  " B, more than the global buffer's " + std::to_string(std::uint64_t(m_setup.buffer_capacity)) +
                                  " B");
        double left = m_setup.buffer_capacity - need;
        for (int slots = 2; slots <= 8; ++slots)
            for (std::size_t i = 0; i < L; ++i) {
                if (m_source[i] != int(i) || m_readers[i] == 0) continue;
                const double b = static_cast<double>(tensor_bytes(int(i)));
                if (b > left) continue;
                m_slots[i] = slots;
                left -= b;
            }
    } else {
        // Layer by layer, a tensor lives from its producer to its last reader, which releases it before it writes
        // its own output: when a layer writes, the tensors read after it and its output must fit, or the run would
        // stop mid-way in a deadlock (checked here, before any simulated time).
        std::vector<std::size_t> last_reader(L, 0);
        for (std::size_t i = 0; i < L; ++i)
            for (int p : g.layers[i].input_ids)
                last_reader[static_cast<std::size_t>(m_source[static_cast<std::size_t>(p)])] = i;
        double worst = 0;
        std::size_t worst_layer = 0;
        for (std::size_t i = 0; i < L; ++i) {
            double live = 0;
            for (std::size_t j = 0; j <= i; ++j)
                if (m_source[j] == int(j) && (j == i || (m_readers[j] > 0 && last_reader[j] > i)))
                    live += static_cast<double>(tensor_bytes(int(j)));
            if (live > worst) worst = live, worst_layer = i;
        }
        if (worst > m_setup.buffer_capacity)
            throw model_error("chip.global_buffer.size",
                              "layer " + g.layers[worst_layer].name + " needs " + std::to_string(std::uint64_t(worst)) +
                                  " B of live activations (its output and the tensors read after it), more "
                                  "than the global buffer's " +
                                  std::to_string(std::uint64_t(m_setup.buffer_capacity)) + " B");
    }
    m_freed_cause.assign(L, -1);
    m_results.resize(L);
    for (std::size_t i = 0; i < L; ++i) m_results[i] = {static_cast<int>(i), g.layers[i].name, 0, 0, 0};
    m_done.assign(L, std::vector<int>(static_cast<std::size_t>(m_setup.image_count), -2));
    m_image_done.assign(static_cast<std::size_t>(m_setup.image_count), 0.0);
    m_image_done_activity.assign(static_cast<std::size_t>(m_setup.image_count), -1);
    const bool in_vcd = rec.in_vcd(this->name());
    const std::size_t stages = m_setup.mode == run_mode::pipelined ? L : 1;
    for (std::size_t s = 0; s < stages; ++s) {
        m_stages.push_back(std::make_unique<stage>());
        if (in_vcd) {
            const std::string n = m_setup.mode == run_mode::pipelined ? "layer_" + std::to_string(s) + "_image" : "image";
            m_image_signals.push_back(
                std::make_unique<sc_core::sc_signal<std::int64_t, sc_core::SC_MANY_WRITERS>>(n.c_str(), -1));
            sc_core::sc_trace(rec.vcd, *m_image_signals.back(), std::string(this->name()) + "." + n);
            m_stages.back()->image_signal = &m_image_signals.back();
        }
    }
    m_remaining = static_cast<int>(L) * m_setup.image_count;
    if (m_setup.mode == run_mode::pipelined) {
        for (std::size_t l = 0; l < L; ++l)
            sc_core::sc_spawn([this, l] { run_stage(static_cast<int>(l)); }, ("stage_" + std::to_string(l)).c_str());
    } else {
        sc_core::sc_spawn([this] { run_layer_by_layer(); }, "run");
    }
}

controller::~controller() = default;

std::uint64_t controller::tensor_bytes(int layer) const {
    const auto& l = m_setup.graph.layers[static_cast<std::size_t>(layer)];
    return (static_cast<std::uint64_t>(l.out.size()) * m_setup.quant.input_bits + 7) / 8;
}

void controller::fail() {
    if (!m_rec.failure) m_rec.failure = std::current_exception();
    sc_core::sc_stop();
}

void controller::finish(int layer, std::int64_t image, int activity) {
    m_done[static_cast<std::size_t>(layer)][static_cast<std::size_t>(image)] = activity;
    if (layer + 1 == static_cast<int>(m_setup.graph.layers.size())) {
        m_image_done[static_cast<std::size_t>(image)] = sc_core::sc_time_stamp().to_seconds();
        m_image_done_activity[static_cast<std::size_t>(image)] = activity;
    }
    m_progress.notify(sc_core::SC_ZERO_TIME);
    if (--m_remaining == 0) {
        m_finished = true;
        m_end = sc_core::sc_time_stamp();
        // VCD signals are dumped when time moves on: step one picosecond past the end so the waveform holds the
        // last changes, then stop (a clock would run forever).
        if (m_rec.vcd) sc_core::wait(1, sc_core::SC_PS);
        sc_core::sc_stop();
    }
}

void controller::run_layer_by_layer() {
    try {
        stage& s = *m_stages.front();
        int cause = -1;
        for (std::int64_t i = 0; i < m_setup.image_count; ++i) {
            if (s.image_signal) (*s.image_signal)->write(i);
            for (std::size_t l = 0; l < m_setup.graph.layers.size(); ++l) {
                cause = run_layer(s, static_cast<int>(l), i, cause);
                finish(static_cast<int>(l), i, cause);
            }
        }
        if (s.image_signal) (*s.image_signal)->write(-1);
    } catch (...) {
        fail();
    }
}

void controller::run_stage(int layer) {
    try {
        stage& s = *m_stages[static_cast<std::size_t>(layer)];
        const auto& l = m_setup.graph.layers[static_cast<std::size_t>(layer)];
        int cause = -1;
        for (std::int64_t i = 0; i < m_setup.image_count; ++i) {
            // Wait until every producer has written image i.
            const sc_core::sc_time asked = sc_core::sc_time_stamp();
            for (;;) {
                bool ready = true;
                for (int p : l.input_ids) ready = ready && m_done[static_cast<std::size_t>(p)][static_cast<std::size_t>(i)] != -2;
                if (ready) break;
                sc_core::wait(m_progress);
            }
            m_input_wait += (sc_core::sc_time_stamp() - asked).to_seconds();
            for (int p : l.input_ids) cause = m_rec.time.later(cause, m_done[static_cast<std::size_t>(p)][static_cast<std::size_t>(i)]);
            if (s.image_signal) (*s.image_signal)->write(i);
            cause = run_layer(s, layer, i, cause);
            if (s.image_signal) (*s.image_signal)->write(-1);
            finish(layer, i, cause);
        }
    } catch (...) {
        fail();
    }
}

int controller::buffer_op(stage& s, proto::buffer_extension::kind what, proto::tensor_key key, int layer,
                          std::uint64_t bytes, int readers, std::vector<std::int32_t>* tensor,
                          const std::vector<std::int32_t>** result, int cause, bool host) {
    using kind = proto::buffer_extension::kind;
    // Flow control (pipelined): each layer's outputs have their own region of the buffer, `slots` tensors (set at
    // elaboration from the capacity); a layer writes its next image's output once a slot is free (its readers
    // released one). Layers sharing the free space instead would deadlock: the layers before a slow one would fill
    // the buffer with tensors the slow layer cannot free without space of its own.
    if (what == kind::write && m_setup.mode == run_mode::pipelined) {
        const sc_core::sc_time asked = sc_core::sc_time_stamp();
        while (m_live[static_cast<std::size_t>(key.layer)] >= m_slots[static_cast<std::size_t>(key.layer)]) sc_core::wait(m_freed);
        if (sc_core::sc_time_stamp() != asked) {
            m_stall += (sc_core::sc_time_stamp() - asked).to_seconds();
            cause = m_rec.time.later(cause, m_freed_cause[static_cast<std::size_t>(key.layer)]);
        }
    }
    s.buffer_ext = proto::buffer_extension{};
    s.buffer_ext.host = host;
    s.buffer_ext.what = what;
    s.buffer_ext.key = key;
    s.buffer_ext.layer = layer;
    s.buffer_ext.bytes = bytes;
    s.buffer_ext.readers = readers;
    s.buffer_ext.tensor = tensor;
    s.buffer_ext.cause = cause;
    proto::extension_guard<proto::buffer_extension> guard(s.buffer_payload, s.buffer_ext);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    to_buffer->b_transport(s.buffer_payload, d);
    if (s.buffer_payload.get_response_status() != tlm::TLM_OK_RESPONSE)
        throw model_error(name(), "the global buffer rejected an access");
    sync(d);
    if (result) *result = s.buffer_ext.result;
    const int done = s.buffer_ext.cause < 0 ? cause : s.buffer_ext.cause;
    if (what == kind::write && readers > 0) {
        ++m_live[static_cast<std::size_t>(key.layer)];
        m_pending_readers[key] = readers;
    } else if (what == kind::release) {
        const auto it = m_pending_readers.find(key);
        if (it != m_pending_readers.end() && --it->second == 0) {
            m_pending_readers.erase(it);
            --m_live[static_cast<std::size_t>(key.layer)];
            m_freed_cause[static_cast<std::size_t>(key.layer)] = done;
            m_freed.notify(sc_core::SC_ZERO_TIME);
        }
    }
    return done;
}

int controller::unit_op(stage& s, proto::compute_initiator_socket<controller>& socket, proto::op_extension& op, int cause) {
    op.cause = cause;
    proto::extension_guard<proto::op_extension> guard(s.unit_payload, op);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    socket->b_transport(s.unit_payload, d);
    if (s.unit_payload.get_response_status() != tlm::TLM_OK_RESPONSE)
        throw model_error(name(), "a vector unit rejected an operation");
    sync(d);
    return op.cause;
}

int controller::run_layer(stage& s, int layer, std::int64_t image, int cause) {
    const auto& l = m_setup.graph.layers[static_cast<std::size_t>(layer)];
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    if (l.kind == network::op::input) {
        // The host writes the image into the global buffer: it takes space (and waits for it), not port time.
        std::vector<std::int32_t> img;
        if (!m_rec.replay) img = m_setup.images[static_cast<std::size_t>(image)];
        if (m_keep_outputs) m_outputs.assign(m_setup.graph.layers.size(), {}), m_outputs[0] = img;
        cause = buffer_op(s, proto::buffer_extension::kind::write, {layer, image}, layer, tensor_bytes(layer),
                          m_readers[static_cast<std::size_t>(layer)], m_rec.replay ? nullptr : &img, nullptr, cause, true);
    } else if (l.has_weights()) {
        cause = run_weight_layer(s, layer, image, cause);
    } else {
        cause = run_other_layer(s, layer, image, cause);
    }
    m_results[static_cast<std::size_t>(layer)].latency += (sc_core::sc_time_stamp() - t0).to_seconds();
    return cause;
}

int controller::run_weight_layer(stage& s, int layer, std::int64_t image, int cause) {
    const auto& g = m_setup.graph;
    const network::layer& L = g.layers[static_cast<std::size_t>(layer)];
    const unsigned ib = m_setup.quant.input_bits;
    const mapping::layer_plan* lp = m_setup.plan.find_layer(layer);
    if (lp == nullptr) throw model_error("layers." + L.name, "weight layer missing from the mapping plan");
    const int producer = L.input_ids.at(0);
    const int src = m_source[static_cast<std::size_t>(producer)];

    // The input activations from the global buffer.
    const std::vector<std::int32_t>* in = nullptr;
    cause = buffer_op(s, proto::buffer_extension::kind::read, {src, image}, layer, tensor_bytes(producer), 0, nullptr, &in, cause);
    const bool data = !m_rec.replay;
    // The unrolled input vectors: im2col for a convolution, the vector itself for a linear layer.
    const std::int64_t R = L.weight_rows();
    const int n = static_cast<int>(L.output_pixels());  // conv: output pixels; linear: tokens (1 for a flat vector)
    const std::int32_t* x = nullptr;
    layer_result& res = m_results[static_cast<std::size_t>(layer)];
    double density = 0;
    if (data) {
        if (in == nullptr) throw model_error(name(), "the global buffer returned no tensor");
        std::uint64_t ones = 0;  // the layer's input-bit density (reported; the activity of run.activity: pseudo)
        // Bits of the magnitude: a signed input is read in two unsigned passes (x+ and x-), each value in one of them.
        for (const std::int32_t v : *in)
            ones += static_cast<std::uint64_t>(__builtin_popcount(v < 0 ? 0u - static_cast<unsigned>(v) : static_cast<unsigned>(v)));
        const std::uint64_t bits = std::uint64_t{in->size()} * ib;
        res.input_ones += ones, res.input_bits += bits;
        m_rec.reads.add(read_log::layer_input{layer, image, bits, ones});
        density = bits ? double(ones) / double(bits) : 0.0;
        if (L.kind == network::op::conv2d) {
            s.cols.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(R));
            func::im2col(in->data(), L.in.c(), L.in.h(), L.in.w(), L.kernel_h, L.kernel_w, L.stride, L.padding, s.cols.data());
            x = s.cols.data();
        } else {
            s.cols.assign(in->begin(), in->end());
            x = s.cols.data();
        }
        s.acc.assign(static_cast<std::size_t>(n) * static_cast<std::size_t>(L.out_channels), 0);
    } else {
        const read_log::layer_input& r = m_rec.reads.find_input(layer, image);
        res.input_ones += r.ones, res.input_bits += r.bits;
        density = r.bits ? double(r.ones) / double(r.bits) : 0.0;
    }

    // Every tile of the layer gets the vectors through the interconnect; the tiles compute concurrently.
    while (s.tiles.size() < static_cast<std::size_t>(lp->num_tiles)) s.tiles.push_back(std::make_unique<stage::tile_call>());
    s.branches.clear();
    for (int k = 0; k < lp->num_tiles; ++k) {
        stage::tile_call& c = *s.tiles[static_cast<std::size_t>(k)];
        const int t = lp->first_tile + k;
        c.ext = proto::mvm_extension{};
        c.ext.layer = layer;
        c.ext.image = image;
        c.ext.inputs = x;
        c.ext.n_vectors = n;
        c.ext.row_stride = static_cast<int>(R);
        c.ext.duplication = lp->duplication;
        c.ext.acc = data ? s.acc.data() : nullptr;
        c.ext.out_channels = L.out_channels;
        c.ext.input_density = m_setup.pseudo_activity ? density : 0.0;
        c.ext.request_bytes = (static_cast<std::uint64_t>(n) *
                                   static_cast<std::uint64_t>(mapping::tile_input_rows(m_setup.plan.tiles[static_cast<std::size_t>(t)])) * ib +
                               7) / 8;
        c.ext.cause = cause;
        s.branches.emplace_back([this, &c, t] {
            proto::extension_guard<proto::mvm_extension> guard(c.payload, c.ext);
            c.payload.set_address(static_cast<std::uint64_t>(t));
            sc_core::sc_time d = sc_core::SC_ZERO_TIME;
            to_interconnect->b_transport(c.payload, d);
            if (c.payload.get_response_status() != tlm::TLM_OK_RESPONSE)
                throw model_error(name(), "tile " + std::to_string(t) + " rejected the compute transaction");
            sync(d);
        });
    }
    m_rec.pool.fork_join(s.branches);
    std::uint64_t words = 0;
    for (int k = 0; k < lp->num_tiles; ++k) {
        cause = m_rec.time.later(cause, s.tiles[static_cast<std::size_t>(k)]->ext.cause);
        words += s.tiles[static_cast<std::size_t>(k)]->ext.response_words;
    }
    // Across tiles: the chip accumulator adds the tiles' partial sums (the accumulators already hold the sum).
    if (lp->num_tiles > 1) {
        s.unit_ext = proto::op_extension{};
        s.unit_ext.what = proto::op_extension::kind::accumulate;
        s.unit_ext.layer = layer;
        s.unit_ext.image = image;
        s.unit_ext.elements = words;
        cause = unit_op(s, to_accumulator, s.unit_ext, cause);
    }
    // Requantise (activation unit) and write the layer output back.
    // The requantisation needs the weight and activation scales, which a timing replay does not load.
    const engine::weight_output_rule rule = data ? engine::weight_output(g, layer, m_setup.quant) : engine::weight_output_rule{};
    s.unit_ext = proto::op_extension{};
    s.unit_ext.what = proto::op_extension::kind::requantize;
    s.unit_ext.layer = layer;
    s.unit_ext.image = image;
    s.unit_ext.elements = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(L.out_channels);
    s.unit_ext.acc = data ? &s.acc : nullptr;
    s.unit_ext.rule = &rule;
    s.unit_ext.n = n;
    s.unit_ext.oc = L.out_channels;
    s.unit_ext.out = data ? &s.out : nullptr;
    cause = unit_op(s, to_activation, s.unit_ext, cause);
    // The unrolled inputs and the accumulators are done with (the largest layer's would otherwise stay for the run).
    std::vector<std::int32_t>().swap(s.cols);
    std::vector<std::int64_t>().swap(s.acc);
    // The tiles streamed the input from the buffer while they computed: it is free once the layer is done.
    cause = buffer_op(s, proto::buffer_extension::kind::release, {src, image}, layer, 0, 0, nullptr, nullptr, cause);
    if (m_keep_outputs && data) m_outputs[static_cast<std::size_t>(layer)] = s.out;
    return buffer_op(s, proto::buffer_extension::kind::write, {layer, image}, layer, tensor_bytes(layer),
                     m_readers[static_cast<std::size_t>(layer)], data ? &s.out : nullptr, nullptr, cause);
}

int controller::run_other_layer(stage& s, int layer, std::int64_t image, int cause) {
    const auto& g = m_setup.graph;
    const network::layer& L = g.layers[static_cast<std::size_t>(layer)];
    if (L.kind == network::op::flatten || L.kind == network::op::reshape) {  // consumers read the producer's tensor
        if (m_keep_outputs && !m_rec.replay) m_outputs[static_cast<std::size_t>(layer)] = m_outputs[static_cast<std::size_t>(L.input_ids.at(0))];
        return cause;
    }
    const bool data = !m_rec.replay;
    std::vector<const std::vector<std::int32_t>*> inputs;
    for (int p : L.input_ids) {
        const std::vector<std::int32_t>* t = nullptr;
        cause = buffer_op(s, proto::buffer_extension::kind::read, {m_source[static_cast<std::size_t>(p)], image}, layer,
                          tensor_bytes(p), 0, nullptr, &t, cause);
        inputs.push_back(t);
    }
    const std::uint64_t elems = static_cast<std::uint64_t>(L.out.size());
    const bool pool = L.kind == network::op::max_pool || L.kind == network::op::avg_pool;
    const bool function = L.kind == network::op::softmax || L.kind == network::op::layernorm ||
                          L.kind == network::op::gelu || L.kind == network::op::matmul;
    if (L.kind == network::op::transpose || L.kind == network::op::slice) {
        // Data movement: the global buffer's address generation reads the input in the new order and writes it
        // back; no unit computes (the buffer accesses are priced).
        if (data) engine::apply_nonweight_layer(g, layer, inputs, s.out, m_setup.quant);
    } else {
        s.unit_ext = proto::op_extension{};
        s.unit_ext.what = proto::op_extension::kind::layer;
        s.unit_ext.layer = layer;
        s.unit_ext.image = image;
        // A pooling unit reads every window element once: in elements = out elements x window. The function
        // block sets its units' work itself.
        s.unit_ext.elements = pool ? elems * static_cast<std::uint64_t>(L.kernel_h * L.kernel_w) : elems;
        s.unit_ext.graph = &g;
        s.unit_ext.quant = &m_setup.quant;
        s.unit_ext.inputs = inputs;
        s.unit_ext.out = data ? &s.out : nullptr;
        cause = unit_op(s, function ? to_functions : pool ? to_pooling : to_activation, s.unit_ext, cause);
    }
    for (int p : L.input_ids)
        cause = buffer_op(s, proto::buffer_extension::kind::release, {m_source[static_cast<std::size_t>(p)], image}, layer, 0,
                          0, nullptr, nullptr, cause);
    if (m_keep_outputs && data) m_outputs[static_cast<std::size_t>(layer)] = s.out;
    return buffer_op(s, proto::buffer_extension::kind::write, {layer, image}, layer, tensor_bytes(layer),
                     m_readers[static_cast<std::size_t>(layer)], data ? &s.out : nullptr, nullptr, cause);
}

}  // namespace cim::hw
