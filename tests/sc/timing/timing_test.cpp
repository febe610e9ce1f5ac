// Simulated time: shared resources granted in simulated-time order, pipelined execution against its bound and under
// back-pressure, and the timed RTL co-simulation of the PE accumulation path. Each TEST elaborates its own hierarchy
// (one process per test, see tests/sc/CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <systemc>
#include <tlm>

#include "models/circuit/components.h"
#include "models/hw/buffer.h"
#include "platforms/inference/platform.h"
#include "tests/sc/harness.h"

namespace {

/// An initiator module with its own socket: stages `bytes` through a buffer at local time `offset` (annotated
/// delay: it runs ahead of the kernel's time, loosely timed) and records when its access ended.
struct stager : sc_core::sc_module {
    cim::proto::buffer_initiator_socket<stager> out{"out"};
    std::uint64_t bytes;
    sc_core::sc_time offset, end, called;
    stager(const sc_core::sc_module_name& n, std::uint64_t b, sc_core::sc_time o) : sc_module(n), bytes(b), offset(o) {
        sc_core::sc_spawn([this] { run(); }, "run");
    }
    void run() {
        tlm::tlm_generic_payload p;
        cim::proto::buffer_extension x;
        x.what = cim::proto::buffer_extension::kind::stage;
        x.bytes = bytes;
        x.layer = 0;
        cim::proto::extension_guard<cim::proto::buffer_extension> g(p, x);
        called = sc_core::sc_time_stamp();
        sc_core::sc_time d = offset;
        out->b_transport(p, d);
        EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
        end = sc_core::sc_time_stamp() + d;
    }
};

/// Two target sockets into one initiator socket: a bus that forwards blocking calls unchanged.
struct bus : sc_core::sc_module {
    cim::proto::buffer_target_socket<bus> a{"a"}, b{"b"};
    cim::proto::buffer_initiator_socket<bus> out{"out"};
    std::vector<std::string> calls;
    explicit bus(const sc_core::sc_module_name& n) : sc_module(n) {
        a.register_b_transport(this, &bus::from_a);
        b.register_b_transport(this, &bus::from_b);
    }
    void from_a(tlm::tlm_generic_payload& p, sc_core::sc_time& d) { calls.push_back("a"), out->b_transport(p, d); }
    void from_b(tlm::tlm_generic_payload& p, sc_core::sc_time& d) { calls.push_back("b"), out->b_transport(p, d); }
};

}  // namespace

// Two initiators share one buffer port. A calls first (it is elaborated first, and both run at time 0), at local
// time 10 ns; B calls second, at local time 2 ns. The port is granted in simulated-time order: B is served from
// 2 ns, and A, which arrives at 10 ns while B holds the port, waits until B is done.
TEST(Contention, ServedInSimulatedTimeOrder) {
    const auto tech = cim::testing::node("32nm");
    const cim::circuit::calibration k;
    const cim::circuit::sram_buffer model(tech, k, 64 * 1024, 64, 1e9);
    cim::hw::run_record rec;
    cim::hw::buffer buf("buffer", rec, model, 64 * 1024);
    const std::uint64_t bytes = 256;  // 32 beats of 64 bits each way: 64 ns at 1 GHz
    const sc_core::sc_time occ(model.read(bytes).latency + model.write(bytes).latency, sc_core::SC_SEC);
    ASSERT_GT(occ, sc_core::sc_time(10, sc_core::SC_NS));
    stager a("a", bytes, sc_core::sc_time(10, sc_core::SC_NS)), b("b", bytes, sc_core::sc_time(2, sc_core::SC_NS));
    bus link("bus");
    a.out.bind(link.a);
    b.out.bind(link.b);
    link.out.bind(buf.in);
    sc_core::sc_start();
    ASSERT_EQ(link.calls, (std::vector<std::string>{"a", "b"}));  // A called first
    EXPECT_EQ(b.end, sc_core::sc_time(2, sc_core::SC_NS) + occ);    // B served first, from its own time
    EXPECT_EQ(a.end, b.end + occ);                                   // A waited for B
    const auto& acts = rec.time.activities();
    ASSERT_EQ(acts.size(), 2u);
    EXPECT_EQ(acts[1].cause, 0);  // A's access follows B's: the critical path runs through B
}

// One buffer port, two accesses at the same local time: the second takes exactly one occupancy longer.
TEST(Contention, SameTimeAccessesQueue) {
    const auto tech = cim::testing::node("32nm");
    const cim::circuit::calibration k;
    const cim::circuit::sram_buffer model(tech, k, 64 * 1024, 64, 1e9);
    cim::hw::run_record rec;
    cim::hw::buffer buf("buffer", rec, model, 64 * 1024);
    const sc_core::sc_time occ(model.read(512).latency + model.write(512).latency, sc_core::SC_SEC);
    stager a("a", 512, sc_core::SC_ZERO_TIME), b("b", 512, sc_core::SC_ZERO_TIME);
    bus link("bus");
    a.out.bind(link.a);
    b.out.bind(link.b);
    link.out.bind(buf.in);
    sc_core::sc_start();
    EXPECT_EQ(std::min(a.end, b.end), occ);
    EXPECT_EQ(std::max(a.end, b.end), occ + occ);
}

namespace {

/// Pipelined VGG-8 of `images` images with a global buffer of `buffer`: ample (4 MiB) holds two to eight outputs of
/// every layer; 1 MiB (the default chip's) holds one of each and little more.
std::vector<cim::cfg::override_spec> pipeline_sets(int images, const std::string& buffer = "4 MiB") {
    return {{"run.mode", "pipelined"}, {"run.images", std::to_string(images)}, {"chip.global_buffer.size", buffer}};
}

cim::report::report_data run(const std::vector<cim::cfg::override_spec>& sets) {
    const auto lc = cim::inference::load_run_config(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml", sets);
    cim::inference::platform plat(lc, cim::inference::prepare(lc));
    plat.simulate();
    return plat.report();
}

/// The slowest layer of one image run layer by layer, in its own process (an elaboration of its own).
double slowest_layer_alone() {
    return cim::testing::in_child([] {
        const auto r = run({{"run.images", "1"}});
        double slowest = 0;
        for (const auto& l : r.layers) slowest = std::max(slowest, l.latency_s);
        return slowest;
    });
}

}  // namespace

// Pipelined, with ample buffers: images stream through the layers, and the simulated steady-state throughput
// approaches 1 / (the slowest layer's time, measured alone in a layer-by-layer run) within 5 % at 32 images; the
// images' average rate (images over the simulated time) never exceeds the run's bound (its busiest module's or
// slowest layer's own time per image), and the layers overlap: the throughput beats layer-by-layer execution.
TEST(Pipeline, ThroughputApproachesTheSlowestStage) {
    const double slowest = slowest_layer_alone();
    ASSERT_GT(slowest, 0.0);
    const auto r = run(pipeline_sets(32));
    EXPECT_EQ(r.mode, "pipelined");
    EXPECT_NEAR(r.fps, 1.0 / slowest, 0.05 / slowest) << "slowest layer alone " << slowest << " s";
    EXPECT_LE(r.images / r.sim_time_s, r.fps_bound);
    EXPECT_LE(r.fps, r.fps_bound * 1.001);  // the steady-state estimate of a finite run, against the asymptote
    double layer_by_layer = 0;
    for (const auto& l : r.layers) layer_by_layer += l.latency_s;
    EXPECT_GT(r.fps, 2.0 / layer_by_layer);
    EXPECT_GT(r.first_image_latency_s, 0.0);
}

// A global buffer that holds little more than one output of every layer: a layer waits for its consumer to free
// its only slot before it writes its next image (back-pressure), so the layers stall longer than with ample buffers,
// and the throughput falls.
TEST(Pipeline, SmallBufferStallsProducers) {
    struct figures {
        double fps = -1, stall = -1;
    };
    const auto figures_of = [](const cim::report::report_data& r) {
        figures f;
        f.fps = r.fps;
        for (const auto& c : r.components)
            if (c.path == "chip.controller")
                for (const auto& [k, v] : c.stats)
                    if (k == "stall_time") f.stall = v;
        return f;
    };
    const double ample_stall = cim::testing::in_child([&] { return figures_of(run(pipeline_sets(8))).stall; });
    const double ample = cim::testing::in_child([&] { return figures_of(run(pipeline_sets(8))).fps; });
    ASSERT_GT(ample, 0.0);
    ASSERT_GE(ample_stall, 0.0);
    const figures small = figures_of(run(pipeline_sets(8, "1 MiB")));
    EXPECT_GT(small.stall, ample_stall);
    EXPECT_LT(small.fps, 0.999 * ample);
}
