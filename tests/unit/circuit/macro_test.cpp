// Macro runs (models/circuit/macro.h): one MVM of one macro at its boundary, from stated data statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fixtures.h"
#include "models/circuit/macro.h"

using namespace cim::circuit;
using namespace cim::circuit::fixtures;

namespace {
// A 64 x 64 SRAM macro of 4-bit weights on 4 bit columns combined in analog, one 4-bit flash ADC per weight.
subarray_config small_sram(const std::string& encoding) {
    subarray_config g;
    g.rows = 64;
    g.cols = 64;
    g.adc_bits = 4;
    g.cols_per_adc = 4;
    g.combine_cols = 4;
    g.readout = "parallel";
    g.input_encoding = encoding;
    return g;
}
macro_config four_bit() {
    macro_config m;
    m.enabled = true;
    m.input_bits = 4;
    m.weight_bits = 4;
    return m;
}
const macro_result::line& find_action(const macro_result& r, const std::string& name) {
    for (const auto& a : r.actions)
        if (a.name == name) return a;
    throw std::runtime_error("no action " + name);
}
double find_area(const macro_result& r, const std::string& name) {
    for (const auto& p : r.areas)
        if (p.name == name) return p.area;
    return -1.0;
}
}  // namespace

TEST(Macro, OpsAndMacsFollowTheGeometryAndConvention) {
    const auto r = evaluate_macro(node("7nm"), fitted(), sram(), small_sram("bit_serial"), four_bit(), 4, 4);
    EXPECT_DOUBLE_EQ(r.macs, 64.0 * 16.0);  // 64 rows x 16 weights of 4 columns
    EXPECT_DOUBLE_EQ(r.ops, 2.0 * r.macs);
    EXPECT_NEAR(r.tops_per_w, r.ops / r.energy * 1e-12, 1e-9 * r.tops_per_w);
    EXPECT_NEAR(r.energy, r.dynamic_energy + r.leakage_power * r.latency, 1e-12 * r.energy);
}

TEST(Macro, PulseEncodedRowsClockTheirPulseGeneratorOncePerSlot) {
    const auto t = node("7nm");
    const auto k = fitted();
    const auto pulsed = evaluate_macro(t, k, sram(), small_sram("pulse_count"), four_bit(), 4, 4);
    // Every row's generator runs through the 15 slots of a 4-bit input, once per MVM.
    EXPECT_NEAR(find_action(pulsed, "pulse_slot").count, 64.0 * 15.0, 1e-6 * 64 * 15);
    EXPECT_GT(find_action(pulsed, "pulse_slot").energy, 0.0);
    EXPECT_EQ(find_action(pulsed, "pulse_slot").group, "drivers");
    EXPECT_GT(find_area(pulsed, "pulse_generators"), 0.0);
    // Bit-serial inputs have no pulse generators.
    const auto serial = evaluate_macro(t, k, sram(), small_sram("bit_serial"), four_bit(), 4, 4);
    EXPECT_EQ(find_action(serial, "pulse_slot").count, 0.0);
    EXPECT_LT(find_area(serial, "pulse_generators"), 0.0);
}

TEST(Macro, SupplyScalesTheSwitchingEnergy) {
    // The generators are logic: their energy per slot scales as the supply squared.
    auto t08 = node("7nm"), t10 = node("7nm");
    t08.supply = 0.8;
    t10.supply = 1.0;
    const auto k = fitted();
    const auto a = evaluate_macro(t08, k, sram(), small_sram("pulse_count"), four_bit(), 4, 4);
    const auto b = evaluate_macro(t10, k, sram(), small_sram("pulse_count"), four_bit(), 4, 4);
    EXPECT_NEAR(find_action(b, "pulse_slot").energy / find_action(a, "pulse_slot").energy, 1.0 / 0.64, 0.02);
    EXPECT_LT(b.tops_per_w, a.tops_per_w);
}
