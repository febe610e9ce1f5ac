#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/unit/functional/test_util.h"
#include "models/core/error.h"
#include "models/core/rng.h"
#include "models/functional/crossbar_mvm.h"
#include "models/functional/device_config.h"

namespace cim::func {
namespace {

struct layer {
    int rows, chans, n;
    std::vector<std::int32_t> w, x;
    layer(const quant_config& q, int rows_, int chans_, int n_, std::uint64_t seed)
        : rows(rows_), chans(chans_), n(n_), w(rows_ * chans_), x(rows_ * n_) {
        rng_stream rng(seed, {static_cast<std::uint64_t>(rows_), 7});
        const int wmax = weight_max(q);
        const std::int64_t xmax = (std::int64_t{1} << q.input_bits) - 1;
        for (auto& v : w) v = static_cast<std::int32_t>(rng.uniform_int(-wmax, wmax));
        for (auto& v : x) v = static_cast<std::int32_t>(rng.uniform_int(0, xmax));
        w[0] = wmax;
        w.back() = -wmax;
        x[0] = static_cast<std::int32_t>(xmax);
    }
    std::vector<std::int64_t> reference() const {
        std::vector<std::int64_t> out(static_cast<std::size_t>(n) * chans);
        reference_mvm(w.data(), rows, chans, x.data(), n, out.data());
        return out;
    }
};

template <class F>
std::string error_key(F&& f) {
    try {
        f();
    } catch (const config_error& e) {
        return e.key();
    }
    return "<no error>";
}

constexpr double ten_years = 315360000.0;

// ---------------------------------------------------------------- device_config

TEST(device_config, defaults_are_ideal_and_valid) {
    device_config d;
    EXPECT_NO_THROW(d.validate());
    EXPECT_TRUE(d.ideal());
    EXPECT_EQ(d.drift_fraction(), 0.0);
    d.drift = "to_max";
    d.drift_rate = 0.1;
    EXPECT_TRUE(d.ideal());  // time 0
    d.time = 1;
    EXPECT_FALSE(d.ideal());
    d.drift_rate = 0;
    EXPECT_TRUE(d.ideal());
    for (auto edit : {+[](device_config& c) { c.d2d_sigma = 0.01; }, +[](device_config& c) { c.stuck_on_rate = 0.01; },
                      +[](device_config& c) { c.stuck_off_rate = 0.01; },
                      +[](device_config& c) { c.read_noise_sigma = 0.01; }}) {
        device_config c;
        edit(c);
        EXPECT_FALSE(c.ideal());
    }
}

TEST(device_config, validate_errors_name_the_key) {
    auto with = [](auto edit) {
        device_config d;
        edit(d);
        return error_key([&] { d.validate(); });
    };
    EXPECT_EQ(with([](device_config& d) { d.d2d_sigma = -0.1; }), "d2d_sigma");
    EXPECT_EQ(with([](device_config& d) { d.d2d_sigma = 1.5; }), "d2d_sigma");
    EXPECT_EQ(with([](device_config& d) { d.d2d_sigma = std::nan(""); }), "d2d_sigma");
    EXPECT_EQ(with([](device_config& d) { d.stuck_on_rate = 1.1; }), "stuck_on_rate");
    EXPECT_EQ(with([](device_config& d) { d.stuck_off_rate = -0.01; }), "stuck_off_rate");
    EXPECT_EQ(with([](device_config& d) { d.stuck_on_rate = 0.6; d.stuck_off_rate = 0.6; }), "stuck_off_rate");
    EXPECT_EQ(with([](device_config& d) { d.read_noise_sigma = 2; }), "read_noise_sigma");
    EXPECT_EQ(with([](device_config& d) { d.drift = "sideways"; }), "drift");
    EXPECT_EQ(with([](device_config& d) { d.drift_rate = 1.5; }), "drift_rate");
    EXPECT_EQ(with([](device_config& d) { d.drift_target = -1.01; }), "drift_target");
    EXPECT_EQ(with([](device_config& d) { d.time = -1; }), "time");
    EXPECT_EQ(with([](device_config& d) { d.stuck_on_rate = 0.5; d.stuck_off_rate = 0.5; }), "<no error>");
}

struct recorder {
    std::vector<std::string> keys;
    template <class T>
    void operator()(const char* name, T&, const char*) { keys.push_back(name); }
    template <class T>
    void operator()(const char* name, T&, const range&, const char*) { keys.push_back(name); }
    void operator()(const char* name, double&, unit u, const char*) {
        keys.push_back(std::string(name) + (u == unit::second ? "[s]" : "[?]"));
    }
    void operator()(const char* name, double& f, unit u, const range&, const char* d) { (*this)(name, f, u, d); }
    void choice(const char* name, std::string&, std::initializer_list<const char*> c, const char*) {
        keys.push_back(std::string(name) + "/" + std::to_string(c.size()));
    }
};

TEST(device_config, visit_names) {
    device_config d;
    recorder r;
    d.visit(r);
    EXPECT_EQ(r.keys, (std::vector<std::string>{"d2d_sigma", "stuck_on_rate", "stuck_off_rate", "read_noise_sigma",
                                                "drift/5", "drift_rate", "drift_target", "time[s]"}));
}

TEST(device_config, drift_fraction_is_logarithmic) {
    device_config d;
    d.drift = "to_min";
    d.drift_rate = 0.1;
    d.time = ten_years;
    EXPECT_EQ(d.drift_fraction(), 0.1);  // exact at the reference time
    d.time = 1;
    EXPECT_DOUBLE_EQ(d.drift_fraction(), 0.1 * std::log10(2.0) / std::log10(1.0 + ten_years));
    d.time = 0;
    EXPECT_EQ(d.drift_fraction(), 0.0);
    d.drift = "none";
    d.time = ten_years;
    EXPECT_EQ(d.drift_fraction(), 0.0);
}

// ---------------------------------------------------------------- programming

TEST(program_device, ideal_device_is_the_integer_block) {
    for (const char* enc : {"offset", "differential"}) {
        const quant_config q = make(8, 8, 2, enc);
        const layer l(q, 100, 9, 40, 3);
        const subarray_block a = program_block(l.w.data(), 100, 0, 100, 0, 9, q, 2);
        for (double ratio : {10.0, 0.0, std::numeric_limits<double>::infinity()}) {
            const subarray_block b = program_block(l.w.data(), 100, 0, 100, 0, 9, q, 2, device_config{}, ratio, {1, 2, 3});
            EXPECT_EQ(b.levels, a.levels);
            EXPECT_EQ(b.frac_bits, 0u);
            EXPECT_TRUE(b.ideal());
            const adc_transfer adc(5, full_scale(a, q));
            std::vector<std::int64_t> oa(l.n * 9), ob(l.n * 9);
            block_mvm(a, l.x.data(), l.n, 100, q, adc, oa.data(), nullptr);
            block_mvm(b, l.x.data(), l.n, 100, q, adc, ob.data(), nullptr, read_options{});
            EXPECT_EQ(oa, ob);
        }
    }
}

// Nominal conductances with the off current g0: the periphery's g0 * A subtraction is exact in fixed point,
// so a lossless ADC still gives the integer MVM.
TEST(program_device, off_current_subtraction_is_exact) {
    device_config d;
    d.d2d_sigma = 1e-9;
    for (const char* enc : {"offset", "differential"})
        for (unsigned cb : {1u, 2u, 4u})
            for (unsigned dac : {1u, 2u})
                for (double ratio : {10.0, 3.0, 100.0, 0.0}) {
                    const quant_config q = make(8, 8, dac, enc);
                    const int rows = 128, chans = 5;
                    const layer l(q, rows, chans, 6, 17);
                    const subarray_block b =
                        program_block(l.w.data(), rows, 0, rows, 0, chans, q, cb, d, ratio, {9, 1, 2});
                    ASSERT_GE(b.frac_bits, 2u);
                    const adc_transfer adc(16, full_scale(b, q));
                    ASSERT_TRUE(adc.lossless());
                    std::vector<std::int64_t> out(l.n * chans);
                    block_mvm(b, l.x.data(), l.n, rows, q, adc, out.data(), nullptr, read_options{});
                    ASSERT_EQ(out, l.reference()) << enc << " cb " << cb << " dac " << dac << " ratio " << ratio;
                }
}

TEST(program_device, frac_bits_is_the_largest_exact_one) {
    device_config d;
    d.d2d_sigma = 0.05;
    const quant_config q = make(8, 8, 1, "offset");
    const layer l(q, 128, 64, 1, 1);
    const subarray_block b = program_block(l.w.data(), 128, 0, 128, 0, 64, q, 4, d, 10.0, {1, 0, 0});
    const double g0 = 15.0 / 9.0;
    EXPECT_DOUBLE_EQ(b.gmax_units, 15.0 + g0);
    EXPECT_EQ(b.g0_fixed, std::llround(g0 * std::ldexp(1.0, int(b.frac_bits))));
    auto worst = [&](unsigned f) { return 128 * std::llround(std::ldexp(2 * b.gmax_units, int(f))); };
    EXPECT_LT(worst(b.frac_bits), 1 << 24);
    EXPECT_GE(worst(b.frac_bits + 1), 1 << 24);
    EXPECT_EQ(b.frac_bits, 11u);  // 128 * 33.3 * 2^11 = 8.7 M < 16.8 M; 2^12 would exceed
}

TEST(program_device, too_tall_for_exact_sums_throws) {
    device_config d;
    d.d2d_sigma = 0.05;
    const quant_config q = make(8, 4, 4, "offset");
    const int rows = 1024;
    const layer l(q, rows, 2, 1, 1);
    EXPECT_NO_THROW(program_block(l.w.data(), rows, 0, rows, 0, 2, q, 8));  // integer levels fit
    EXPECT_THROW(program_block(l.w.data(), rows, 0, rows, 0, 2, q, 8, d, 0.0, {1, 0, 0}), model_error);
    EXPECT_THROW(program_block(l.w.data(), 16, 0, 16, 0, 2, q, 8, d, 0.5, {1, 0, 0}), model_error);  // ratio < 1
}

// Real conductance of every cell, in units of dg.
std::vector<double> conductances(const subarray_block& b) {
    std::vector<double> p(b.levels.size());
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = std::ldexp(double(b.levels[k]), -int(b.frac_bits));
    return p;
}

TEST(program_device, d2d_statistics) {
    const quant_config q = make(8, 8, 1, "offset");
    const int rows = 128, chans = 64;  // 128 x 130 cells with the reference columns
    const layer l(q, rows, chans, 1, 5);
    device_config d;
    d.d2d_sigma = 0.1;
    const subarray_block nominal = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4);
    const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4, d, 10.0, {42, 3, 7});
    const double g0 = 15.0 / 9.0;
    const std::vector<double> p = conductances(b);
    double sum = 0, sum2 = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        const double r = p[k] / (nominal.levels[k] + g0);
        sum += r;
        sum2 += r * r;
    }
    const double nn = double(p.size());
    const double mean = sum / nn, sd = std::sqrt(sum2 / nn - mean * mean);
    EXPECT_NEAR(mean, 1.0, 0.05);
    EXPECT_NEAR(sd, 0.1, 0.005);
    // Same key, same device; another block, another device.
    EXPECT_EQ(program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4, d, 10.0, {42, 3, 7}).levels, b.levels);
    EXPECT_NE(program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4, d, 10.0, {42, 3, 8}).levels, b.levels);
}

TEST(program_device, stuck_at_rates_and_values) {
    const quant_config q = make(8, 8, 1, "offset");
    const int rows = 128, chans = 64;
    const layer l(q, rows, chans, 1, 6);
    device_config d;
    d.stuck_on_rate = 0.05;
    d.stuck_off_rate = 0.1;
    d.d2d_sigma = 0.1;
    const rng_key key{7, 1, 2};
    const subarray_block nominal = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4);
    const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4, d, 10.0, key);
    const double g0 = 15.0 / 9.0, gmax = 15.0 + g0, scale = std::ldexp(1.0, int(b.frac_bits));
    // Replay the documented draw order: u, n1, n2 per cell, row-major.
    rng_stream rng(key.seed, {0xd2d, key.layer, key.block});
    std::size_t on = 0, off = 0;
    for (std::size_t k = 0; k < b.levels.size(); ++k) {
        const double u = rng.uniform();
        const double n1 = rng.normal();
        rng.normal();
        if (u < d.stuck_on_rate) {
            ++on;
            ASSERT_EQ(b.levels[k], float(std::llround(gmax * scale)));
        } else if (u < d.stuck_on_rate + d.stuck_off_rate) {
            ++off;
            ASSERT_EQ(b.levels[k], float(std::llround(g0 * scale)));
        } else {
            const double p = (nominal.levels[k] + g0) * (1.0 + d.d2d_sigma * n1);
            ASSERT_EQ(b.levels[k], float(std::llround(std::min(std::max(p, 0.0), 2 * gmax) * scale)));
        }
    }
    const double nn = double(b.levels.size());
    for (auto [count, rate] : {std::pair{on, d.stuck_on_rate}, std::pair{off, d.stuck_off_rate}}) {
        const double expect = nn * rate, sigma = std::sqrt(nn * rate * (1 - rate));
        EXPECT_NEAR(double(count), expect, 3 * sigma) << rate;
    }
}

TEST(program_device, drift_towards_targets) {
    const quant_config q = make(8, 8, 1, "offset");
    const int rows = 64, chans = 16;
    const layer l(q, rows, chans, 1, 8);
    const subarray_block nominal = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4);
    const double g0 = 15.0 / 9.0, gmax = 15.0 + g0;
    struct mode {
        const char* name;
        double target;  // in dg units
    };
    device_config d;
    d.drift_rate = 0.1;
    d.time = ten_years;
    d.drift_target = 0.5;
    for (mode m : {mode{"to_max", gmax}, mode{"to_min", g0}, mode{"to_target", g0 + 0.75 * 15.0}}) {
        d.drift = m.name;
        const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4, d, 10.0, {1, 2, 3});
        const double scale = std::ldexp(1.0, int(b.frac_bits));
        for (std::size_t k = 0; k < b.levels.size(); ++k) {
            const double p0 = nominal.levels[k] + g0;
            const double p = p0 + (m.target - p0) * 0.1;  // 10 % of the way at 10 years
            ASSERT_EQ(b.levels[k], float(std::llround(p * scale))) << m.name << " cell " << k;
        }
    }
    // One second: the logarithmic fraction.
    d.drift = "to_max";
    d.time = 1;
    const double f = 0.1 * std::log10(2.0) / std::log10(1.0 + ten_years);
    const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4, d, 10.0, {1, 2, 3});
    const std::vector<double> p = conductances(b);
    for (std::size_t k = 0; k < p.size(); ++k) {
        const double p0 = nominal.levels[k] + g0;
        ASSERT_NEAR(p[k], p0 + (gmax - p0) * f, std::ldexp(1.0, -int(b.frac_bits)));
    }
    // Stuck cells do not drift.
    d.stuck_on_rate = 0.2;
    d.drift = "to_min";
    d.time = ten_years;
    const subarray_block s = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4, d, 10.0, {1, 2, 3});
    std::size_t at_gmax = 0;
    for (float v : s.levels) at_gmax += v == float(std::llround(gmax * std::ldexp(1.0, int(s.frac_bits))));
    EXPECT_GT(at_gmax, s.levels.size() / 10);
}

TEST(program_device, random_drift_statistics) {
    const quant_config q = make(8, 8, 1, "offset");
    const int rows = 128, chans = 64;
    const layer l(q, rows, chans, 1, 9);
    const subarray_block nominal = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4);
    device_config d;
    d.drift = "random";
    d.drift_rate = 0.1;
    d.time = ten_years;
    // Ratio 2: g0 = 15, so no cell comes near the clamp at 0 and the change stays Gaussian.
    const subarray_block b = program_block(l.w.data(), rows, 0, rows, 0, chans, q, 4, d, 2.0, {5, 5, 5});
    const std::vector<double> p = conductances(b);
    double sum = 0, sum2 = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        const double dp = p[k] - (nominal.levels[k] + 15.0);
        sum += dp;
        sum2 += dp * dp;
    }
    const double nn = double(p.size());
    const double mean = sum / nn, sd = std::sqrt(sum2 / nn - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.05);          // 5 standard errors of 1.5 / sqrt(16640)
    EXPECT_NEAR(sd, 0.1 * 15.0, 0.075);    // 5 % relative
}

}  // namespace
}  // namespace cim::func
