#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/network/graph.h"
#include "models/dataset/dataset.h"

namespace cim::dataset {

// Readers of the image sets the inference platform runs. Each checks sizes exactly and throws
// cim::config_error naming the file and what is wrong (wrong magic, truncated or trailing bytes with the
// expected and actual counts, label count mismatch, unsupported dtype, bad shape, missing file).
// Gzipped files (magic 1f 8b) are read through zlib wherever a raw file is accepted.

/// An input file already in memory: its name (for errors) and its bytes, raw or gzipped. The *_data readers take
/// these (a fuzzer's input, tests); the path readers read the files with read_input_file(path, file_kind::dataset):
/// a regular file or a named pipe of at most 2 GiB, which also bounds the gunzipped size.
struct file_data {
    std::string name;
    std::string bytes;
};

/// MNIST / Fashion-MNIST IDX: images magic 0x00000803 (N, rows, cols, uint8), labels 0x00000801 (N, uint8),
/// big-endian header, raw or gzipped. Pixels are byte / 255, one channel.
dataset load_idx(const std::string& images, const std::string& labels);
dataset load_idx_data(const file_data& images, const file_data& labels);

/// CIFAR-10 binary version: records of 1 label byte (0..9) + 3072 pixel bytes (1024 R, 1024 G, 1024 B, each
/// 32x32 row-major), concatenated over the given batch files in order. Pixels are byte / 255.
dataset load_cifar10(const std::vector<std::string>& batch_files);
dataset load_cifar10_data(const std::vector<file_data>& batches);

/// NumPy .npy pair. Images: dtype |u1 (scaled by 1/255) or <f4 / <f8 (taken as [0, 1], anything outside is an
/// error), shape (N, C, H, W) or (N, H, W), C order. Labels: any integer dtype, shape (N,), values >= 0.
dataset load_npy(const std::string& images, const std::string& labels);
dataset load_npy_data(const file_data& images, const file_data& labels);

/// n seeded images of c x h x w uniform pixels and uniform labels in [0, classes). Image i draws from
/// rng_stream(seed, {0x5d, i}): its pixels in CHW order, then its label, so a subset is a prefix.
dataset synthetic(int n, int c, int h, int w, int classes, std::uint64_t seed);

/// Fashion-MNIST from a folder holding {t10k,train}-{images-idx3,labels-idx1}-ubyte.gz (Debian's
/// dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist). split is "t10k"/"test" or
/// "train". A missing file is an error that says how to install the package.
dataset load_fashion_mnist(const std::string& folder, const std::string& split);

/// Folder of Debian's dataset-fashion-mnist package.
inline const char* const k_fashion_mnist_folder = "/usr/share/datasets/fashion-mnist";

/// The CLI's --dataset argument:
///   fashion-mnist | fashion-mnist:test | fashion-mnist:train   (Debian package, see load_fashion_mnist)
///   idx:IMAGES,LABELS | cifar10:FILE[,FILE...] | npy:IMAGES,LABELS
///   synthetic:N      (N images shaped like `input`, labels in [0, classes), drawn from `seed`)
/// The dataset's name is the spec. An unknown scheme or a malformed argument is a config_error with key
/// --dataset listing the valid forms; synthetic without `input` is an error too.
dataset load_spec(const std::string& spec, const std::optional<network::shape>& input = std::nullopt,
                  int classes = 10, std::uint64_t seed = 1);

/// Throw config_error (file `where`, key --dataset) when the dataset's C x H x W differs from the network
/// input shape, naming both.
void check_shape(const dataset& d, const network::shape& s, const std::string& where);

}  // namespace cim::dataset
