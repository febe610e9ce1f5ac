// bench_platform: the VGG-8 platform run (real activity) of configs/experiments/vgg8_cifar10.yaml, in three modes:
// plain, with the transaction log written as VCD and Perfetto JSON, and with the verilated RTL PE accumulator.
// SystemC elaborates once per process, so each mode runs in a forked child process, one
// iteration each. Images: env CIM_BENCH_IMAGES (default 2), applied as the override run.images=N.
// The iteration time is simulate (+ writing the waveform for the waves mode); the other parts are counters.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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

// The run of one mode, measured in a forked child (SystemC elaborates once per process, and each mode needs
// its own elaboration). The child writes this struct back through a pipe.
struct measurement {
    int ok = 0;
    double prepare_s = 0, elaborate_s = 0, simulate_s = 0, sim_cpu_s = 0, output_s = 0, fps = 0, tops_per_w = 0;
    double vcd_bytes = 0, timeline_bytes = 0;
};

enum class mode { plain, waves, rtl };
const char* mode_name(mode m) { return m == mode::plain ? "plain" : m == mode::waves ? "vcd+timeline-json" : "rtl-accumulator"; }

measurement run_once(mode m, unsigned n) {
    measurement r;
    const std::string config = std::string(CIM_SOURCE_DIR) + "/configs/experiments/vgg8_cifar10.yaml";
    std::vector<cim::cfg::override_spec> sets{{"run.images", std::to_string(n), "bench"}};
    if (m == mode::rtl) sets.push_back({"chip.pe.accumulator.impl", "rtl", "bench"});
    auto t0 = std::chrono::steady_clock::now();
    const auto lc = cim::inference::load_run_config(config, sets);
    auto prepared = cim::inference::prepare(lc);
    r.prepare_s = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    cim::inference::platform_options opt;
    char dir[] = "/tmp/cimtlm-bench.XXXXXX";
    const bool waves = m == mode::waves && mkdtemp(dir) != nullptr;
    if (waves) opt.vcd = std::string(dir) + "/waves";
    cim::inference::platform plat(lc, std::move(prepared), opt);
    r.elaborate_s = seconds_since(t0);
    const double cpu0 = process_cpu_s();
    t0 = std::chrono::steady_clock::now();
    plat.simulate();
    r.simulate_s = seconds_since(t0);
    r.sim_cpu_s = process_cpu_s() - cpu0;
    if (waves) {  // the VCD is written during the simulation; the timeline JSON after it
        t0 = std::chrono::steady_clock::now();
        const std::string json = plat.record().time.chrome_json();
        r.timeline_bytes = static_cast<double>(json.size());
        benchmark::DoNotOptimize(json.data());
        r.output_s = seconds_since(t0);
        struct stat st {};
        if (stat((opt.vcd + ".vcd").c_str(), &st) == 0) r.vcd_bytes = static_cast<double>(st.st_size);
        std::remove((opt.vcd + ".vcd").c_str());
        rmdir(dir);
    }
    const auto rep = plat.report();
    r.fps = rep.fps;
    r.tops_per_w = rep.tops_per_w;
    r.ok = 1;
    return r;
}

measurement run_in_child(mode m, unsigned n) {
    int fd[2];
    if (pipe(fd) != 0) return {};
    const pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        measurement r;
        try {
            r = run_once(m, n);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_platform (%s): %s\n", mode_name(m), e.what());
        }
        const ssize_t w = write(fd[1], &r, sizeof r);
        (void)w;
        close(fd[1]);
        _exit(0);
    }
    close(fd[1]);
    measurement r;
    const ssize_t got = read(fd[0], &r, sizeof r);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != static_cast<ssize_t>(sizeof r)) r.ok = 0;
    return r;
}

measurement g_results[3];
unsigned g_images = 0;

void BM_PlatformVgg8(benchmark::State& state) {
    const auto m = static_cast<mode>(state.range(0));
    const unsigned n = bench_images();
    for (auto _ : state) {
        const measurement r = run_in_child(m, n);
        if (!r.ok) {
            state.SkipWithError("the child run failed");
            return;
        }
        state.SetIterationTime(r.simulate_s + r.output_s);
        g_results[state.range(0)] = r;
        g_images = n;
        state.counters["images"] = n;
        state.counters["prepare_s"] = r.prepare_s;
        state.counters["elaborate_s"] = r.elaborate_s;
        state.counters["simulate_s"] = r.simulate_s;
        state.counters["cpu_s_per_image"] = r.sim_cpu_s / n;
        state.counters["goal_cpu_s_per_image"] = goal_cpu_s_per_image;
        state.counters["fps"] = r.fps;
        if (m == mode::waves) {
            state.counters["write_s"] = r.output_s;
            state.counters["vcd_MB"] = r.vcd_bytes / 1e6;
            state.counters["timeline_MB"] = r.timeline_bytes / 1e6;
        }
        state.SetLabel(mode_name(m));
    }
}
BENCHMARK(BM_PlatformVgg8)->Arg(0)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond)->UseManualTime();

}  // namespace

int sc_main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    const measurement& p = g_results[0];
    if (p.ok)
        std::printf("platform: %.3f CPU-s per image (goal %.1f), %u images, prepare %.2f s, elaborate %.2f s, "
                    "simulate %.2f s, %.1f fps, %.2f TOPS/W (simulated chip)\n",
                    p.sim_cpu_s / g_images, goal_cpu_s_per_image, g_images, p.prepare_s, p.elaborate_s, p.simulate_s,
                    p.fps, p.tops_per_w);
    const measurement& t = g_results[1];
    if (p.ok && t.ok)
        std::printf("waves: simulate %.2f s with the transaction log vs %.2f s without (x%.2f); writing VCD %.1f MB + "
                    "timeline JSON %.1f MB takes %.2f s\n",
                    t.simulate_s, p.simulate_s, t.simulate_s / p.simulate_s, t.vcd_bytes / 1e6, t.timeline_bytes / 1e6,
                    t.output_s);
    const measurement& r = g_results[2];
    if (p.ok && r.ok)
        std::printf("rtl co-simulation: simulate %.2f s with the verilated PE accumulator vs %.2f s with the TLM one "
                    "(x%.2f)\n",
                    r.simulate_s, p.simulate_s, r.simulate_s / p.simulate_s);
    return 0;
}
