// A network YAML (configs/networks/*.yaml), then the sizes a run computes from it.
#include "models/network/loader.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    cim::fuzz::expect_clean([&] {
        const auto g = cim::network::load_yaml_text(cim::fuzz::text(data, size), "fuzz.yaml");
        (void)g.total_macs();
        (void)g.total_weights();
    });
    return 0;
}
