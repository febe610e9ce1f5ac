// An ONNX model (protobuf bytes), as `network: model.onnx` loads it, then the sizes a run computes from it.
#include "models/network/onnx_loader.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    cim::fuzz::expect_clean([&] {
        const auto g = cim::network::load_onnx_bytes(cim::fuzz::text(data, size), "fuzz.onnx");
        (void)g.total_macs();
        (void)g.total_weights();
    });
    return 0;
}
