// bench_platform: the real-traced VGG-8 platform run of configs/experiments/default.yaml.
// SystemC elaborates once per process (TOOLCHAIN.md §6 P4), so there is exactly one benchmark with one
// iteration. Images: env CIM_BENCH_IMAGES (default 2), applied as the override run.images=N.
// The iteration time is prepare + elaborate + simulate + report; the parts are counters.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "models/config/overrides.h"
#include "platforms/inference/platform.h"

namespace {

double process_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

unsigned bench_images() {
    const char* e = std::getenv("CIM_BENCH_IMAGES");
    if (e == nullptr || *e == '\0') return 2;
    const long n = std::strtol(e, nullptr, 10);
    return n > 0 ? static_cast<unsigned>(n) : 2;
}

constexpr double goal_cpu_s_per_image = 0.5;

struct summary {
    bool ran = false;
    unsigned images = 0;
    double prepare_s = 0, elaborate_s = 0, simulate_s = 0, cpu_s_per_image = 0, fps = 0, tops_per_w = 0;
} g_summary;

void BM_PlatformVgg8(benchmark::State& state) {
    const unsigned n = bench_images();
    const std::string config = std::string(CIM_SOURCE_DIR) + "/configs/experiments/default.yaml";
    for (auto _ : state) {
        auto t0 = std::chrono::steady_clock::now();
        const auto lc = cim::inference::load_run_config(
            config, {cim::cfg::override_spec{"run.images", std::to_string(n), "bench"}});
        auto prepared = cim::inference::prepare(lc);
        const double prepare_s = seconds_since(t0);

        t0 = std::chrono::steady_clock::now();
        cim::inference::platform plat(lc, std::move(prepared));
        const double elaborate_s = seconds_since(t0);

        const double cpu0 = process_cpu_s();
        t0 = std::chrono::steady_clock::now();
        plat.simulate();
        const double simulate_s = seconds_since(t0);
        const double sim_cpu_s = process_cpu_s() - cpu0;

        const auto r = plat.report();
        benchmark::DoNotOptimize(r.fps);

        g_summary = {true, n, prepare_s, elaborate_s, simulate_s, sim_cpu_s / n, r.fps, r.tops_per_w};
        state.counters["images"] = n;
        state.counters["prepare_s"] = prepare_s;
        state.counters["elaborate_s"] = elaborate_s;
        state.counters["simulate_s"] = simulate_s;
        state.counters["cpu_s_per_image"] = sim_cpu_s / n;
        state.counters["goal_cpu_s_per_image"] = goal_cpu_s_per_image;
        state.counters["fps"] = r.fps;
        state.counters["tops_per_w"] = r.tops_per_w;
    }
}
BENCHMARK(BM_PlatformVgg8)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int sc_main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (g_summary.ran)
        std::printf("platform: %.3f CPU-s per image (goal %.1f), %u images, prepare %.2f s, elaborate %.2f s, "
                    "simulate %.2f s, %.1f fps, %.2f TOPS/W (simulated chip)\n",
                    g_summary.cpu_s_per_image, goal_cpu_s_per_image, g_summary.images, g_summary.prepare_s,
                    g_summary.elaborate_s, g_summary.simulate_s, g_summary.fps, g_summary.tops_per_w);
    return 0;
}
