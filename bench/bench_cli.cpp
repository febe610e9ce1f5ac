// bench_cli: whole-process figures, what a user waits for: the cimtlm program started as a user starts it, on the
// shipped jobs. Each benchmark forks and execs the binary once (SystemC elaborates once per process) and reports
// the child's wall time (the iteration time), its CPU time and its peak resident memory (wait4's rusage).
// The jobs: the default job (make run), the paper's VGG-8 design (one image, and 64 images pipelined), ResNet-18,
// the shipped model's accuracy on 1000 test images, the shipped transformer on 1000 images, one ViT-B/16 and one
// BERT-base inference with synthetic weights.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct job {
    const char* name;
    std::vector<std::string> args;  // after the program name; {src} is the source tree, {out} a fresh folder
};

const std::vector<job>& jobs() {
    static const std::vector<job> j = {
        {"run default (make run)", {"run", "{src}/configs/experiments/default.yaml"}},
        {"run vgg8_cifar10 (the paper's RRAM design), 1 image", {"run", "{src}/configs/experiments/vgg8_cifar10.yaml"}},
        {"run vgg8_cifar10 pipelined, 64 images",
         {"run", "{src}/configs/experiments/vgg8_cifar10.yaml", "--set", "run.mode=pipelined", "--set", "run.images=64"}},
        {"run resnet18_imagenet, 1 image", {"run", "{src}/configs/experiments/resnet18_imagenet.yaml"}},
        {"accuracy default, 1000 images", {"accuracy", "{src}/configs/experiments/default.yaml", "--limit", "1000"}},
        {"accuracy vit_fmnist, 1000 images", {"accuracy", "{src}/configs/experiments/vit_fmnist.yaml", "--limit", "1000"}},
        {"run ViT-B/16 224x224, 1 image",
         {"run", "{src}/configs/experiments/vgg8_cifar10.yaml", "--set", "network={src}/configs/networks/vit_b16_imagenet.yaml",
          "--set", "run.dataset=synthetic"}},
        {"run BERT-base 128 tokens, 1 sequence",
         {"run", "{src}/configs/experiments/vgg8_cifar10.yaml", "--set", "network={src}/configs/networks/bert_base.yaml",
          "--set", "run.dataset=synthetic"}},
    };
    return j;
}

std::string expand(std::string s, const std::string& out) {
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"{src}", CIM_SOURCE_DIR}, {"{out}", out}})
        for (std::size_t at; (at = s.find(key)) != std::string::npos;) s.replace(at, key.size(), value);
    return s;
}

void BM_Cli(benchmark::State& state) {
    const job& j = jobs()[static_cast<std::size_t>(state.range(0))];
    state.SetLabel(j.name);
    const std::string out = (std::filesystem::temp_directory_path() / ("cimtlm_bench_" + std::to_string(getpid()))).string();
    for (auto _ : state) {
        std::filesystem::remove_all(out);
        std::vector<std::string> args = {CIMTLM_BINARY};
        for (const auto& a : j.args) args.push_back(expand(a, out));
        args.insert(args.end(), {"--out", out, "-q"});
        const auto t0 = std::chrono::steady_clock::now();
        const pid_t pid = fork();
        if (pid == 0) {
            if (!std::freopen("/dev/null", "w", stdout)) _exit(126);
            setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        int status = 0;
        rusage ru{};
        wait4(pid, &status, 0, &ru);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            state.SkipWithError("the run failed");
            break;
        }
        state.SetIterationTime(wall);
        state.counters["cpu_s"] = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                                  1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
        state.counters["peak_MiB"] = static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
    }
    std::filesystem::remove_all(out);
}
BENCHMARK(BM_Cli)->DenseRange(0, static_cast<int>(jobs().size()) - 1)->Iterations(1)->Unit(benchmark::kSecond)->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
