#include "models/dataset/readers.h"

#include <zlib.h>

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>

#include "models/core/checked.h"
#include "models/core/error.h"
#include "models/core/file_io.h"
#include "models/core/rng.h"
#include "models/dataset/npy_header.h"

namespace cim::dataset {
namespace {

const char* const k_valid_specs =
    "valid forms: fashion-mnist, fashion-mnist:test, fashion-mnist:train, idx:IMAGES,LABELS, "
    "cifar10:FILE[,FILE...], npy:IMAGES,LABELS, synthetic:N";

// CIFAR-10 binary record: 1 label byte then 3 x 32 x 32 pixel bytes.
constexpr std::size_t k_cifar_pixels = 3 * 32 * 32;
constexpr std::size_t k_cifar_record = 1 + k_cifar_pixels;

std::string plural_bytes(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

/// The exact-size check shared by every reader: too short and too long are both errors, each with numbers.
void check_size(const std::string& file, std::uint64_t expected, std::uint64_t actual, const std::string& why,
                bool gzipped) {
    if (expected == actual) return;
    const std::string unit = gzipped ? " (decompressed)" : "";
    if (actual < expected) {
        throw config_error(file, 0, "",
                           "truncated file: expected " + plural_bytes(expected) + unit + " for " + why + ", got " +
                               plural_bytes(actual));
    }
    throw config_error(file, 0, "",
                       "trailing data: expected " + plural_bytes(expected) + unit + " for " + why + ", got " +
                           plural_bytes(actual) + " (" + plural_bytes(actual - expected) + " too many)");
}

/// A whole file in memory, gunzipped when it starts with the gzip magic 1f 8b.
struct file_bytes {
    std::string data;
    bool gzipped = false;
};

/// gzip data (one or more members, as gzip -c a b > ab writes) decompressed in memory, at most the dataset limit.
std::string gunzip(const std::string& path, const std::string& in) {
    const std::uint64_t limit = max_file_bytes(file_kind::dataset);
    std::string out;
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw config_error(path, 0, "", "cannot start gzip decompression");
    struct ender {
        z_stream* z;
        ~ender() { inflateEnd(z); }
    } guard{&z};
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    std::size_t left = in.size();
    char chunk[1 << 16];
    while (true) {
        // avail_in is 32-bit: feed a large input in slices.
        if (z.avail_in == 0 && left > 0) {
            z.avail_in = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
            left -= z.avail_in;
        }
        z.next_out = reinterpret_cast<Bytef*>(chunk);
        z.avail_out = sizeof chunk;
        const int rc = inflate(&z, Z_NO_FLUSH);
        const std::size_t got = sizeof chunk - z.avail_out;
        if (out.size() + got > limit)
            throw config_error(path, 0, "",
                               "decompresses to more than the " + std::to_string(limit) + " bytes a dataset file may hold");
        out.append(chunk, got);
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0 && left == 0) break;
            // Another gzip member follows (a concatenation), or trailing garbage after the last one.
            const auto* next = reinterpret_cast<const unsigned char*>(z.next_in);
            if (z.avail_in >= 2 && next[0] == 0x1f && next[1] == 0x8b) {
                inflateReset(&z);
                continue;
            }
            throw config_error(path, 0, "", "corrupt gzip data: trailing bytes after the compressed stream");
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0 && left == 0)
            throw config_error(path, 0, "",
                               "truncated gzip stream: it ends after " + plural_bytes(out.size()) + " of decompressed data");
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            throw config_error(path, 0, "", std::string("corrupt gzip data: ") + (z.msg ? z.msg : "inflate failed"));
    }
    return out;
}

/// A file's bytes, gunzipped when they start with the gzip magic 1f 8b.
file_bytes decode(const file_data& f) {
    file_bytes out;
    out.gzipped = f.bytes.size() >= 2 && static_cast<unsigned char>(f.bytes[0]) == 0x1f &&
                  static_cast<unsigned char>(f.bytes[1]) == 0x8b;
    out.data = out.gzipped ? gunzip(f.name, f.bytes) : f.bytes;
    return out;
}

/// A whole dataset file (read_input_file: a regular file or a named pipe, at most 2 GiB).
file_data read_file(const std::string& path) { return {path, read_input_file(path, file_kind::dataset)}; }

std::uint32_t big_endian_u32(const std::string& b, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(b[at + k]);
    return v;
}

std::string hex32(std::uint32_t v) {
    return fmt::format("0x{:08X}", v);
}

/// An IDX file of unsigned bytes with `rank` dimensions: its dimensions, and where the data starts.
struct idx_file {
    file_bytes bytes;
    std::vector<std::uint32_t> dims;
    std::size_t offset = 0;
};

idx_file read_idx(const file_data& in, int rank, const char* what) {
    const std::string& path = in.name;
    idx_file f;
    f.bytes = decode(in);
    const std::string& b = f.bytes.data;
    const std::uint32_t expected_magic = 0x0800u | static_cast<std::uint32_t>(rank);
    if (b.size() < 4) {
        check_size(path, 4, b.size(), "the IDX magic number", f.bytes.gzipped);
    }
    const std::uint32_t magic = big_endian_u32(b, 0);
    if (magic != expected_magic) {
        std::string hint;
        if ((magic & 0xFFFFFF00u) == 0x0800u) {
            // Right family, wrong rank: the classic mistake is passing the two files in the wrong order.
            hint = "; this is an IDX file of " + std::to_string(magic & 0xFFu) +
                   " dimension(s): are the images and labels files swapped?";
        } else if ((magic & 0xFFFF0000u) == 0 && (magic & 0xFF00u) != 0x0800u) {
            hint = "; only unsigned-byte IDX data (type 0x08) is supported";
        }
        throw config_error(path, 0, "",
                           "wrong magic number " + hex32(magic) + ": expected " + hex32(expected_magic) + " (IDX " +
                               what + ")" + hint);
    }
    const std::size_t header = 4 + 4 * static_cast<std::size_t>(rank);
    if (b.size() < header) check_size(path, header, b.size(), std::string("the IDX ") + what + " header",
                                      f.bytes.gzipped);
    for (int k = 0; k < rank; ++k) {
        const std::uint32_t d = big_endian_u32(b, 4 + 4 * static_cast<std::size_t>(k));
        // int is what dataset holds; a dimension beyond it cannot be a real image set.
        if (d == 0 || d > static_cast<std::uint32_t>(std::numeric_limits<int>::max())) {
            throw config_error(path, 0, "", "bad IDX dimension " + std::to_string(k) + " = " + std::to_string(d));
        }
        f.dims.push_back(d);
    }
    f.offset = header;
    std::string why = std::to_string(f.dims[0]);
    for (std::size_t k = 1; k < f.dims.size(); ++k) why += "x" + std::to_string(f.dims[k]);
    // Checked: three dimensions of up to 2^31 multiply past 2^64, and a wrapped product could match the file.
    const auto values = checked_product(f.dims, max_file_bytes(file_kind::dataset));
    if (!values) {
        throw config_error(path, 0, "",
                           "IDX dimensions " + why + " describe more than the " +
                               std::to_string(max_file_bytes(file_kind::dataset)) + " bytes a dataset file may hold");
    }
    check_size(path, header + *values, b.size(), std::string("the header and ") + why + " " + what,
               f.bytes.gzipped);
    return f;
}

void check_label_count(const std::string& images, std::int64_t n_images, const std::string& labels,
                       std::int64_t n_labels) {
    if (n_images == n_labels) return;
    throw config_error(labels, 0, "",
                       "label count mismatch: " + std::to_string(n_labels) + " labels for " +
                           std::to_string(n_images) + " images in " + images);
}

// ---- NPY ----

bool host_is_little_endian() {
    const std::uint16_t probe = 1;
    unsigned char first = 0;
    std::memcpy(&first, &probe, 1);
    return first == 1;
}

/// Reads one element of `size` bytes in the file's byte order into the low bits of a u64.
std::uint64_t load_bits(const unsigned char* p, int size, bool big_endian) {
    std::uint64_t v = 0;
    if (big_endian) {
        for (int k = 0; k < size; ++k) v = (v << 8) | p[k];
    } else {
        for (int k = size - 1; k >= 0; --k) v = (v << 8) | p[k];
    }
    return v;
}

struct npy_file {
    file_bytes bytes;
    npy_header header;
    bool big_endian = false;
};

npy_file read_npy(const file_data& in) {
    const std::string& path = in.name;
    npy_file f;
    f.bytes = decode(in);
    f.header = parse_npy_header(f.bytes.data, path);
    const npy_header& h = f.header;
    if (h.fortran_order) {
        throw config_error(path, 0, "npy header",
                           "fortran_order is True: save the array in C order (numpy.ascontiguousarray)");
    }
    const char order = h.byte_order();
    if (order != '<' && order != '>' && order != '|' && order != '=') {
        throw config_error(path, 0, "npy header", "unsupported dtype '" + h.descr + "': unknown byte order");
    }
    f.big_endian = order == '>' || (order == '=' && !host_is_little_endian());
    return f;
}

/// After the dtype and the shape are known good: exactly count x item-size data bytes must follow the header.
void check_npy_size(const npy_file& f, const std::string& path) {
    const npy_header& h = f.header;
    const std::uint64_t items = static_cast<std::uint64_t>(h.count());
    const std::uint64_t item = static_cast<std::uint64_t>(h.item_size());
    if (items > (std::uint64_t{1} << 40) / item) {
        throw config_error(path, 0, "", "array of shape " + h.shape_text() + " is too large");
    }
    check_size(path, h.data_offset + items * item, f.bytes.data.size(),
               "the header and a " + h.descr + " array of shape " + h.shape_text(), f.bytes.gzipped);
}

std::string unsupported_image_dtype(const std::string& descr) {
    return "unsupported image dtype '" + descr +
           "': expected '|u1' (uint8, scaled by 1/255) or '<f4' / '<f8' (float, values in [0, 1])";
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = s.find(sep, start);
        parts.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return parts;
}

[[noreturn]] void bad_spec(const std::string& spec, const std::string& what) {
    throw config_error("", 0, "--dataset", "'" + spec + "': " + what + " (" + k_valid_specs + ")");
}

/// Two non-empty comma-separated paths, as idx: and npy: take.
std::pair<std::string, std::string> two_paths(const std::string& spec, const std::string& scheme,
                                              const std::string& arg) {
    const auto parts = split(arg, ',');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
        bad_spec(spec, scheme + ": takes two files, " + scheme + ":IMAGES,LABELS");
    }
    return {parts[0], parts[1]};
}

}  // namespace

dataset load_idx(const std::string& images, const std::string& labels) {
    const file_data im = read_file(images);  // in this order: a missing images file is named first
    return load_idx_data(im, read_file(labels));
}

dataset load_idx_data(const file_data& images_file, const file_data& labels_file) {
    const std::string& images = images_file.name;
    const std::string& labels = labels_file.name;
    const idx_file im = read_idx(images_file, 3, "images");
    const idx_file lb = read_idx(labels_file, 1, "labels");
    check_label_count(images, im.dims[0], labels, lb.dims[0]);
    dataset d;
    d.name = images;
    d.n = static_cast<int>(im.dims[0]);
    d.c = 1;
    d.h = static_cast<int>(im.dims[1]);
    d.w = static_cast<int>(im.dims[2]);
    const std::size_t values = static_cast<std::size_t>(d.n) * static_cast<std::size_t>(d.image_size());
    d.pixels.resize(values);
    const auto* px = reinterpret_cast<const unsigned char*>(im.bytes.data.data()) + im.offset;
    for (std::size_t k = 0; k < values; ++k) d.pixels[k] = static_cast<float>(px[k]) / 255.0f;
    const auto* lab = reinterpret_cast<const unsigned char*>(lb.bytes.data.data()) + lb.offset;
    d.labels.assign(lab, lab + d.n);
    return d;
}

dataset load_cifar10(const std::vector<std::string>& batch_files) {
    if (batch_files.empty()) throw config_error("", 0, "--dataset", "cifar10: no batch files given");
    std::vector<file_data> batches;
    for (const std::string& path : batch_files) batches.push_back(read_file(path));
    return load_cifar10_data(batches);
}

dataset load_cifar10_data(const std::vector<file_data>& batches) {
    if (batches.empty()) throw config_error("", 0, "--dataset", "cifar10: no batch files given");
    dataset d;
    d.name = batches.front().name;
    d.c = 3;
    d.h = 32;
    d.w = 32;
    d.declared_classes = 10;
    for (const file_data& batch : batches) {
        const std::string& path = batch.name;
        const file_bytes f = decode(batch);
        const std::size_t size = f.data.size();
        if (size == 0 || size % k_cifar_record != 0) {
            const std::size_t whole = size / k_cifar_record;
            throw config_error(path, 0, "",
                               "not a CIFAR-10 binary batch: " + plural_bytes(size) +
                                   " is not a non-zero multiple of " + std::to_string(k_cifar_record) +
                                   " (1 label + 3072 pixel bytes per record); " + std::to_string(whole) +
                                   " whole record(s) and " + plural_bytes(size - whole * k_cifar_record) + " over");
        }
        const std::size_t records = size / k_cifar_record;
        if (static_cast<std::uint64_t>(d.n) + records > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
            throw config_error(path, 0, "", "too many images");
        }
        const auto* b = reinterpret_cast<const unsigned char*>(f.data.data());
        d.pixels.reserve(d.pixels.size() + records * k_cifar_pixels);
        for (std::size_t r = 0; r < records; ++r) {
            const unsigned char* rec = b + r * k_cifar_record;
            if (rec[0] > 9) {
                throw config_error(path, 0, "",
                                   "record " + std::to_string(r) + " (byte offset " +
                                       std::to_string(r * k_cifar_record) + "): label " + std::to_string(rec[0]) +
                                       " is outside 0..9; is this the CIFAR-100 or the Python version?");
            }
            d.labels.push_back(rec[0]);
            // The file's R, G, B planes are already the CHW order the network wants.
            for (std::size_t k = 1; k <= k_cifar_pixels; ++k) d.pixels.push_back(static_cast<float>(rec[k]) / 255.0f);
        }
        d.n += static_cast<int>(records);
    }
    return d;
}

dataset load_npy(const std::string& images, const std::string& labels) {
    const file_data im = read_file(images);
    return load_npy_data(im, read_file(labels));
}

dataset load_npy_data(const file_data& images_file, const file_data& labels_file) {
    const std::string& images = images_file.name;
    const std::string& labels = labels_file.name;
    const npy_file im = read_npy(images_file);
    const npy_header& ih = im.header;
    const bool is_u8 = ih.kind() == 'u' && ih.item_size() == 1;
    const bool is_float = ih.kind() == 'f' && (ih.item_size() == 4 || ih.item_size() == 8);
    if (!is_u8 && !is_float) throw config_error(images, 0, "npy header", unsupported_image_dtype(ih.descr));
    if (ih.shape.size() != 3 && ih.shape.size() != 4) {
        throw config_error(images, 0, "npy header",
                           "bad image array shape " + ih.shape_text() + ": expected (N, C, H, W) or (N, H, W)");
    }
    for (std::int64_t dim : ih.shape) {
        if (dim <= 0 || dim > std::numeric_limits<int>::max()) {
            throw config_error(images, 0, "npy header",
                               "bad image array shape " + ih.shape_text() + ": every dimension must be in 1.." +
                                   std::to_string(std::numeric_limits<int>::max()));
        }
    }
    check_npy_size(im, images);

    const npy_file lb = read_npy(labels_file);
    const npy_header& lh = lb.header;
    const int lsize = lh.item_size();
    if ((lh.kind() != 'i' && lh.kind() != 'u') || (lsize != 1 && lsize != 2 && lsize != 4 && lsize != 8)) {
        throw config_error(labels, 0, "npy header",
                           "unsupported label dtype '" + lh.descr + "': expected an integer type (e.g. '<i8', '|u1')");
    }
    if (lh.shape.size() != 1) {
        throw config_error(labels, 0, "npy header", "bad label array shape " + lh.shape_text() + ": expected (N,)");
    }
    check_npy_size(lb, labels);
    check_label_count(images, ih.shape[0], labels, lh.shape[0]);

    dataset d;
    d.name = images;
    d.n = static_cast<int>(ih.shape[0]);
    d.c = ih.shape.size() == 4 ? static_cast<int>(ih.shape[1]) : 1;
    d.h = static_cast<int>(ih.shape[ih.shape.size() - 2]);
    d.w = static_cast<int>(ih.shape[ih.shape.size() - 1]);
    const std::size_t values = static_cast<std::size_t>(ih.count());
    d.pixels.resize(values);
    const auto* p = reinterpret_cast<const unsigned char*>(im.bytes.data.data()) + ih.data_offset;
    if (is_u8) {
        for (std::size_t k = 0; k < values; ++k) d.pixels[k] = static_cast<float>(p[k]) / 255.0f;
    } else {
        const int size = ih.item_size();
        for (std::size_t k = 0; k < values; ++k) {
            const std::uint64_t bits = load_bits(p + k * static_cast<std::size_t>(size), size, im.big_endian);
            double v = 0.0;
            if (size == 4) {
                const auto b32 = static_cast<std::uint32_t>(bits);
                float f = 0.0f;
                std::memcpy(&f, &b32, 4);
                v = f;
            } else {
                std::memcpy(&v, &bits, 8);
            }
            // Quietly clamping would hide a pipeline that forgot to scale (0..255) or normalised (mean/std).
            if (!(v >= 0.0 && v <= 1.0)) {
                const std::size_t img = k / static_cast<std::size_t>(d.image_size());
                const std::size_t in = k % static_cast<std::size_t>(d.image_size());
                const std::size_t hw = static_cast<std::size_t>(d.h) * static_cast<std::size_t>(d.w);
                std::ostringstream msg;
                msg << "pixel value " << v << " at flat index " << k << " (image " << img << ", channel "
                    << in / hw << ", row " << (in % hw) / static_cast<std::size_t>(d.w) << ", column "
                    << in % static_cast<std::size_t>(d.w)
                    << ") is outside [0, 1]; float images must be scaled to [0, 1] (or saved as uint8)";
                throw config_error(images, 0, "", msg.str());
            }
            d.pixels[k] = static_cast<float>(v);
        }
    }
    const auto* l = reinterpret_cast<const unsigned char*>(lb.bytes.data.data()) + lh.data_offset;
    d.labels.resize(static_cast<std::size_t>(d.n));
    for (std::size_t k = 0; k < d.labels.size(); ++k) {
        std::uint64_t bits = load_bits(l + k * static_cast<std::size_t>(lsize), lsize, lb.big_endian);
        std::int64_t v = 0;
        if (lh.kind() == 'i') {
            // Sign-extend from the element width.
            const int shift = 64 - 8 * lsize;
            v = static_cast<std::int64_t>(bits << shift) >> shift;
        } else if (bits > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            v = std::numeric_limits<std::int64_t>::max();
        } else {
            v = static_cast<std::int64_t>(bits);
        }
        if (v < 0 || v > std::numeric_limits<int>::max()) {
            throw config_error(labels, 0, "",
                               "label " + std::to_string(v) + " at index " + std::to_string(k) +
                                   " is not a class index (must be >= 0)");
        }
        d.labels[k] = static_cast<int>(v);
    }
    return d;
}

dataset synthetic(int n, int c, int h, int w, int classes, std::uint64_t seed) {
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || classes <= 0) {
        throw config_error("", 0, "--dataset",
                           "synthetic: images, channels, height, width and classes must be positive (got n=" +
                               std::to_string(n) + ", shape " + std::to_string(c) + "x" + std::to_string(h) + "x" +
                               std::to_string(w) + ", classes=" + std::to_string(classes) + ")");
    }
    // Bounded like a dataset file: at most 2^31 pixel values (8 GiB of floats).
    const std::array<std::int64_t, 4> dims{n, c, h, w};
    if (!checked_product(dims, max_file_bytes(file_kind::dataset))) {
        throw config_error("", 0, "--dataset",
                           "synthetic:" + std::to_string(n) + ": " + std::to_string(n) + " images of " + std::to_string(c) +
                               "x" + std::to_string(h) + "x" + std::to_string(w) + " are more than " +
                               std::to_string(max_file_bytes(file_kind::dataset)) + " pixel values");
    }
    dataset d;
    d.name = "synthetic:" + std::to_string(n);
    d.n = n;
    d.c = c;
    d.h = h;
    d.w = w;
    d.declared_classes = classes;
    const auto size = static_cast<std::size_t>(d.image_size());
    d.pixels.resize(static_cast<std::size_t>(n) * size);
    d.labels.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        // One stream per image: image i is the same whatever n is.
        rng_stream rng(seed, {0x5d, static_cast<std::uint64_t>(i)});
        float* px = d.pixels.data() + static_cast<std::size_t>(i) * size;
        for (std::size_t k = 0; k < size; ++k) px[k] = static_cast<float>(rng.uniform());
        d.labels[static_cast<std::size_t>(i)] = static_cast<int>(rng.uniform_int(0, classes - 1));
    }
    return d;
}

dataset load_fashion_mnist(const std::string& folder, const std::string& split) {
    std::string prefix;
    if (split == "t10k" || split == "test") {
        prefix = "t10k";
    } else if (split == "train") {
        prefix = "train";
    } else {
        throw config_error("", 0, "--dataset",
                           "fashion-mnist:" + split + ": unknown split (valid: test, t10k, train)");
    }
    const std::string images = folder + "/" + prefix + "-images-idx3-ubyte.gz";
    const std::string labels = folder + "/" + prefix + "-labels-idx1-ubyte.gz";
    for (const std::string& f : {images, labels}) {
        std::error_code ec;
        if (!std::filesystem::exists(f, ec)) {
            throw config_error(f, 0, "--dataset",
                               "Fashion-MNIST not found; install it with `apt-get install dataset-fashion-mnist` "
                               "(Debian/Ubuntu) or pass --dataset idx:IMAGES,LABELS");
        }
    }
    dataset d = load_idx(images, labels);
    d.declared_classes = 10;
    return d;
}

dataset load_spec(const std::string& spec, const std::optional<network::shape>& input, int classes,
                  std::uint64_t seed) {
    const std::size_t colon = spec.find(':');
    const std::string scheme = spec.substr(0, colon);
    const std::string arg = colon == std::string::npos ? "" : spec.substr(colon + 1);
    dataset d;
    if (scheme == "fashion-mnist") {
        d = load_fashion_mnist(k_fashion_mnist_folder, colon == std::string::npos ? "test" : arg);
    } else if (colon == std::string::npos) {
        bad_spec(spec, "unknown dataset");
    } else if (scheme == "idx") {
        const auto [images, labels] = two_paths(spec, scheme, arg);
        d = load_idx(images, labels);
    } else if (scheme == "npy") {
        const auto [images, labels] = two_paths(spec, scheme, arg);
        d = load_npy(images, labels);
    } else if (scheme == "cifar10") {
        const auto files = split(arg, ',');
        for (const auto& f : files) {
            if (f.empty()) bad_spec(spec, "cifar10: takes one or more files, cifar10:FILE[,FILE...]");
        }
        d = load_cifar10(files);
    } else if (scheme == "synthetic") {
        std::size_t used = 0;
        long long n = 0;
        try {
            n = std::stoll(arg, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != arg.size() || n <= 0 || n > std::numeric_limits<int>::max()) {
            bad_spec(spec, "synthetic: takes a positive image count, synthetic:N");
        }
        if (!input) bad_spec(spec, "synthetic: needs the network input shape, which the caller did not give");
        d = synthetic(static_cast<int>(n), input->c(), input->h(), input->w(), classes, seed);
    } else {
        bad_spec(spec, "unknown scheme '" + scheme + "'");
    }
    d.name = spec;
    return d;
}

void check_shape(const dataset& d, const network::shape& s, const std::string& where) {
    if (d.c == s.c() && d.h == s.h() && d.w == s.w()) return;
    auto text = [](int c, int h, int w) {
        return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
    };
    throw config_error(where, 0, "--dataset",
                       "dataset '" + d.name + "' has " + text(d.c, d.h, d.w) +
                           " images (CxHxW) but the network input is " + text(s.c(), s.h(), s.w()));
}

}  // namespace cim::dataset
