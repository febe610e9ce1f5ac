// Timing detail: contention on a shared H-tree link, RTL co-simulation of the PE accumulation path, and the
// pipelined throughput. Each TEST elaborates its own hierarchy (one process per test, see tests/sc/CMakeLists.txt).
#include <gtest/gtest.h>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/circuit/components.h"
#include "models/hw/buffer.h"
#include "platforms/inference/platform.h"

namespace {

/// Sends `transfers` writes of `bytes` each to the H-tree at the same local time (two tiles sending at once),
/// and records when the last one completes.
struct sender : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<sender> out{"out"};
    int transfers;
    std::uint64_t bytes;
    sc_core::sc_time done;
    SC_HAS_PROCESS(sender);
    sender(sc_core::sc_module_name n, int k, std::uint64_t b) : sc_module(n), transfers(k), bytes(b) { SC_THREAD(run); }
    void run() {
        sc_core::sc_time last = sc_core::SC_ZERO_TIME;
        for (int i = 0; i < transfers; ++i) {
            sc_core::sc_time d = sc_core::SC_ZERO_TIME;  // all issued at local time 0
            tlm::tlm_generic_payload p;
            p.set_command(tlm::TLM_WRITE_COMMAND);
            p.set_data_length(static_cast<unsigned>(bytes));
            p.set_streaming_width(static_cast<unsigned>(bytes));
            p.set_data_ptr(nullptr);
            out->b_transport(p, d);
            EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
            if (d > last) last = d;
        }
        done = last;
    }
};

sc_core::sc_time link_finish(int transfers, std::uint64_t bytes, double& occupancy) {
    static cim::hw::recorder rec;
    const cim::circuit::technology tech = cim::circuit::technology::node_32nm();
    const cim::circuit::calibration calib;
    cim::hw::htree link("htree", rec, tech, calib, 4, 1e-3, 128, 1e9);
    sender s("sender", transfers, bytes);
    s.out.bind(link.in);
    occupancy = cim::circuit::htree(tech, cim::circuit::calibration{}, 4, 1e-3, 128, 1e9).transfer_cost(bytes).latency;
    sc_core::sc_start();
    return s.done;
}

}  // namespace

TEST(Contention, OneTileAloneTakesOneOccupancy) {
    double occ = 0;
    const auto t = link_finish(1, 4096, occ);
    EXPECT_NEAR(t.to_seconds(), occ, 1e-12);  // the kernel's time resolution is 1 ps
}

// Two tiles sending over one shared H-tree link: the second waits for the first, so the pair takes longer than
// one tile alone by exactly the link's occupancy.
TEST(Contention, TwoTilesShareTheLink) {
    double occ = 0;
    const auto t = link_finish(2, 4096, occ);
    EXPECT_GT(occ, 0.0);
    EXPECT_NEAR(t.to_seconds(), 2 * occ, 2e-12);  // 1 ps resolution per transfer
}

// The RTL accumulation block (verilated Verilog, driven pin by pin) in every PE gives the same layer outputs on a
// full VGG-8 image as the C++ accumulation of the batched engine; its cycle count equals the words the TLM adder
// tree reduces (one word per clock), PE by PE.
TEST(RtlCosim, Vgg8RtlAccumulatorMatchesTlm) {
    const auto lc = cim::inference::load_run_config(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml",
                                                    {{"chip.pe.accumulator.impl", "rtl"}});
    auto prepared = cim::inference::prepare(lc);
    cim::inference::platform plat(lc, std::move(prepared));
    plat.simulate();
    const auto want = plat.model().forward(plat.data().images.back(), 0);
    const auto& got = plat.chip().ctrl().outputs();
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << plat.data().graph.layers[i].name;
    const auto r = plat.report();
    int pes = 0;
    double cycles = 0;
    for (const auto& c : r.components) {
        if (c.type != std::string("pe") || c.idle) continue;
        ++pes;
        EXPECT_EQ(c.stats["accumulator_rtl_cycles"]["value"], c.stats["adder_tree_words"]["value"]) << c.path;
        cycles += c.stats["accumulator_rtl_cycles"]["value"].get<double>();
    }
    EXPECT_GT(pes, 0);
    EXPECT_GT(cycles, 1e6);  // every partial sum of the image went through the Verilog block
}

// Pipelined execution (layers on their own tiles, images overlapping) beats layer-by-layer throughput for VGG-8.
TEST(Pipeline, PipelinedFpsIsHigher) {
    const auto lc = cim::inference::load_run_config(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml", {});
    auto prepared = cim::inference::prepare(lc);
    cim::inference::platform plat(lc, std::move(prepared));
    plat.simulate();
    const auto r = plat.report();
    EXPECT_GT(r.fps, 0.0);
    EXPECT_GT(r.fps_pipelined, r.fps);
    double slowest = 0;
    for (const auto& l : r.layers) slowest = std::max(slowest, l.latency);
    EXPECT_GE(r.pipeline_stage_s, slowest);  // a stage holds at least its slowest layer
    EXPECT_LE(r.pipeline_stage_s, r.latency_s);
}
