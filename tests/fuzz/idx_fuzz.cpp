// An IDX images file and an IDX labels file (fuzz_common.h two_files: a 32-bit length, then both files; raw or
// gzipped), as --dataset idx:IMAGES,LABELS reads them; then what a run does with a dataset.
#include "models/dataset/readers.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto files = cim::fuzz::two_files(data, size);
    cim::fuzz::expect_clean([&] {
        const auto d = cim::dataset::load_idx_data({"images.idx", files.first}, {"labels.idx", files.second});
        (void)d.num_classes();
        if (d.n > 0) (void)d.input(0, 8);
        (void)d.subset(1);
    });
    return 0;
}
