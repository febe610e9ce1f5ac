// Each module alone, bound to a test initiator, without a network or a chip: its data, its simulated time against
// the counts times its action table, and its counts.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "models/circuit/components.h"
#include "models/core/rng.h"
#include "models/engine/quantized_model.h"
#include "models/functional/quant_config.h"
#include "models/hw/buffer.h"
#include "models/hw/interconnect.h"
#include "models/hw/pe.h"
#include "models/hw/subarray.h"
#include "models/hw/vector_unit.h"
#include "tests/sc/harness.h"

namespace {

using namespace cim;

/// A linear layer of `rows` inputs and `chans` outputs with seeded weights in [-100, 100].
network::layer linear_layer(int rows, int chans) {
    network::layer l;
    l.name = "fc";
    l.kind = network::op::linear;
    l.out_channels = chans;
    l.in = {rows, 1, 1};
    l.out = {chans, 1, 1};
    rng_stream r(7, {1});
    std::vector<std::int32_t> w(static_cast<std::size_t>(rows) * static_cast<std::size_t>(chans));
    for (auto& v : w) v = static_cast<std::int32_t>(r.uniform_int(-100, 100));
    l.qweights = w;
    return l;
}

std::vector<std::int32_t> inputs(int n, int rows) {
    rng_stream r(7, {2});
    std::vector<std::int32_t> x(static_cast<std::size_t>(n) * static_cast<std::size_t>(rows));
    for (auto& v : x) v = static_cast<std::int32_t>(r.uniform_int(0, 255));
    return x;
}

/// The exact partial sums of rows [r0, r1) and channels [c0, c1) for vectors v = copy, copy + dup, ...
std::vector<std::int64_t> exact(const network::layer& l, const std::vector<std::int32_t>& x, int n, int r0, int r1,
                                int c0, int c1, int copy = 0, int dup = 1) {
    const auto R = static_cast<int>(l.in.c());
    std::vector<std::int64_t> y;
    for (int v = copy; v < n; v += dup)
        for (int c = c0; c < c1; ++c) {
            std::int64_t s = 0;
            for (int r = r0; r < r1; ++r)
                s += std::int64_t{l.qweights[static_cast<std::size_t>(c) * R + r]} * x[static_cast<std::size_t>(v) * R + r];
            y.push_back(s);
        }
    return y;
}

struct fixture {
    circuit::technology tech = cim::testing::node("32nm");
    circuit::calibration calib;
    circuit::cell cell;
    circuit::subarray_config geo;
    engine::hardware_options opt;
    fixture() {
        geo.rows = 128;
        geo.cols = 128;
        geo.adc_bits = 12;  // lossless for 128 rows of 4-bit cells: exact sums
        opt.quant.weight_bits = 8;
        opt.quant.input_bits = 8;
        opt.cell_bits = cell.bits;
        opt.on_off_ratio = 0;  // ideal off state
        opt.adc_bits = geo.adc_bits;
    }
};

/// Sends one MVM of `n` vectors to `socket` at the current time; returns the extension as the target left it.
template <class S>
proto::mvm_extension mvm(S& socket, int layer, const std::int32_t* x, int n, int rows, std::int64_t* psums,
                         std::int64_t* acc, int oc, int dup = 1) {
    tlm::tlm_generic_payload p;
    proto::mvm_extension e;
    e.layer = layer;
    e.inputs = x;
    e.n_vectors = n;
    e.row_stride = rows;
    e.duplication = dup;
    e.psums = psums;
    e.acc = acc;
    e.out_channels = oc;
    proto::extension_guard<proto::mvm_extension> g(p, e);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    socket->b_transport(p, d);
    EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
    return e;
}

struct mvm_initiator : sc_core::sc_module {
    proto::compute_initiator_socket<mvm_initiator> out{"out"};
    std::function<void(mvm_initiator&)> body;
    mvm_initiator(const sc_core::sc_module_name& n, std::function<void(mvm_initiator&)> b)
        : sc_module(n), body(std::move(b)) {
        sc_core::sc_spawn([this] { body(*this); }, "run");
    }
};

}  // namespace

// A subarray programs its own cells from the layer's weights, reads the vectors of its copy exactly (lossless ADC),
// and takes the time of its counts priced by its table.
TEST(Subarray, ReadsItsBlockAndTakesTheTimeOfItsCounts) {
    fixture f;
    const network::layer l = linear_layer(100, 20);
    const circuit::subarray_model model(f.tech, f.calib, f.cell, f.geo, func::reference_columns(f.opt.quant, f.cell.bits));
    const hw::subarray_setup setup{model, f.opt, {}};
    const mapping::subarray_slot slot{0, 1, 0, 100, 4, 12};  // copy 1 of 2: rows 0..99, channels 4..11
    hw::run_record rec;
    hw::subarray sa("subarray", rec, setup, slot, 5, &l, nullptr);
    const int n = 5;
    const auto x = inputs(n, 100);
    std::vector<std::int64_t> psums(2 * 8);  // vectors 1 and 3 of the copy, 8 channels
    proto::mvm_extension done;
    mvm_initiator ini("ini", [&](mvm_initiator& i) { done = mvm(i.out, 0, x.data(), n, 100, psums.data(), nullptr, 0, 2); });
    ini.out.bind(sa.in);
    sc_core::sc_start();
    EXPECT_EQ(psums, exact(l, x, n, 0, 100, 4, 12, 1, 2));
    EXPECT_EQ(done.response_words, 16u);
    // Its time is the counts of the read times the latencies of its table.
    ASSERT_EQ(sa.counts().size(), 1u);
    const auto by_cat = model.table().latency_by_category(sa.counts()[0]);
    double t = 0;
    for (double v : by_cat) t += v;
    EXPECT_NEAR(sc_core::sc_time_stamp().to_seconds(), t, 4e-12);
    // Two vectors, eight input slices, one activation each (parallel read-out); a conversion per column.
    const auto& n0 = sa.counts()[0];
    EXPECT_EQ(n0[circuit::subarray_model::activation], 2.0 * 8);
    const double columns = 8 * func::columns_per_weight(f.opt.quant, f.cell.bits) + func::reference_columns(f.opt.quant, f.cell.bits);
    EXPECT_EQ(n0[circuit::subarray_model::conversion], 2.0 * 8 * columns);
    EXPECT_GT(model.table().energy(n0), 0.0);
}

// A PE's subarrays read concurrently: the PE takes the slowest subarray's time plus its adder tree's, not the sum of
// its subarrays' times; the partial sums of its row blocks add into the accumulators its payload points at.
TEST(Pe, SubarraysReadConcurrently) {
    fixture f;
    const network::layer l = linear_layer(256, 8);
    network::graph g;
    g.layers.push_back(l);
    const circuit::subarray_model model(f.tech, f.calib, f.cell, f.geo, func::reference_columns(f.opt.quant, f.cell.bits));
    const hw::subarray_setup setup{model, f.opt, {}};
    mapping::pe_plan plan;
    plan.subarrays = {{0, 0, 0, 128, 0, 8}, {0, 0, 128, 256, 0, 8}};  // two row blocks of the same channels
    const circuit::adder_tree adder(f.tech, f.calib, 2, 28, 128);
    hw::run_record rec;
    hw::pe p("pe", rec, setup, plan, 0, &g, {}, adder, nullptr);
    const int n = 3;
    const auto x = inputs(n, 256);
    std::vector<std::int64_t> acc(static_cast<std::size_t>(n) * 8, 0);
    mvm_initiator ini("ini", [&](mvm_initiator& i) { mvm(i.out, 0, x.data(), n, 256, nullptr, acc.data(), 8); });
    ini.out.bind(p.in);
    sc_core::sc_start();
    EXPECT_EQ(acc, exact(l, x, n, 0, 256, 0, 8));
    // The two reads overlap: both start at 0, and the adder tree follows the later one.
    const auto& acts = rec.time.activities();
    ASSERT_EQ(acts.size(), 3u);
    EXPECT_EQ(acts[0].start, 0u);
    EXPECT_EQ(acts[1].start, 0u);
    const auto read_end = std::max(acts[0].end, acts[1].end);
    EXPECT_EQ(acts[2].start, read_end);
    EXPECT_EQ(hw::timeline::to_ps(sc_core::sc_time_stamp()), acts[2].end);
    EXPECT_LT(acts[2].end, acts[0].end + acts[1].end);  // not one read after the other
    EXPECT_EQ(p.counts()[0][circuit::adder_tree::word], 2.0 * n * 8);
}

// A buffer holds what it is given against its capacity: a write that does not fit waits until a reader releases
// enough (back-pressure), and the wait is the writer's stall.
TEST(Buffer, FullBufferStallsTheWriterUntilARelease) {
    fixture f;
    const circuit::sram_buffer model(f.tech, f.calib, 1024, 64, 1e9);
    hw::run_record rec;
    hw::buffer buf("buffer", rec, model, 1024);
    sc_core::sc_time second_written, released;
    std::vector<std::int32_t> t0(600, 3), t1(600, 4);
    struct client : sc_core::sc_module {
        proto::buffer_initiator_socket<client> out{"out"};
        std::function<void(client&)> body;
        client(const sc_core::sc_module_name& n, std::function<void(client&)> b) : sc_module(n), body(std::move(b)) {
            sc_core::sc_spawn([this] { body(*this); }, "run");
        }
        proto::buffer_extension op(proto::buffer_extension::kind k, int layer, std::uint64_t bytes,
                                   std::vector<std::int32_t>* t = nullptr) {
            tlm::tlm_generic_payload p;
            proto::buffer_extension x;
            x.what = k;
            x.key = {layer, 0};
            x.layer = layer;
            x.bytes = bytes;
            x.readers = 1;
            x.tensor = t;
            proto::extension_guard<proto::buffer_extension> g(p, x);
            sc_core::sc_time d = sc_core::SC_ZERO_TIME;
            out->b_transport(p, d);
            EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
            return x;
        }
    };
    using K = proto::buffer_extension::kind;
    client producer("producer", [&](client& c) {
        c.op(K::write, 1, 600, &t0);
        c.op(K::write, 2, 600, &t1);  // 1200 B do not fit in 1024: waits for the consumer
        second_written = sc_core::sc_time_stamp();
    });
    client consumer("consumer", [&](client& c) {
        sc_core::wait(1, sc_core::SC_US);
        const auto r = c.op(K::read, 1, 600);
        ASSERT_NE(r.result, nullptr);
        EXPECT_EQ(*r.result, std::vector<std::int32_t>(600, 3));  // the buffer holds the data it was given
        c.op(K::release, 1, 0);
        released = sc_core::sc_time_stamp();
    });
    struct bus2 : sc_core::sc_module {
        proto::buffer_target_socket<bus2> a{"a"}, b{"b"};
        proto::buffer_initiator_socket<bus2> out{"out"};
        explicit bus2(const sc_core::sc_module_name& n) : sc_module(n) {
            a.register_b_transport(this, &bus2::fwd);
            b.register_b_transport(this, &bus2::fwd);
        }
        void fwd(tlm::tlm_generic_payload& p, sc_core::sc_time& d) { out->b_transport(p, d); }
    } link("bus");
    producer.out.bind(link.a);
    consumer.out.bind(link.b);
    link.out.bind(buf.in);
    sc_core::sc_start();
    EXPECT_GE(second_written, released);
    double stall = 0;
    for (const auto* e : buf.statistics().entries())
        if (e->name() == "stall_time") stall = e->value();
    EXPECT_GT(stall, 0.9e-6);
}

// The interconnect routes by address, carries the request bytes to the tile and the response words back over one
// shared link; two tiles' transfers at the same time queue on it.
TEST(Interconnect, RoutesByAddressAndSharesTheLink) {
    fixture f;
    const circuit::htree model(f.tech, f.calib, 2, 1e-3, 128, 1e9);
    hw::run_record rec;
    hw::interconnect ic("interconnect", rec, model, 2);
    struct tile_stub : sc_core::sc_module {
        proto::compute_target_socket<tile_stub> in{"in"};
        int served = 0;
        explicit tile_stub(const sc_core::sc_module_name& n) : sc_module(n) { in.register_b_transport(this, &tile_stub::bt); }
        void bt(tlm::tlm_generic_payload& p, sc_core::sc_time&) {
            ++served;
            p.get_extension<proto::mvm_extension>()->response_words = 0;
            p.set_response_status(tlm::TLM_OK_RESPONSE);
        }
    } t0("t0"), t1("t1");
    ic.to_tiles[0]->bind(t0.in);
    ic.to_tiles[1]->bind(t1.in);
    sc_core::sc_time end0, end1;
    struct caller : sc_core::sc_module {
        proto::compute_initiator_socket<caller> out{"out"};
        caller(const sc_core::sc_module_name& n, std::uint64_t tile, sc_core::sc_time* end) : sc_module(n) {
            sc_core::sc_spawn([this, tile, end] {
                tlm::tlm_generic_payload p;
                proto::mvm_extension e;
                e.layer = 0;
                e.request_bytes = 4096;
                proto::extension_guard<proto::mvm_extension> g(p, e);
                p.set_address(tile);
                sc_core::sc_time d = sc_core::SC_ZERO_TIME;
                out->b_transport(p, d);
                EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
                *end = sc_core::sc_time_stamp();
            }, "run");
        }
    } c0("c0", 0, &end0), c1("c1", 1, &end1);
    struct fan_in : sc_core::sc_module {
        proto::compute_target_socket<fan_in> a{"a"}, b{"b"};
        proto::compute_initiator_socket<fan_in> out{"out"};
        explicit fan_in(const sc_core::sc_module_name& n) : sc_module(n) {
            a.register_b_transport(this, &fan_in::fwd);
            b.register_b_transport(this, &fan_in::fwd);
        }
        void fwd(tlm::tlm_generic_payload& p, sc_core::sc_time& d) { out->b_transport(p, d); }
    } link("fan_in");
    c0.out.bind(link.a);
    c1.out.bind(link.b);
    link.out.bind(ic.in);
    sc_core::sc_start();
    EXPECT_EQ(t0.served, 1);
    EXPECT_EQ(t1.served, 1);
    const sc_core::sc_time occ(model.transfer_cost(4096).latency, sc_core::SC_SEC);
    EXPECT_EQ(std::min(end0, end1), occ);
    EXPECT_EQ(std::max(end0, end1), occ + occ);
}

// A vector unit performs the requantisation it is handed and spends its lane beats.
TEST(VectorUnit, RequantisesAndTakesItsBeats) {
    fixture f;
    const circuit::digital_unit model("activation", f.calib, false, 4, circuit::activation_lane(f.tech, 24), 1e9);
    hw::run_record rec;
    hw::vector_unit unit("activation", "activation", rec, model);
    engine::weight_output_rule rule;
    rule.multiplier = {0.5, 0.25};
    rule.lo = -127, rule.hi = 127;
    const std::vector<std::int64_t> acc = {10, 20, 30, 40, 50, 60};  // 3 pixels x 2 channels
    std::vector<std::int32_t> out;
    mvm_initiator ini("ini", [&](mvm_initiator& i) {
        tlm::tlm_generic_payload p;
        proto::op_extension op;
        op.what = proto::op_extension::kind::requantize;
        op.layer = 0;
        op.elements = 6;
        op.acc = &acc;
        op.rule = &rule;
        op.n = 3, op.oc = 2;
        op.out = &out;
        proto::extension_guard<proto::op_extension> g(p, op);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        i.out->b_transport(p, d);
        EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
    });
    ini.out.bind(unit.in);
    sc_core::sc_start();
    EXPECT_EQ(out, engine::finish_layer(rule, acc, 3, 2));
    EXPECT_EQ(unit.counts()[0][circuit::digital_unit::beat], 2.0);  // 6 elements on 4 lanes
    EXPECT_NEAR(sc_core::sc_time_stamp().to_seconds(), model.process(6).latency, 2e-12);
}

// A subarray written during the run reads its new weights, and the write costs its program actions: a row_write per
// row, a cell_write per cell, a level pulse per level programmed, in simulated time.
TEST(Subarray, WrittenDuringTheRunReadsItsNewWeights) {
    fixture f;
    const network::layer a = linear_layer(64, 4);
    network::layer b = a;
    std::vector<std::int32_t> bw = a.qweights.to_vector();
    for (auto& w : bw) w = -w / 2;  // different weights, same shape
    b.qweights = bw;
    const circuit::subarray_model model(f.tech, f.calib, f.cell, f.geo, func::reference_columns(f.opt.quant, f.cell.bits));
    const hw::subarray_setup setup{model, f.opt, {}};
    const mapping::subarray_slot slot{0, 0, 0, 64, 0, 4};
    hw::run_record rec;
    hw::subarray sa("subarray", rec, setup, slot, 0, &a, nullptr);
    const auto x = inputs(2, 64);
    std::vector<std::int64_t> before(8), after(8);
    sc_core::sc_time write_start, write_end;
    mvm_initiator ini("ini", [&](mvm_initiator& i) {
        mvm(i.out, 0, x.data(), 2, 64, before.data(), nullptr, 0);
        tlm::tlm_generic_payload p;
        proto::write_extension w;
        w.layer = 0;
        w.weights = bw.data();
        w.weight_rows = 64;
        proto::extension_guard<proto::write_extension> g(p, w);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        write_start = sc_core::sc_time_stamp();
        i.out->b_transport(p, d);
        EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
        write_end = sc_core::sc_time_stamp();
        mvm(i.out, 0, x.data(), 2, 64, after.data(), nullptr, 0);
    });
    ini.out.bind(sa.in);
    sc_core::sc_start();
    EXPECT_EQ(before, exact(a, x, 2, 0, 64, 0, 4));
    EXPECT_EQ(after, exact(b, x, 2, 0, 64, 0, 4));
    EXPECT_EQ(sa.writes(), 1u);
    const auto& n = sa.counts()[0];
    const double columns = 4 * func::columns_per_weight(f.opt.quant, f.cell.bits) + func::reference_columns(f.opt.quant, f.cell.bits);
    EXPECT_EQ(n[circuit::subarray_model::row_write], 64.0);
    EXPECT_EQ(n[circuit::subarray_model::cell_write], 64.0 * columns);
    EXPECT_GT(n[circuit::subarray_model::level_pulse], 0.0);
    const auto& t = model.table();
    const double write_time = 64.0 * t[circuit::subarray_model::row_write].latency;
    EXPECT_NEAR((write_end - write_start).to_seconds(), write_time, 2e-12);
    EXPECT_GT(write_time, 64.0 * f.cell.levels() * f.cell.write_pulse * 0.999);  // the pulses of every row
}
