// bench_kernels: the functional kernels without the SystemC kernel (links cim_functional and cim_engine only,
// so main is ours, not libsystemc's).
//  (a) func::block_mvm: one full 128x128 subarray (8-bit weights in 4-bit cells, offset encoding: 64 channels
//      x 2 columns + 2 reference columns = 130 columns), 8-bit inputs through a 1-bit DAC, 5-bit ADC,
//      1024 vectors per call.
//  (b) plain Eigen float GEMM of the kernel's inner shape, (8*1024) x 128 times 128 x cols: the machine's
//      reference for how close block_mvm is to its own GEMM. cols = 130 (what block_mvm multiplies) and 66.
//  (c) engine::reference_forward of VGG-8 (synthetic weights, calibrated on one image), per image.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <Eigen/Core>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "models/engine/hardware_model.h"
#include "models/engine/quantized_model.h"
#include "models/mapping/plan.h"
#include "models/functional/adc_transfer.h"
#include "models/functional/crossbar_mvm.h"
#include "models/functional/int8_gemm.h"
#include "models/functional/quant_config.h"
#include "models/functional/subarray_block.h"
#include "models/network/loader.h"

namespace {

double process_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

constexpr int kRows = 128;        // subarray rows (word lines)
constexpr int kSubCols = 128;     // subarray columns
constexpr unsigned kCellBits = 4;
constexpr unsigned kAdcBits = 5;
constexpr int kVectors = 1024;

cim::func::quant_config kernel_quant() {
    cim::func::quant_config q;
    q.weight_bits = 8;
    q.input_bits = 8;
    q.dac_bits = 1;
    q.encoding = "offset";
    return q;
}

// Last measured figures, for the summary line.
double g_mvm_float_s = 0;  // block_mvm with the int8 kernel turned off (the float GEMM)
double g_mvm_s = 0, g_mvm_bit_macs_per_s = 0, g_gemm130_s = 0, g_gemm66_s = 0, g_fwd_s = 0, g_fwd_cpu_s = 0;
int g_mvm_cols = 0;
std::int64_t g_fwd_macs = 0;

void BM_BlockMvm(benchmark::State& state) {
    const auto q = kernel_quant();
    const int channels = kSubCols / static_cast<int>(cim::func::columns_per_weight(q, kCellBits));  // 64
    std::mt19937 rng(1);
    const int wmax = cim::func::weight_max(q);
    std::uniform_int_distribution<std::int32_t> wd(-wmax, wmax), xd(0, (1 << q.input_bits) - 1);
    std::vector<std::int32_t> w(static_cast<std::size_t>(channels) * kRows), x(static_cast<std::size_t>(kVectors) * kRows);
    for (auto& v : w) v = wd(rng);
    for (auto& v : x) v = xd(rng);
    const auto block = cim::func::program_block(w.data(), kRows, 0, kRows, 0, channels, q, kCellBits);
    const cim::func::adc_transfer adc(kAdcBits, cim::func::full_scale(block, q));
    std::vector<std::int64_t> out(static_cast<std::size_t>(kVectors) * channels);
    // Arg 1: the int8 kernel where the CPU has it (the default path); arg 0: the float GEMM (every CPU).
    const bool int8 = state.range(0) != 0;
    if (int8 && !cim::func::int8::available()) {
        state.SkipWithError("no AVX-512 VNNI on this CPU");
        return;
    }
    cim::func::int8::set_enabled(int8);
    for (auto _ : state) {
        cim::func::block_mvm(block, x.data(), kVectors, kRows, q, adc, out.data(), nullptr);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    cim::func::int8::set_enabled(true);
    const double slices = cim::func::input_slices(q);
    const double bit_macs = double(kRows) * block.columns() * slices * kVectors;  // per call
    state.SetItemsProcessed(state.iterations() * std::int64_t{kRows} * channels * kVectors);  // MACs
    state.counters["bit_macs_per_s"] = benchmark::Counter(bit_macs * static_cast<double>(state.iterations()),
                                                          benchmark::Counter::kIsRate);
    state.counters["columns"] = block.columns();
    state.counters["input_slices"] = slices;
    state.SetLabel(std::string(int8 ? "int8 kernel" : "float GEMM") +
                   ": 128x128 subarray, w8 in 4-bit cells (offset), x8 via 1-bit DAC, ADC 5 bit, 1024 vectors");
    g_mvm_cols = block.columns();
}
BENCHMARK(BM_BlockMvm)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_EigenGemm(benchmark::State& state) {
    using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const int cols = static_cast<int>(state.range(0));
    const int m = static_cast<int>(cim::func::input_slices(kernel_quant())) * kVectors;  // 8 * 1024
    std::mt19937 rng(2);
    std::uniform_int_distribution<int> bit(0, 1), lvl(0, 15);
    row_major a(m, kRows), b(kRows, cols), c(m, cols);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(bit(rng));
    for (Eigen::Index i = 0; i < b.size(); ++i) b.data()[i] = static_cast<float>(lvl(rng));
    for (auto _ : state) {
        c.noalias() = a * b;
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    const double flop_pairs = double(m) * kRows * cols;
    state.counters["mac_per_s"] = benchmark::Counter(flop_pairs * static_cast<double>(state.iterations()),
                                                     benchmark::Counter::kIsRate);
    state.SetLabel("float (8*1024)x128 * 128x" + std::to_string(cols) + ", Eigen, 1 thread");
}
BENCHMARK(BM_EigenGemm)->Arg(130)->Arg(66)->Unit(benchmark::kMillisecond)->MinTime(2.0);

struct vgg8_fixture {
    cim::network::graph g;
    cim::func::quant_config q = kernel_quant();
    std::vector<std::int32_t> image;
    vgg8_fixture() {
        g = cim::network::load(std::string(CIM_SOURCE_DIR) + "/configs/networks/vgg8_cifar10.yaml");
        cim::engine::synthesize_weights(g, q, 1);
        cim::engine::calibrate(g, q, {cim::engine::synthetic_image(g.input, q, 1, 1000000)});
        image = cim::engine::synthetic_image(g.input, q, 1, 0);
    }
};

void BM_ReferenceForwardVgg8(benchmark::State& state) {
    static vgg8_fixture f;  // setup: load, synthesise weights, calibrate on one image (not timed)
    const double cpu0 = process_cpu_s();
    for (auto _ : state) {
        auto outs = cim::engine::reference_forward(f.g, f.q, f.image);
        benchmark::DoNotOptimize(outs.data());
    }
    const double cpu = process_cpu_s() - cpu0;
    const double n = static_cast<double>(state.iterations());
    state.SetItemsProcessed(state.iterations() * f.g.total_macs());  // MACs
    state.counters["images_per_s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
    state.counters["process_cpu_s_per_image"] = cpu / n;
    state.SetLabel("VGG-8 CIFAR-10, 8-bit, exact integer reference (up to 8 threads)");
    g_fwd_macs = f.g.total_macs();
    g_fwd_cpu_s = cpu / n;
}
BENCHMARK(BM_ReferenceForwardVgg8)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

// (d) The batched engine: engine::hardware_model::forward of VGG-8 on one thread, ideal devices (arg 0) and
//     with variation + read noise (arg 1). Bit-level MACs = MACs x input slices x cells per weight: the work a
//     crossbar does. Compared in the summary with the Eigen GEMM rate of (b), the machine's limit.
double g_engine_bit_macs_per_s[2] = {0, 0};
void BM_EngineVgg8(benchmark::State& state) {
    static vgg8_fixture f;
    cim::engine::hardware_options o;
    o.quant = f.q;
    o.cell_bits = kCellBits;
    o.adc_bits = kAdcBits;
    if (state.range(0) == 1) {
        o.device.d2d_sigma = 0.05;
        o.device.read_noise_sigma = 0.02;
    }
    cim::mapping::geometry geo;
    geo.columns_per_weight = cim::func::columns_per_weight(o.quant, o.cell_bits);
    const auto plan = cim::mapping::build(f.g, {}, geo);
    const cim::engine::hardware_model hw(f.g, plan, o);
    std::int64_t id = 0;
    for (auto _ : state) {
        auto outs = hw.forward(f.image, id++);
        benchmark::DoNotOptimize(outs.data());
    }
    const double bit_macs = double(f.g.total_macs()) * cim::func::input_slices(o.quant) * geo.columns_per_weight;
    state.counters["bit_macs_per_s"] = benchmark::Counter(bit_macs * state.iterations(), benchmark::Counter::kIsRate);
    state.counters["images_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
    state.SetLabel(state.range(0) ? "non-ideal (d2d 5 %, read noise 2 %)" : "ideal devices, 5-bit ADC");
}
BENCHMARK(BM_EngineVgg8)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// Captures each benchmark's real time per iteration for the summary line.
// Single-threaded kernels use CPU time (robust to other load on the machine); reference_forward uses real time.
class summary_reporter : public benchmark::ConsoleReporter {
public:
    explicit summary_reporter(OutputOptions o) : ConsoleReporter(o) {}
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs) {
            if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
            const double s = r.cpu_accumulated_time / static_cast<double>(r.iterations);
            const std::string name = r.benchmark_name();
            if (name.rfind("BM_BlockMvm/0", 0) == 0) {
                g_mvm_float_s = s;
            } else if (name.rfind("BM_BlockMvm/1", 0) == 0) {
                g_mvm_s = s;
                auto it = r.counters.find("bit_macs_per_s");
                if (it != r.counters.end()) g_mvm_bit_macs_per_s = it->second.value;
            } else if (name.rfind("BM_EigenGemm/130", 0) == 0) g_gemm130_s = s;
            else if (name.rfind("BM_EigenGemm/66", 0) == 0) g_gemm66_s = s;
            else if (name.rfind("BM_EngineVgg8/", 0) == 0) {
                auto it = r.counters.find("bit_macs_per_s");
                const int k = name.find("/1/") != std::string::npos ? 1 : 0;
                // Rate counters are per CPU second here (single-threaded): use the CPU time explicitly.
                if (it != r.counters.end() && r.cpu_accumulated_time > 0)
                    g_engine_bit_macs_per_s[k] = it->second.value * r.real_accumulated_time / r.cpu_accumulated_time;
            } else if (name.rfind("BM_ReferenceForwardVgg8", 0) == 0)
                g_fwd_s = r.real_accumulated_time / static_cast<double>(r.iterations);
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    summary_reporter rep(isatty(fileno(stdout)) ? benchmark::ConsoleReporter::OO_ColorTabular
                                                : benchmark::ConsoleReporter::OO_Tabular);
    benchmark::RunSpecifiedBenchmarks(&rep);
    benchmark::Shutdown();
    std::printf("kernels (CPU time): block_mvm %.2f ms per 1024 vectors (%d cols, %.2f G bit-MAC/s; %.2f ms on the float "
                "GEMM without the int8 kernel); Eigen GEMM "
                "same shape %.2f ms (block_mvm = %.2fx GEMM), 128x66 %.2f ms; reference_forward VGG-8 %.1f ms/image real, "
                "%.1f ms CPU/image, %.2f GMAC/image\n",
                g_mvm_s * 1e3, g_mvm_cols, g_mvm_bit_macs_per_s * 1e-9, g_mvm_float_s * 1e3, g_gemm130_s * 1e3,
                g_gemm130_s > 0 ? g_mvm_s / g_gemm130_s : 0.0, g_gemm66_s * 1e3, g_fwd_s * 1e3, g_fwd_cpu_s * 1e3,
                static_cast<double>(g_fwd_macs) * 1e-9);
    const double gemm_macs_per_s = g_gemm130_s > 0 ? double(8 * kVectors) * kRows * 130 / g_gemm130_s : 0.0;
    std::printf("engine (1 thread): VGG-8 %.2f G bit-MAC/s ideal, %.2f G bit-MAC/s non-ideal; Eigen GEMM %.2f G MAC/s "
                "-> %.0f %% and %.0f %% of the GEMM rate (goal >= 50 %%)\n",
                g_engine_bit_macs_per_s[0] * 1e-9, g_engine_bit_macs_per_s[1] * 1e-9, gemm_macs_per_s * 1e-9,
                gemm_macs_per_s > 0 ? 100 * g_engine_bit_macs_per_s[0] / gemm_macs_per_s : 0.0,
                gemm_macs_per_s > 0 ? 100 * g_engine_bit_macs_per_s[1] / gemm_macs_per_s : 0.0);
    return 0;
}
