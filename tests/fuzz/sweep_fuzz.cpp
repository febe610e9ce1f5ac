// A sweep file, as `cimtlm sweep` loads and validates it before anything runs (its base resolves against
// configs/experiments/, e.g. `base: vgg8_cifar10.yaml`). Nothing is run or written. At most 16 points per input, so
// an input stays fast (the limit itself is k_max_sweep_points).
#include "platforms/cimtlm/sweep.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    cim::fuzz::expect_clean([&] {
        (void)cim::cli::load_sweep_text(cim::fuzz::text(data, size), CIM_SOURCE_DIR "/configs/experiments/fuzz.sweep.yaml",
                                        "", 16);
    });
    return 0;
}

// libsystemc.so (linked for models/hw's chip config) names sc_main; this program never starts the kernel.
extern "C" int sc_main(int, char**) { return 0; }
