// Unit tests of the circuit library (models/circuit/periphery.h): each object's trends, and reference values
// derived by hand from the technology file and the sources named in the header.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "models/circuit/components.h"
#include "models/circuit/periphery.h"
#include "tests/unit/circuit/fixtures.h"

namespace cim::circuit {
namespace {

using fixtures::fitted;
using fixtures::node;
using fixtures::rram;

TEST(Periphery, HorowitzStepInputIsLn2RcAndASlowInputAddsDelay) {
    double ramp = 0;
    EXPECT_NEAR(horowitz(1e-12, 0.0, &ramp), std::log(2.0) * 1e-12, 1e-18);
    EXPECT_NEAR(ramp, 2.0 * std::log(2.0) * 1e-12, 1e-18);
    EXPECT_GT(horowitz(1e-12, 5e-12), horowitz(1e-12, 1e-12));
    EXPECT_EQ(horowitz(0.0, 1e-12), 0.0);
}

TEST(Periphery, InverterIsTheGateUnitAndItsFo4IsTheNodes) {
    const technology t = node("32nm");
    const logic_gate inv(t, logic_gate::kind::inv);
    const gate_unit u(t);
    const double F = t.feature_size;
    EXPECT_NEAR(inv.area(), 30.0 * F * F, 1e-6 * F * F);
    EXPECT_NEAR(inv.leakage(), t.inverter_leakage(), 1e-9 * t.inverter_leakage());
    EXPECT_NEAR(inv.area(), u.area, 1e-6 * u.area);
    // Driving four copies of itself from a step: the node's FO4 delay.
    EXPECT_NEAR(inv.drive(4.0 * inv.input_cap()).latency, t.fo4_delay(), 1e-6 * t.fo4_delay());
}

TEST(Periphery, NandAndNorInputsCarryTheirLogicalEffort) {
    // Sutherland, Sproull & Harris, Logical Effort, table 4.1 with a 2:1 PMOS/NMOS ratio: NAND-n (n + 2)/3,
    // NOR-n (2n + 1)/3. On a planar node capacitance is linear in width, so the input capacitances follow exactly.
    const technology t = node("32nm");
    const double c_inv = logic_gate(t, logic_gate::kind::inv).input_cap();
    for (unsigned n = 2; n <= 4; ++n) {
        EXPECT_NEAR(logic_gate(t, logic_gate::kind::nand, n).input_cap() / c_inv, (n + 2.0) / 3.0, 1e-9) << n;
        EXPECT_NEAR(logic_gate(t, logic_gate::kind::nor, n).input_cap() / c_inv, (2.0 * n + 1.0) / 3.0, 1e-9) << n;
        // Equal drive: the same resistance as the inverter, more area and more output capacitance.
        EXPECT_DOUBLE_EQ(logic_gate(t, logic_gate::kind::nand, n).resistance(), logic_gate(t, logic_gate::kind::inv).resistance());
        EXPECT_GT(logic_gate(t, logic_gate::kind::nor, n).area(), logic_gate(t, logic_gate::kind::nand, n).area());
    }
}

TEST(Periphery, DriverChainSizesForItsLoad) {
    const technology t = node("32nm");
    const logic_gate inv(t, logic_gate::kind::inv);
    unsigned stages = 0;
    double latency = 0;
    for (double fanout : {4.0, 64.0, 1024.0, 16384.0}) {
        const driver_chain d(t, fanout * inv.input_cap());
        EXPECT_GE(d.stages(), stages) << fanout;
        EXPECT_GT(d.drive().latency, latency) << fanout;
        stages = d.stages(), latency = d.drive().latency;
    }
    EXPECT_EQ(driver_chain(t, 4.0 * inv.input_cap()).stages(), 1u);
    EXPECT_EQ(driver_chain(t, 1024.0 * inv.input_cap()).stages(), 5u);  // log4(1024)
    // Sized, a chain into a 16384x load is far faster than a minimum inverter driving it.
    const double load = 16384.0 * inv.input_cap();
    EXPECT_LT(driver_chain(t, load).drive().latency, 0.01 * inv.drive(load).latency);
}

TEST(Periphery, DecoderGrowsWithItsLinesAndItsLoad) {
    const technology t = node("32nm");
    const gate_unit u(t);
    double area = 0, select = 0;
    for (unsigned lines : {2u, 8u, 64u, 128u, 512u}) {
        const decoder d(t, lines, lines * 20 * t.feature_size, 8.0);
        EXPECT_GT(d.area(), area) << lines;
        EXPECT_GE(d.select().latency, select) << lines;
        area = d.area(), select = d.select().latency;
    }
    // A 128-line row decoder: a NAND3 and an 8F driver per line plus the predecoders, ~6-12 inverters per line,
    // and a select in 2-8 FO4.
    const decoder d(t, 128, 128 * 20 * t.feature_size, 8.0);
    EXPECT_GT(d.area() / (128 * u.area), 6.0);
    EXPECT_LT(d.area() / (128 * u.area), 12.0);
    EXPECT_GT(d.select().latency, 2.0 * u.delay);
    EXPECT_LT(d.select().latency, 8.0 * u.delay);
    EXPECT_GT(d.drive(1e-13).latency, d.drive(1e-14).latency);
    EXPECT_NEAR(d.drive(1e-13).energy - d.drive(1e-14).energy, 9e-14 * t.vdd() * t.vdd(), 1e-6 * d.drive(1e-13).energy);
    // The same decoder at 7 nm: smaller and faster.
    const technology t7 = node("7nm");
    const decoder d7(t7, 128, 128 * 20 * t7.feature_size, 8.0);
    EXPECT_LT(d7.area(), 0.1 * d.area());
    EXPECT_LT(d7.select().latency, d.select().latency);
}

TEST(Periphery, WiderSwitchesConductBetterAndLoadMore) {
    const technology t = node("32nm");
    const switch_matrix narrow(t, 128, 2.0), wide(t, 128, 20.0), half(t, 64, 2.0);
    EXPECT_NEAR(narrow.resistance() / wide.resistance(), 10.0, 1e-9);
    EXPECT_NEAR(wide.gate_cap() / narrow.gate_cap(), 10.0, 1e-9);
    EXPECT_NEAR(narrow.area(), 2.0 * half.area(), 1e-9 * narrow.area());
    EXPECT_NEAR(narrow.toggle(128).energy, 128 * narrow.gate_cap() * t.vdd() * t.vdd(), 1e-30);
}

TEST(Periphery, LevelShifterIsLargeAndSlowerIntoMoreLoad) {
    const technology t = node("32nm");
    const gate_unit u(t);
    const level_shifter one(t, 1), many(t, 384);
    // 670 F of transistor width per output: ~74 minimum inverters.
    EXPECT_NEAR(one.area() / u.area, 670.0 / 9.0, 0.01);
    EXPECT_NEAR(many.area(), 384 * one.area(), 1e-9 * many.area());
    EXPECT_GT(one.shift(1, 1e-13).latency, one.shift(1, 1e-15).latency);
    EXPECT_NEAR(one.shift(10, 0).energy, 10 * one.shift(1, 0).energy, 1e-9 * one.shift(10, 0).energy);
}

TEST(Periphery, PrechargerIsSizedForItsBitLine) {
    const technology t = node("32nm");
    const precharger small(t, 128, 10e-15), large(t, 128, 200e-15);
    EXPECT_GE(small.width_f(), 2.0);
    EXPECT_GT(large.width_f(), small.width_f());
    EXPECT_GT(large.area(), small.area());
    // It restores the swing from Vdd: C_bl * Vdd * swing per column.
    EXPECT_NEAR(large.precharge(128, 0.5).energy, 128 * 200e-15 * t.vdd() * 0.5, 1e-24);
    EXPECT_LE(large.precharge(1, 0.5).latency, 4.0 * t.fo4_delay() * 1.0001);
}

TEST(Periphery, SenseAmplifiersAndAdcs) {
    const technology t = node("32nm");
    const double st = 1e-9;
    const sense_amplifier sa(t, st);
    const flash_adc f1(t, 1, st), f5(t, 5, st);
    // A latch sense amplifier is a 1-bit flash ADC's comparator.
    EXPECT_DOUBLE_EQ(sa.area(), f1.area());
    EXPECT_DOUBLE_EQ(sa.sense().energy, f1.convert().energy);
    EXPECT_NEAR(f5.area() / f1.area(), 31.0, 1e-9);
    // A current sense amplifier draws the current it senses for sense_time from Vdd.
    const current_sense_amplifier csa(t, st, 5e-6);
    EXPECT_NEAR(csa.sense(10e-6).energy - csa.sense(0).energy, 10e-6 * t.vdd() * st, 1e-24);
    EXPECT_GT(csa.sense(0).energy, sa.sense().energy);  // the reference branch
    EXPECT_GT(csa.area(), sa.area());
}

TEST(Periphery, AdderAndRegisterScaleWithBitsAndMakeTheShiftAdd) {
    const technology t = node("32nm");
    const adder a8(t, 8), a16(t, 16);
    const dff_register r8(t, 8), r16(t, 16);
    EXPECT_NEAR(a16.area(), 2 * a8.area(), 1e-9 * a16.area());
    EXPECT_NEAR(a16.add().latency, 2 * a8.add().latency, 1e-9 * a16.add().latency);  // the carry ripples
    EXPECT_NEAR(r16.clock().energy, 2 * r8.clock().energy, 1e-9 * r16.clock().energy);
    EXPECT_DOUBLE_EQ(r16.clock().latency, r8.clock().latency);
    const shift_add s(t, 16);
    EXPECT_DOUBLE_EQ(s.area(), a16.area() + r16.area());
    EXPECT_DOUBLE_EQ(s.accumulate().energy, a16.add().energy + r16.clock().energy);
}

TEST(Periphery, DigitalLanesFromTheLibrary) {
    const technology t = node("32nm");
    const gate_unit u(t);
    // An 8 x 8 array multiplier: 64 AND gates and 7 8-bit adders, ~970 inverter equivalents; twice the operand
    // width, about twice the area.
    const multiplier m8(t, 8, 8), m16(t, 16, 8);
    EXPECT_GT(m8.area() / u.area, 800.0);
    EXPECT_LT(m8.area() / u.area, 1100.0);
    EXPECT_NEAR(m16.area() / m8.area(), 2.0, 0.05);
    EXPECT_GT(m16.multiply().latency, m8.multiply().latency);
    // ReLU gates a value; pooling compares; both are far smaller than a multiplier.
    const relu r(t, 24);
    const max_pool p(t, 8);
    EXPECT_LT(r.area(), 0.2 * multiplier(t, 24, 8).area());
    EXPECT_GT(p.compare().energy, adder(t, 8).add().energy);
    EXPECT_GT(activation_lane(t, 24).area, accumulator_lane(t, 24).area);
    EXPECT_DOUBLE_EQ(accumulator_lane(t, 24).area, shift_add(t, 24).area());
    // A digital unit of 4 lanes takes one clock per 4 elements (its op is faster than the clock).
    const calibration k = fitted();
    const digital_unit unit("pooling", k, false, 4, pooling_lane(t, 8), 1e9);
    EXPECT_NEAR(unit.process(8).latency, 2.0 * k.latency_digital * 1e-9, 1e-18);
    EXPECT_NEAR(unit.process(8).energy, 8.0 * k.energy_digital * p.compare().energy, 1e-9 * unit.process(8).energy);
}

// The subarray composes the objects above. Reads with the cells at half a level on average.
read_activity activity() { return fixtures::activity(130, 0.5); }

TEST(Periphery, SubarrayLevelShiftersCountOnlyWhenAsked) {
    const technology t = node("32nm");
    const calibration k = fitted();
    subarray_config with, without;
    with.level_shifters = true;
    const subarray_model a(t, k, rram(100e3, 4), without, 2), b(t, k, rram(100e3, 4), with, 2);
    EXPECT_GT(b.area_periphery(), a.area_periphery() + 0.5 * (2 * 128 + 130) * level_shifter(t, 1).area() * k.area_switch);
    EXPECT_GT(b.leakage_power(), a.leakage_power());
    EXPECT_GT(b.read(activity()).energy_switch, a.read(activity()).energy_switch);
    EXPECT_GT(b.activation_time(130), a.activation_time(130));
    cell sram = rram(60e3, 1);
    sram.type = "sram";
    const subarray_model s1(t, k, sram, without, 0), s2(t, k, sram, with, 0);
    EXPECT_DOUBLE_EQ(s1.area(), s2.area());  // SRAM writes at Vdd
}

TEST(Periphery, OneBitNonVolatileReadOutSensesCurrent) {
    // A 1-bit read-out of a non-volatile column is a current sense amplifier: its energy follows the cell current,
    // so a 10x smaller r_on costs more ADC energy; a 5-bit flash ADC's does not depend on the current.
    const technology t = node("32nm");
    const calibration k = fitted();
    subarray_config one, five;
    one.adc_bits = 1;
    five.adc_bits = 5;
    const auto e1_low = subarray_model(t, k, rram(100e3, 1), one, 2).read(activity()).energy_adc;
    const auto e1_high = subarray_model(t, k, rram(10e3, 1), one, 2).read(activity()).energy_adc;
    EXPECT_GT(e1_high, 1.5 * e1_low);
    const auto e5_low = subarray_model(t, k, rram(100e3, 1), five, 2).read(activity()).energy_adc;
    const auto e5_high = subarray_model(t, k, rram(10e3, 1), five, 2).read(activity()).energy_adc;
    EXPECT_DOUBLE_EQ(e5_low, e5_high);
}

}  // namespace
}  // namespace cim::circuit
