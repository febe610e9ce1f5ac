// Timed RTL co-simulation: the PE accumulation path as a verilated block, clocked by an sc_clock through its
// pin-level transactor. Both example blocks give the layer outputs of the batched engine (which accumulates in C++),
// and the time each PE spends accumulating follows the block's clock cycles: one word per clock for
// pe_accumulator, four per clock after a three-cycle fill for pe_accumulator_lanes4.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "platforms/inference/platform.h"

namespace {

struct pe_figures {
    double cycles = 0, words = 0, busy_s = 0;
};

void check_block(const std::string& block, double words_per_cycle) {
    const double clock_hz = 1e9;
    const auto lc = cim::inference::load_run_config(CIM_SOURCE_DIR "/configs/experiments/vgg8_cifar10.yaml",
                                                    {{"chip.pe.accumulator.impl", "rtl"},
                                                     {"chip.pe.accumulator.block", block},
                                                     {"chip.pe.accumulator.clock", "1 GHz"},
                                                     {"chip.pe.accumulator.scope", "chip.tile_[0-3].*"}});
    cim::inference::platform_options o;
    o.keep_outputs = true;
    cim::inference::platform plat(lc, cim::inference::prepare(lc), o);
    plat.simulate();
    const auto want = plat.engine_model()->forward(plat.data().images.back(), 0);
    const auto& got = plat.chip().ctrl().outputs();
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << plat.data().graph.layers[i].name;
    const auto r = plat.report();
    int rtl_pes = 0;
    for (const auto& c : r.components) {
        if (c.type != "pe" || c.idle) continue;
        pe_figures f;
        for (const auto& [k, v] : c.stats) {
            if (k == "accumulator_rtl_cycles") f.cycles = v;
            if (k == "busy_time") f.busy_s = v;
        }
        for (const auto& [k, v] : c.counts)
            if (k == "word") f.words = v;
        if (f.cycles == 0) continue;
        ++rtl_pes;
        // Cycles: the words over the block's throughput, plus at most its pipeline fill per call.
        EXPECT_GE(f.cycles, f.words / words_per_cycle) << c.path;
        EXPECT_LE(f.cycles, std::ceil(f.words / words_per_cycle) + 3 * 8) << c.path;
        // The PE's accumulation time is those cycles at the block's clock (plus the wait for the first edge).
        EXPECT_GE(f.busy_s, f.cycles / clock_hz) << c.path;
        EXPECT_LE(f.busy_s, (f.cycles + 2 * 8) / clock_hz) << c.path;
    }
    EXPECT_GT(rtl_pes, 4);
}

}  // namespace

TEST(RtlCosim, OneWordPerClockBlockMatchesTheEngine) { check_block("pe_accumulator", 1.0); }

TEST(RtlCosim, FourLanePipelinedBlockMatchesTheEngine) { check_block("pe_accumulator_lanes4", 4.0); }
