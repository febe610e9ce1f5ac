#include "models/dataset/dataset.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/core/checked.h"
#include "models/core/error.h"

namespace cim::dataset {

int dataset::num_classes() const {
    int top = -1;
    for (int l : labels) top = std::max(top, l);
    return std::max(declared_classes, top + 1);
}

std::vector<std::int32_t> dataset::input(int i, unsigned input_bits) const {
    if (i < 0 || i >= n) {
        throw std::out_of_range("dataset '" + name + "': image " + std::to_string(i) + " out of range [0, " +
                                std::to_string(n) + ")");
    }
    // 31 keeps 2^bits - 1 inside int32, the type of the activation codes downstream.
    if (input_bits < 1 || input_bits > 31) {
        throw config_error("", 0, "input_bits",
                           "input_bits = " + std::to_string(input_bits) + " is outside 1..31");
    }
    const double top = static_cast<double>((std::uint32_t{1} << input_bits) - 1);
    const std::size_t size = static_cast<std::size_t>(image_size());
    const float* p = pixels.data() + static_cast<std::size_t>(i) * size;
    std::vector<std::int32_t> out(size);
    for (std::size_t k = 0; k < size; ++k) {
        double v = p[k];
        // NaN cannot come from the readers (they reject it), but a hand-built dataset may hold one: map it to 0.
        if (!(v > 0.0)) v = 0.0;
        if (v > 1.0) v = 1.0;
        out[k] = static_cast<std::int32_t>(std::lround(v * top));
    }
    return out;
}

dataset dataset::subset(int limit) const {
    if (limit <= 0 || limit >= n) return *this;
    // A hand-built dataset may not hold what n says; never read past its vectors.
    const auto size = image_size() > 0 ? checked_mul(static_cast<std::uint64_t>(limit), static_cast<std::uint64_t>(image_size()))
                                       : std::nullopt;
    if (!size || *size > pixels.size() || static_cast<std::size_t>(limit) > labels.size())
        throw model_error("dataset", "'" + name + "' holds fewer pixels or labels than its " + std::to_string(n) +
                                         " images of " + std::to_string(c) + "x" + std::to_string(h) + "x" +
                                         std::to_string(w) + " need");
    dataset d;
    d.name = name;
    d.n = limit;
    d.c = c;
    d.h = h;
    d.w = w;
    d.declared_classes = declared_classes;
    d.pixels.assign(pixels.begin(), pixels.begin() + static_cast<std::ptrdiff_t>(*size));
    d.labels.assign(labels.begin(), labels.begin() + limit);
    return d;
}

}  // namespace cim::dataset
