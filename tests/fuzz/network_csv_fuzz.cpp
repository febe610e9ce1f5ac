// A DNN+NeuroSim NetWork.csv (configs/networks/*.csv), then the sizes a run computes from it.
#include "models/network/loader.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    cim::fuzz::expect_clean([&] {
        const auto g = cim::network::load_neurosim_csv_text(cim::fuzz::text(data, size), "fuzz.csv");
        (void)g.total_macs();
        (void)g.total_weights();
    });
    return 0;
}
