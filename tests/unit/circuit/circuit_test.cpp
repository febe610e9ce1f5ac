// Unit tests of the circuit models (models/circuit): trends the physics must show, reference values with their
// sources, and the linearity of the calibration factors that scripts/fit_calibration.py relies on.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "models/circuit/calibration.h"
#include "models/circuit/components.h"
#include "models/circuit/technology.h"
#include "models/config/yaml_reader.h"
#include "models/core/error.h"
#include "tests/unit/circuit/fixtures.h"

namespace cim::circuit {
namespace {

using fixtures::activity;  // a batch of reads with every cell at its middle level (7.5 of 15)
using fixtures::fitted;
using fixtures::node;
using fixtures::rram;

technology node32() { return node("32nm"); }
technology node7() { return node("7nm"); }

subarray_config geometry(unsigned adc_bits = 5, const char* readout = "parallel") {
    subarray_config g;
    g.adc_bits = adc_bits;
    g.readout = readout;
    return g;
}

// Every factor at 1: the uncalibrated physics.
calibration ones() {
    calibration k;
    struct set_one {
        void operator()(const char*, double& v, const char*) const { v = 1.0; }
    } f;
    k.visit(f);
    return k;
}

TEST(Circuit, MoreAdcBitsCostMoreAreaEnergyAndTime) {
    const technology t = node32();
    const calibration k = fitted();
    double area = 0, energy = 0, latency = 0;
    for (unsigned b = 3; b <= 8; ++b) {
        const subarray_model m(t, k, rram(100e3), geometry(b), 2);
        const auto r = m.read(activity());
        EXPECT_GT(m.area_adc(), area) << b << " bits";
        EXPECT_GT(r.energy_adc, energy) << b << " bits";
        EXPECT_GT(r.latency_adc, latency) << b << " bits";
        area = m.area_adc(), energy = r.energy_adc, latency = r.latency_adc;
    }
}

TEST(Circuit, SarAdcGrowsLinearlyFlashExponentially) {
    // NeuroSim V1.4 SarADC.cpp: a SAR ADC is 239 + 91 (b - 1) inverter equivalents and takes b + 1 decisions; a flash
    // ADC is 2^b - 1 comparators (20 inverter equivalents each) and one decision. So flash is smaller and faster at
    // few bits, SAR smaller at many; SAR area, energy and time grow with every bit, but only linearly.
    const technology t = node32();
    const calibration k = fitted();
    double area = 0, energy = 0, latency = 0;
    for (unsigned b = 2; b <= 8; ++b) {
        subarray_config sar = geometry(b), flash = geometry(b);
        sar.adc_type = "sar";
        const subarray_model ms(t, k, rram(100e3), sar, 2), mf(t, k, rram(100e3), flash, 2);
        const auto rs = ms.read(activity()), rf = mf.read(activity());
        EXPECT_GT(ms.area_adc(), area) << b;
        EXPECT_GT(rs.energy_adc, energy) << b;
        EXPECT_GT(rs.latency_adc, latency) << b;
        EXPECT_GT(rs.latency_adc, rf.latency_adc) << b;  // b + 1 decisions against one
        if (b <= 3) {
            EXPECT_LT(mf.area_adc(), ms.area_adc()) << b;
        }
        if (b >= 6) {
            EXPECT_LT(ms.area_adc(), mf.area_adc()) << b;
            EXPECT_LT(rs.energy_adc, rf.energy_adc) << b;
        }
        if (b > 2) {
            EXPECT_NEAR(ms.area_adc() - area, 91.0 / (239.0 + 91.0 * (b - 2)) * area, 1e-6 * area) << b;  // linear
        }
        area = ms.area_adc(), energy = rs.energy_adc, latency = rs.latency_adc;
    }
    subarray_config one = geometry(1);
    one.adc_type = "sar";
    EXPECT_THROW(one.validate(), config_error);  // a 1-bit read-out is a latch sense amplifier
}

TEST(Circuit, ChargeDomainProductsArePricedAsCapacitorsInTheirOwnClass) {
    // A unit product charges its capacitor to the read voltage, drawn from the supply: C V Vdd, in the charge class.
    // The array factor (fitted to resistive reads) must not scale it; the charge factor does.
    const technology t = node32();
    calibration k = fitted();
    subarray_config g = geometry(5);
    g.compute = "charge";
    g.compute_cap = 1.2e-15;
    const cell c = fixtures::sram();
    const double v = c.read_voltage > 0 ? c.read_voltage : t.vdd();
    const subarray_model m(t, k, c, g, 2);
    const action& unit = m.table()[subarray_model::cell_level];
    EXPECT_EQ(unit.cls, cost_class::charge);
    EXPECT_NEAR(unit.energy, k.energy_charge * 1.2e-15 * v * t.vdd(), 1e-30);
    k.energy_array *= 3.0;
    EXPECT_DOUBLE_EQ(subarray_model(t, k, c, g, 2).table()[subarray_model::cell_level].energy, unit.energy);
    k.energy_charge = 2.0 * k.energy_charge;
    EXPECT_NEAR(subarray_model(t, k, c, g, 2).table()[subarray_model::cell_level].energy, 2.0 * unit.energy, 1e-30);
    // The read's charge energy is the level count times that price, and the total holds it once.
    std::vector<double> n;
    m.count(activity(), n);
    const auto r = m.read(activity());
    EXPECT_GT(n[subarray_model::cell_level], 0.0);
    EXPECT_NEAR(r.energy_charge, n[subarray_model::cell_level] * unit.energy, 1e-9 * r.energy_charge);
    EXPECT_NEAR(r.total.energy, m.table().energy(n), 1e-9 * r.total.energy);
    // A current-mode column has no charge energy.
    EXPECT_EQ(subarray_model(t, k, c, geometry(5), 2).read(activity()).energy_charge, 0.0);
}

TEST(Circuit, ReadWindowSetsHowLongABitSerialReadConducts) {
    // V_read^2 G t per conductance level: t is the cell's read pulse, or with read_window: sense the converter's
    // sampling window when shorter. Pulse-encoded inputs conduct for their pulses either way.
    const technology t = node32();
    const calibration k = ones();
    const cell c = rram(100e3);
    const double dg = (c.g_max() - c.g_min()) / double(c.levels() - 1);
    const double v = c.read_voltage;
    subarray_config pulse = geometry(5), sense = geometry(5);
    sense.read_window = "sense";
    sense.sense_time = 1e-9;
    ASSERT_GT(c.read_pulse, sense.sense_time);
    const auto level = [&](const subarray_config& g) {
        return subarray_model(t, k, c, g, 2).table()[subarray_model::cell_level].energy;
    };
    EXPECT_NEAR(level(pulse), v * v * dg * c.read_pulse, 1e-9 * level(pulse));
    EXPECT_NEAR(level(sense), v * v * dg * sense.sense_time, 1e-9 * level(sense));
    sense.sense_time = 2.0 * c.read_pulse;  // a window longer than the pulse: the pulse
    EXPECT_NEAR(level(sense), level(pulse), 1e-12 * level(pulse));
    sense.sense_time = 1e-9;
    sense.input_encoding = pulse.input_encoding = "pulse_count";
    EXPECT_NEAR(level(sense), level(pulse), 1e-12 * level(pulse));
}

TEST(Circuit, LargerRonGivesLessColumnCurrentNarrowerSwitchesFasterReads) {
    const technology t = node32();
    const calibration k = fitted();
    double prev_energy = 1e9, prev_mux = 1e9, prev_area = 1e9, prev_time = 1e9;
    for (double r_on : {6e3, 40e3, 100e3, 500e3, 5e6}) {
        const subarray_model m(t, k, rram(r_on), geometry(), 2);
        const auto r = m.read(activity());
        EXPECT_LT(r.energy_array, prev_energy) << r_on;  // V^2 G t: less current per cell
        EXPECT_LE(m.mux_width_f(), prev_mux) << r_on;
        EXPECT_LE(m.area_periphery(), prev_area) << r_on;
        EXPECT_LE(m.activation_time(130), prev_time) << r_on;
        prev_energy = r.energy_array, prev_mux = m.mux_width_f(), prev_area = m.area_periphery();
        prev_time = m.activation_time(130);
    }
    // A 6 kOhm cell needs a mux an order of magnitude wider than a 100 kOhm one (Peng et al., IEDM 2019, sec. III).
    // The time to drive the rows and step the mux (sensing excluded: latency_adc = 0) grows with those widths.
    calibration drive_only = ones();
    drive_only.latency_adc = 0;
    const subarray_model small(t, drive_only, rram(6e3), geometry(), 2), large(t, drive_only, rram(100e3), geometry(), 2);
    EXPECT_GT(small.mux_width_f(), 10.0 * large.mux_width_f());
    EXPECT_GT(small.activation_time(130), 5.0 * large.activation_time(130));
}

TEST(Circuit, AccessTransistorSizingMatchesNeuroSimRule) {
    // NeuroSim (SubArray.cpp): access resistance = IR_DROP_TOLERANCE (0.25) * Ron, width = R_on(1F NMOS) *
    // LINEAR_REGION_RATIO (0.2) / access resistance. At 32 nm LSTP R_on(1F) = Vdd / (Ion * F) = 46.86 kOhm, so a
    // 6 kOhm cell gets 46.86k * 0.2 / 1.5k = 6.25 F; a 100 kOhm cell stays at its drawn 2 F.
    const technology t = node32();
    const calibration k = fitted();
    EXPECT_NEAR(subarray_model(t, k, rram(6e3), geometry(), 2).access_width_f(), 6.248, 0.01);
    EXPECT_DOUBLE_EQ(subarray_model(t, k, rram(100e3), geometry(), 2).access_width_f(), 2.0);
    cell fefet = rram(6e3);
    fefet.type = "fefet";  // a three-terminal cell reads through its own channel: no access device to size
    EXPECT_DOUBLE_EQ(subarray_model(t, k, fefet, geometry(), 2).access_width_f(), 2.0);
}

TEST(Circuit, NodeScaling) {
    const calibration k = fitted();
    const technology a = node32(), b = node7();
    const subarray_model m32(a, k, rram(100e3), geometry(), 2), m7(b, k, rram(100e3), geometry(), 2);
    // Areas drawn in F^2 scale with F^2.
    EXPECT_NEAR(m7.area_array() / m32.area_array(), (7.0 / 32.0) * (7.0 / 32.0), 1e-9);
    EXPECT_LT(m7.area(), 0.1 * m32.area());
    // FO4: 7 nm FinFET is faster than 32 nm planar; switching energy falls with C and Vdd^2.
    EXPECT_LT(b.fo4_delay(), a.fo4_delay());
    EXPECT_LT(b.inverter_switch_energy(), 0.25 * a.inverter_switch_energy());
    const sram_buffer buf32(a, k, 65536, 256, 1e9), buf7(b, k, 65536, 256, 1e9);
    EXPECT_LT(buf7.area(), 0.06 * buf32.area());
    EXPECT_LT(buf7.read(1024).energy, buf32.read(1024).energy);
}

TEST(Circuit, SequentialReadOutSensesEveryRowWithoutMux) {
    const technology t = node32();
    const calibration k = fitted();
    const cell sram = fixtures::sram();
    subarray_config every_row = geometry(1, "sequential");
    every_row.skip_zero_rows = false;
    const subarray_model seq(t, k, sram, geometry(1, "sequential"), 0), all(t, k, sram, every_row, 0),
        par(t, k, sram, geometry(4), 0);
    EXPECT_EQ(all.cycles_per_slice(128), 128u);
    EXPECT_EQ(par.cycles_per_slice(128), 1u);
    EXPECT_EQ(seq.mux_ways(), 1u);
    read_activity a = activity(128);  // half the (row, slice) inputs are 1
    a.column_level_sum = double(a.input_ones) * 128 * 0.5;  // half the cells on them hold a 1
    const auto rs = seq.read(a), ra = all.read(a), rp = par.read(a);
    EXPECT_EQ(rs.energy_switch, 0.0);  // no mux to switch
    EXPECT_EQ(ra.conversions, 128u * rp.conversions);  // without skipping: a 1-bit sense per (row, column)
    EXPECT_EQ(rs.conversions, a.input_ones * 128u);    // with skipping: per (row with input 1, column)
    EXPECT_GT(rs.total.latency, rp.total.latency);     // 64 row reads against 8 mux steps
    EXPECT_GT(rs.latency_accumulation, 0.0);           // each row's shift-add before the next row
    EXPECT_EQ(rp.latency_accumulation, 0.0);           // overlapped with the next conversion
    EXPECT_DOUBLE_EQ(rs.total.latency, rs.latency_array + rs.latency_adc + rs.latency_accumulation);
    EXPECT_NEAR(rs.total.latency, 0.5 * ra.total.latency, 1e-9 * ra.total.latency);
    // Every per-read cost halves (an SRAM read port draws no supply current of its own: the bit lines carry it).
    EXPECT_DOUBLE_EQ(rs.energy_adc, 0.5 * ra.energy_adc);
    EXPECT_DOUBLE_EQ(rs.energy_accumulation, 0.5 * ra.energy_accumulation);
    EXPECT_NEAR(rs.energy_array, 0.5 * ra.energy_array, 1e-9 * ra.energy_array);
    // Sparser inputs: fewer reads, less energy and time.
    read_activity sparse = a;
    sparse.input_ones /= 4;
    sparse.column_level_sum /= 4;
    EXPECT_LT(seq.read(sparse).total.energy, 0.3 * rs.total.energy);
    EXPECT_LT(seq.read(sparse).total.latency, 0.3 * rs.total.latency);
}

TEST(Circuit, SramReadEnergyIsTheBitLinesNotACellCurrent) {
    // An 8T SRAM read port discharges its precharged bit line; the precharger restores that charge, so the read
    // energy does not depend on the read stack's resistance. A 1T1R column, clamped at V_read, draws V^2 G t.
    const technology t = node32();
    const calibration k = fitted();
    const cell sram = fixtures::sram(60e3), strong = fixtures::sram(30e3);
    read_activity a = activity(128);
    a.column_level_sum = double(a.input_ones) * 128 * 0.5;
    const subarray_model weak_port(t, k, sram, geometry(4), 0), strong_port(t, k, strong, geometry(4), 0);
    EXPECT_DOUBLE_EQ(strong_port.read(a).energy_array, weak_port.read(a).energy_array);
    const subarray_model r60(t, k, rram(60e3), geometry(), 0), r30(t, k, rram(30e3), geometry(), 0);
    EXPECT_GT(r30.read(activity(128)).energy_array, 1.5 * r60.read(activity(128)).energy_array);
}

TEST(Circuit, MuxSwitchingOverlapsConversions) {
    // Each next column's address decodes while the current column converts, and its select line switches while the
    // current conversion resolves (after its sense_time sample): with a slow converter the decode and the select
    // show once per activation, with a (nearly) instant one at every step. Measured as d(activation time) /
    // d(factor) of an 8-step activation minus that of a 1-step one (no mux), for the decode (latency_array) and
    // the select (latency_switch).
    const technology t = node32();
    auto share = [&](double calibration::*factor, double k_adc) {
        auto time = [&](double value, unsigned cols) {
            calibration k = ones();
            k.latency_switch = 1e-9;
            k.latency_array = 1e-9;
            k.latency_adc = k_adc;
            k.*factor = value;
            subarray_config g = geometry();
            g.sense_time = 1e-12;  // a converter that samples at once and resolves for the rest of its time
            return subarray_model(t, k, rram(100e3), g, 0).activation_time(cols);
        };
        return (time(2, 128) - time(1, 128)) - (time(2, 1) - time(1, 1));
    };
    for (double calibration::*factor : {&calibration::latency_array, &calibration::latency_switch}) {
        const double hidden = share(factor, 1e3), exposed = share(factor, 1e-9);
        EXPECT_GT(hidden, 0.0);
        EXPECT_NEAR(exposed, 8.0 * hidden, 1e-6 * exposed);
    }
}

TEST(Circuit, CalibrationFactorsScaleOneCostClassLinearly) {
    // scripts/fit_calibration.py assumes each factor scales its class and nothing else.
    const technology t = node32();
    const calibration one = ones();
    calibration two = one;
    two.energy_adc = 2;
    two.area_switch = 2;
    const subarray_model a(t, one, rram(100e3), geometry(), 2), b(t, two, rram(100e3), geometry(), 2);
    const auto ra = a.read(activity()), rb = b.read(activity());
    EXPECT_DOUBLE_EQ(rb.energy_adc, 2 * ra.energy_adc);
    EXPECT_DOUBLE_EQ(rb.energy_array, ra.energy_array);
    EXPECT_DOUBLE_EQ(rb.energy_switch, ra.energy_switch);
    // The periphery holds the switch class (transmission gates) and the array class (decoders, drivers).
    EXPECT_GT(b.area_periphery(), a.area_periphery());
    EXPECT_LT(b.area_periphery(), 2 * a.area_periphery());
    EXPECT_DOUBLE_EQ(b.area_array(), a.area_array());
    EXPECT_DOUBLE_EQ(b.area_adc(), a.area_adc());
    EXPECT_DOUBLE_EQ(rb.total.latency, ra.total.latency);
    calibration both = two;
    both.area_array = 2;
    const subarray_model c(t, both, rram(100e3), geometry(), 2);
    EXPECT_DOUBLE_EQ(c.area_periphery(), 2 * a.area_periphery());
    EXPECT_DOUBLE_EQ(c.area_array(), 2 * a.area_array());
}

TEST(Circuit, CalibrationRejectsNegativeFactors) {
    calibration k;
    k.latency_adc = -1;
    EXPECT_THROW(k.validate(), config_error);
}

TEST(Technology, EveryNodeFileLoadsAndScales) {
    // configs/tech/ holds 130 nm to 1 nm. Down the planar nodes (LSTP), Vdd does not rise and the minimum
    // inverter switches with less energy; every file validates for the flavours it gives.
    const std::vector<std::string> nodes = {"130nm", "90nm", "65nm", "45nm", "32nm", "22nm", "14nm",
                                            "10nm",  "7nm",  "5nm",  "3nm",  "2nm",  "1nm"};
    double last_f = 1.0, last_vdd = 10.0, last_energy = 1.0;
    for (const auto& n : nodes) {
        const technology t = node(n);
        EXPECT_LT(t.feature_size, last_f) << n;
        EXPECT_LE(t.vdd(), last_vdd) << n;
        EXPECT_GE(t.local_wire_res_per_length, t.wire_res_per_length) << n;  // Metal0 is never wider than Metal1
        if (t.fin_width == 0) {
            EXPECT_LT(t.inverter_switch_energy(), last_energy) << n;
        }
        last_f = t.feature_size;
        last_vdd = t.vdd();
        last_energy = t.inverter_switch_energy();
    }
}

TEST(Technology, HighPerformanceDevicesAreFasterAndLeakMore) {
    // PTM: HP devices give ~2x the on current and ~1000x the off current of LSTP ones at the same node.
    for (const char* n : {"130nm", "65nm", "32nm", "22nm", "14nm", "7nm"}) {
        const technology lp = node(n, "lstp"), hp = node(n, "hp");
        EXPECT_LT(hp.fo4_delay(), lp.fo4_delay()) << n;
        EXPECT_GT(hp.inverter_leakage(), 300.0 * lp.inverter_leakage()) << n;
    }
}

TEST(Technology, NodeWithoutTheChosenFlavourIsAnError) {
    // 5 nm and below: the source (IRDS in NeuroSim V1.4) gives low-power devices only.
    technology t;
    cfg::load_file(std::string(CIM_SOURCE_DIR) + "/configs/tech/5nm.yaml", t);
    t.device = "hp";
    EXPECT_THROW(t.validate(), config_error);
}

TEST(Technology, FinFetWidthsRoundUpToWholeFins) {
    // NeuroSim V1.4 formula.cpp: fins = ceil(W_drawn / 2F); W_eff = fins * (2 Hfin + Wfin). At 7 nm (PTM-MG,
    // Hfin 18 nm, Wfin 7 nm) a fin is 43 nm: a 3F = 21 nm NMOS is 2 fins (86 nm), a 1F one still 1 fin.
    const technology t = node7();
    EXPECT_NEAR(t.fin_width, 43e-9, 1e-12);
    EXPECT_NEAR(t.effective_width(21e-9), 86e-9, 1e-12);
    EXPECT_NEAR(t.effective_width(7e-9), 43e-9, 1e-12);
    EXPECT_NEAR(t.effective_width(28e-9), 86e-9, 1e-12);  // exactly 2 fins of pitch 2F
    EXPECT_NEAR(t.drawn_width(100e-9), 3 * 14e-9, 1e-12);   // 100 nm needs 3 fins
    // Planar nodes keep the drawn width.
    EXPECT_DOUBLE_EQ(node32().effective_width(21e-9), 21e-9);
    EXPECT_DOUBLE_EQ(node32().drawn_width(21e-9), 21e-9);
}

TEST(Technology, DefaultNodeMatchesItsFile) {
    // A config without `technology:` uses technology::node_32nm(); it must be configs/tech/32nm.yaml.
    const technology a = technology::node_32nm(), b = node32();
    for (const auto& [x, y] : std::vector<std::pair<const transistor*, const transistor*>>{{&a.hp, &b.hp}, {&a.lstp, &b.lstp}}) {
        EXPECT_NEAR(x->vdd, y->vdd, 1e-9);
        EXPECT_NEAR(x->vth, y->vth, 1e-6);
        EXPECT_NEAR(x->gate_cap_per_width, y->gate_cap_per_width, 1e-15);
        EXPECT_NEAR(x->drain_cap_per_width, y->drain_cap_per_width, 1e-15);
        EXPECT_NEAR(x->on_current_per_width, y->on_current_per_width, 1e-6);
        EXPECT_NEAR(x->off_current_per_width, y->off_current_per_width, 1e-9);
    }
    EXPECT_DOUBLE_EQ(a.feature_size, b.feature_size);
    EXPECT_DOUBLE_EQ(a.fin_width, b.fin_width);
    EXPECT_NEAR(a.wire_res_per_length, b.wire_res_per_length, 1.0);
    EXPECT_NEAR(a.local_wire_res_per_length, b.local_wire_res_per_length, 1.0);
    EXPECT_DOUBLE_EQ(a.wire_cap_per_length, b.wire_cap_per_length);
}

}  // namespace
}  // namespace cim::circuit
