#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cim::dataset {

/// A labelled image set held in memory as real pixels in [0, 1], channels-first (CHW per image), which is the
/// layout the network IR uses. The readers (readers.h) fill it from IDX, CIFAR-10 binary, NPY or a seeded
/// generator; the accelerator sees only the quantised integers of input(). Does not model: augmentation,
/// normalisation by a per-channel mean/std (the CIM front end takes unsigned codes), or streaming from disk.
struct dataset {
    std::string name;  // where it came from (a --dataset spec or a file), echoed in reports and errors
    int n = 0, c = 0, h = 0, w = 0;
    std::vector<float> pixels;  // n*c*h*w, image-major, CHW within an image, values in [0, 1]
    std::vector<int> labels;    // n class indices, each >= 0
    /// Classes the source declares (10 for Fashion-MNIST and CIFAR-10, the generator's count); 0 = unknown,
    /// then num_classes() falls back to the labels. Kept because a small subset may not show every class.
    int declared_classes = 0;

    /// Number of classes: the declared count, or max label + 1 when larger or when none is declared.
    int num_classes() const;
    /// Values per image, c*h*w.
    std::int64_t image_size() const { return std::int64_t{c} * h * w; }
    /// Quantise image i to unsigned input_bits integers: round(p * (2^bits-1)), p clamped to [0,1].
    /// Throws std::out_of_range for a bad i and config_error (key input_bits) unless 1 <= bits <= 31.
    std::vector<std::int32_t> input(int i, unsigned input_bits) const;
    /// The first `limit` images (all of them when limit <= 0 or limit >= n), keeping the declared classes.
    dataset subset(int limit) const;
};

}  // namespace cim::dataset
