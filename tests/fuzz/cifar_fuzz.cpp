// A CIFAR-10 binary batch (raw or gzipped), as --dataset cifar10:FILE reads it; then what a run does with a dataset.
#include "models/dataset/readers.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    cim::fuzz::expect_clean([&] {
        const auto d = cim::dataset::load_cifar10_data({{"data_batch.bin", cim::fuzz::text(data, size)}});
        (void)d.num_classes();
        if (d.n > 0) (void)d.input(0, 8);
        (void)d.subset(1);
    });
    return 0;
}
